package backendtest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// memHarness makes a fresh MemStore per backend; wrap adds views of it.
type memHarness struct {
	caps     backends.Caps
	validate func(string) error
	wrap     func(*MemStore) backends.Backend
}

func (h *memHarness) MakeBackend(context.Context, *testing.T) (backends.Backend, error) {
	m := NewMemStore(h.caps)
	m.SetNameValidator(h.validate)
	if h.wrap != nil {
		return h.wrap(m), nil
	}
	return m, nil
}

func (h *memHarness) Close() {}

func maker(h memHarness) HarnessMaker {
	return func(context.Context, *testing.T) (Harness, error) { return &h, nil }
}

// TestConformance runs the suite with every capability on: nothing skips.
func TestConformance(t *testing.T) { RunConformanceTests(t, maker(memHarness{caps: AllCaps})) }

// TestConformancePrimarySecret runs it over the primary-secret decorator:
// every name is a field of one JSON secret in the MemStore.
func TestConformancePrimarySecret(t *testing.T) {
	RunConformanceTests(t, PrimarySecretHarness(maker(memHarness{caps: AllCaps})))
}

// TestConformanceBatchRotator runs it over a store with a batch read and a
// native rotation, so *Store takes those paths.
func TestConformanceBatchRotator(t *testing.T) {
	RunConformanceTests(t, maker(memHarness{caps: AllCaps, wrap: func(m *MemStore) backends.Backend { return memBoth{m} }}))
}

// memBoth is a MemStore view with both a batch read and a native rotation.
type memBoth struct{ *MemStore }

var (
	_ backends.BatchGetter = memBoth{}
	_ backends.Rotator     = memBoth{}
)

func (b memBoth) GetBatch(ctx context.Context, names []string) (map[string]*backends.Secret, error) {
	return memBatch(b).GetBatch(ctx, names)
}

func (b memBoth) Rotate(ctx context.Context, oldName string, req backends.WriteRequest) (string, error) {
	return memRotator(b).Rotate(ctx, oldName, req)
}

const allowedChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_/"

// TestConformanceRestricted runs it over a store shaped like Azure Key Vault
// without soft delete: only letters, digits, '-' and '/' in names, text
// values, no metadata, no environment fallback. Subtests that need a missing
// cap skip and say which.
func TestConformanceRestricted(t *testing.T) {
	RunConformanceTests(t, maker(memHarness{
		caps: backends.Caps{Write: true, Delete: true},
		validate: func(name string) error {
			for _, r := range name {
				if !strings.ContainsRune(allowedChars, r) {
					return fmt.Errorf("%s secret names allow only letters, digits, '-', '_' and '/', not %q", MemStoreKind, r)
				}
			}
			if len(name) > 127 {
				return fmt.Errorf("%s secret names are at most 127 characters", MemStoreKind)
			}
			return nil
		},
	}))
}

// TestConformanceValidatorWithoutKind runs the name tests over a store whose
// rule message forgets to name the store: the layer must add it.
func TestConformanceValidatorWithoutKind(t *testing.T) {
	h := maker(memHarness{caps: AllCaps, validate: func(name string) error {
		if strings.ContainsAny(name, "?:") {
			return fmt.Errorf("names must not contain '?' or ':'")
		}
		return nil
	}})
	t.Run("AllowedNames", func(t *testing.T) { testAllowedNames(t, h) })
	t.Run("RefusedNames", func(t *testing.T) { testRefusedNames(t, h) })
}
