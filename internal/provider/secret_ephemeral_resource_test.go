package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// ephemeralCopyConfig opens an ephemeral secret and writes it to another
// name through value_wo: the value must reach the store and never the state.
func ephemeralCopyConfig(envFile, source, target string) string {
	return providerConfig(envFile, readWrite) + fmt.Sprintf(`
ephemeral "llmsecret_secret" "source" {
  name = %[1]q
}

resource "llmsecret_secret" "copy" {
  name             = %[2]q
  value_wo         = ephemeral.llmsecret_secret.source.value
  value_wo_version = 1
}
`, source, target)
}

// ephemeralEchoConfig is ephemeralCopyConfig plus the echo provider, which
// holds the ephemeral object in echo.test's state for checks.
func ephemeralEchoConfig(envFile, source, target string) string {
	return ephemeralCopyConfig(envFile, source, target) + `
provider "echo" {
  data = ephemeral.llmsecret_secret.source
}

resource "echo" "test" {}
`
}

// ephemeralOnlyConfig opens one ephemeral secret and shows it to echo.
func ephemeralOnlyConfig(envFile, name string) string {
	return providerConfig(envFile, "") + fmt.Sprintf(`
ephemeral "llmsecret_secret" "test" {
  name = %[1]q
}

provider "echo" {
  data = ephemeral.llmsecret_secret.test
}

resource "echo" "test" {}
`, name)
}

// ephemeralVersionChecks fail (never skip) on a CLI without ephemeral
// resources and write-only arguments (Terraform and OpenTofu 1.11).
var ephemeralVersionChecks = []tfversion.TerraformVersionCheck{tfversion.RequireAbove(tfversion.Version1_11_0)}

func TestAccSecretEphemeralResource_basic(t *testing.T) {
	env := envFile(t)
	const source, value, target = "EPH_SOURCE", "sk-eph-source-0001", "EPH_COPY"
	writeBehindTerraform(t, env, source, value)
	const copyRes, echo = "llmsecret_secret.copy", "echo.test"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   ephemeralVersionChecks,
		Steps: []resource.TestStep{
			// Create: the ephemeral value feeds value_wo; the store gets it,
			// the state (of every object) never does.
			ephemeralStep(resource.TestStep{
				Config: ephemeralCopyConfig(env, source, target),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(copyRes, tfjsonpath.New("full_name"), knownvalue.StringExact(target)),
					statecheck.ExpectKnownValue(copyRes, tfjsonpath.New("value"), knownvalue.Null()),
					statecheck.ExpectKnownValue(copyRes, tfjsonpath.New("value_wo"), knownvalue.Null()),
					expectNoSecretInState(value),
				},
				Check: checkStored(t, env, target, value),
			}),
			// Read through echo: the ephemeral object carries the value, its
			// stored name and version; only echo.test holds it.
			ephemeralStep(resource.TestStep{
				Config: ephemeralEchoConfig(env, source, target),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(echo, tfjsonpath.New("data").AtMapKey("value"), knownvalue.StringExact(value)),
					statecheck.ExpectKnownValue(echo, tfjsonpath.New("data").AtMapKey("name"), knownvalue.StringExact(source)),
					statecheck.ExpectKnownValue(echo, tfjsonpath.New("data").AtMapKey("full_name"), knownvalue.StringExact(source)),
					statecheck.ExpectKnownValue(echo, tfjsonpath.New("data").AtMapKey("version"), knownvalue.StringRegexp(fingerprintRE)),
					expectNoSecretInState(value, echo),
				},
				Check: checkStored(t, env, target, value),
			}),
		},
	})
}

func TestAccSecretEphemeralResource_envFallbackAndMissing(t *testing.T) {
	env := envFile(t)
	const fromEnv, missing = "LLMSECRET_TEST_EPH_ENV", "LLMSECRET_TEST_EPH_MISSING"
	t.Setenv(fromEnv, "sk-eph-env-0002")
	unsetEnv(t, missing)
	const echo = "echo.test"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   ephemeralVersionChecks,
		Steps: []resource.TestStep{
			// Missing: an error naming the secret and the store.
			ephemeralStep(resource.TestStep{
				Config:      ephemeralOnlyConfig(env, missing),
				ExpectError: regexp.MustCompile(`(?s)` + missing + `.*local`),
			}),
			// Not in the file: the local store's environment fallback, with
			// no version.
			ephemeralStep(resource.TestStep{
				Config: ephemeralOnlyConfig(env, fromEnv),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(echo, tfjsonpath.New("data").AtMapKey("value"), knownvalue.StringExact("sk-eph-env-0002")),
					statecheck.ExpectKnownValue(echo, tfjsonpath.New("data").AtMapKey("version"), knownvalue.Null()),
					expectNoSecretInState("sk-eph-env-0002", echo),
				},
			}),
		},
	})
}

