package awssm_test

import (
	"context"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig/awstest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awssm"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/backendtest"
)

// harness makes stores on one emulator; the suite's names are unique, so
// subtests share it.
type harness struct{ endpoint string }

func (h harness) MakeBackend(ctx context.Context, _ *testing.T) (backends.Backend, error) {
	return awssm.New(ctx, &awssm.Options{AWS: awstest.Options(h.endpoint)})
}

func (harness) Close() {}

// on returns the suite's harness maker for the emulator at endpoint.
func on(endpoint string) backendtest.HarnessMaker {
	return func(context.Context, *testing.T) (backendtest.Harness, error) { return harness{endpoint}, nil }
}

func TestConformance(t *testing.T) { backendtest.RunConformanceTests(t, on(moto)) }

// TestConformancePrimarySecret runs the suite over the primary-secret
// decorator on moto: every name is a field of one secret.
func TestConformancePrimarySecret(t *testing.T) {
	backendtest.RunConformanceTests(t, backendtest.PrimarySecretHarness(on(moto)))
}
