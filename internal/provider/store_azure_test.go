package provider

import (
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/azurekv/kvfake"
)

// Azure Key Vault acceptance tests. The vault is the in-process Key Vault
// double (kvfake): Lowkey Vault is not served by the Maven registry this
// project can reach, and kvfake also shows purge protection, which Lowkey
// Vault cannot. The provider is configured the way LiteLLM users configure
// LiteLLM: AZURE_KEY_VAULT_URI plus the client-secret variables, no block.

var kvVersionRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// azureVault starts a Key Vault double and points the process environment
// at it: AZURE_KEY_VAULT_URI, the client-secret variables, the Entra
// authority (AZURE_AUTHORITY_HOST) and the double's CA (SSL_CERT_FILE).
func azureVault(t *testing.T, opts *kvfake.Options) *kvfake.Server {
	t.Helper()
	fake := kvfake.New(t, opts)
	ca, err := fake.CAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fo := fake.Options()
	for k, v := range map[string]string{
		"AZURE_KEY_VAULT_URI":  fake.VaultURL(),
		"AZURE_TENANT_ID":      fo.TenantID,
		"AZURE_CLIENT_ID":      fo.ClientID,
		"AZURE_CLIENT_SECRET":  fo.ClientSecret,
		"AZURE_AUTHORITY_HOST": fake.AuthorityHost(),
		"SSL_CERT_FILE":        ca,
	} {
		t.Setenv(k, v)
	}
	for _, k := range []string{"AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "AZURE_FEDERATED_TOKEN_FILE"} {
		unsetEnv(t, k)
	}
	return fake
}

// azureProvider is a provider block on azure_key_vault with no store block:
// everything comes from the environment. settings is the body of
// key_management_settings.
func azureProvider(settings string) string {
	return fmt.Sprintf(`
provider "llmsecret" {
  key_management_system = "azure_key_vault"
  key_management_settings = {
    access_mode = "read_and_write"
    %s
  }
}
`, settings)
}

