package backendtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// PrimarySecretHarness runs the suite against the primary-secret decorator
// (backends.NewPrimarySecret) over the backends newHarness makes: every
// subtest reads and writes fields of one JSON secret, named afresh for each
// backend, in the store below.
//
//	func TestConformancePrimarySecret(t *testing.T) {
//		backendtest.RunConformanceTests(t, backendtest.PrimarySecretHarness(newHarness))
//	}
func PrimarySecretHarness(newHarness HarnessMaker) HarnessMaker {
	return func(ctx context.Context, t *testing.T) (Harness, error) {
		h, err := newHarness(ctx, t)
		if err != nil {
			return nil, err
		}
		return primaryHarness{h}, nil
	}
}

type primaryHarness struct{ Harness }

func (h primaryHarness) MakeBackend(ctx context.Context, t *testing.T) (backends.Backend, error) {
	inner, err := h.Harness.MakeBackend(ctx, t)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("conformance-primary-%08x", rand.Uint32())
	return backends.NewPrimarySecret(inner, name, backends.PrimarySecretOptions{Wait: noWait}), nil
}
