package provider

import (
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
				ExpectError: regexp.MustCompile(`updating secret \(SHARED_KEY\) in local: it changed since this configuration\s+last\s+read\s+it\s+\(it\s+now\s+holds\s+a\s+different\s+value\);\s+another\s+configuration\s+or\s+process\s+may\s+manage\s+it:\s+refresh\s+and\s+review`),
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
