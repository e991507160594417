package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

func secretWOConfig(envFile, name, value string, version int) string {
	return providerConfig(envFile, readWrite) + fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name             = %[1]q
  value_wo         = %[2]q
  value_wo_version = %[3]d
  description      = "test key"
  tags             = { owner = "platform" }
}
`, name, value, version)
}

func secretValueConfig(envFile, name, value string) string {
	return providerConfig(envFile, readWrite) + fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name  = %[1]q
  value = %[2]q
}
`, name, value)
}

const res = "llmsecret_secret.test"

func TestAccSecretResource_basic(t *testing.T) {
	env := envFile(t)
	const v1, v2 = "sk-basic-one-0001", "sk-basic-two-0002"
	var version1 string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// Create and read: the value is written, never stored in state.
			{
				Config: secretWOConfig(env, "OPENAI_API_KEY", v1, 1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("id"), knownvalue.StringExact("OPENAI_API_KEY")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("full_name"), knownvalue.StringExact("OPENAI_API_KEY")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("value"), knownvalue.Null()),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("value_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("value_wo_version"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("deletion_policy"), knownvalue.StringExact("delete")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringRegexp(regexp.MustCompile(`^kdf1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{22}$`))),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkStored(t, env, "OPENAI_API_KEY", v1),
					resource.TestCheckResourceAttrWith(res, "version", func(v string) error { version1 = v; return nil }),
				),
			},
			// Update in place: a new value_wo_version writes a new version.
			{
				Config: secretWOConfig(env, "OPENAI_API_KEY", v2, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkStored(t, env, "OPENAI_API_KEY", v2),
					resource.TestCheckResourceAttrWith(res, "version", func(v string) error {
						if v == version1 {
							return fmt.Errorf("version did not change after a new value: %s", v)
						}
						return nil
					}),
				),
			},
			// Rotate by rename: the new name holds the value, the old is gone.
			{
				Config: secretWOConfig(env, "OPENAI_API_KEY_V2", v2, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("full_name"), knownvalue.StringExact("OPENAI_API_KEY_V2")),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkStored(t, env, "OPENAI_API_KEY_V2", v2),
					checkAbsent(t, env, "OPENAI_API_KEY"),
				),
			},
			// Import by full_name: the secret is found, its value stays out of state.
			{
				ResourceName:  res,
				ImportState:   true,
				ImportStateId: "OPENAI_API_KEY_V2",
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 {
						return fmt.Errorf("imported %d resources, want 1", len(states))
					}
					a := states[0].Attributes
					for k, want := range map[string]string{"id": "OPENAI_API_KEY_V2", "name": "OPENAI_API_KEY_V2", "full_name": "OPENAI_API_KEY_V2", "value": "", "deletion_policy": "delete"} {
						if a[k] != want {
							return fmt.Errorf("imported %s: got a different value than %q", k, want)
						}
					}
					if a["version"] == "" {
						return fmt.Errorf("imported version is empty; want the store's version")
					}
					return nil
				},
			},
			// Importing a name the store does not hold fails.
			{
				ResourceName:  res,
				ImportState:   true,
				ImportStateId: "NO_SUCH_KEY",
				ExpectError:   regexp.MustCompile(`(?i)cannot import non-existent remote object`),
			},
		},
		CheckDestroy: func(*terraform.State) error {
			return checkAbsent(t, env, "OPENAI_API_KEY_V2")(nil)
		},
	})
}

func TestAccSecretResource_driftValue(t *testing.T) {
	env := envFile(t)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: secretValueConfig(env, "DRIFT_KEY", "sk-configured"),
				Check:  checkStored(t, env, "DRIFT_KEY", "sk-configured"),
			},
			// Changed outside Terraform: refresh sees it, apply writes it back.
			{
				PreConfig: func() { writeBehindTerraform(t, env, "DRIFT_KEY", "sk-changed-outside") },
				Config:    secretValueConfig(env, "DRIFT_KEY", "sk-configured"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				Check: checkStored(t, env, "DRIFT_KEY", "sk-configured"),
			},
			// Deleted outside Terraform: refresh drops it, apply creates it.
			{
				PreConfig: func() { deleteBehindTerraform(t, env, "DRIFT_KEY") },
				Config:    secretValueConfig(env, "DRIFT_KEY", "sk-configured"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionCreate)},
				},
				Check: checkStored(t, env, "DRIFT_KEY", "sk-configured"),
			},
		},
	})
}

