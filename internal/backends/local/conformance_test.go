package local_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/local"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/backendtest"
)

type harness struct{}

func (harness) MakeBackend(_ context.Context, t *testing.T) (backends.Backend, error) {
	return local.New(&local.Options{EnvFile: filepath.Join(t.TempDir(), ".env")})
}

func (harness) Close() {}

func newHarness(context.Context, *testing.T) (backendtest.Harness, error) { return harness{}, nil }

func TestConformance(t *testing.T) { backendtest.RunConformanceTests(t, newHarness) }
