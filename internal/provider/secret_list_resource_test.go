package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/querycheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig/awstest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpsm/gcpsmtest"
)

// The list resource and identity import need Terraform 1.14 and 1.12; the
// CLI checks skip them on OpenTofu 1.11, which has neither (the rest of the
// resource is tested there as everywhere).
var (
	needsQuery    = []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_14_0)}
	needsIdentity = []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_12_0)}
)

// queryConfig is a list block over the secrets whose full_name starts with
// prefix. A query step's configuration is the .tfquery.hcl file; the
// provider block stays in the step before it.
func queryConfig(prefix string) string {
	return fmt.Sprintf(`
list "llmsecret_secret" "found" {
  provider         = llmsecret
  include_resource = true
  config {
    prefix = %q
  }
}
`, prefix)
}

// TestAccSecretListResource_awsSecretManager: terraform query finds, on
// Secrets Manager (moto), the secrets under a prefix, with their identity
// and display name, and not the others.
func TestAccSecretListResource_awsSecretManager(t *testing.T) {
	endpoint := startMoto(t)
	_, s := smBackend(t, endpoint, awstest.Region)
	for _, n := range []string{"QUERY_A_KEY", "QUERY_B_KEY", "OTHER_KEY"} {
		writeStore(t, s, n, "sk-"+n)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   needsQuery,
		Steps: []resource.TestStep{
			{Config: awsSMConfig(endpoint, readWrite, "")},
			{
				Query:  true,
				Config: queryConfig("QUERY_"),
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("llmsecret_secret.found", 2),
					querycheck.ExpectIdentity("llmsecret_secret.found", map[string]knownvalue.Check{"full_name": knownvalue.StringExact("QUERY_A_KEY")}),
					querycheck.ExpectIdentity("llmsecret_secret.found", map[string]knownvalue.Check{"full_name": knownvalue.StringExact("QUERY_B_KEY")}),
				},
			},
		},
	})
}

// TestAccSecretListResource_googleSecretManager: the same on the Google
// Secret Manager fake, and a list block asking for virtual keys where the
// settings store none is an error naming the fix.
func TestAccSecretListResource_googleSecretManager(t *testing.T) {
	srv := gcpsmtest.Start(t)
	for _, n := range []string{"QUERY_A_KEY", "QUERY_B_KEY", "QUERY_C_KEY", "OTHER_KEY"} {
		seedGSM(t, srv, n, "sk-"+n)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   needsQuery,
		Steps: []resource.TestStep{
			{Config: googleSMConfig(srv, gsmProject, readWrite)},
			{
				Query:  true,
				Config: queryConfig("QUERY_"),
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("llmsecret_secret.found", 3),
					querycheck.ExpectIdentity("llmsecret_secret.found", map[string]knownvalue.Check{"full_name": knownvalue.StringExact("QUERY_C_KEY")}),
				},
			},
			{
				Query: true,
				Config: `
list "llmsecret_secret" "vk" {
  provider = llmsecret
  config {
    virtual_key = true
  }
}
`,
				ExpectError: regexp.MustCompile(`(?s)virtual_key needs store_virtual_keys.*store_virtual_keys = true`),
			},
		},
	})
}

// TestAccSecretListResource_kms: terraform query on a KMS store (a
// *backends.Keyring) says there is nothing to list, with the store's reason.
func TestAccSecretListResource_kms(t *testing.T) {
	srv := startKMS(t, kmsKey)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   needsQuery,
		Steps: []resource.TestStep{
			{Config: googleKMSConfig(srv, kmsKey, readWrite)},
			{
				Query:       true,
				Config:      queryConfig(""),
				ExpectError: regexp.MustCompile(`(?s)listing secrets in google_kms.*KMS store holds no secrets, only keys: there is\s+nothing to list`),
			},
		},
	})
}

// TestAccSecretResource_identity: a created secret carries its identity;
// an import block by identity adopts a secret nobody declared, with no value
// in the configuration, and the next plan is empty; the store's value is
// untouched.
func TestAccSecretResource_identity(t *testing.T) {
	env := envFile(t)
	writeBehindTerraform(t, env, "ADOPTED_API_KEY", "sk-adopted")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   needsIdentity,
		Steps: []resource.TestStep{
			{
				Config: secretWOConfig(env, "OPENAI_API_KEY", "sk-one", 1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentity("llmsecret_secret.test", map[string]knownvalue.Check{
						"full_name": knownvalue.StringExact("OPENAI_API_KEY"),
					}),
				},
			},
			{
				Config: secretWOConfig(env, "OPENAI_API_KEY", "sk-one", 1) + `
import {
  to       = llmsecret_secret.adopted
  identity = { full_name = "ADOPTED_API_KEY" }
}

resource "llmsecret_secret" "adopted" {
  name = "ADOPTED_API_KEY"
}
`,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("llmsecret_secret.adopted", plancheck.ResourceActionNoop),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentityValue("llmsecret_secret.adopted", tfjsonpath.New("full_name"), knownvalue.StringExact("ADOPTED_API_KEY")),
					statecheck.ExpectKnownValue("llmsecret_secret.adopted", tfjsonpath.New("value"), knownvalue.Null()),
				},
				Check: checkStored(t, env, "ADOPTED_API_KEY", "sk-adopted"),
			},
			{
				// Without a value, the resource cannot be created: only adopted.
				Config: secretWOConfig(env, "OPENAI_API_KEY", "sk-one", 1) + `
resource "llmsecret_secret" "adopted" {
  name = "ADOPTED_API_KEY"
}

resource "llmsecret_secret" "fresh" {
  name = "FRESH_API_KEY"
}
`,
				ExpectError: regexp.MustCompile(`(?s)creating secret \(FRESH_API_KEY\) in local.*no value to write`),
			},
		},
	})
}

// writeStore writes a secret through s, as another client would.
func writeStore(t *testing.T, s *backends.Store, name, value string) {
	t.Helper()
	if _, err := s.Write(context.Background(), backends.WriteRequest{Name: name, Value: []byte(value)}); err != nil {
		t.Fatalf("writing %s: %v", name, err)
	}
}
