package bench

import "fmt"

// requiredProviders wires llmsecret to the dev override.
const requiredProviders = `terraform {
  required_providers {
    llmsecret = {
      source = "llmsecret/llmsecret"
    }
  }
}
`

// secrets is N llmsecret_secret instances with write-only values.
const secrets = `
resource "llmsecret_secret" "s" {
  count            = %d
  name             = "BENCH_${count.index}"
  value_wo         = "value-${count.index}-abcdefghijklmnopqrstuvwxyz"
  value_wo_version = 1
}
`

// configFor returns the configuration of target at size n. ns keeps the
// Vault paths of different runs apart. Vault's address and token come from
// VAULT_ADDR and VAULT_TOKEN in the CLI's environment.
func configFor(target string, n int, ns string) string {
	switch target {
	case TargetFloor:
		return fmt.Sprintf(`resource "terraform_data" "s" {
  count = %d
  input = "value-${count.index}-abcdefghijklmnopqrstuvwxyz"
}
`, n)
	case TargetLocal, TargetNoop:
		return requiredProviders + `
provider "llmsecret" {
  key_management_settings = { access_mode = "read_and_write" }
  local                   = { env_file = "bench.env" }
}
` + fmt.Sprintf(secrets, n)
	case TargetVault:
		return requiredProviders + fmt.Sprintf(`
provider "llmsecret" {
  key_management_system   = "hashicorp_vault"
  key_management_settings = { access_mode = "read_and_write" }
  hashicorp_vault         = { path_prefix = %q }
}
`, ns) + fmt.Sprintf(secrets, n)
	case TargetVaultPrimary:
		return requiredProviders + fmt.Sprintf(`
provider "llmsecret" {
  key_management_system = "hashicorp_vault"
  key_management_settings = {
    access_mode         = "read_and_write"
    primary_secret_name = "%s-primary"
  }
}
`, ns) + fmt.Sprintf(secrets, n)
	}
	panic("bench: unknown target " + target)
}
