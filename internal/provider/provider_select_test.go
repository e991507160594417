package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

func TestClosestStoreKind(t *testing.T) {
	for in, want := range map[string]string{
		"aws_secrets_manager":    "aws_secret_manager",
		"aws-secret-manager":     "aws_secret_manager",
		"hashicorp-vault":        "hashicorp_vault",
		"vault":                  "", // hashicorp_vault or azure_key_vault: no guess
		"azure_keyvault":         "azure_key_vault",
		"google_secrets_manager": "google_secret_manager",
		"cyber_ark":              "cyberark",
		"kms":                    "", // aws_kms or google_kms: no guess
		"postgres":               "",
	} {
		if got := closest(in, storeKinds); got != want {
			t.Errorf("closest(%q) = %q, want %q", in, got, want)
		}
	}
}

// A store block the selection would ignore is an error, never a silent
// fallback to the plaintext local store; the error names the block and the
// fix.
func TestAccProvider_storeSelection(t *testing.T) {
	vault := `hashicorp_vault = { address = "http://127.0.0.1:1", token = "t" }`
	cases := map[string]struct{ provider, want string }{
		"block without key_management_system": {vault,
			`(?s)Store block without key_management_system.*hashicorp_vault block is set.*plaintext.*key_management_system\s+=\s+"hashicorp_vault"`},
		"two blocks without key_management_system": {vault + "\n" + `cyberark = { url = "http://127.0.0.1:1" }`,
			`(?s)Several store blocks.*hashicorp_vault.*cyberark|(?s)Several store blocks.*cyberark.*hashicorp_vault`},
		"block of another store": {`key_management_system = "aws_secret_manager"` + "\n" + vault,
			`(?s)Store block for a store that is not selected.*key_management_system = "aws_secret_manager".*hashicorp_vault`},
		"misspelt store": {`key_management_system = "aws_secrets_manager"`,
			`(?s)Unknown key_management_system.*Did you mean\s+"aws_secret_manager"\?`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: `
provider "llmsecret" {
  ` + tc.provider + `
}

data "llmsecret_secret" "test" {
  name = "OPENAI_API_KEY"
}
`,
					ExpectError: regexp.MustCompile(tc.want),
				}},
			})
		})
	}
}
