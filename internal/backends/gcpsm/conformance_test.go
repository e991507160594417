package gcpsm_test

import (
	"context"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpsm"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpsm/gcpsmtest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/backendtest"
)

// harness runs the suite against the in-process Secret Manager fake.
type harness struct{ srv *gcpsmtest.Server }

func (h harness) MakeBackend(ctx context.Context, _ *testing.T) (backends.Backend, error) {
	return gcpsm.New(ctx, &gcpsm.Options{ProjectID: "conformance-project", Endpoint: h.srv.Endpoint(), LookupEnv: noEnv})
}

func (harness) Close() {}

func newHarness(_ context.Context, t *testing.T) (backendtest.Harness, error) {
	return harness{srv: gcpsmtest.Start(t)}, nil
}

func noEnv(string) (string, bool) { return "", false }

func TestConformance(t *testing.T) { backendtest.RunConformanceTests(t, newHarness) }
