package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
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
	sec, err := localStore(t, path).ReadStored(context.Background(), fullName)
	if err != nil {
		t.Fatalf("reading %s from %s: %v", fullName, path, err)
	}
	return string(sec.Value)
}

// checkStored is a TestCheckFunc asserting the store holds want under fullName.
func checkStored(t *testing.T, path, fullName, want string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		sec, err := localStore(t, path).ReadStored(context.Background(), fullName)
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
		_, err := localStore(t, path).ReadStored(context.Background(), fullName)
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

// unsetEnv removes name from the process environment for the rest of the
// test, restoring it afterwards, so a test about a missing variable cannot be
// fooled by the caller's environment.
func unsetEnv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "")
	if err := os.Unsetenv(name); err != nil {
		t.Fatalf("unsetting %s: %v", name, err)
	}
}

// expectNoSecretInState is a state check that fails when secret appears
// anywhere in the state as `terraform show -json` prints it (sensitive values
// in clear, outputs included), outside the resources at the except addresses
// (an echo resource, whose job is to hold an ephemeral value).
func expectNoSecretInState(secret string, except ...string) statecheck.StateCheck {
	return secretInState{secret: secret, want: false, except: except}
}

// expectSecretInState is the control of expectNoSecretInState: it fails when
// secret is NOT in the state, proving the scan sees sensitive values.
func expectSecretInState(secret string) statecheck.StateCheck {
	return secretInState{secret: secret, want: true}
}

type secretInState struct {
	secret string
	want   bool
	except []string
}

func (c secretInState) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	if req.State == nil {
		resp.Error = errors.New("state is nil")
		return
	}
	raw, err := json.Marshal(req.State)
	if err != nil {
		resp.Error = fmt.Errorf("encoding state: %w", err)
		return
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		resp.Error = fmt.Errorf("decoding state: %w", err)
		return
	}
	doc = dropResources(doc, c.except)
	if raw, err = json.Marshal(doc); err != nil {
		resp.Error = fmt.Errorf("encoding state: %w", err)
		return
	}
	// Look for the value as JSON writes it inside a string, escapes included.
	quoted, _ := json.Marshal(c.secret)
	found := strings.Contains(string(raw), strings.Trim(string(quoted), `"`))
	switch {
	case found && !c.want && len(c.except) > 0:
		resp.Error = fmt.Errorf("the secret value is in state, outside %s", strings.Join(c.except, ", "))
	case found && !c.want:
		resp.Error = errors.New("the secret value is in state")
	case !found && c.want:
		resp.Error = errors.New("the secret value is not in state, but this check expects it there")
	}
}

// dropResources removes from a decoded state every resource object whose
// address is one of addrs.
func dropResources(v any, addrs []string) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = dropResources(e, addrs)
		}
		return out
	case []any:
		out := make([]any, 0, len(v))
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				if a, ok := m["address"].(string); ok && m["type"] != nil && slices.Contains(addrs, a) {
					continue
				}
			}
			out = append(out, dropResources(e, addrs))
		}
		return out
	}
	return v
}

// testPrimarySecret is the primary_secret_name of the tests.
const testPrimarySecret = "litellm-keys"

// primaryFields returns the fields of the JSON object s holds under
// primary (the primary secret, read as the raw stored value).
func primaryFields(s *backends.Store, primary string) (map[string]string, error) {
	sec, err := s.ReadStored(context.Background(), primary)
	if err != nil {
		return nil, fmt.Errorf("store: reading primary secret %s: %w", primary, err)
	}
	var fields map[string]string
	if err := json.Unmarshal(sec.Value, &fields); err != nil {
		return nil, fmt.Errorf("store: primary secret %s is not a JSON object of strings: %v", primary, err)
	}
	return fields, nil
}

// checkPrimaryFields is a TestCheckFunc asserting the primary secret
// (testPrimarySecret) in the store open returns holds exactly the fields of
// want. Errors name fields, never values.
func checkPrimaryFields(open func() *backends.Store, want map[string]string) resource.TestCheckFunc {
	const primary = testPrimarySecret
	return func(*terraform.State) error {
		got, err := primaryFields(open(), primary)
		if err != nil {
			return err
		}
		if !maps.Equal(got, want) {
			return fmt.Errorf("store: primary secret %s has fields %v, want %v (or a value differs)",
				primary, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
		}
		return nil
	}
}

// checkOnlyKeys is a TestCheckFunc asserting the dotenv file binds exactly
// keys. It reads bare keys of one-line bindings, which is all these tests
// write.
func checkOnlyKeys(path string, keys ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("store: reading %s: %w", path, err)
		}
		var got []string
		for line := range strings.Lines(string(data)) {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			key, _, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
			if !ok {
				return fmt.Errorf("store: %s has a line that is not a binding", path)
			}
			got = append(got, strings.TrimSpace(key))
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(keys))
		if !slices.Equal(got, want) {
			return fmt.Errorf("store: %s binds keys %v, want %v", path, got, want)
		}
		return nil
	}
}
