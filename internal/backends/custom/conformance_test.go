package custom_test

import (
	"context"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/custom"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/custom/customtest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/backendtest"
)

// harness makes a store over a fresh reference store.
type harness struct{ opts custom.Options }

func (h harness) MakeBackend(ctx context.Context, _ *testing.T) (backends.Backend, error) {
	return custom.New(ctx, &h.opts)
}

func (harness) Close() {}

func httpHarness(args ...string) backendtest.HarnessMaker {
	return func(_ context.Context, t *testing.T) (backendtest.Harness, error) {
		return harness{opts: custom.Options{URL: customtest.StartHTTP(t, args...)}}, nil
	}
}

func execHarness(args ...string) backendtest.HarnessMaker {
	return func(_ context.Context, t *testing.T) (backendtest.Harness, error) {
		return harness{opts: custom.Options{Command: customtest.ExecCommand(t, args...)}}, nil
	}
}

func TestConformanceHTTP(t *testing.T) { backendtest.RunConformanceTests(t, httpHarness()) }

func TestConformanceExec(t *testing.T) { backendtest.RunConformanceTests(t, execHarness()) }

func TestConformanceHTTPReadOnly(t *testing.T) {
	backendtest.RunConformanceTests(t, httpHarness("-read-only"))
}

func TestConformanceExecReadOnly(t *testing.T) {
	backendtest.RunConformanceTests(t, execHarness("-read-only"))
}
