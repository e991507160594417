package provider

import (
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

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/custom"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/custom/customtest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/faultproxy"
)

// Ownership: llmsecret_secret manages only what it wrote or what was
// imported. A create never adopts (and overwrites) a live secret someone
// else wrote, and a rename never takes, or deletes, someone else's name.

// ws matches the white space Terraform puts where it wraps a diagnostic.
func ws(s string) string {
	return regexp.MustCompile(` +`).ReplaceAllString(regexp.QuoteMeta(s), `\s+`)
}

// ownershipConfig is one secret named name on the local store, with
// settings as key_management_settings and extra appended (an import block).
func ownershipConfig(env, settings, name, value, extra string) string {
	return providerConfig(env, settings) + fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name             = %[1]q
  value_wo         = %[2]q
  value_wo_version = 1
}
`, name, value) + extra
}

func TestAccSecretResource_createRefusesExisting(t *testing.T) {
	env := envFile(t)
	const name, theirs, mine = "OPENAI_API_KEY", "sk-someone-elses-0001", "sk-mine-0002"
	writeBehindTerraform(t, env, name, theirs)
	importBlock := fmt.Sprintf(`
import {
  to = llmsecret_secret.test
  id = %q
}
`, name)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// The name holds someone else's secret: the create fails before
			// writing, and says how to adopt it.
			{
				Config:      ownershipConfig(env, readWrite, name, mine, ""),
				ExpectError: regexp.MustCompile(`(?s)` + ws(`creating secret (OPENAI_API_KEY) in local`) + `.*` + ws(`it already exists; to manage it, import it (import block id = "OPENAI_API_KEY")`)),
			},
			// Nothing was written; importing adopts it, and the apply then
			// writes the configured value.
			{
				PreConfig: func() {
					if got := storedValue(t, env, name); got != theirs {
						t.Fatalf("store: %s was overwritten by a refused create", name)
					}
				},
				Config: ownershipConfig(env, readWrite, name, mine, importBlock),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				Check: checkStored(t, env, name, mine),
			},
		},
		CheckDestroy: func(*terraform.State) error { return checkAbsent(t, env, name)(nil) },
	})
}

// TestAccSecretResource_createAfterOwnLostWrite: an apply whose write landed
// but failed (its answer lost) is applied again; the name holds exactly the
// configured value, so it is not someone else's and the create succeeds.
func TestAccSecretResource_createAfterOwnLostWrite(t *testing.T) {
	env := envFile(t)
	const name, mine = "LOST_ANSWER_KEY", "sk-mine-lost-0001"
	writeBehindTerraform(t, env, name, mine)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: ownershipConfig(env, readWrite, name, mine, ""),
			Check:  checkStored(t, env, name, mine),
		}},
		CheckDestroy: func(*terraform.State) error { return checkAbsent(t, env, name)(nil) },
	})
}

// TestAccSecretResource_createRefusesExistingWriteOnly: under write_only the
// create still checks, where the credential can read (the dotenv file).
func TestAccSecretResource_createRefusesExistingWriteOnly(t *testing.T) {
	env := envFile(t)
	const name, theirs = "WO_TAKEN_KEY", "sk-someone-elses-wo-0001"
	writeBehindTerraform(t, env, name, theirs)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      ownershipConfig(env, `access_mode = "write_only"`, name, "sk-mine-wo-0002", ""),
			ExpectError: regexp.MustCompile(`(?s)` + ws(`creating secret (WO_TAKEN_KEY) in local`) + `.*` + ws(`it already exists`)),
		}},
		CheckDestroy: func(*terraform.State) error {
			if got := storedValue(t, env, name); got != theirs {
				return fmt.Errorf("store: %s was overwritten by a refused create", name)
			}
			return nil
		},
	})
}

// TestAccSecretResource_renameRefusesExisting: the case. A is mine,
// B someone else's; renaming A to B fails before writing and both stay.
func TestAccSecretResource_renameRefusesExisting(t *testing.T) {
	for label, settings := range map[string]string{"read_and_write": readWrite, "write_only": `access_mode = "write_only"`} {
		t.Run(label, func(t *testing.T) {
			env := envFile(t)
			const a, b, mine, theirs = "KEY_A", "KEY_B", "sk-mine-a-0001", "sk-someone-elses-b-0002"
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					{
						Config: ownershipConfig(env, settings, a, mine, ""),
						Check:  checkStored(t, env, a, mine),
					},
					{
						PreConfig:   func() { writeBehindTerraform(t, env, b, theirs) },
						Config:      ownershipConfig(env, settings, b, mine, ""),
						ExpectError: regexp.MustCompile(`(?s)` + ws(`rotating secret (KEY_A) to (KEY_B) in local`) + `.*` + ws(`old secret kept, nothing written: the new name (KEY_B) already exists`)),
					},
					// Both secrets are as they were; state still names A.
					{
						Config: ownershipConfig(env, settings, a, mine, ""),
						ConfigStateChecks: []statecheck.StateCheck{
							statecheck.ExpectKnownValue(res, tfjsonpath.New("full_name"), knownvalue.StringExact(a)),
						},
						Check: resource.ComposeAggregateTestCheckFunc(
							checkStored(t, env, a, mine),
							checkStored(t, env, b, theirs),
						),
					},
				},
				// Destroy deletes A only.
				CheckDestroy: func(*terraform.State) error {
					if err := checkAbsent(t, env, a)(nil); err != nil {
						return err
					}
					return checkStored(t, env, b, theirs)(nil)
				},
			})
		})
	}
}

// TestAccSecretResource_renameWriteOnly: under write_only a rename needs no
// read-back: the new name is written and the old one deleted.
func TestAccSecretResource_renameWriteOnly(t *testing.T) {
	env := envFile(t)
	const wo = `access_mode = "write_only"`
	const a, b, v = "WO_RENAME_A", "WO_RENAME_B", "sk-wo-rename-0001"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: ownershipConfig(env, wo, a, v, ""), Check: checkStored(t, env, a, v)},
			{
				Config: ownershipConfig(env, wo, b, v, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("full_name"), knownvalue.StringExact(b)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(checkStored(t, env, b, v), checkAbsent(t, env, a)),
			},
		},
		CheckDestroy: func(*terraform.State) error { return checkAbsent(t, env, b)(nil) },
	})
}

// TestAccSecretResource_renameReadBackFailureKeepsNewName: a rename whose
// read-back fails keeps the old secret and never deletes the new name for
// good. The custom store cannot delete recoverably, so the new name stays in
// the store and the error says so. (deletion_policy = "abandon" makes the
// rename go LiteLLM's way: write, read back, compare.)
func TestAccSecretResource_renameReadBackFailureKeepsNewName(t *testing.T) {
	url := customtest.StartHTTP(t, "-token", "rb-token")
	proxy := faultproxy.New(t, url, nil)
	s := customStore(t, custom.Options{URL: url, Headers: map[string]string{"Authorization": "Bearer rb-token"}})
	p := customHTTPProvider(proxy.URL(), "rb-token", readWrite)
	// No retries: the injected 500 fails the read-back at once.
	p = strings.TrimSuffix(p, "}\n") + "  timeouts = { max_attempts = 1 }\n}\n"
	const a, b, v = "RB_OLD", "RB_NEW", "sk-readback-0001"
	config := func(name string) string {
		return p + fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name             = %q
  value_wo         = %q
  value_wo_version = 1
  deletion_policy  = "abandon"
}
`, name, v)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config(a), Check: checkCustomStored(s, a, v)},
			// The first GET of the new name is the check that it is free;
			// the second, the read-back, fails.
			{
				PreConfig: func() {
					proxy.Add(faultproxy.Rule{Method: "GET", Path: `/secrets/` + b + `$`, Nth: 2, Times: 1, Fault: faultproxy.Status(500)})
				},
				Config:      config(b),
				ExpectError: regexp.MustCompile(`(?s)` + ws(`read-back failed, old secret kept; the new name (RB_NEW) was left in the store: the custom store cannot delete it recoverably`)),
			},
			{
				Config: config(a),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("full_name"), knownvalue.StringExact(a)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(checkCustomStored(s, a, v), checkCustomStored(s, b, v)),
			},
		},
	})
}

