package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/custom"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/custom/customtest"
)

// customHTTPProvider is a provider block on a reference HTTP store.
func customHTTPProvider(url, token, settings string) string {
	return fmt.Sprintf(`
provider "llmsecret" {
  key_management_system   = "custom"
  key_management_settings = { %[3]s }
  custom = {
    url     = %[1]q
    headers = { Authorization = "Bearer %[2]s" }
    timeout = "20s"
  }
}
`, url, token, settings)
}

// customExecProvider is a provider block on a reference exec store.
func customExecProvider(command []string, settings string) string {
	quoted := make([]string, len(command))
	for i, c := range command {
		quoted[i] = fmt.Sprintf("%q", c)
	}
	return fmt.Sprintf(`
provider "llmsecret" {
  key_management_system   = "custom"
  key_management_settings = { %[2]s }
  custom = {
    command = [%[1]s]
  }
}
`, strings.Join(quoted, ", "), settings)
}

// customStore opens the same custom store as the provider, to check what it
// holds behind Terraform's back.
func customStore(t *testing.T, opts custom.Options) *backends.Store {
	t.Helper()
	b, err := custom.New(context.Background(), &opts)
	if err != nil {
		t.Fatalf("custom store: %v", err)
	}
	s, err := backends.NewStore(b, &backends.StoreOptions{Settings: backends.Settings{AccessMode: backends.ReadAndWrite}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func checkCustomStored(s *backends.Store, name, want string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		sec, err := s.ReadStored(context.Background(), name)
		if err != nil {
			return fmt.Errorf("store: reading %s: %w", name, err)
		}
		if string(sec.Value) != want {
			return fmt.Errorf("store: %s holds a different value than the one configured", name)
		}
		return nil
	}
}

func checkCustomAbsent(s *backends.Store, name string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		_, err := s.ReadStored(context.Background(), name)
		if backends.CodeOf(err) != backends.NotFound {
			return fmt.Errorf("store: %s: got %v, want NotFound", name, err)
		}
		return nil
	}
}

// customLifecycle runs create, update, rotation, import and destroy through
// provider block p on store s.
func customLifecycle(t *testing.T, p string, s *backends.Store) {
	const name, renamed = "team/llm/OPENAI_API_KEY", "team/llm/OPENAI_API_KEY_V2"
	const v1, v2 = "sk-custom-one-0001", "sk-custom-two-0002"
	config := func(n, v string, version int) string {
		return p + fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name             = %[1]q
  value_wo         = %[2]q
  value_wo_version = %[3]d
  description      = "managed by terraform"
  tags             = { owner = "platform" }
}

data "llmsecret_secret" "test" {
  name       = llmsecret_secret.test.full_name
  depends_on = [llmsecret_secret.test]
}
`, n, v, version)
	}
	var version1 string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// Create and read back through the store's get.
			{
				Config: config(name, v1, 1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("full_name"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("deletion_policy"), knownvalue.StringExact("delete")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9]+$`))),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("tags"), knownvalue.MapExact(map[string]knownvalue.Check{"owner": knownvalue.StringExact("platform")})),
					statecheck.ExpectKnownValue("data.llmsecret_secret.test", tfjsonpath.New("value"), knownvalue.StringExact(v1)),
					expectNoSecretInState(v1, "data.llmsecret_secret.test"),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkCustomStored(s, name, v1),
					resource.TestCheckResourceAttrWith(res, "version", func(v string) error { version1 = v; return nil }),
				),
			},
			// Update in place: the store's put gives a new version.
			{
				Config: config(name, v2, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.llmsecret_secret.test", tfjsonpath.New("value"), knownvalue.StringExact(v2)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkCustomStored(s, name, v2),
					resource.TestCheckResourceAttrWith(res, "version", func(v string) error {
						if v == version1 {
							return fmt.Errorf("version did not change after a new value: %s", v)
						}
						return nil
					}),
				),
			},
			// Rotate by rename through the store's rotate: the old name is gone.
			{
				Config: config(renamed, v2, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkCustomStored(s, renamed, v2),
					checkCustomAbsent(s, name),
				),
			},
			// Import by full_name.
			{
				ResourceName:  res,
				ImportState:   true,
				ImportStateId: renamed,
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 {
						return fmt.Errorf("imported %d resources, want 1", len(states))
					}
					a := states[0].Attributes
					for k, want := range map[string]string{"id": renamed, "full_name": renamed, "deletion_policy": "delete", "description": "managed by terraform", "tags.owner": "platform"} {
						if a[k] != want {
							return fmt.Errorf("imported %s: got %q, want %q", k, a[k], want)
						}
					}
					return nil
				},
			},
		},
		// Destroy deletes through the store's delete.
		CheckDestroy: checkCustomAbsent(s, renamed),
	})
}

func TestAccCustomSecret_http(t *testing.T) {
	url := customtest.StartHTTP(t, "-token", "acc-token")
	s := customStore(t, custom.Options{URL: url, Headers: map[string]string{"Authorization": "Bearer acc-token"}})
	customLifecycle(t, customHTTPProvider(url, "acc-token", readWrite), s)
}

func TestAccCustomSecret_exec(t *testing.T) {
	command := customtest.ExecCommand(t)
	customLifecycle(t, customExecProvider(command, readWrite), customStore(t, custom.Options{Command: command}))
}

// TestAccCustomSecret_readOnly: a store that lists only get refuses a
// resource at plan, while data sources read it.
func TestAccCustomSecret_readOnly(t *testing.T) {
	url := customtest.StartHTTP(t, "-token", "ro-token", "-read-only", "-seed", "OPENAI_API_KEY=sk-seeded-read-only")
	file := t.TempDir() + "/secrets.json"
	customStore(t, custom.Options{Command: customtest.ExecCommandFile(file)}).Write(context.Background(), backends.WriteRequest{Name: "OPENAI_API_KEY", Value: []byte("sk-seeded-read-only")}) //nolint:errcheck // checked by the data source below
	providers := map[string]string{
		"http": customHTTPProvider(url, "ro-token", readWrite),
		"exec": customExecProvider(customtest.ExecCommandFile(file, "-read-only"), readWrite),
	}
	for label, p := range providers {
		t.Run(label, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					// Reads work.
					{
						Config: p + `
data "llmsecret_secret" "test" {
  name = "OPENAI_API_KEY"
}
`,
						ConfigStateChecks: []statecheck.StateCheck{
							statecheck.ExpectKnownValue("data.llmsecret_secret.test", tfjsonpath.New("value"), knownvalue.StringExact("sk-seeded-read-only")),
						},
					},
					// A resource is refused at plan, even with access_mode
					// read_and_write: the store has no put.
					{
						Config: p + `
resource "llmsecret_secret" "test" {
  name             = "NEW_KEY"
  value_wo         = "sk-never-written"
  value_wo_version = 1
}
`,
						ExpectError: regexp.MustCompile(`(?s)cannot be managed.*custom store does not support writing`),
					},
				},
			})
		})
	}
}
