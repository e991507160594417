package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig/awstest"
)

// Acceptance tests of key_management_settings (DESIGN.md, Settings), on the local
// store.

// settingsSecretConfig is one llmsecret_secret written with value_wo.
func settingsSecretConfig(label, name, value string) string {
	return fmt.Sprintf(`
resource "llmsecret_secret" %[1]q {
  name             = %[2]q
  value_wo         = %[3]q
  value_wo_version = 1
}
`, label, name, value)
}

// settingsDataConfig is one llmsecret_secret data source, read after
// dependsOn (HCL references, may be empty).
func settingsDataConfig(label, name, dependsOn string) string {
	return fmt.Sprintf(`
data "llmsecret_secret" %[1]q {
  name       = %[2]q
  depends_on = [%[3]s]
}
`, label, name, dependsOn)
}

func TestAccSettings_readOnlyRefusesDestroy(t *testing.T) {
	env := envFile(t)
	const name, value = "RO_DESTROY", "sk-ro-destroy-0001"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// Create under read_and_write.
			{
				Config: providerConfig(env, readWrite) + settingsSecretConfig("test", name, value),
				Check:  checkStored(t, env, name, value),
			},
			// Destroy under read_only (the default) is refused at plan,
			// naming the setting to change.
			{
				Config:      providerConfig(env, ""),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)RO_DESTROY.*access_mode.*read_only.*read_and_write`),
			},
			// The refused destroy left the secret; read_and_write deletes it.
			{
				PreConfig: func() {
					if got := storedValue(t, env, name); got != value {
						t.Fatalf("store: %s changed after a refused destroy", name)
					}
				},
				Config: providerConfig(env, readWrite),
				Check:  checkAbsent(t, env, name),
			},
		},
	})
}

func TestAccSettings_writeOnly(t *testing.T) {
	env := envFile(t)
	const name, fileValue, envValue = "LLMSECRET_TEST_WO_KEY", "sk-wo-file-0001", "sk-wo-env-0002"
	const missing = "LLMSECRET_TEST_WO_MISSING"
	t.Setenv(name, envValue)
	unsetEnv(t, missing)
	// The file has the missing name: write_only must not read it.
	writeBehindTerraform(t, env, missing, "sk-wo-in-file-only")
	writeOnly := `access_mode = "write_only"`
	config := providerConfig(env, writeOnly) + settingsSecretConfig("test", name, fileValue) +
		settingsDataConfig("test", name, "llmsecret_secret.test")
	const ds = "data.llmsecret_secret.test"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// A read of a name the environment lacks is an error that says
			// reads come from the environment, even though the file has it.
			{
				Config:      providerConfig(env, writeOnly) + settingsDataConfig("test", missing, ""),
				ExpectError: regexp.MustCompile(`(?s)` + missing + `.*environment`),
			},
			// The resource writes the file; the data source reads the
			// process environment.
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringRegexp(kdfVersion)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("value"), knownvalue.StringExact(envValue)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("version"), knownvalue.Null()),
				},
				Check: checkStored(t, env, name, fileValue),
			},
			// Refresh does not read the store back under write_only: a change
			// behind Terraform plans nothing.
			{
				PreConfig: func() { writeBehindTerraform(t, env, name, "sk-wo-changed-outside") },
				Config:    config,
				PlanOnly:  true,
			},
		},
	})
}

func TestAccSettings_hostedKeys(t *testing.T) {
	env := envFile(t)
	const hostedFile, hostedEnv = "sk-hosted-file-0001", "sk-hosted-env-0002"
	const otherFile, otherEnv = "sk-other-file-0003", "sk-other-env-0004"
	writeBehindTerraform(t, env, "HOSTED", hostedFile)
	writeBehindTerraform(t, env, "OTHER", otherFile)
	t.Setenv("HOSTED", hostedEnv)
	t.Setenv("OTHER", otherEnv)
	config := providerConfig(env, readWrite+"\n    hosted_keys = [\"HOSTED\"]") +
		// Writes are not filtered by hosted_keys.
		settingsSecretConfig("test", "HK_WRITTEN", "sk-hk-written-0005") +
		settingsDataConfig("hosted", "HOSTED", "") +
		settingsDataConfig("other", "OTHER", "") + `
data "llmsecret_secrets" "test" {
  names = ["HOSTED", "OTHER"]
}
`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// HOSTED reads the file, OTHER the environment (though the file
			// has it), one by one and in one llmsecret_secrets read.
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.llmsecret_secret.hosted", tfjsonpath.New("value"), knownvalue.StringExact(hostedFile)),
					statecheck.ExpectKnownValue("data.llmsecret_secret.hosted", tfjsonpath.New("version"), knownvalue.StringRegexp(fingerprintRE)),
					statecheck.ExpectKnownValue("data.llmsecret_secret.other", tfjsonpath.New("value"), knownvalue.StringExact(otherEnv)),
					statecheck.ExpectKnownValue("data.llmsecret_secret.other", tfjsonpath.New("version"), knownvalue.Null()),
					statecheck.ExpectKnownValue("data.llmsecret_secrets.test", tfjsonpath.New("values"), knownvalue.MapExact(map[string]knownvalue.Check{
						"HOSTED": knownvalue.StringExact(hostedFile),
						"OTHER":  knownvalue.StringExact(otherEnv),
					})),
				},
				Check: checkStored(t, env, "HK_WRITTEN", "sk-hk-written-0005"),
			},
		},
	})
}

func TestAccSettings_storeVirtualKeys(t *testing.T) {
	env := envFile(t)
	const (
		vA, vB, vC, vD = "sk-svk-a-0001", "sk-svk-b-0002", "sk-svk-c-0003", "sk-svk-d-0004"
		seededValue    = "sk-svk-seeded-0005"
	)
	writeBehindTerraform(t, env, "litellm/SVK_SEEDED", seededValue)
	writeBehindTerraform(t, env, "SVK_SEEDED", "sk-svk-wrong-unprefixed")
	const plainValue = "sk-svk-plain-0006"
	config := providerConfig(env, readWrite+"\n    store_virtual_keys = true") + `
resource "llmsecret_secret" "a" {
  name             = "SVK_A"
  virtual_key      = true
  value_wo         = "` + vA + `"
  value_wo_version = 1
}
` + settingsSecretConfig("plain", "SVK_OPENAI_API_KEY", plainValue) + `
resource "llmsecret_secret" "b" {
  name             = "SVK_B"
  prefix           = ""
  value_wo         = "` + vB + `"
  value_wo_version = 1
}

resource "llmsecret_secret" "c" {
  name             = "SVK_C"
  prefix           = "x/"
  virtual_key      = true
  value_wo         = "` + vC + `"
  value_wo_version = 1
}

resource "llmsecret_secret" "d" {
  name             = "SVK_D"
  prefix           = "team"
  value_wo         = "` + vD + `"
  value_wo_version = 1
}

data "llmsecret_secret" "a" {
  name        = "SVK_A"
  virtual_key = true
  depends_on  = [llmsecret_secret.a]
}

data "llmsecret_secret" "seeded" {
  name        = "SVK_SEEDED"
  virtual_key = true
}
` + settingsDataConfig("plain", "SVK_OPENAI_API_KEY", "llmsecret_secret.plain") +
		settingsDataConfig("bare", "SVK_SEEDED", "") + `
data "llmsecret_secrets" "test" {
  names       = ["SVK_A", "SVK_SEEDED"]
  virtual_key = true
  depends_on  = [llmsecret_secret.a]
}

data "llmsecret_secrets" "plain" {
  names      = ["SVK_OPENAI_API_KEY", "SVK_SEEDED"]
  depends_on = [llmsecret_secret.plain]
}
`
	fullName := func(addr, want string) statecheck.StateCheck {
		return statecheck.ExpectKnownValue(addr, tfjsonpath.New("full_name"), knownvalue.StringExact(want))
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// Create and read: the settings' prefix on a virtual key only, a
			// plain name stored bare (LiteLLM's get_secret reads it so), opted
			// out, an own prefix with and without a trailing slash.
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					fullName("llmsecret_secret.a", "litellm/SVK_A"),
					statecheck.ExpectKnownValue("llmsecret_secret.a", tfjsonpath.New("id"), knownvalue.StringExact("litellm/SVK_A")),
					statecheck.ExpectKnownValue("llmsecret_secret.a", tfjsonpath.New("name"), knownvalue.StringExact("SVK_A")),
					statecheck.ExpectKnownValue("llmsecret_secret.a", tfjsonpath.New("virtual_key"), knownvalue.Bool(true)),
					fullName("llmsecret_secret.plain", "SVK_OPENAI_API_KEY"),
					statecheck.ExpectKnownValue("llmsecret_secret.plain", tfjsonpath.New("virtual_key"), knownvalue.Bool(false)),
					fullName("data.llmsecret_secret.plain", "SVK_OPENAI_API_KEY"),
					statecheck.ExpectKnownValue("data.llmsecret_secret.plain", tfjsonpath.New("value"), knownvalue.StringExact(plainValue)),
					fullName("data.llmsecret_secret.bare", "SVK_SEEDED"),
					statecheck.ExpectKnownValue("data.llmsecret_secret.bare", tfjsonpath.New("value"), knownvalue.StringExact("sk-svk-wrong-unprefixed")),
					statecheck.ExpectKnownValue("data.llmsecret_secrets.plain", tfjsonpath.New("full_names"), knownvalue.MapExact(map[string]knownvalue.Check{
						"SVK_OPENAI_API_KEY": knownvalue.StringExact("SVK_OPENAI_API_KEY"),
						"SVK_SEEDED":         knownvalue.StringExact("SVK_SEEDED"),
					})),
					fullName("llmsecret_secret.b", "SVK_B"),
					fullName("llmsecret_secret.c", "x/SVK_C"),
					fullName("llmsecret_secret.d", "team/SVK_D"),
					fullName("data.llmsecret_secret.a", "litellm/SVK_A"),
					statecheck.ExpectKnownValue("data.llmsecret_secret.a", tfjsonpath.New("value"), knownvalue.StringExact(vA)),
					fullName("data.llmsecret_secret.seeded", "litellm/SVK_SEEDED"),
					statecheck.ExpectKnownValue("data.llmsecret_secret.seeded", tfjsonpath.New("value"), knownvalue.StringExact(seededValue)),
					statecheck.ExpectKnownValue("data.llmsecret_secrets.test", tfjsonpath.New("values"), knownvalue.MapExact(map[string]knownvalue.Check{
						"SVK_A":      knownvalue.StringExact(vA),
						"SVK_SEEDED": knownvalue.StringExact(seededValue),
					})),
					statecheck.ExpectKnownValue("data.llmsecret_secrets.test", tfjsonpath.New("full_names"), knownvalue.MapExact(map[string]knownvalue.Check{
						"SVK_A":      knownvalue.StringExact("litellm/SVK_A"),
						"SVK_SEEDED": knownvalue.StringExact("litellm/SVK_SEEDED"),
					})),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkStored(t, env, "litellm/SVK_A", vA),
					checkAbsent(t, env, "SVK_A"),
					checkStored(t, env, "SVK_OPENAI_API_KEY", plainValue),
					checkAbsent(t, env, "litellm/SVK_OPENAI_API_KEY"),
					checkStored(t, env, "SVK_B", vB),
					checkAbsent(t, env, "litellm/SVK_B"),
					checkStored(t, env, "x/SVK_C", vC),
					checkStored(t, env, "team/SVK_D", vD),
				),
			},
			// Import by the prefixed full_name: the name comes back without
			// the settings' prefix, as a virtual key, and prefix stays unset.
			{
				ResourceName:  "llmsecret_secret.a",
				ImportState:   true,
				ImportStateId: "litellm/SVK_A",
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 {
						return fmt.Errorf("imported %d resources, want 1", len(states))
					}
					a := states[0].Attributes
					for k, want := range map[string]string{"id": "litellm/SVK_A", "name": "SVK_A", "full_name": "litellm/SVK_A", "virtual_key": "true"} {
						if a[k] != want {
							return fmt.Errorf("imported %s = %q, want %q", k, a[k], want)
						}
					}
					if p, ok := a["prefix"]; ok {
						return fmt.Errorf("imported prefix = %q, want null (the settings' prefix)", p)
					}
					if v, ok := a["value"]; ok && v != "" {
						return fmt.Errorf("import brought the value into state; it must stay out")
					}
					return nil
				},
			},
			// Import of a bare full_name under store_virtual_keys: a plain
			// name, not a virtual key.
			{
				ResourceName:  "llmsecret_secret.plain",
				ImportState:   true,
				ImportStateId: "SVK_OPENAI_API_KEY",
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 {
						return fmt.Errorf("imported %d resources, want 1", len(states))
					}
					a := states[0].Attributes
					for k, want := range map[string]string{"id": "SVK_OPENAI_API_KEY", "name": "SVK_OPENAI_API_KEY", "full_name": "SVK_OPENAI_API_KEY", "virtual_key": "false"} {
						if a[k] != want {
							return fmt.Errorf("imported %s = %q, want %q", k, a[k], want)
						}
					}
					return nil
				},
			},
		},
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			checkAbsent(t, env, "litellm/SVK_A"),
			checkAbsent(t, env, "SVK_OPENAI_API_KEY"),
			checkAbsent(t, env, "SVK_B"),
			checkAbsent(t, env, "x/SVK_C"),
			checkAbsent(t, env, "team/SVK_D"),
		),
	})
}

// TestAccSettings_virtualKeyChangeRotates: turning virtual_key on changes
// full_name under store_virtual_keys, so it is a rename in place: the
// prefixed name is written, the bare one deleted.
func TestAccSettings_virtualKeyChangeRotates(t *testing.T) {
	env := envFile(t)
	const value = "sk-vk-flip-0001"
	config := func(virtualKey bool) string {
		return providerConfig(env, readWrite+"\n    store_virtual_keys = true") + fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name             = "VK_FLIP"
  virtual_key      = %t
  value_wo         = %q
  value_wo_version = 1
}
`, virtualKey, value)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config(false),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("full_name"), knownvalue.StringExact("VK_FLIP")),
				},
				Check: checkStored(t, env, "VK_FLIP", value),
			},
			{
				Config: config(true),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("full_name"), knownvalue.StringExact("litellm/VK_FLIP")),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkStored(t, env, "litellm/VK_FLIP", value),
					checkAbsent(t, env, "VK_FLIP"),
				),
			},
		},
		CheckDestroy: func(*terraform.State) error { return checkAbsent(t, env, "litellm/VK_FLIP")(nil) },
	})
}

