package azurekv_test

import (
	"context"
	"testing"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/azurekv"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/azurekv/kvfake"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/backendtest"
)

// harness runs each subtest against its own Key Vault fake, with deletes,
// recoveries and purges that complete a few requests late, as Key Vault's do.
type harness struct{ fake *kvfake.Server }

func newHarness(_ context.Context, t *testing.T) (backendtest.Harness, error) {
	return harness{fake: kvfake.New(t, &kvfake.Options{DeleteLag: 2, RecoverLag: 2, PurgeLag: 2})}, nil
}

func (h harness) MakeBackend(_ context.Context, t *testing.T) (backends.Backend, error) {
	return newBackend(t, h.fake, nil)
}

func (harness) Close() {}

func TestConformance(t *testing.T) { backendtest.RunConformanceTests(t, newHarness) }

// newBackend builds the store against fake with client-secret credentials,
// trusting the fake's CA through the CA bundle, as a user behind a private CA
// would (SSL_CERT_FILE). edit may change the options first.
func newBackend(t *testing.T, fake *kvfake.Server, edit func(*azurekv.Options)) (backends.Backend, error) {
	t.Helper()
	ca, err := fake.CAFile(t.TempDir())
	if err != nil {
		return nil, err
	}
	fo := fake.Options()
	o := &azurekv.Options{
		VaultURL:      fake.VaultURL(),
		TenantID:      fo.TenantID,
		ClientID:      fo.ClientID,
		ClientSecret:  fo.ClientSecret,
		AuthorityHost: fake.AuthorityHost(),
		CABundle:      ca,
		PollTimeout:   10 * time.Second,
		LookupEnv:     func(string) (string, bool) { return "", false },
	}
	if edit != nil {
		edit(o)
	}
	return azurekv.New(o)
}
