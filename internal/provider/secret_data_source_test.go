package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// fingerprintRE is the version of a value in the local store.
var fingerprintRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

// secretDataSourceConfig reads a secret written by a resource of the same
// configuration, one seeded into the file, one under an own prefix and one
// only the process environment has.
func secretDataSourceConfig(envFile, written, writtenValue, seeded, prefixed, fromEnv string) string {
	return providerConfig(envFile, readWrite) + fmt.Sprintf(`
resource "llmsecret_secret" "written" {
  name             = %[1]q
  value_wo         = %[2]q
  value_wo_version = 1
}

data "llmsecret_secret" "written" {
  name       = %[1]q
  depends_on = [llmsecret_secret.written]
}

data "llmsecret_secret" "seeded" {
  name = %[3]q
}

data "llmsecret_secret" "prefixed" {
  name   = %[4]q
  prefix = "team"
}

data "llmsecret_secret" "from_env" {
  name = %[5]q
}
`, written, writtenValue, seeded, prefixed, fromEnv)
}

// secretDataSourceOnlyConfig is one data source under the default settings
// (access_mode read_only).
func secretDataSourceOnlyConfig(envFile, name string) string {
	return providerConfig(envFile, "") + fmt.Sprintf(`
data "llmsecret_secret" "test" {
  name = %[1]q
}
`, name)
}

func TestAccSecretDataSource_basic(t *testing.T) {
	env := envFile(t)
	const (
		written, writtenValue   = "DS_WRITTEN", "sk-ds-written-0001"
		seeded, seededValue     = "DS_SEEDED", "sk-ds-seeded-0002"
		prefixed, prefixedValue = "DS_PREFIXED", "sk-ds-prefixed-0003"
		fromEnv, envValue       = "LLMSECRET_TEST_DS_FROM_ENV", "sk-ds-env-0004"
	)
	writeBehindTerraform(t, env, seeded, seededValue)
	writeBehindTerraform(t, env, "team/"+prefixed, prefixedValue)
	// The unprefixed name holds another value: the prefix must be honoured.
	writeBehindTerraform(t, env, prefixed, "sk-ds-wrong-unprefixed")
	t.Setenv(fromEnv, envValue)

	const (
		dsWritten  = "data.llmsecret_secret.written"
		dsSeeded   = "data.llmsecret_secret.seeded"
		dsPrefixed = "data.llmsecret_secret.prefixed"
		dsFromEnv  = "data.llmsecret_secret.from_env"
	)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// Read: values written in the same apply, seeded in the file,
			// under an own prefix and from the process environment.
			{
				Config: secretDataSourceConfig(env, written, writtenValue, seeded, prefixed, fromEnv),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(dsWritten, tfjsonpath.New("value"), knownvalue.StringExact(writtenValue)),
					statecheck.ExpectSensitiveValue(dsWritten, tfjsonpath.New("value")),
					statecheck.ExpectKnownValue(dsWritten, tfjsonpath.New("full_name"), knownvalue.StringExact(written)),
					statecheck.ExpectKnownValue(dsWritten, tfjsonpath.New("version"), knownvalue.StringRegexp(fingerprintRE)),
					// The resource keeps the salted form of that version in
					// state (the data source's state holds the value anyway).
					statecheck.ExpectKnownValue("llmsecret_secret.written", tfjsonpath.New("version"), knownvalue.StringRegexp(kdfVersion)),

					statecheck.ExpectKnownValue(dsSeeded, tfjsonpath.New("value"), knownvalue.StringExact(seededValue)),
					statecheck.ExpectSensitiveValue(dsSeeded, tfjsonpath.New("value")),
					statecheck.ExpectKnownValue(dsSeeded, tfjsonpath.New("full_name"), knownvalue.StringExact(seeded)),
					statecheck.ExpectKnownValue(dsSeeded, tfjsonpath.New("version"), knownvalue.StringRegexp(fingerprintRE)),

					statecheck.ExpectKnownValue(dsPrefixed, tfjsonpath.New("value"), knownvalue.StringExact(prefixedValue)),
					statecheck.ExpectKnownValue(dsPrefixed, tfjsonpath.New("full_name"), knownvalue.StringExact("team/"+prefixed)),
					statecheck.ExpectKnownValue(dsPrefixed, tfjsonpath.New("version"), knownvalue.StringRegexp(fingerprintRE)),

					// Not in the file: the local store falls back to the environment.
					statecheck.ExpectKnownValue(dsFromEnv, tfjsonpath.New("value"), knownvalue.StringExact(envValue)),
					statecheck.ExpectSensitiveValue(dsFromEnv, tfjsonpath.New("value")),
					statecheck.ExpectKnownValue(dsFromEnv, tfjsonpath.New("version"), knownvalue.Null()),

					// Data source values belong in state; this also proves the
					// scan of expectNoSecretInState sees sensitive values.
					expectSecretInState(seededValue),
				},
				Check: checkStored(t, env, written, writtenValue),
			},
			// Read again after a change behind Terraform: the data source
			// follows the store.
			{
				PreConfig: func() { writeBehindTerraform(t, env, seeded, "sk-ds-seeded-changed") },
				Config:    secretDataSourceConfig(env, written, writtenValue, seeded, prefixed, fromEnv),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(dsSeeded, tfjsonpath.New("value"), knownvalue.StringExact("sk-ds-seeded-changed")),
				},
			},
		},
	})
}

func TestAccSecretDataSource_missing(t *testing.T) {
	env := envFile(t)
	const missing = "LLMSECRET_TEST_DS_MISSING"
	unsetEnv(t, missing)
	writeBehindTerraform(t, env, "DS_PRESENT", "sk-ds-present")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// Missing from the file and the environment: an error naming the
			// secret and the store, never an empty string.
			{
				Config:      secretDataSourceOnlyConfig(env, missing),
				ExpectError: regexp.MustCompile(`(?s)` + missing + `.*local`),
			},
			// Read under the default access_mode (read_only).
			{
				Config: secretDataSourceOnlyConfig(env, "DS_PRESENT"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.llmsecret_secret.test", tfjsonpath.New("value"), knownvalue.StringExact("sk-ds-present")),
				},
			},
		},
	})
}