func TestAccSettings_prefixForStoredVirtualKeys(t *testing.T) {
	env := envFile(t)
	const value = "sk-pfx-team-0001"
	config := providerConfig(env, readWrite+"\n    store_virtual_keys = true\n    prefix_for_stored_virtual_keys = \"team\"") + `
resource "llmsecret_secret" "test" {
  name             = "PFX_KEY"
  virtual_key      = true
  value_wo         = "` + value + `"
  value_wo_version = 1
}

data "llmsecret_secret" "test" {
  name        = "PFX_KEY"
  virtual_key = true
  depends_on  = [llmsecret_secret.test]
}
`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// A prefix without a trailing slash is joined with one.
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("full_name"), knownvalue.StringExact("team/PFX_KEY")),
					statecheck.ExpectKnownValue("data.llmsecret_secret.test", tfjsonpath.New("full_name"), knownvalue.StringExact("team/PFX_KEY")),
					statecheck.ExpectKnownValue("data.llmsecret_secret.test", tfjsonpath.New("value"), knownvalue.StringExact(value)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkStored(t, env, "team/PFX_KEY", value),
					checkAbsent(t, env, "teamPFX_KEY"),
					checkAbsent(t, env, "PFX_KEY"),
				),
			},
		},
		CheckDestroy: func(*terraform.State) error { return checkAbsent(t, env, "team/PFX_KEY")(nil) },
	})
}

