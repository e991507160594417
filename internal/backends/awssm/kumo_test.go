package awssm_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sivchari/kumo"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/backendtest"
)

// kumoSkips are the conformance cases kumo (v0.33.1) cannot run, and why.
var kumoSkips = map[string]string{
	"SoftDeleteRecreate": "no RestoreSecret (InvalidAction), so a name scheduled for deletion cannot be re-created",
}

// kumoPartial are the cases kumo runs with a part of the store's path
// replaced; the run logs them.
var kumoPartial = map[string]string{
	"Metadata":          "no TagResource/UntagResource (InvalidAction): UpdateMetadata answers Unsupported, so only description and tags set by CreateSecret are checked",
	"ReadManyAsGateway": "no BatchGetSecretValue (InvalidAction): GetBatch falls back to one GetSecretValue per name",
}

// startKumo starts kumo, a second, independent AWS emulator, in process.
func startKumo(t *testing.T) string {
	t.Helper()
	srv := kumo.NewServer()
	t.Cleanup(srv.Close)
	return srv.URL
}

// onKumo is on for kumo, skipping (with the reason) the cases in kumoSkips.
func onKumo(endpoint string) backendtest.HarnessMaker {
	return func(ctx context.Context, t *testing.T) (backendtest.Harness, error) {
		_, rest, _ := strings.Cut(t.Name(), "/")
		first, _, _ := strings.Cut(rest, "/")
		if why, ok := kumoSkips[first]; ok {
			t.Skipf("kumo: %s", why)
		}
		if why, ok := kumoPartial[first]; ok {
			t.Logf("kumo: %s", why)
		}
		return on(endpoint)(ctx, t)
	}
}

func TestKumoConformance(t *testing.T) {
	backendtest.RunConformanceTests(t, onKumo(startKumo(t)))
}
