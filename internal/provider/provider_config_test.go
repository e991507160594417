package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestAccProvider_invalidSettings(t *testing.T) {
	cases := map[string]struct{ settings, want string }{
		"access_mode":         {`access_mode = "read_write"`, `(?s)access_mode.*read_only`},
		"primary_secret_name": {`primary_secret_name = "a/../b"`, `(?s)primary_secret_name.*path segment`},
		"unknown store":       {``, `(?s)key_management_system.*not a store this provider knows.*Valid values.*hashicorp_vault`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			kms := ""
			if name == "unknown store" {
				kms = `key_management_system = "vault"`
			}
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: fmt.Sprintf(`
provider "llmsecret" {
  %[1]s
  key_management_settings = { %[2]s }
}

data "llmsecret_secret" "test" {
  name = "OPENAI_API_KEY"
}
`, kms, tc.settings),
					ExpectError: regexp.MustCompile(tc.want),
				}},
			})
		})
	}
}

// With no key_management_system and no local block, the local store is the
// default and its file is .env in the working directory.
func TestAccProvider_defaultLocalStore(t *testing.T) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// Write through the default store and file, read back through the
			// data source. (One provider block: in-process tests share one
			// provider server between aliases, so an alias would reconfigure it.)
			{
				Config: `
provider "llmsecret" {
  key_management_settings = { access_mode = "read_and_write" }
}

resource "llmsecret_secret" "test" {
  name             = "DEFAULT_STORE_KEY"
  value_wo         = "sk-default-store"
  value_wo_version = 1
}

data "llmsecret_secret" "test" {
  name       = "DEFAULT_STORE_KEY"
  depends_on = [llmsecret_secret.test]
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.llmsecret_secret.test", tfjsonpath.New("value"), knownvalue.StringExact("sk-default-store")),
				},
			},
		},
	})
}