// primarySecret is one llmsecret_secret of primaryConfig.
type primarySecret struct{ label, name, value string }

// primaryConfig writes secrets under primary_secret_name through provider
// (a provider block with primary_secret_name) and reads them back: readOne
// with the llmsecret_secret data source, all of them with llmsecret_secrets.
func primaryConfig(provider string, secrets []primarySecret, readOne string) string {
	cfg := provider
	var deps, names []string
	for _, s := range secrets {
		cfg += settingsSecretConfig(s.label, s.name, s.value)
		deps = append(deps, "llmsecret_secret."+s.label)
		names = append(names, s.name)
	}
	return cfg + settingsDataConfig("one", readOne, strings.Join(deps, ", ")) + fmt.Sprintf(`
data "llmsecret_secrets" "all" {
  names      = %[1]s
  depends_on = [%[2]s]
}
`, hclList(names), strings.Join(deps, ", "))
}

// primaryValues is what the primary object must hold for secrets.
func primaryValues(secrets []primarySecret) map[string]string {
	out := map[string]string{}
	for _, s := range secrets {
		out[s.name] = s.value
	}
	return out
}

// primaryValuesCheck is the llmsecret_secrets values map for secrets.
func primaryValuesCheck(secrets []primarySecret) knownvalue.Check {
	out := map[string]knownvalue.Check{}
	for _, s := range secrets {
		out[s.name] = knownvalue.StringExact(s.value)
	}
	return knownvalue.MapExact(out)
}