func azureSecret(name, value string, version int, extra string) string {
	return fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name             = %[1]q
  value_wo         = %[2]q
  value_wo_version = %[3]d
  %[4]s
}
`, name, value, version, extra)
}

// checkKV asserts the vault holds want under the Key Vault name kvName, with
// the content type and tags given (nil tags: not checked).
func checkKV(fake *kvfake.Server, kvName, want, contentType string, tags map[string]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got, ok := fake.Value(kvName)
		if !ok {
			return fmt.Errorf("vault: no active secret %q (names: %v)", kvName, fake.Names())
		}
		if got != want {
			return fmt.Errorf("vault: %q holds a different value than the one configured", kvName)
		}
		ct, tg, _ := fake.Props(kvName)
		if ct != contentType {
			return fmt.Errorf("vault: %q content type: got %q, want %q", kvName, ct, contentType)
		}
		if tags != nil && !maps.Equal(tg, tags) {
			return fmt.Errorf("vault: %q tags: got %v, want %v", kvName, tg, tags)
		}
		return nil
	}
}

// checkKVSoftDeleted checks that the fake holds kvName as soft-deleted
// (recoverable), the default deletion on Key Vault.
func checkKVSoftDeleted(fake *kvfake.Server, kvName string) resource.TestCheckFunc {
	const want = "deleted"
	return func(*terraform.State) error {
		if got := fake.State(kvName); got != want {
			return fmt.Errorf("vault: %q is %s, want %s", kvName, got, want)
		}
		return nil
	}
}

func TestAccAzureKeyVaultSecret_basic(t *testing.T) {
	fake := azureVault(t, &kvfake.Options{DeleteLag: 2, PurgeLag: 2})
	const v1, v2 = "sk-azure-one-0001", "sk-azure-two-0002"
	var version1 string
	// deletion_policy = "delete": this test follows destroy through the
	// purge (the default on Key Vault is soft_delete).
	meta := `description = "OpenAI key"
  tags = { owner = "platform" }
  deletion_policy = "delete"`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// Create: OPENAI-API-KEY is stored under that very name with a new
			// version; description is the content type, tags merged with
			// the provider's.
			{
				Config: azureProvider(`tags = { team = "ml" }`) + azureSecret("OPENAI-API-KEY", v1, 1, meta),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringRegexp(kvVersionRE)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("value_wo"), knownvalue.Null()),
					expectNoSecretInState(v1),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkKV(fake, "OPENAI-API-KEY", v1, "OpenAI key", map[string]string{"owner": "platform", "team": "ml"}),
					resource.TestCheckResourceAttrWith(res, "version", func(v string) error { version1 = v; return nil }),
					func(*terraform.State) error {
						if n := fake.Count("token", ""); n == 0 {
							return fmt.Errorf("no client-credentials token was requested")
						}
						if n := fake.Count("challenge", ""); n == 0 {
							return fmt.Errorf("the SDK never met Key Vault's bearer challenge")
						}
						return nil
					},
				),
			},
			// Metadata only: UpdateSecretProperties, no new version.
			{
				Config: azureProvider(`tags = { team = "ml" }`) + azureSecret("OPENAI-API-KEY", v1, 1, `description = "OpenAI key, rotated monthly"
  tags = { owner = "security" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkKV(fake, "OPENAI-API-KEY", v1, "OpenAI key, rotated monthly", map[string]string{"owner": "security", "team": "ml"}),
					resource.TestCheckResourceAttrWith(res, "version", func(v string) error {
						if v != version1 {
							return fmt.Errorf("version changed on a metadata-only update: %s -> %s", version1, v)
						}
						if n := fake.Versions("OPENAI-API-KEY"); n != 1 {
							return fmt.Errorf("vault: %d versions after a metadata-only update, want 1", n)
						}
						return nil
					}),
				),
			},
			// New value: SetSecret writes version 2, whose id is version.
			{
				Config: azureProvider(`tags = { team = "ml" }`) + azureSecret("OPENAI-API-KEY", v2, 2, meta),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkKV(fake, "OPENAI-API-KEY", v2, "OpenAI key", nil),
					resource.TestCheckResourceAttrWith(res, "version", func(v string) error {
						if v == version1 || !kvVersionRE.MatchString(v) {
							return fmt.Errorf("version after a new value: got %q (before %q)", v, version1)
						}
						if n := fake.Versions("OPENAI-API-KEY"); n != 2 {
							return fmt.Errorf("vault: %d versions, want 2", n)
						}
						return nil
					}),
				),
			},
			// Read back through the data source, by the same name.
			{
				Config: azureProvider(`tags = { team = "ml" }`) + azureSecret("OPENAI-API-KEY", v2, 2, meta) + `
data "llmsecret_secret" "read" {
  name       = llmsecret_secret.test.name
  depends_on = [llmsecret_secret.test]
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.llmsecret_secret.read", tfjsonpath.New("value"), knownvalue.StringExact(v2)),
					statecheck.ExpectKnownValue("data.llmsecret_secret.read", tfjsonpath.New("version"), knownvalue.StringRegexp(kvVersionRE)),
				},
			},
			// Import by full_name brings the value back from the vault.
			{
				ResourceName:  res,
				ImportState:   true,
				ImportStateId: "OPENAI-API-KEY",
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 {
						return fmt.Errorf("imported %d resources, want 1", len(states))
					}
					a := states[0].Attributes
					for k, want := range map[string]string{"id": "OPENAI-API-KEY", "name": "OPENAI-API-KEY", "full_name": "OPENAI-API-KEY", "description": "OpenAI key", "tags.owner": "platform", "value": ""} {
						if a[k] != want {
							return fmt.Errorf("imported %s: got %q, want %q", k, a[k], want)
						}
					}
					if !kvVersionRE.MatchString(a["version"]) {
						return fmt.Errorf("imported version: got %q, want the vault's version id", a["version"])
					}
					return nil
				},
			},
		},
		// Destroy deletes, waits for the deletion, then purges (Key Vault
		// completes a purge asynchronously).
		CheckDestroy: func(*terraform.State) error {
			if st := fake.State("OPENAI-API-KEY"); st != "absent" && st != "purging" {
				return fmt.Errorf("vault: OPENAI-API-KEY is %s after destroy, want purged", st)
			}
			if fake.Count("purge", "OPENAI-API-KEY") == 0 {
				return fmt.Errorf("vault: destroy never purged the secret")
			}
			return nil
		},
	})
}

// A name that exists only as soft-deleted (deleted outside Terraform, or by
// a destroy with deletion_policy soft_delete) is recovered, then written.
func TestAccAzureKeyVaultSecret_recoverOnCreate(t *testing.T) {
	fake := azureVault(t, &kvfake.Options{RecoverLag: 3})
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// soft_delete keeps the secret recoverable on destroy.
			{
				Config: azureProvider("") + azureSecret("ANTHROPIC-API-KEY", "sk-ant-first", 1, `deletion_policy = "soft_delete"`),
				Check:  checkKV(fake, "ANTHROPIC-API-KEY", "sk-ant-first", "", nil),
			},
			{
				Config:  azureProvider("") + azureSecret("ANTHROPIC-API-KEY", "sk-ant-first", 1, `deletion_policy = "soft_delete"`),
				Destroy: true,
				Check:   checkKVSoftDeleted(fake, "ANTHROPIC-API-KEY"),
			},
			// Creating it again recovers it (Key Vault recovers
			// asynchronously: the store polls until it reads) and writes the
			// new value as a new version.
			{
				Config: azureProvider("") + azureSecret("ANTHROPIC-API-KEY", "sk-ant-second", 1, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionCreate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkKV(fake, "ANTHROPIC-API-KEY", "sk-ant-second", "", nil),
					func(*terraform.State) error {
						if fake.Count("recover", "ANTHROPIC-API-KEY") != 1 {
							return fmt.Errorf("vault: recover calls: got %d, want 1", fake.Count("recover", "ANTHROPIC-API-KEY"))
						}
						if n := fake.Versions("ANTHROPIC-API-KEY"); n != 2 {
							return fmt.Errorf("vault: %d versions after recover and write, want 2", n)
						}
						return nil
					},
				),
			},
		},
		// deletion_policy defaults to soft_delete on Key Vault.
		CheckDestroy: checkKVSoftDeleted(fake, "ANTHROPIC-API-KEY"),
	})
}

// Names are stored as written, because LiteLLM's SecretClient.get_secret
// reads them unmapped: a name Key Vault or LiteLLM cannot use is refused at
// plan with the rule and the Key Vault spelling, and nothing is written.
func TestAccAzureKeyVaultSecret_names(t *testing.T) {
	fake := azureVault(t, nil)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// The environment-variable spelling: refused, with the Key Vault
			// spelling and LiteLLM's reference to it.
			{
				Config:      azureProvider("") + azureSecret("OPENAI_API_KEY", "sk-never", 1, ""),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)azure_key_vault.*"OPENAI_API_KEY".*'_'.*letter,\s+a\s+digit\s+or\s+'-'.*"OPENAI-API-KEY".*os\.environ/OPENAI-API-KEY`),
			},
			// A prefix joined with '/' (LiteLLM's join) cannot be a Key Vault
			// name either.
			{
				Config:      azureProvider("") + azureSecret("virtual-key-1", "sk-never", 1, `prefix = "litellm/"`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)azure_key_vault.*"litellm/virtual-key-1".*'/'.*"litellm-virtual-key-1"`),
			},
			{
				Config:      azureProvider("") + azureSecret("openai.key", "sk-never", 1, ""),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)azure_key_vault.*"openai\.key".*'\.'.*"openai-key"`),
			},
			{
				Config:      azureProvider("") + azureSecret(strings.Repeat("k", 128), "sk-never", 1, ""),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)azure_key_vault.*128\s+characters\s+long,\s+Key\s+Vault\s+allows\s+at\s+most\s+127`),
			},
			// The Key Vault spelling is stored under exactly that name.
			{
				Config: azureProvider("") + azureSecret("TEAM-KEY", "sk-team", 1, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("full_name"), knownvalue.StringExact("TEAM-KEY")),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkKV(fake, "TEAM-KEY", "sk-team", "", nil),
					func(*terraform.State) error {
						for _, n := range fake.Names() {
							if n != "TEAM-KEY" {
								return fmt.Errorf("vault: holds %q; a refused name reached it", n)
							}
						}
						return nil
					},
				),
			},
		},
		// deletion_policy defaults to soft_delete on Key Vault.
		CheckDestroy: checkKVSoftDeleted(fake, "TEAM-KEY"),
	})
}

// With purge protection, destroy leaves the secret soft-deleted (with a
// warning) instead of failing; creating it again recovers it.
func TestAccAzureKeyVaultSecret_purgeProtection(t *testing.T) {
	fake := azureVault(t, &kvfake.Options{PurgeProtection: true})
	cfg := azureProvider("") + azureSecret("PROTECTED-KEY", "sk-protected", 1, "")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg, Check: checkKV(fake, "PROTECTED-KEY", "sk-protected", "", nil)},
			{Config: cfg, Destroy: true, Check: checkKVSoftDeleted(fake, "PROTECTED-KEY")},
			{Config: cfg, Check: checkKV(fake, "PROTECTED-KEY", "sk-protected", "", nil)},
		},
		CheckDestroy: func(*terraform.State) error {
			if fake.Count("purge", "PROTECTED-KEY") != 0 {
				return fmt.Errorf("vault: the store tried to purge in a vault with purge protection (recovery level says so)")
			}
			return checkKVSoftDeleted(fake, "PROTECTED-KEY")(nil)
		},
	})
}

// Key Vault's limits and refusals, in the words a user needs.
func TestAccAzureKeyVaultSecret_errors(t *testing.T) {
	fake := azureVault(t, nil)
	tags := make([]string, 0, 16)
	for i := range 16 {
		tags = append(tags, fmt.Sprintf("t%02d = \"v\"", i))
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// 16 tags: refused before any call to the vault.
			{
				Config:      azureProvider("") + azureSecret("TAGGED-KEY", "sk-tagged", 1, "tags = { "+strings.Join(tags, ", ")+" }"),
				ExpectError: regexp.MustCompile(`(?s)at most 15 tags.*would have 16`),
			},
			// A missing permission names the vault and the permission.
			{
				PreConfig:   func() { fake.Deny("set") },
				Config:      azureProvider("") + azureSecret("DENIED-KEY", "sk-denied", 1, ""),
				ExpectError: regexp.MustCompile(`(?s)` + regexp.QuoteMeta(fake.VaultURL()) + `.*permission denied.*secret permission "set"`),
			},
			// Throttling is retried with the vault's Retry-After.
			{
				PreConfig: func() {
					fake.Deny("")
					fake.Fail(kvfake.Fault{Op: "set", Status: http.StatusTooManyRequests, Code: "Throttled", Message: "Too many requests",
						Header: http.Header{"Retry-After": {"1"}}, Times: 2})
				},
				Config: azureProvider("") + azureSecret("THROTTLED-KEY", "sk-throttled", 1, ""),
				Check:  checkKV(fake, "THROTTLED-KEY", "sk-throttled", "", nil),
			},
		},
		CheckDestroy: func(*terraform.State) error {
			if fake.Count("set", "TAGGED-KEY") != 0 {
				return fmt.Errorf("vault: a write with 16 tags reached the vault")
			}
			// deletion_policy defaults to soft_delete on Key Vault.
			return checkKVSoftDeleted(fake, "THROTTLED-KEY")(nil)
		},
	})
}

// use_managed_identity through the managed identity endpoint (App Service
// style, as Lowkey Vault offers it); the vault URL still comes from
// AZURE_KEY_VAULT_URI.
func TestAccAzureKeyVaultSecret_managedIdentity(t *testing.T) {
	fake := azureVault(t, nil)
	t.Setenv("IDENTITY_ENDPOINT", fake.IdentityEndpoint())
	t.Setenv("IDENTITY_HEADER", fake.Options().IdentityHeader)
	unsetEnv(t, "AZURE_CLIENT_SECRET")
	cfg := `
