package interop

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/interop/litellmtest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/provider"
)

// Shared plumbing of the interop tests: the provider served in process for
// terraform-plugin-testing, the acceptance precheck, and OpenTofu's
// ephemeral "open" plans.

var factories = map[string]func() (tfprotov6.ProviderServer, error){
	"llmsecret": providerserver.NewProtocol6WithError(provider.New("test")()),
	"echo":      echoprovider.NewProviderServer(),
}

// acc skips nothing: outside `make testacc` (no TF_ACC) the interop tests
// are not run at all, as with every acceptance test; inside it an incomplete
// environment is a failure.
func acc(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC") != "1" {
		t.Skip("interop tests run with TF_ACC=1 (make testacc)")
	}
	if os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		t.Fatal("TF_ACC_TERRAFORM_PATH must point at terraform or tofu; run make testacc")
	}
}

func isOpenTofu() bool {
	return strings.Contains(filepath.Base(os.Getenv("TF_ACC_TERRAFORM_PATH")), "tofu")
}

// ephemeralStep adapts a step with an ephemeral resource to OpenTofu, which
// plans ephemeral resources with the action "open".
func ephemeralStep(step resource.TestStep) resource.TestStep {
	if !isOpenTofu() {
		return step
	}
	step.ExpectNonEmptyPlan = true
	step.ConfigPlanChecks.PostApplyPreRefresh = append(step.ConfigPlanChecks.PostApplyPreRefresh, onlyEphemeralOpens{})
	step.ConfigPlanChecks.PostApplyPostRefresh = append(step.ConfigPlanChecks.PostApplyPostRefresh, onlyEphemeralOpens{})
	return step
}

type onlyEphemeralOpens struct{}

func (onlyEphemeralOpens) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		for _, a := range rc.Change.Actions {
			if a != "no-op" && (a != "open" || !strings.HasPrefix(rc.Address, "ephemeral.")) {
				resp.Error = fmt.Errorf("unexpected planned change: %s %s", a, rc.Address)
				return
			}
		}
	}
}

// TestLiteLLMClient checks the harness itself: the pinned LiteLLM imports
// offline, and the licence stand-in lets a premium-only reader (Vault's) be
// constructed, so a failing interop test means a failing read, not a
// missing licence.
func TestLiteLLMClient(t *testing.T) {
	acc(t)
	var got struct {
		Version string `json:"version"`
		Reader  string `json:"reader"`
	}
	litellmtest.Run(t, map[string]string{"HCP_VAULT_ADDR": "http://127.0.0.1:1", "HCP_VAULT_TOKEN": "t"}, `
from importlib.metadata import version
from litellm.secret_managers.hashicorp_secret_manager import HashicorpSecretManager
emit({"version": version("litellm"), "reader": type(HashicorpSecretManager()).__name__})
`, &got)
	if got.Version != "1.110.2" || got.Reader != "HashicorpSecretManager" {
		t.Fatalf("LiteLLM client: got %+v, want litellm 1.110.2 and a HashicorpSecretManager", got)
	}
}

// readBackSteps read name through the data source (value and version) and
// through the ephemeral resource (value, surfaced by the echo provider) on
// provider: the checks that the provider reads what another client wrote.
func readBackSteps(provider, name, value, version string) []resource.TestStep {
	return []resource.TestStep{
		{
			Config: provider + fmt.Sprintf(`
data "llmsecret_secret" "read" {
  name = %q
}
`, name),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.llmsecret_secret.read", tfjsonpath.New("value"), knownvalue.StringExact(value)),
				statecheck.ExpectKnownValue("data.llmsecret_secret.read", tfjsonpath.New("version"), knownvalue.StringExact(version)),
			},
		},
		ephemeralStep(resource.TestStep{
			Config: provider + fmt.Sprintf(`
ephemeral "llmsecret_secret" "read" {
  name = %q
}

provider "echo" {
  data = ephemeral.llmsecret_secret.read.value
}

resource "echo" "read" {}
`, name),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("echo.read", tfjsonpath.New("data"), knownvalue.StringExact(value)),
			},
		}),
	}
}