// TestAccSettings_primarySecretName runs on AWS Secrets Manager (moto), the
// one store LiteLLM reads a primary secret from: resources written in
// parallel are fields of ONE secret, a rename moves a field, a destroy
// removes one; no field is ever a secret of its own.
func TestAccSettings_primarySecretName(t *testing.T) {
	endpoint := startMoto(t)
	provider := awsSMConfig(endpoint, readWrite+fmt.Sprintf("\n    primary_secret_name = %q", testPrimarySecret), "")
	open := func() *backends.Store { _, s := smBackend(t, endpoint, awstest.Region); return s }
	a := primarySecret{"a", "PK_A", "sk-pk-a-0001"}
	b := primarySecret{"b", "PK_B", "sk-pk-b-0002"}
	c := primarySecret{"c", "PK_C", "sk-pk-c-0003"}
	c2 := primarySecret{"c", "PK_C2", "sk-pk-c-0003"} // c renamed: a rotation
	three, rotated, afterRemove := []primarySecret{a, b, c}, []primarySecret{a, b, c2}, []primarySecret{a, c2}
	// noFieldSecrets: no field name exists as a secret of its own.
	noFieldSecrets := func(*terraform.State) error {
		s := open()
		for _, n := range []string{a.name, b.name, c.name, c2.name} {
			if _, err := s.ReadStored(context.Background(), n); backends.CodeOf(err) != backends.NotFound {
				return fmt.Errorf("store: %s exists as a secret of its own (err %v); want it only as a field of %s", n, err, testPrimarySecret)
			}
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// Create: three resources written in parallel end up as three
			// fields of ONE secret; the data sources read the fields.
			{
				Config: primaryConfig(provider, three, b.name),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("llmsecret_secret.a", tfjsonpath.New("full_name"), knownvalue.StringExact(a.name)),
					statecheck.ExpectKnownValue("llmsecret_secret.a", tfjsonpath.New("version"), knownvalue.StringRegexp(kdfVersion)),
					statecheck.ExpectKnownValue("data.llmsecret_secret.one", tfjsonpath.New("value"), knownvalue.StringExact(b.value)),
					// The resource keeps the salted form in state; the data
					// source (whose state holds the value anyway) the store's fingerprint.
					statecheck.ExpectKnownValue("llmsecret_secret.b", tfjsonpath.New("version"), knownvalue.StringRegexp(kdfVersion)),
					statecheck.ExpectKnownValue("data.llmsecret_secret.one", tfjsonpath.New("version"), knownvalue.StringRegexp(fingerprintRE)),
					statecheck.ExpectKnownValue("data.llmsecret_secrets.all", tfjsonpath.New("values"), primaryValuesCheck(three)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					noFieldSecrets,
					checkPrimaryFields(open, primaryValues(three)),
				),
			},
			// Rotate by rename: an update in place; the new field holds the
			// value, the old one is gone, the others stay.
			{
				Config: primaryConfig(provider, rotated, c2.name),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("llmsecret_secret.c", plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("llmsecret_secret.c", tfjsonpath.New("full_name"), knownvalue.StringExact(c2.name)),
					statecheck.ExpectKnownValue("data.llmsecret_secret.one", tfjsonpath.New("value"), knownvalue.StringExact(c2.value)),
					statecheck.ExpectKnownValue("data.llmsecret_secrets.all", tfjsonpath.New("values"), primaryValuesCheck(rotated)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					noFieldSecrets,
					checkPrimaryFields(open, primaryValues(rotated)),
				),
			},
			// Destroy one resource: its field goes, the others stay.
			{
				Config: primaryConfig(provider, afterRemove, a.name),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("llmsecret_secret.b", plancheck.ResourceActionDestroy)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.llmsecret_secrets.all", tfjsonpath.New("values"), primaryValuesCheck(afterRemove)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					noFieldSecrets,
					checkPrimaryFields(open, primaryValues(afterRemove)),
				),
			},
		},
		// Destroy: every field is gone.
		CheckDestroy: checkPrimaryFields(open, map[string]string{}),
	})
}

