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

func checkKVState(fake *kvfake.Server, kvName, want string) resource.TestCheckFunc {
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
			// Create: OPENAI_API_KEY is stored as OPENAI-API-KEY with a new
			// version; description is the content type, tags merged with
			// the provider's.
			{
				Config: azureProvider(`tags = { team = "ml" }`) + azureSecret("OPENAI_API_KEY", v1, 1, meta),
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
				Config: azureProvider(`tags = { team = "ml" }`) + azureSecret("OPENAI_API_KEY", v1, 1, `description = "OpenAI key, rotated monthly"
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
				Config: azureProvider(`tags = { team = "ml" }`) + azureSecret("OPENAI_API_KEY", v2, 2, meta),
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
				Config: azureProvider(`tags = { team = "ml" }`) + azureSecret("OPENAI_API_KEY", v2, 2, meta) + `
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
				ImportStateId: "OPENAI_API_KEY",
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 {
						return fmt.Errorf("imported %d resources, want 1", len(states))
					}
					a := states[0].Attributes
					for k, want := range map[string]string{"id": "OPENAI-API-KEY", "name": "OPENAI_API_KEY", "full_name": "OPENAI-API-KEY", "description": "OpenAI key", "tags.owner": "platform", "value": ""} {
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
				Config: azureProvider("") + azureSecret("ANTHROPIC_API_KEY", "sk-ant-first", 1, `deletion_policy = "soft_delete"`),
				Check:  checkKV(fake, "ANTHROPIC-API-KEY", "sk-ant-first", "", nil),
			},
			{
				Config:  azureProvider("") + azureSecret("ANTHROPIC_API_KEY", "sk-ant-first", 1, `deletion_policy = "soft_delete"`),
				Destroy: true,
				Check:   checkKVState(fake, "ANTHROPIC-API-KEY", "deleted"),
			},
			// Creating it again recovers it (Key Vault recovers
			// asynchronously: the store polls until it reads) and writes the
			// new value as a new version.
			{
				Config: azureProvider("") + azureSecret("ANTHROPIC_API_KEY", "sk-ant-second", 1, ""),
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
		CheckDestroy: checkKVState(fake, "ANTHROPIC-API-KEY", "deleted"),
	})
}

// Names map to Key Vault's charset; names that cannot map, and two names
// that map to the same Key Vault name, are refused at plan.
func TestAccAzureKeyVaultSecret_nameMapping(t *testing.T) {
	fake := azureVault(t, nil)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// A virtual key under LiteLLM's prefix: litellm/ -> litellm-.
			{
				Config: azureProvider(`store_virtual_keys = true`) + azureSecret("virtual_key_1", "sk-virtual-1", 1, "virtual_key = true"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("full_name"), knownvalue.StringExact("litellm-virtual-key-1")),
				},
				Check: checkKV(fake, "litellm-virtual-key-1", "sk-virtual-1", "", nil),
			},
			// A rename between two spellings of one Key Vault name writes
			// in place and deletes nothing.
			{
				Config: azureProvider("") + azureSecret("RENAME_ME", "sk-rename", 1, ""),
				Check:  checkKV(fake, "RENAME-ME", "sk-rename", "", nil),
			},
			{
				Config: azureProvider("") + azureSecret("RENAME-ME", "sk-rename", 1, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkKV(fake, "RENAME-ME", "sk-rename", "", nil),
					func(*terraform.State) error {
						if n := fake.Count("delete", "RENAME-ME"); n != 0 {
							return fmt.Errorf("vault: the rename deleted the secret %d times", n)
						}
						return nil
					},
				),
			},
			// A name Key Vault cannot hold, refused at plan with the rule.
			{
				Config:      azureProvider("") + azureSecret("openai.key", "sk-never", 1, ""),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)cannot map secret name.*openai\.key.*'_' and '/'`),
			},
			// Two names of one configuration for one Key Vault secret.
			{
				Config: azureProvider("") + azureSecret("TEAM_KEY", "sk-team-a", 1, "") + `
resource "llmsecret_secret" "other" {
  name             = "TEAM-KEY"
  value_wo         = "sk-team-b"
  value_wo_version = 1
}
`,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)both map to.*Key Vault secret "TEAM-KEY"`),
			},
		},
		// deletion_policy defaults to soft_delete on Key Vault: the secrets
		// written are soft-deleted (the virtual key by the rename away from
		// it), the refused ones never existed.
		CheckDestroy: func(*terraform.State) error {
			for n, want := range map[string]string{"litellm-virtual-key-1": "deleted", "RENAME-ME": "deleted", "TEAM-KEY": "absent", "openai-key": "absent"} {
				if err := checkKVState(fake, n, want)(nil); err != nil {
					return err
				}
			}
			return nil
		},
	})
}

