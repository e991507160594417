package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// TestAccSecretResource_secondWriterFails: a value written behind
// Terraform's back since its last read (here: a plan with -refresh=false,
// the same window as a write between plan and apply) makes the update fail,
// naming the secret and the store, instead of silently overwriting it. After
// a refresh the configuration may write again.
func TestAccSecretResource_secondWriterFails(t *testing.T) {
	env := envFile(t)
	resource.Test(t, resource.TestCase{
		// Every plan runs with -refresh=false.
		AdditionalCLIOptions:     &resource.AdditionalCLIOptions{Plan: resource.PlanOptions{NoRefresh: true}},
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: secretValueConfig(env, "SHARED_KEY", "sk-mine-1"),
				Check:  checkStored(t, env, "SHARED_KEY", "sk-mine-1"),
			},
			// Our own earlier write is no reason to fail.
			{
				Config: secretValueConfig(env, "SHARED_KEY", "sk-mine-2"),
				Check:  checkStored(t, env, "SHARED_KEY", "sk-mine-2"),
			},
			{
				PreConfig:   func() { writeBehindTerraform(t, env, "SHARED_KEY", "sk-other-writer") },
				Config:      secretValueConfig(env, "SHARED_KEY", "sk-mine-3"),
				ExpectError: regexp.MustCompile(`(?s)updating secret \(SHARED_KEY\) in local.*It\s+changed\s+since\s+this\s+configuration\s+last\s+read\s+it\s+\(it\s+now\s+holds\s+a\s+different\s+value\);\s+another\s+configuration\s+or\s+process\s+may\s+manage\s+it:\s+refresh\s+and\s+review`),
			},
			// The refused update wrote nothing; a refresh (terraform apply
			// -refresh-only) reads the other writer's version, and the
			// configuration's value is written again.
			{
				PreConfig: func() {
					if err := checkStored(t, env, "SHARED_KEY", "sk-other-writer")(nil); err != nil {
						t.Errorf("after the refused update: %v", err)
					}
				},
				RefreshState:       true,
				ExpectNonEmptyPlan: true, // the configured value differs from the refreshed one
			},
			{
				Config: secretValueConfig(env, "SHARED_KEY", "sk-mine-3"),
				Check:  checkStored(t, env, "SHARED_KEY", "sk-mine-3"),
			},
		},
	})
}

// TestAccVaultSecret_secondWriterFails: on Vault the check compares version
// numbers, and the error names them: a value_wo secret written by another
// client (version 2) after this configuration wrote version 1 is not
// overwritten.
func TestAccVaultSecret_secondWriterFails(t *testing.T) {
	s := startVault(t)
	config := func(v int) string {
		return vaultProvider(s, s.RootToken, readWrite, "") + fmt.Sprintf(`
resource "llmsecret_secret" "wo" {
  name             = "SHARED_WO"
  value_wo         = "sk-mine-%[1]d"
  value_wo_version = %[1]d
}
`, v)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		AdditionalCLIOptions:     &resource.AdditionalCLIOptions{Plan: resource.PlanOptions{NoRefresh: true}},
		Steps: []resource.TestStep{
			{
				Config: config(1),
				Check:  checkVault(t, s, "SHARED_WO", "sk-mine-1", 1, nil),
			},
			{
				PreConfig:   func() { writeVaultBehind(t, s, "SHARED_WO", "sk-other-writer") },
				Config:      config(2),
				ExpectError: regexp.MustCompile(`(?s)updating secret \(SHARED_WO\) in hashicorp_vault.*It\s+changed\s+since\s+this\s+configuration\s+last\s+read\s+it\s+\(version\s+1,\s+now\s+2\)`),
			},
			{
				PreConfig: func() {
					if err := checkVault(t, s, "SHARED_WO", "sk-other-writer", 2, nil)(nil); err != nil {
						t.Errorf("after the refused update: %v", err)
					}
				},
				Config:      config(2),
				ExpectError: regexp.MustCompile(`It\s+changed\s+since\s+this\s+configuration\s+last\s+read\s+it`),
			},
		},
	})
}