// TestAccSettings_primarySecretNameRefusedOnLocal: LiteLLM does not read a
// primary secret from a dotenv file (it reads each name on its own), so
// primary_secret_name on the local store fails at configure, naming the
// setting, the store and where LiteLLM reads primary secrets.
func TestAccSettings_primarySecretNameRefusedOnLocal(t *testing.T) {
	env := envFile(t)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: providerConfig(env, readWrite+fmt.Sprintf("\n    primary_secret_name = %q", testPrimarySecret)) +
				settingsDataConfig("one", "PK_A", ""),
			ExpectError: phrase("invalid key_management_settings", "primary_secret_name", "LiteLLM reads primary secrets only from AWS Secrets Manager", `"aws_secret_manager"`, "the local store"),
		}},
		CheckDestroy: checkOnlyKeys(env),
	})
}

// defaultsConfig sets provider-level description and tags and a resource's
// own, with value_wo so the value is written only on a new value_wo_version.
func defaultsConfig(envFile, ownTag string) string {
	return providerConfig(envFile, readWrite+`
    description = "managed by terraform"
    tags        = { team = "ml", owner = "default" }`) + fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name             = "DEFAULTS_KEY"
  value_wo         = "sk-defaults-0001"
  value_wo_version = 1
  description      = "own description"
  tags             = { owner = %[1]q }
}
`, ownTag)
}

func TestAccSettings_descriptionTagsDefaults(t *testing.T) {
	env := envFile(t)
	version := statecheck.CompareValue(compare.ValuesSame())
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// Create: defaults and own tags on a store without metadata. State
			// keeps the configuration's own tags (the defaults do not leak in
			// and cause a diff), and the value is written.
			{
				Config: defaultsConfig(env, "platform"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("tags"), knownvalue.MapExact(map[string]knownvalue.Check{
						"owner": knownvalue.StringExact("platform"),
					})),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("description"), knownvalue.StringExact("own description")),
					version.AddStateValue(res, tfjsonpath.New("version")),
				},
				Check: checkStored(t, env, "DEFAULTS_KEY", "sk-defaults-0001"),
			},
			// Update of tags only: in place, planned and applied without a new
			// version.
			{
				Config: defaultsConfig(env, "research"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringRegexp(kdfVersion)),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("tags"), knownvalue.MapExact(map[string]knownvalue.Check{
						"owner": knownvalue.StringExact("research"),
					})),
					version.AddStateValue(res, tfjsonpath.New("version")),
				},
				Check: checkStored(t, env, "DEFAULTS_KEY", "sk-defaults-0001"),
			},
		},
	})
}
