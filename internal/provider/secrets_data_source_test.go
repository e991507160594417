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

// secretsDataSourceConfig reads names from the store, and names under an own
// prefix.
func secretsDataSourceConfig(envFile string, names, prefixedNames []string) string {
	return providerConfig(envFile, "") + fmt.Sprintf(`
data "llmsecret_secrets" "plain" {
  names = %[1]s
}

data "llmsecret_secrets" "prefixed" {
  names  = %[2]s
  prefix = "grp"
}
`, hclList(names), hclList(prefixedNames))
}

// hclList renders a list of strings as HCL.
func hclList(items []string) string {
	out := "["
	for i, it := range items {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%q", it)
	}
	return out + "]"
}

func TestAccSecretsDataSource_basic(t *testing.T) {
	env := envFile(t)
	const fromEnv = "LLMSECRET_TEST_SDS_ENV"
	want := map[string]string{"SDS_A": "sk-sds-a-0001", "SDS_B": "sk-sds-b-0002"}
	for n, v := range want {
		writeBehindTerraform(t, env, n, v)
	}
	// Absent from the file: the local store's environment fallback.
	t.Setenv(fromEnv, "sk-sds-env-0003")
	want[fromEnv] = "sk-sds-env-0003"
	wantPrefixed := map[string]string{"SDS_C": "sk-sds-c-0004", "SDS_D": "sk-sds-d-0005"}
	for n, v := range wantPrefixed {
		writeBehindTerraform(t, env, "grp/"+n, v)
		// Unprefixed decoys: the prefix must be honoured.
		writeBehindTerraform(t, env, n, "sk-sds-wrong-unprefixed")
	}

	const plain, prefixed = "data.llmsecret_secrets.plain", "data.llmsecret_secrets.prefixed"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// Read: every name's value and stored name, in one data source.
			{
				Config: secretsDataSourceConfig(env, []string{"SDS_A", "SDS_B", fromEnv}, []string{"SDS_C", "SDS_D"}),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(plain, tfjsonpath.New("values"), knownvalue.MapExact(map[string]knownvalue.Check{
						"SDS_A": knownvalue.StringExact(want["SDS_A"]),
						"SDS_B": knownvalue.StringExact(want["SDS_B"]),
						fromEnv: knownvalue.StringExact(want[fromEnv]),
					})),
					statecheck.ExpectSensitiveValue(plain, tfjsonpath.New("values")),
					statecheck.ExpectKnownValue(plain, tfjsonpath.New("full_names"), knownvalue.MapExact(map[string]knownvalue.Check{
						"SDS_A": knownvalue.StringExact("SDS_A"),
						"SDS_B": knownvalue.StringExact("SDS_B"),
						fromEnv: knownvalue.StringExact(fromEnv),
					})),
					statecheck.ExpectKnownValue(prefixed, tfjsonpath.New("values"), knownvalue.MapExact(map[string]knownvalue.Check{
						"SDS_C": knownvalue.StringExact(wantPrefixed["SDS_C"]),
						"SDS_D": knownvalue.StringExact(wantPrefixed["SDS_D"]),
					})),
					statecheck.ExpectKnownValue(prefixed, tfjsonpath.New("full_names"), knownvalue.MapExact(map[string]knownvalue.Check{
						"SDS_C": knownvalue.StringExact("grp/SDS_C"),
						"SDS_D": knownvalue.StringExact("grp/SDS_D"),
					})),
				},
			},
		},
	})
}

func TestAccSecretsDataSource_missing(t *testing.T) {
	env := envFile(t)
	const missing = "LLMSECRET_TEST_SDS_MISSING"
	unsetEnv(t, missing)
	writeBehindTerraform(t, env, "SDS_PRESENT", "sk-sds-present")
	writeBehindTerraform(t, env, "grp/SDS_PRESENT", "sk-sds-present")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// One missing name among present ones: an error naming it and the
			// store, never a partial map.
			{
				Config:      secretsDataSourceConfig(env, []string{"SDS_PRESENT", missing}, []string{"SDS_PRESENT"}),
				ExpectError: regexp.MustCompile(`(?s)` + missing + `.*local`),
			},
			// Missing only under the prefix: the error names the stored name.
			{
				Config:      secretsDataSourceConfig(env, []string{"SDS_PRESENT"}, []string{"SDS_PRESENT", missing}),
				ExpectError: regexp.MustCompile(`(?s)grp/` + missing + `.*local`),
			},
		},
	})
}
