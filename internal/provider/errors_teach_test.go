package provider

import (
	"fmt"
	"net"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// Errors that teach: what a first-hour mistake shows through the real CLI,
// each error saying what to change.

// refusedAddr is a loopback address nothing listens on: a listener is
// opened and closed, so connections to it are refused.
func refusedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// dataSourceConfig is a provider block and one data source reading name.
func dataSourceConfig(provider, name string) string {
	return provider + fmt.Sprintf(`
data "llmsecret_secret" "test" {
  name = %q
}
`, name)
}

// TestAccErrors_unreachableStore: a store that cannot be reached names the
// settings of its address and their variables: Vault at plan (the provider
// checks its credentials when configured), custom and CyberArk at the read.
func TestAccErrors_unreachableStore(t *testing.T) {
	isolateVaultEnv(t)
	addr := refusedAddr(t)
	for _, tc := range []struct {
		store, provider string
		want            *regexp.Regexp
	}{
		{"hashicorp_vault", fmt.Sprintf(`
provider "llmsecret" {
  key_management_system = "hashicorp_vault"
  hashicorp_vault = { address = "http://%s", token = "hvs.test" }
}
`, addr), phrase("configuring the hashicorp_vault store", "cannot reach Vault at http://"+addr,
			"check hashicorp_vault.address, or HCP_VAULT_ADDR / VAULT_ADDR")},
		{"custom", fmt.Sprintf(`
provider "llmsecret" {
  key_management_system = "custom"
  timeouts              = { max_attempts = 1 }
  custom                = { url = "http://%s" }
}
`, addr), phrase("configuring the custom store", "connection refused", "could not be reached: check custom.url")},
		{"cyberark", fmt.Sprintf(`
provider "llmsecret" {
  key_management_system = "cyberark"
  timeouts              = { max_attempts = 1 }
  cyberark = { url = "http://%s", login = "admin", api_key = "k" }
}
`, addr), phrase("reading secret (OPENAI_API_KEY) in cyberark", "could not be reached: check cyberark.url, or CYBERARK_API_BASE / CONJUR_APPLIANCE_URL")},
	} {
		t.Run(tc.store, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      dataSourceConfig(tc.provider, "OPENAI_API_KEY"),
					ExpectError: tc.want,
				}},
			})
		})
	}
}

// TestAccErrors_vaultMissingMount: a KV mount that does not exist shows the
// command that enables it.
func TestAccErrors_vaultMissingMount(t *testing.T) {
	s := startVault(t)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: tagsConfig(vaultProvider(s, s.RootToken, readWrite, `mount = "llm-kv"`), "OPENAI_API_KEY", "null"),
				ExpectError: phrase(`Vault has no secrets engine at mount "llm-kv"`,
					"vault secrets enable -path=llm-kv kv-v2"),
			},
			{
				Config: dataSourceConfig(vaultProvider(s, s.RootToken, "", `mount = "llm-kv"`), "OPENAI_API_KEY"),
				ExpectError: phrase(`Vault has no secrets engine at mount "llm-kv"`,
					"vault secrets enable -path=llm-kv kv-v2"),
			},
		},
	})
}

// TestAccErrors_missingSecret: a data source reading a secret nobody wrote
// says how to create it: a resource, and the store's own CLI.
func TestAccErrors_missingSecret(t *testing.T) {
	s := startVault(t)
	path := envFile(t)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: dataSourceConfig(vaultProvider(s, s.RootToken, "", ""), "OPENAI_API_KEY"),
				ExpectError: phrase("reading secret (OPENAI_API_KEY) in hashicorp_vault",
					`Create it with an llmsecret_secret resource (name = "OPENAI_API_KEY")`,
					"name = llmsecret_secret.<label>.full_name", "vault kv put"),
			},
			{
				Config: dataSourceConfig(providerConfig(path, ""), "NO_SUCH_KEY_0001"),
				ExpectError: phrase("reading secret (NO_SUCH_KEY_0001) in local", "llmsecret_secret resource",
					`add the line NO_SUCH_KEY_0001="<value>" to the dotenv file`),
			},
		},
	})
}

// TestAccErrors_vaultWrongToken: a token Vault refuses fails plan, before
// anything is written, naming the setting it came from and where tokens
// are looked for.
func TestAccErrors_vaultWrongToken(t *testing.T) {
	s := startVault(t)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:   tagsConfig(vaultProvider(s, "hvs.not-a-token", readWrite, ""), "OPENAI_API_KEY", "null"),
			PlanOnly: true,
			ExpectError: phrase("configuring the hashicorp_vault store", "Vault refused the token",
				"check the token (hashicorp_vault.token)", "HCP_VAULT_TOKEN", "VAULT_TOKEN", "~/.vault-token"),
		}},
	})
	t.Run("from VAULT_TOKEN", func(t *testing.T) {
		t.Setenv("VAULT_TOKEN", "hvs.not-a-token-either")
		resource.Test(t, resource.TestCase{
			PreCheck:                 func() { testAccPreCheck(t) },
			ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
			Steps: []resource.TestStep{{
				Config: tagsConfig(fmt.Sprintf(`
provider "llmsecret" {
  key_management_system   = "hashicorp_vault"
  key_management_settings = { access_mode = "read_and_write" }
  hashicorp_vault         = { address = %q }
}
`, s.Addr), "OPENAI_API_KEY", "null"),
				PlanOnly:    true,
				ExpectError: phrase("configuring the hashicorp_vault store", "Vault refused the token", "hashicorp_vault.token (from VAULT_TOKEN)"),
			}},
		})
	})
}