provider "llmsecret" {
  key_management_system   = "azure_key_vault"
  key_management_settings = { access_mode = "read_and_write" }
  azure_key_vault         = { use_managed_identity = true }
}
` + azureSecret("MI-KEY", "sk-mi", 1, "")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					checkKV(fake, "MI-KEY", "sk-mi", "", nil),
					func(*terraform.State) error {
						if fake.Count("mi-token", "") == 0 || fake.Count("token", "") != 0 {
							return fmt.Errorf("tokens: %d from managed identity, %d from client credentials; want only managed identity",
								fake.Count("mi-token", ""), fake.Count("token", ""))
						}
						return nil
					},
				),
			},
		},
		// deletion_policy defaults to soft_delete on Key Vault.
		CheckDestroy: checkKVSoftDeleted(fake, "MI-KEY"),
	})
}

// Without a vault URL the provider refuses to configure, naming both ways to
// give one.
func TestAccAzureKeyVaultSecret_missingVaultURL(t *testing.T) {
	azureVault(t, nil)
	unsetEnv(t, "AZURE_KEY_VAULT_URI")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      azureProvider("") + azureSecret("ANY-KEY", "sk-any", 1, ""),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)vault_url is required.*AZURE_KEY_VAULT_URI`),
			},
		},
	})
}
