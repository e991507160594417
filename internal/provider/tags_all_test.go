package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// tagsConfig is one llmsecret_secret with value_wo and the given own tags.
func tagsConfig(provider, name, tags string) string {
	return provider + fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name             = %[1]q
  value_wo         = "sk-tags-0001"
  value_wo_version = 1
  tags             = %[2]s
}
`, name, tags)
}

func stringMapValue(m map[string]string) knownvalue.Check {
	checks := make(map[string]knownvalue.Check, len(m))
	for k, v := range m {
		checks[k] = knownvalue.StringExact(v)
	}
	return knownvalue.MapExact(checks)
}

// TestAccVaultSecret_tagsAll: a store with metadata. tags_all is the default
// tags merged with the resource's own; a changed default tag shows its new
// value in the plan (tags_all), not "-> null" on tags, and apply writes it.
func TestAccVaultSecret_tagsAll(t *testing.T) {
	s := startVault(t)
	const name, res = "litellm/OPENAI_API_KEY", "llmsecret_secret.test"
	settings := func(env string) string {
		return readWrite + fmt.Sprintf("\n    tags = { owner = \"platform\", env = %q }", env)
	}
	own := `{ team = "ml" }`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: tagsConfig(vaultProvider(s, s.RootToken, settings("prod"), ""), name, own),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(res, tfjsonpath.New("tags_all"),
						stringMapValue(map[string]string{"owner": "platform", "env": "prod", "team": "ml"})),
				}},
				Check: checkVault(t, s, name, "sk-tags-0001", 1, map[string]string{"tag:owner": "platform", "tag:env": "prod", "tag:team": "ml"}),
			},
			// Change a default tag in the provider block: the plan shows it.
			{
				Config: tagsConfig(vaultProvider(s, s.RootToken, settings("staging"), ""), name, own),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(res, tfjsonpath.New("tags_all"),
						stringMapValue(map[string]string{"owner": "platform", "env": "staging", "team": "ml"})),
					plancheck.ExpectKnownValue(res, tfjsonpath.New("tags"), stringMapValue(map[string]string{"team": "ml"})),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("tags"), stringMapValue(map[string]string{"team": "ml"})),
				},
				// A metadata update: no new KV version.
				Check: checkVault(t, s, name, "sk-tags-0001", 1, map[string]string{"tag:owner": "platform", "tag:env": "staging", "tag:team": "ml"}),
			},
			// An own tag wins over a default of the same key.
			{
				Config: tagsConfig(vaultProvider(s, s.RootToken, settings("staging"), ""), name, `{ team = "ml", env = "dev" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(res, tfjsonpath.New("tags_all"),
						stringMapValue(map[string]string{"owner": "platform", "env": "dev", "team": "ml"})),
				}},
				Check: checkVault(t, s, name, "sk-tags-0001", 1, map[string]string{"tag:owner": "platform", "tag:env": "dev", "tag:team": "ml"}),
			},
			// Nothing changed: an empty plan.
			{
				Config: tagsConfig(vaultProvider(s, s.RootToken, settings("staging"), ""), name, `{ team = "ml", env = "dev" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
		},
	})
}

// TestAccSecretResource_tagsAllLocal: the local dotenv file stores no tags,
// and tags_all is the same merge, so the plan still says what a store with
// metadata would carry.
func TestAccSecretResource_tagsAllLocal(t *testing.T) {
	path := envFile(t)
	const res = "llmsecret_secret.test"
	settings := func(env string) string {
		return readWrite + fmt.Sprintf("\n    tags = { env = %q }", env)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: tagsConfig(providerConfig(path, settings("prod")), "OPENAI_API_KEY", `{ team = "ml" }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("tags_all"), stringMapValue(map[string]string{"env": "prod", "team": "ml"})),
				},
				Check: checkStored(t, path, "OPENAI_API_KEY", "sk-tags-0001"),
			},
			{
				Config: tagsConfig(providerConfig(path, settings("staging")), "OPENAI_API_KEY", `{ team = "ml" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(res, tfjsonpath.New("tags_all"), stringMapValue(map[string]string{"env": "staging", "team": "ml"})),
				}},
			},
		},
	})
}