func TestAccSecretResource_driftWriteOnly(t *testing.T) {
	env := envFile(t)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: secretWOConfig(env, "DRIFT_WO_KEY", "sk-configured-wo", 1),
				Check:  checkStored(t, env, "DRIFT_WO_KEY", "sk-configured-wo"),
			},
			// A new store version behind Terraform's back: value_wo is written again.
			{
				PreConfig: func() { writeBehindTerraform(t, env, "DRIFT_WO_KEY", "sk-changed-outside") },
				Config:    secretWOConfig(env, "DRIFT_WO_KEY", "sk-configured-wo", 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("value_wo_version"), knownvalue.Int64Exact(1)),
				},
				Check: checkStored(t, env, "DRIFT_WO_KEY", "sk-configured-wo"),
			},
		},
	})
}

func TestAccSecretResource_readOnlyRefused(t *testing.T) {
	env := envFile(t)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// access_mode defaults to read_only, as in LiteLLM.
				Config: providerConfig(env, "") + `
resource "llmsecret_secret" "test" {
  name             = "REFUSED"
  value_wo         = "sk-never-written"
  value_wo_version = 1
}
`,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)access_mode.*read_only.*read_and_write`),
			},
		},
		CheckDestroy: func(*terraform.State) error { return checkAbsent(t, env, "REFUSED")(nil) },
	})
}

func TestAccSecretResource_invalidInput(t *testing.T) {
	env := envFile(t)
	cases := map[string]struct {
		body string
		want string
	}{
		"dot-dot segment":      {`name = "a/../b"` + "\n  value = \"x\"", `path segment`},
		"control character":    {`name = "a\u0085b"` + "\n  value = \"x\"", `control character`},
		"trailing space":       {`name = "OPENAI_API_KEY "` + "\n  value = \"x\"", `(?s)end\s+with\s+white\s+space\s+\(U\+0020\s+at\s+byte\s+14`},
		"no-break space":       {`name = "OPENAI\u00a0API_KEY"` + "\n  value = \"x\"", `(?s)U\+00A0\s+\(at\s+byte\s+6,\s+character\s+6\)`},
		"zero-width space":     {`name = "OPENAI_API_KEY\u200b"` + "\n  value = \"x\"", `(?s)format\s+character\s+U\+200B\s+\(at\s+byte\s+14`},
		"byte order mark":      {`name = "\ufeffOPENAI_API_KEY"` + "\n  value = \"x\"", `(?s)U\+FEFF\s+\(at\s+byte\s+0`},
		"both values":          {`name = "A"` + "\n  value = \"x\"\n  value_wo = \"y\"\n  value_wo_version = 1", `(?s)only one|Invalid Attribute Combination`},
		"no value":             {`name = "A"`, `(?s)creating secret \(A\) in local.*no value to write.*import it`},
		"wo without version":   {`name = "A"` + "\n  value_wo = \"y\"", `value_wo_version`},
		"soft delete on local": {`name = "A"` + "\n  value = \"x\"\n  deletion_policy = \"soft_delete\"", `(?s)local store has no soft delete`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      providerConfig(env, readWrite) + "resource \"llmsecret_secret\" \"test\" {\n  " + tc.body + "\n}\n",
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(tc.want),
				}},
			})
		})
	}
}

// writeBehindTerraform changes a secret the way another tool would.
func writeBehindTerraform(t *testing.T, path, fullName, value string) {
	t.Helper()
	if _, err := localStore(t, path).Write(context.Background(), backends.WriteRequest{Name: fullName, Value: []byte(value)}); err != nil {
		t.Fatalf("writing %s behind Terraform: %v", fullName, err)
	}
}

// deleteBehindTerraform deletes a secret the way another tool would.
func deleteBehindTerraform(t *testing.T, path, fullName string) {
	t.Helper()
	if err := localStore(t, path).Delete(context.Background(), fullName, backends.DeleteForever); err != nil {
		t.Fatalf("deleting %s behind Terraform: %v", fullName, err)
	}
}