// TestAccSecretResource_writeOnlyReadsDenied: with access_mode = "write_only"
// and a credential the store refuses every read (403), a create goes ahead
// (the check that the name is free cannot be made: a warning says so), and
// a rename needs no read-back.
func TestAccSecretResource_writeOnlyReadsDenied(t *testing.T) {
	url := customtest.StartHTTP(t, "-token", "wo-token")
	proxy := faultproxy.New(t, url, nil)
	proxy.Add(faultproxy.Rule{Method: "GET", Path: `^/secrets/`, Times: faultproxy.Forever, Fault: faultproxy.Status(403)})
	s := customStore(t, custom.Options{URL: url, Headers: map[string]string{"Authorization": "Bearer wo-token"}})
	p := customHTTPProvider(proxy.URL(), "wo-token", `access_mode = "write_only"`)
	const a, b, v = "WO_DENIED_A", "WO_DENIED_B", "sk-wo-denied-0001"
	config := func(name string) string {
		return p + fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name             = %q
  value_wo         = %q
  value_wo_version = 1
  deletion_policy  = "abandon"
}
`, name, v)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config(a), Check: checkCustomStored(s, a, v)},
			{
				Config: config(b),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("full_name"), knownvalue.StringExact(b)),
				},
				// abandon: the old name stays.
				Check: resource.ComposeAggregateTestCheckFunc(checkCustomStored(s, b, v), checkCustomStored(s, a, v)),
			},
		},
	})
	if n := proxy.Stats().Injected; n < 2 {
		t.Errorf("denied reads: got %d, want at least the checks of both names", n)
	}
}
