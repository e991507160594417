package gcpkms_test

import (
	"context"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpkms"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpkms/gcpkmstest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/backendtest"
)

// keeperHarness is keyA and keyB on one fake, which counts the calls.
type keeperHarness struct{ srv *gcpkmstest.Server }

func (h *keeperHarness) MakeKeeper(ctx context.Context, _ *testing.T, key int) (backends.Keeper, error) {
	return gcpkms.New(ctx, &gcpkms.Options{KeyName: []string{keyA, keyB}[key], Endpoint: h.srv.Endpoint(), LookupEnv: env(nil)})
}

func (h *keeperHarness) ServerCalls() int { return h.srv.Calls("") }

func (h *keeperHarness) Close() {}

// TestKeeperConformance runs the Keeper suite on the fake. The store's
// documented behaviour (package doc): the plaintext is returned as it is,
// an empty one included, and one that is not UTF-8 is refused at Decrypt
// (LiteLLM's decode fails).
func TestKeeperConformance(t *testing.T) {
	backendtest.RunKeeperConformance(t, func(_ context.Context, t *testing.T) (backendtest.KeeperHarness, error) {
		return &keeperHarness{srv: startFake(t)}, nil
	}, backendtest.KeeperBehaviour{EmptyValue: true, Binary: false})
}
