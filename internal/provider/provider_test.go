package provider

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
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/local"
)

// testAccProtoV6ProviderFactories serve the provider in process, beside the
// echo provider that surfaces ephemeral values for checks.
var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"llmsecret": providerserver.NewProtocol6WithError(New("test")()),
	"echo":      echoprovider.NewProviderServer(),
}

// testAccPreCheck fails (never skips) when the acceptance environment is
// incomplete: make testacc sets it up.
func testAccPreCheck(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		t.Fatal("TF_ACC_TERRAFORM_PATH must point at terraform or tofu; run make testacc")
	}
}

// isOpenTofu reports whether the acceptance tests run through OpenTofu.
func isOpenTofu() bool {
	return strings.Contains(filepath.Base(os.Getenv("TF_ACC_TERRAFORM_PATH")), "tofu")
}

// envFile returns the path of a fresh dotenv file for one test.
func envFile(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), ".env")
}

// providerConfig is a provider block on the local store; settings is the body
// of key_management_settings.
func providerConfig(envFile, settings string) string {
	return fmt.Sprintf(`
provider "llmsecret" {
  key_management_settings = {
    %[2]s
  }
  local = {
    env_file = %[1]q
  }
}
`, envFile, settings)
}

const readWrite = `access_mode = "read_and_write"`

// localStore opens the test's dotenv file directly, to check and change what
// the store holds behind Terraform's back.
func localStore(t *testing.T, path string) *backends.Store {
	t.Helper()
	b, err := local.New(&local.Options{EnvFile: path})
	if err != nil {
		t.Fatal(err)
	}
	s, err := backends.NewStore(b, &backends.StoreOptions{Settings: backends.Settings{AccessMode: backends.ReadAndWrite}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// storedValue returns what the store holds under fullName, failing the test
// when it is missing.
func storedValue(t *testing.T, path, fullName string) string {
	t.Helper()
	sec, err := localStore(t, path).Find(context.Background(), fullName)
	if err != nil {
		t.Fatalf("reading %s from %s: %v", fullName, path, err)
	}
	return string(sec.Value)
}

// checkStored is a TestCheckFunc asserting the store holds want under fullName.
func checkStored(t *testing.T, path, fullName, want string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		sec, err := localStore(t, path).Find(context.Background(), fullName)
		if err != nil {
			return fmt.Errorf("store: reading %s: %w", fullName, err)
		}
		if string(sec.Value) != want {
			return fmt.Errorf("store: %s holds a different value than the one configured", fullName)
		}
		return nil
	}
}

// checkAbsent is a TestCheckFunc asserting the store does not hold fullName.
func checkAbsent(t *testing.T, path, fullName string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		_, err := localStore(t, path).Find(context.Background(), fullName)
		if backends.CodeOf(err) != backends.NotFound {
			return fmt.Errorf("store: %s: got %v, want NotFound", fullName, err)
		}
		return nil
	}
}

// ephemeralStep adapts a step with an ephemeral resource to OpenTofu, which
// lists ephemeral resources in plan JSON with the action "open": the step then
// expects a non-empty plan made of such opens and nothing else. Terraform
// needs no change.
func ephemeralStep(step resource.TestStep) resource.TestStep {
	if !isOpenTofu() {
		return step
	}
	step.ExpectNonEmptyPlan = true
	step.ConfigPlanChecks.PostApplyPreRefresh = append(step.ConfigPlanChecks.PostApplyPreRefresh, onlyEphemeralOpens{})
	step.ConfigPlanChecks.PostApplyPostRefresh = append(step.ConfigPlanChecks.PostApplyPostRefresh, onlyEphemeralOpens{})
	return step
}

// onlyEphemeralOpens passes when every change in the plan is an ephemeral
// resource being opened.
type onlyEphemeralOpens struct{}

func (onlyEphemeralOpens) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		for _, a := range rc.Change.Actions {
			if a == "no-op" {
				continue
			}
			if a != "open" || !strings.HasPrefix(rc.Address, "ephemeral.") {
				resp.Error = fmt.Errorf("unexpected planned change: %s %s", a, rc.Address)
				return
			}
		}
	}
	for name, oc := range req.Plan.OutputChanges {
		if !oc.Actions.NoOp() {
			resp.Error = fmt.Errorf("unexpected planned change of output %s: %v", name, oc.Actions)
			return
		}
	}
}
