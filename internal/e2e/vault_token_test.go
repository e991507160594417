package e2e

import (
	"fmt"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault/vaulttest"
)

// TestVault_loginTokenRevokedAtExit: a token the provider obtained by an
// AppRole login is revoked when the CLI shuts the plugin down, not left
// valid until its lease runs out. Each plan and apply logs in once; after
// them Vault holds no token but the root token.
func TestVault_loginTokenRevokedAtExit(t *testing.T) {
	cliPath(t)
	srv := vaulttest.Start(t)
	srv.WritePolicy(t, "llmsecret-rw", `
path "secret/data/*"     { capabilities = ["create", "read", "update", "delete"] }
path "secret/metadata/*" { capabilities = ["read", "update", "delete"] }
`)
	roleID, secretID := srv.EnableAppRole(t, "llmsecret-rw")
	accessors := func() int {
		t.Helper()
		list, err := srv.Client(t).Logical().List("auth/token/accessors")
		if err != nil || list == nil {
			t.Fatalf("listing token accessors: %v", err)
		}
		keys, _ := list.Data["keys"].([]any)
		return len(keys)
	}
	before := accessors()

	w := newWorkspace(t)
	w.write("main.tf", requiredProviders+fmt.Sprintf(`
provider "llmsecret" {
  key_management_system   = "hashicorp_vault"
  key_management_settings = { access_mode = "read_and_write" }
  hashicorp_vault = {
    address = %q
    approle = { role_id = %q, secret_id = %q }
  }
}

resource "llmsecret_secret" "s" {
  name             = "TOKEN_REVOKE_TEST"
  value_wo         = "v"
  value_wo_version = 1
}
`, srv.Addr, roleID, secretID))
	w.mustRun(nil, "apply", "-auto-approve", "-input=false", "-no-color")
	if got := accessors(); got != before {
		t.Errorf("after apply Vault holds %d tokens, want the %d it held before: the provider's login token was not revoked", got, before)
	}
}
