package awskms_test

import (
	"context"
	"testing"

	"github.com/sivchari/kumo"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig/awstest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awskms"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/backendtest"
)

// keeperHarness is two keys on one emulator, reached through a recording
// proxy that counts the requests.
type keeperHarness struct {
	proxy *awstest.Proxy
	keys  [2]string
}

func (h *keeperHarness) MakeKeeper(ctx context.Context, _ *testing.T, key int) (backends.Keeper, error) {
	return awskms.New(ctx, &awskms.Options{AWS: awstest.Options(h.proxy.URL), KeyID: h.keys[key], LookupEnv: func(string) (string, bool) { return "", false }})
}

func (h *keeperHarness) ServerCalls() int { return h.proxy.Calls("") }

func (h *keeperHarness) Close() {}

func newKeeperHarness(endpoint string) backendtest.KeeperHarnessMaker {
	return func(_ context.Context, t *testing.T) (backendtest.KeeperHarness, error) {
		return &keeperHarness{proxy: awstest.NewProxy(t, endpoint), keys: [2]string{createKey(t, endpoint), createKey(t, endpoint)}}, nil
	}
}

// awsKMSBehaviour is the store's documented behaviour (package doc): KMS
// Encrypt takes 1 to 4096 bytes, so an empty value is refused before any
// call; the plaintext is decoded as UTF-8 as LiteLLM does, so bytes that
// are not UTF-8 are refused at Decrypt.
var awsKMSBehaviour = backendtest.KeeperBehaviour{EmptyValue: false, Binary: false}

// TestKeeperConformance_moto runs the Keeper suite on moto. moto answers a
// ciphertext of another key with AccessDeniedException (PermissionDenied)
// where AWS answers IncorrectKeyException (see TestServersAgree).
func TestKeeperConformance_moto(t *testing.T) {
	want := awsKMSBehaviour
	want.OtherKeyCodes = []backends.Code{backends.PermissionDenied, backends.InvalidArgument}
	backendtest.RunKeeperConformance(t, newKeeperHarness(moto), want)
}

// TestKeeperConformance_kumo runs the Keeper suite on kumo, in process,
// which answers another key's ciphertext as AWS does.
func TestKeeperConformance_kumo(t *testing.T) {
	srv := kumo.NewServer()
	t.Cleanup(srv.Close)
	backendtest.RunKeeperConformance(t, newKeeperHarness(srv.URL), awsKMSBehaviour)
}