// writeOnlyConfig manages one secret with value_wo, or with value when
// inState is true.
func writeOnlyConfig(envFile, name, value string, version int, inState bool) string {
	attr := "value_wo         = %[2]q\n  value_wo_version = %[3]d"
	if inState {
		attr = "value = %[2]q"
	}
	return providerConfig(envFile, readWrite) + fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name = %[1]q
  `+attr+`
}
`, name, value, version)
}

// TestAccSecretResource_writeOnlyNeverInState lives here, beside the
// ephemeral resource, because both exist to keep values out of state.
func TestAccSecretResource_writeOnlyNeverInState(t *testing.T) {
	env := envFile(t)
	const name = "WO_NEVER_IN_STATE"
	const v1, v2, v3 = "sk-wo-first-0001", "sk-wo-second-0002", "sk-wo-third-0003"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   ephemeralVersionChecks,
		Steps: []resource.TestStep{
			// Create with value_wo: written, not in state.
			{
				Config:            writeOnlyConfig(env, name, v1, 1, false),
				ConfigStateChecks: []statecheck.StateCheck{expectNoSecretInState(v1)},
				Check:             checkStored(t, env, name, v1),
			},
			// Control: with value, the same scan finds the value in state.
			{
				Config:            writeOnlyConfig(env, name, v2, 0, true),
				ConfigStateChecks: []statecheck.StateCheck{expectSecretInState(v2)},
				Check:             checkStored(t, env, name, v2),
			},
			// Back to value_wo: the new value is written and the old one
			// leaves the state.
			{
				Config: writeOnlyConfig(env, name, v3, 1, false),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					expectNoSecretInState(v3),
					expectNoSecretInState(v2),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("value"), knownvalue.Null()),
				},
				Check: checkStored(t, env, name, v3),
			},
		},
	})
}

// TestAccSecretEphemeralResource_virtualKey: with store_virtual_keys, the
// ephemeral resource reads a virtual key at the settings' prefix and a plain
// name bare, as LiteLLM stores and reads them.
func TestAccSecretEphemeralResource_virtualKey(t *testing.T) {
	env := envFile(t)
	const name = "EPH_VK"
	writeBehindTerraform(t, env, "litellm/"+name, "sk-eph-virtual-0001")
	writeBehindTerraform(t, env, name, "sk-eph-plain-0002")
	// A new echo resource per step: echo keeps the data it was created with.
	config := func(virtualKey bool) string {
		return providerConfig(env, "store_virtual_keys = true") + fmt.Sprintf(`
ephemeral "llmsecret_secret" "test" {
  name        = %[1]q
  virtual_key = %[2]t
}

provider "echo" {
  data = ephemeral.llmsecret_secret.test
}

resource "echo" %[3]q {}
`, name, virtualKey, fmt.Sprintf("vk_%t", virtualKey))
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   ephemeralVersionChecks,
		Steps: []resource.TestStep{
			ephemeralStep(resource.TestStep{
				Config: config(true),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("echo.vk_true", tfjsonpath.New("data").AtMapKey("full_name"), knownvalue.StringExact("litellm/"+name)),
					statecheck.ExpectKnownValue("echo.vk_true", tfjsonpath.New("data").AtMapKey("value"), knownvalue.StringExact("sk-eph-virtual-0001")),
				},
			}),
			ephemeralStep(resource.TestStep{
				Config: config(false),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("echo.vk_false", tfjsonpath.New("data").AtMapKey("full_name"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue("echo.vk_false", tfjsonpath.New("data").AtMapKey("value"), knownvalue.StringExact("sk-eph-plain-0002")),
				},
			}),
		},
	})
}
