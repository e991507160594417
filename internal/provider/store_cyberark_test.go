package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/cyberark/conjurtest"
)

// cyberarkProvider is a provider block on the Conjur fake.
func cyberarkProvider(fake *conjurtest.Server) string {
	return fmt.Sprintf(`
provider "llmsecret" {
  key_management_system   = "cyberark"
  key_management_settings = { access_mode = "read_and_write" }
  cyberark = {
    url     = %[1]q
    login   = %[2]q
    api_key = %[3]q
  }
}
`, fake.URL, conjurtest.AdminLogin, conjurtest.AdminAPIKey)
}

// cyberarkSecretConfig is one resource and a data source reading it back.
func cyberarkSecretConfig(provider, name, value string, version int, extra string) string {
	return provider + fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name             = %[1]q
  value_wo         = %[2]q
  value_wo_version = %[3]d
  %[4]s
}

data "llmsecret_secret" "test" {
  name       = llmsecret_secret.test.full_name
  depends_on = [llmsecret_secret.test]
}
`, name, value, version, extra)
}

// checkConjur asserts the fake holds want as the latest value of id.
func checkConjur(fake *conjurtest.Server, id, want string, wantVersion int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		v, n, ok := fake.Value(id)
		switch {
		case !ok:
			return fmt.Errorf("conjur: variable %s has no value", id)
		case string(v) != want:
			return fmt.Errorf("conjur: variable %s holds a different value than the one configured", id)
		case wantVersion != 0 && n != wantVersion:
			return fmt.Errorf("conjur: variable %s is at version %d, want %d", id, n, wantVersion)
		}
		return nil
	}
}

func TestAccCyberArkSecret_basic(t *testing.T) {
	fake := conjurtest.New(t, conjurtest.Options{})
	p := cyberarkProvider(fake)
	const name, renamed = "litellm/team a/OPENAI_API_KEY", "litellm/team a/OPENAI_API_KEY_V2"
	const v1, v2 = "sk-conjur-one-0001", "sk-conjur-two-0002"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// Create and read: the variable is declared, its first version
			// is the value; deletion_policy defaults to abandon.
			{
				Config: cyberarkSecretConfig(p, name, v1, 1, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("full_name"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringExact("1")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("deletion_policy"), knownvalue.StringExact("abandon")),
					statecheck.ExpectKnownValue("data.llmsecret_secret.test", tfjsonpath.New("value"), knownvalue.StringExact(v1)),
					statecheck.ExpectKnownValue("data.llmsecret_secret.test", tfjsonpath.New("version"), knownvalue.StringExact("1")),
					expectNoSecretInState(v1, "data.llmsecret_secret.test"),
				},
				Check: checkConjur(fake, name, v1, 1),
			},
			// Update in place: a new value is a new Conjur version.
			{
				Config: cyberarkSecretConfig(p, name, v2, 2, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringExact("2")),
					statecheck.ExpectKnownValue("data.llmsecret_secret.test", tfjsonpath.New("value"), knownvalue.StringExact(v2)),
				},
				Check: checkConjur(fake, name, v2, 2),
			},
			// Changed outside Terraform: refresh sees the new version, apply
			// writes the configured value back.
			{
				PreConfig: func() { fake.SetValue(name, []byte("changed-outside")) },
				Config:    cyberarkSecretConfig(p, name, v2, 2, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringExact("4")),
				},
				Check: checkConjur(fake, name, v2, 4),
			},
			// Rotate by rename: the new variable holds the value; the old one
			// is abandoned (Conjur cannot delete), so it keeps its value.
			{
				Config: cyberarkSecretConfig(p, renamed, v2, 2, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("full_name"), knownvalue.StringExact(renamed)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkConjur(fake, renamed, v2, 1),
					checkConjur(fake, name, v2, 4),
				),
			},
			// Import by full_name, "/" and space included.
			{
				ResourceName:  res,
				ImportState:   true,
				ImportStateId: renamed,
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 {
						return fmt.Errorf("imported %d resources, want 1", len(states))
					}
					a := states[0].Attributes
					for k, want := range map[string]string{"id": renamed, "full_name": renamed, "version": "1", "deletion_policy": "abandon"} {
						if a[k] != want {
							return fmt.Errorf("imported %s: got %q, want %q", k, a[k], want)
						}
					}
					return nil
				},
			},
		},
		// Destroy abandons: the variable and its value stay in Conjur.
		CheckDestroy: checkConjur(fake, renamed, v2, 1),
	})
}

// TestAccCyberArkSecret_envOnly configures the provider from LiteLLM's
// CYBERARK_* variables alone.
func TestAccCyberArkSecret_envOnly(t *testing.T) {
	fake := conjurtest.New(t, conjurtest.Options{Account: "acme"})
	fake.AddRole("host/llm-gateway", "gateway-api-key", conjurtest.All)
	for _, v := range []string{"CONJUR_APPLIANCE_URL", "CONJUR_ACCOUNT", "CONJUR_AUTHN_LOGIN", "CONJUR_AUTHN_API_KEY", "CONJUR_AUTHN_JWT_SERVICE_ID", "CYBERARK_CLIENT_CERT", "CYBERARK_CLIENT_KEY"} {
		unsetEnv(t, v)
	}
	t.Setenv("CYBERARK_API_BASE", fake.URL)
	t.Setenv("CYBERARK_ACCOUNT", "acme")
	t.Setenv("CYBERARK_USERNAME", "host/llm-gateway")
	t.Setenv("CYBERARK_API_KEY", "gateway-api-key")
	t.Setenv("CYBERARK_SSL_VERIFY", "true")
	fake.SetValue("ANTHROPIC_API_KEY", []byte("sk-ant-seeded"))
	const p = `
