package cyberark_test

import (
	"context"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/cyberark"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/cyberark/conjurtest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/backendtest"
)

type harness struct{ fake *conjurtest.Server }

func (h harness) MakeBackend(context.Context, *testing.T) (backends.Backend, error) {
	return cyberark.New(adminOptions(h.fake))
}

func (harness) Close() {}

func newHarness(_ context.Context, t *testing.T) (backendtest.Harness, error) {
	return harness{fake: conjurtest.New(t, conjurtest.Options{})}, nil
}

// adminOptions configures the store as the fake's admin, with an empty
// environment.
func adminOptions(fake *conjurtest.Server) *cyberark.Options {
	return &cyberark.Options{
		URL:       fake.URL,
		Login:     conjurtest.AdminLogin,
		APIKey:    conjurtest.AdminAPIKey,
		LookupEnv: noEnv,
	}
}

func noEnv(string) (string, bool) { return "", false }

func TestConformance(t *testing.T) { backendtest.RunConformanceTests(t, newHarness) }