// With purge protection, destroy leaves the secret soft-deleted (and logs a
// warning) instead of failing; creating it again recovers it.
func TestAccAzureKeyVaultSecret_purgeProtection(t *testing.T) {
	fake := azureVault(t, &kvfake.Options{PurgeProtection: true})
	cfg := azureProvider("") + azureSecret("PROTECTED_KEY", "sk-protected", 1, "")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg, Check: checkKV(fake, "PROTECTED-KEY", "sk-protected", "", nil)},
			{Config: cfg, Destroy: true, Check: checkKVState(fake, "PROTECTED-KEY", "deleted")},
			{Config: cfg, Check: checkKV(fake, "PROTECTED-KEY", "sk-protected", "", nil)},
		},
		CheckDestroy: func(*terraform.State) error {
			if fake.Count("purge", "PROTECTED-KEY") != 0 {
				return fmt.Errorf("vault: the store tried to purge in a vault with purge protection (recovery level says so)")
			}
			return checkKVState(fake, "PROTECTED-KEY", "deleted")(nil)
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
				Config:      azureProvider("") + azureSecret("TAGGED_KEY", "sk-tagged", 1, "tags = { "+strings.Join(tags, ", ")+" }"),
				ExpectError: regexp.MustCompile(`(?s)at most 15 tags.*would have 16`),
			},
			// A missing permission names the vault and the permission.
			{
				PreConfig:   func() { fake.Deny("set") },
				Config:      azureProvider("") + azureSecret("DENIED_KEY", "sk-denied", 1, ""),
				ExpectError: regexp.MustCompile(`(?s)` + regexp.QuoteMeta(fake.VaultURL()) + `.*permission denied.*secret permission "set"`),
			},
			// Throttling is retried with the vault's Retry-After.
			{
				PreConfig: func() {
					fake.Deny("")
					fake.Fail(kvfake.Fault{Op: "set", Status: http.StatusTooManyRequests, Code: "Throttled", Message: "Too many requests",
						Header: http.Header{"Retry-After": {"1"}}, Times: 2})
				},
				Config: azureProvider("") + azureSecret("THROTTLED_KEY", "sk-throttled", 1, ""),
				Check:  checkKV(fake, "THROTTLED-KEY", "sk-throttled", "", nil),
			},
		},
		CheckDestroy: func(*terraform.State) error {
			if fake.Count("set", "TAGGED-KEY") != 0 {
				return fmt.Errorf("vault: a write with 16 tags reached the vault")
			}
			// deletion_policy defaults to soft_delete on Key Vault.
			return checkKVState(fake, "THROTTLED-KEY", "deleted")(nil)
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
` + azureSecret("MI_KEY", "sk-mi", 1, "")
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
		CheckDestroy: checkKVState(fake, "MI-KEY", "deleted"),
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
				Config:      azureProvider("") + azureSecret("ANY_KEY", "sk-any", 1, ""),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)vault_url is required.*AZURE_KEY_VAULT_URI`),
			},
		},
	})
}