provider "llmsecret" {
  key_management_system   = "cyberark"
  key_management_settings = { access_mode = "read_and_write" }
}
`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cyberarkSecretConfig(p, "OPENAI_API_KEY", "sk-from-env-config", 1, "") + `
data "llmsecret_secret" "seeded" {
  name = "ANTHROPIC_API_KEY"
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringExact("1")),
					statecheck.ExpectKnownValue("data.llmsecret_secret.test", tfjsonpath.New("value"), knownvalue.StringExact("sk-from-env-config")),
					statecheck.ExpectKnownValue("data.llmsecret_secret.seeded", tfjsonpath.New("value"), knownvalue.StringExact("sk-ant-seeded")),
				},
				Check: checkConjur(fake, "OPENAI_API_KEY", "sk-from-env-config", 1),
			},
		},
	})
}

// TestAccCyberArkSecret_deleteRefused: deletion_policy = "delete" is refused
// at plan, saying why, and nothing is written.
func TestAccCyberArkSecret_deleteRefused(t *testing.T) {
	fake := conjurtest.New(t, conjurtest.Options{})
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      cyberarkSecretConfig(cyberarkProvider(fake), "REFUSED", "sk-refused", 1, `deletion_policy = "delete"`),
				ExpectError: regexp.MustCompile(`(?s)cyberark store cannot delete.*Conjur has no API to delete a\s+variable.*deletion_policy\s+=\s+"abandon"`),
			},
		},
		CheckDestroy: func(*terraform.State) error {
			if fake.Declared("REFUSED") || fake.Stats().SecretWrites != 0 {
				return fmt.Errorf("conjur: a refused plan wrote something (declared %t, %d writes)", fake.Declared("REFUSED"), fake.Stats().SecretWrites)
			}
			return nil
		},
	})
}

// TestAccCyberArkSecret_configureError: a missing login names the attribute
// and the variables that could supply it.
func TestAccCyberArkSecret_configureError(t *testing.T) {
	for _, v := range []string{"CYBERARK_USERNAME", "CONJUR_AUTHN_LOGIN", "CONJUR_AUTHN_JWT_SERVICE_ID"} {
		unsetEnv(t, v)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: `
provider "llmsecret" {
  key_management_system = "cyberark"
  cyberark = { url = "https://conjur.invalid", api_key = "k" }
}

data "llmsecret_secret" "test" {
  name = "X"
}
`,
				ExpectError: regexp.MustCompile(`(?s)cyberark\.login is not set.*CYBERARK_USERNAME.*CONJUR_AUTHN_LOGIN`),
			},
		},
	})
}
