package provider

import (
	"context"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault/vaulttest"
)

// Acceptance tests of the hashicorp_vault store, against a real Vault
// v1.21.4 dev server (built and cached by scripts/tools.sh, started per test
// on a free loopback port by vaulttest, stopped at the end of the test).
// What the store holds is checked with Vault's own API and the root token.

// vaultEnvVars are every variable the vault store reads; each test clears
// them so the developer's environment cannot change what it configures.
var vaultEnvVars = []string{
	"HCP_VAULT_ADDR", "HCP_VAULT_TOKEN", "HCP_VAULT_NAMESPACE", "HCP_VAULT_LOGIN_NAMESPACE",
	"HCP_VAULT_SECRET_NAMESPACE", "HCP_VAULT_MOUNT_NAME", "HCP_VAULT_PATH_PREFIX",
	"HCP_VAULT_APPROLE_ROLE_ID", "HCP_VAULT_APPROLE_SECRET_ID", "HCP_VAULT_APPROLE_MOUNT_PATH",
	"HCP_VAULT_CLIENT_CERT", "HCP_VAULT_CLIENT_KEY", "HCP_VAULT_CERT_ROLE",
	"VAULT_ADDR", "VAULT_TOKEN", "VAULT_NAMESPACE", "VAULT_CACERT", "VAULT_SKIP_VERIFY",
}

// startVault starts a Vault dev server for an acceptance test, with the vault
// variables cleared. Without TF_ACC the test is skipped first, as
// resource.Test would skip it, so unit runs start no server.
func startVault(t *testing.T) *vaulttest.Server {
	t.Helper()
	isolateVaultEnv(t)
	return vaulttest.Start(t)
}

// startVaultTLS is startVault for an HTTPS server (vaulttest.StartTLS).
func startVaultTLS(t *testing.T) *vaulttest.Server {
	t.Helper()
	isolateVaultEnv(t)
	return vaulttest.StartTLS(t)
}

func isolateVaultEnv(t *testing.T) {
	t.Helper()
	if os.Getenv(resource.EnvTfAcc) == "" {
		t.Skipf("acceptance tests skipped unless env '%s' set", resource.EnvTfAcc)
	}
	for _, v := range vaultEnvVars {
		unsetEnv(t, v)
	}
}

// vaultProvider is a provider block on s with token auth; settings is the
// body of key_management_settings, extra goes into the hashicorp_vault block.
func vaultProvider(s *vaulttest.Server, token, settings, extra string) string {
	return fmt.Sprintf(`
provider "llmsecret" {
  key_management_system = "hashicorp_vault"
  key_management_settings = {
    %[3]s
  }
  hashicorp_vault = {
    address = %[1]q
    token   = %[2]q
    %[4]s
  }
}
`, s.Addr, token, settings, extra)
}

// vaultSecretConfig is one llmsecret_secret with value_wo and a data source
// reading it back.
func vaultSecretConfig(provider, name, value string, version int, description, tags, policy string) string {
	return provider + fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name             = %[1]q
  value_wo         = %[2]q
  value_wo_version = %[3]d
  description      = %[4]q
  tags             = %[5]s
  deletion_policy  = %[6]q
}

data "llmsecret_secret" "test" {
  name       = llmsecret_secret.test.full_name
  depends_on = [llmsecret_secret.test]
}
`, name, value, version, description, tags, policy)
}

// kvState is what Vault's API says about one KV v2 secret.
type kvState struct {
	exists  bool              // the metadata exists
	current int               // current_version
	deleted map[int]bool      // versions with a deletion_time
	custom  map[string]string // custom_metadata
	value   string            // data_key "key" of the latest version, if readable
	fields  []string          // field names of the latest version's data
	live    bool              // the latest version is readable
}

// readKV reads mount/<path> with the root token: its metadata, then its
// latest version.
func readKV(t *testing.T, s *vaulttest.Server, mount, path string) (kvState, error) {
	t.Helper()
	c := s.Client(t)
	var st kvState
	md, err := c.Logical().Read(mount + "/metadata/" + path)
	if err != nil {
		return st, fmt.Errorf("vault: reading %s/metadata/%s: %w", mount, path, err)
	}
	if md == nil || md.Data == nil {
		return st, nil
	}
	st.exists = true
	st.current, err = strconv.Atoi(fmt.Sprint(md.Data["current_version"]))
	if err != nil {
		return st, fmt.Errorf("vault: %s/metadata/%s: current_version %v", mount, path, md.Data["current_version"])
	}
	st.custom = map[string]string{}
	if cm, ok := md.Data["custom_metadata"].(map[string]any); ok {
		for k, v := range cm {
			st.custom[k] = fmt.Sprint(v)
		}
	}
	st.deleted = map[int]bool{}
	if vs, ok := md.Data["versions"].(map[string]any); ok {
		for k, v := range vs {
			n, err := strconv.Atoi(k)
			if err != nil {
				return st, fmt.Errorf("vault: %s/metadata/%s: version %q", mount, path, k)
			}
			if vm, ok := v.(map[string]any); ok {
				if dt, _ := vm["deletion_time"].(string); dt != "" {
					st.deleted[n] = true
				}
			}
		}
	}
	if st.deleted[st.current] {
		return st, nil
	}
	sec, err := c.Logical().Read(mount + "/data/" + path)
	if err != nil {
		return st, fmt.Errorf("vault: reading %s/data/%s: %w", mount, path, err)
	}
	if sec == nil {
		return st, nil
	}
	data, ok := sec.Data["data"].(map[string]any)
	if !ok {
		return st, nil
	}
	st.live = true
	st.fields = slices.Sorted(maps.Keys(data))
	st.value, _ = data["key"].(string)
	return st, nil
}

// checkVault asserts Vault holds want under secret/<path> at KV version
// wantVersion, with custom_metadata wantCustom when it is not nil. Messages
// never quote values.
func checkVault(t *testing.T, s *vaulttest.Server, path, want string, wantVersion int, wantCustom map[string]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		st, err := readKV(t, s, "secret", path)
		switch {
		case err != nil:
			return err
		case !st.live:
			return fmt.Errorf("vault: secret/%s has no readable latest version (exists %t, current %d, deleted %v)", path, st.exists, st.current, st.deleted)
		case st.value != want:
			return fmt.Errorf("vault: secret/%s holds a different value than the one configured (fields %v)", path, st.fields)
		case st.current != wantVersion:
			return fmt.Errorf("vault: secret/%s is at version %d, want %d", path, st.current, wantVersion)
		case wantCustom != nil && !maps.Equal(st.custom, wantCustom):
			return fmt.Errorf("vault: secret/%s has custom_metadata %v, want %v", path, st.custom, wantCustom)
		}
		return nil
	}
}

// checkVaultGone asserts secret/<path> has no metadata left: every version
// is gone.
func checkVaultGone(t *testing.T, s *vaulttest.Server, path string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		st, err := readKV(t, s, "secret", path)
		if err != nil {
			return err
		}
		if st.exists {
			return fmt.Errorf("vault: secret/%s still exists (current version %d, deleted %v); want every version gone", path, st.current, st.deleted)
		}
		return nil
	}
}

// checkVaultSoftDeleted asserts the latest version of secret/<path> is
// deleted (recoverable) and it is version wantCurrent, with the earlier
// versions still there.
func checkVaultSoftDeleted(t *testing.T, s *vaulttest.Server, path string, wantCurrent int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		st, err := readKV(t, s, "secret", path)
		switch {
		case err != nil:
			return err
		case !st.exists:
			return fmt.Errorf("vault: secret/%s has no metadata; want its versions kept, the latest deleted", path)
		case st.current != wantCurrent || !st.deleted[wantCurrent] || st.live:
			return fmt.Errorf("vault: secret/%s: current version %d, deleted %v, readable %t; want version %d deleted", path, st.current, st.deleted, st.live, wantCurrent)
		}
		return nil
	}
}

// writeVaultBehind writes a new KV version with the root token, as another
// tool would.
func writeVaultBehind(t *testing.T, s *vaulttest.Server, path, value string) {
	t.Helper()
	if _, err := s.Client(t).KVv2("secret").Put(context.Background(), path, map[string]any{"key": value}); err != nil {
		t.Fatalf("writing secret/%s behind Terraform: %v", path, err)
	}
}

// mountKV enables a KV version 2 engine at path and waits until it serves
// requests (a new KV v2 mount upgrades its storage first).
func mountKV(t *testing.T, s *vaulttest.Server, path string) {
	t.Helper()
	c := s.Client(t)
	if _, err := c.Logical().Write("sys/mounts/"+path, map[string]any{"type": "kv", "options": map[string]any{"version": "2"}}); err != nil {
		t.Fatalf("enabling a KV v2 engine at %s: %v", path, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := c.Logical().Read(path + "/config")
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("KV v2 engine at %s not ready: %v", path, err)
		}
		time.Sleep(20 * time.Millisecond) // polling under a deadline
	}
}

// vaultToken creates a token with the given policies (root's child).
func vaultToken(t *testing.T, s *vaulttest.Server, policies ...string) string {
	t.Helper()
	sec, err := s.Client(t).Logical().Write("auth/token/create", map[string]any{"policies": policies, "ttl": "1h"})
	if err != nil || sec == nil || sec.Auth == nil {
		t.Fatalf("creating a token with policies %v: %v", policies, err)
	}
	return sec.Auth.ClientToken
}

// vaultKVPolicy grants what the store needs on every secret of mount secret.
const vaultKVPolicy = `
path "secret/data/*"     { capabilities = ["create", "read", "update", "delete"] }
path "secret/metadata/*" { capabilities = ["read", "update", "delete"] }
`

// phrase is a regexp matching the parts in order, each part literally except
// that a space matches any run of white space (the CLIs wrap diagnostics).
func phrase(parts ...string) *regexp.Regexp {
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = strings.ReplaceAll(regexp.QuoteMeta(p), " ", `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(q, ".*"))
}

// TestAccVaultSecret_basic: the whole lifecycle of one secret, checked
// through Vault's API at each step.
func TestAccVaultSecret_basic(t *testing.T) {
	s := startVault(t)
	p := vaultProvider(s, s.RootToken, readWrite, "")
	const name, renamed = "litellm/OPENAI_API_KEY", "litellm/OPENAI_API_KEY_V2"
	const v1, v2 = "sk-vault-one-0001", "sk-vault-two-0002"
	const ds = "data.llmsecret_secret.test"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// Create: KV version 1 with the value under "key"; description
			// and tags in custom_metadata; nothing of the value in state.
			{
				Config: vaultSecretConfig(p, name, v1, 1, "OpenAI key", `{ owner = "platform" }`, "delete"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("id"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("full_name"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringExact("1")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("value"), knownvalue.Null()),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("value"), knownvalue.StringExact(v1)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("version"), knownvalue.StringExact("1")),
					expectNoSecretInState(v1, ds),
				},
				Check: checkVault(t, s, name, v1, 1, map[string]string{"description": "OpenAI key", "tag:owner": "platform"}),
			},
			// A new value: version 2, in place.
			{
				Config: vaultSecretConfig(p, name, v2, 2, "OpenAI key", `{ owner = "platform" }`, "delete"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringExact("2")),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("value"), knownvalue.StringExact(v2)),
				},
				Check: checkVault(t, s, name, v2, 2, map[string]string{"description": "OpenAI key", "tag:owner": "platform"}),
			},
			// Description and tags alone: custom_metadata changes, no new
			// KV version; a custom_metadata key of someone else's is kept.
			{
				PreConfig: func() {
					if _, err := s.Client(t).Logical().JSONMergePatch(context.Background(), "secret/metadata/"+name,
						map[string]any{"custom_metadata": map[string]any{"rotation": "90d"}}); err != nil {
						t.Fatal(err)
					}
				},
				Config: vaultSecretConfig(p, name, v2, 2, "OpenAI key (prod)", `{ owner = "security", team = "ml" }`, "delete"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringExact("2")),
				},
				Check: checkVault(t, s, name, v2, 2, map[string]string{
					"description": "OpenAI key (prod)", "tag:owner": "security", "tag:team": "ml", "rotation": "90d",
				}),
			},
			// Removing a tag removes its key.
			{
				Config: vaultSecretConfig(p, name, v2, 2, "OpenAI key (prod)", `{ team = "ml" }`, "delete"),
				Check:  checkVault(t, s, name, v2, 2, map[string]string{"description": "OpenAI key (prod)", "tag:team": "ml", "rotation": "90d"}),
			},
			// Rotate by rename, in place: the new path holds the value, the
			// old one is deleted with every version.
			{
				Config: vaultSecretConfig(p, renamed, v2, 2, "OpenAI key (prod)", `{ team = "ml" }`, "delete"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("full_name"), knownvalue.StringExact(renamed)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringExact("1")),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("value"), knownvalue.StringExact(v2)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkVault(t, s, renamed, v2, 1, map[string]string{"description": "OpenAI key (prod)", "tag:team": "ml"}),
					checkVaultGone(t, s, name),
				),
			},
			// Import by full_name: description, tags and the KV version come
			// back; the value stays out of state.
			{
				ResourceName:  res,
				ImportState:   true,
				ImportStateId: renamed,
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 {
						return fmt.Errorf("imported %d resources, want 1", len(states))
					}
					a := states[0].Attributes
					for k, want := range map[string]string{
						"id": renamed, "name": renamed, "full_name": renamed, "version": "1",
						"description": "OpenAI key (prod)", "tags.%": "1", "tags.team": "ml",
						// Import takes the store's default: Vault deletes recoverably.
						"deletion_policy": "soft_delete",
					} {
						if a[k] != want {
							return fmt.Errorf("imported %s: got %q, want %q", k, a[k], want)
						}
					}
					if a["value"] != "" {
						return fmt.Errorf("imported value: got %d bytes in state, want none", len(a["value"]))
					}
					return nil
				},
			},
		},
		// deletion_policy = "delete": the metadata and every version go.
		CheckDestroy: func(*terraform.State) error { return checkVaultGone(t, s, renamed)(nil) },
	})
}

// TestAccVaultSecret_dataSources: the data sources and the ephemeral
// resource read secrets another tool wrote, through mount, path_prefix and
// data_key set in the block; a missing name fails naming it and the store.
func TestAccVaultSecret_dataSources(t *testing.T) {
	s := startVault(t)
	mountKV(t, s, "kv-llm")
	kv := s.Client(t).KVv2("kv-llm")
	ctx := context.Background()
	const anthropic, openai = "sk-ant-vault-0002", "sk-openai-vault-0001"
	for _, w := range []struct{ path, value string }{
		{"apps/litellm/ANTHROPIC_API_KEY", "sk-ant-old-0001"},
		{"apps/litellm/ANTHROPIC_API_KEY", anthropic},
		{"apps/litellm/OPENAI_API_KEY", openai},
	} {
		if _, err := kv.Put(ctx, w.path, map[string]any{"value": w.value, "note": "other field"}); err != nil {
			t.Fatal(err)
		}
	}
	p := vaultProvider(s, s.RootToken, "", `
    mount       = "kv-llm"
    path_prefix = "apps/litellm"
    data_key    = "value"`)
	const ds = "data.llmsecret_secret.anthropic"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   ephemeralVersionChecks,
		Steps: []resource.TestStep{
			// The data sources read the latest version's data_key field.
			{
				Config: p + `
data "llmsecret_secret" "anthropic" {
  name = "ANTHROPIC_API_KEY"
}

data "llmsecret_secrets" "all" {
  names = ["ANTHROPIC_API_KEY", "OPENAI_API_KEY"]
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("value"), knownvalue.StringExact(anthropic)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("version"), knownvalue.StringExact("2")),
					statecheck.ExpectKnownValue("data.llmsecret_secrets.all", tfjsonpath.New("values"), knownvalue.MapExact(map[string]knownvalue.Check{
						"ANTHROPIC_API_KEY": knownvalue.StringExact(anthropic),
						"OPENAI_API_KEY":    knownvalue.StringExact(openai),
					})),
				},
			},
			// The ephemeral resource reads the same, outside state.
			ephemeralStep(resource.TestStep{
				Config: p + `
ephemeral "llmsecret_secret" "anthropic" {
  name = "ANTHROPIC_API_KEY"
}

provider "echo" {
  data = ephemeral.llmsecret_secret.anthropic
}

resource "echo" "test" {}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("echo.test", tfjsonpath.New("data").AtMapKey("value"), knownvalue.StringExact(anthropic)),
					statecheck.ExpectKnownValue("echo.test", tfjsonpath.New("data").AtMapKey("version"), knownvalue.StringExact("2")),
					expectNoSecretInState(anthropic, "echo.test"),
				},
			}),
			// A missing secret is an error naming it, the store and the path.
			{
				Config: p + `
data "llmsecret_secret" "missing" {
  name = "NOT_THERE"
}
`,
				ExpectError: phrase("NOT_THERE", "hashicorp_vault", "no secret at kv-llm/data/apps/litellm/NOT_THERE"),
			},
		},
	})
}

// TestAccVaultSecret_drift: a value changed with Vault's API between steps
// is a new KV version; refresh sees it and apply writes the configured value
// back, with `value` and with `value_wo`. A secret deleted behind Terraform's
// back is created again.
func TestAccVaultSecret_drift(t *testing.T) {
	s := startVault(t)
	config := vaultProvider(s, s.RootToken, readWrite, "") + `
resource "llmsecret_secret" "plain" {
  name  = "DRIFT_VALUE"
  value = "sk-drift-value-0001"
}

resource "llmsecret_secret" "wo" {
  name             = "DRIFT_WO"
  value_wo         = "sk-drift-wo-0001"
  value_wo_version = 1
}
`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					checkVault(t, s, "DRIFT_VALUE", "sk-drift-value-0001", 1, nil),
					checkVault(t, s, "DRIFT_WO", "sk-drift-wo-0001", 1, nil),
				),
			},
			// Both changed with the Vault API (version 2): both planned back
			// (version 3).
			{
				PreConfig: func() {
					writeVaultBehind(t, s, "DRIFT_VALUE", "sk-changed-outside")
					writeVaultBehind(t, s, "DRIFT_WO", "sk-changed-outside")
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("llmsecret_secret.plain", plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("llmsecret_secret.wo", plancheck.ResourceActionUpdate),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("llmsecret_secret.plain", tfjsonpath.New("version"), knownvalue.StringExact("3")),
					statecheck.ExpectKnownValue("llmsecret_secret.wo", tfjsonpath.New("version"), knownvalue.StringExact("3")),
					statecheck.ExpectKnownValue("llmsecret_secret.wo", tfjsonpath.New("value_wo_version"), knownvalue.Int64Exact(1)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkVault(t, s, "DRIFT_VALUE", "sk-drift-value-0001", 3, nil),
					checkVault(t, s, "DRIFT_WO", "sk-drift-wo-0001", 3, nil),
				),
			},
			// Deleted with every version behind Terraform's back: created
			// again, at version 1.
			{
				PreConfig: func() {
					if _, err := s.Client(t).Logical().Delete("secret/metadata/DRIFT_WO"); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("llmsecret_secret.wo", plancheck.ResourceActionCreate),
						plancheck.ExpectResourceAction("llmsecret_secret.plain", plancheck.ResourceActionNoop),
					},
				},
				Check: checkVault(t, s, "DRIFT_WO", "sk-drift-wo-0001", 1, nil),
			},
		},
		// deletion_policy defaults to soft_delete on Vault: destroy deletes
		// the latest version of each, recoverably.
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			checkVaultSoftDeleted(t, s, "DRIFT_VALUE", 3),
			checkVaultSoftDeleted(t, s, "DRIFT_WO", 1),
		),
	})
}

// TestAccVaultSecret_softDeleteRecreate: soft_delete deletes the latest
// version only (vault kv undelete recovers it); applying the same name again
// writes a new version on top, with no error.
func TestAccVaultSecret_softDeleteRecreate(t *testing.T) {
	s := startVault(t)
	p := vaultProvider(s, s.RootToken, readWrite, "")
	const name = "ANTHROPIC_API_KEY"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: vaultSecretConfig(p, name, "sk-soft-one", 1, "first", `{ owner = "a" }`, "soft_delete"),
				Check:  checkVault(t, s, name, "sk-soft-one", 1, map[string]string{"description": "first", "tag:owner": "a"}),
			},
			// Destroy: version 1 deleted, the metadata kept.
			{
				Config:  vaultSecretConfig(p, name, "sk-soft-one", 1, "first", `{ owner = "a" }`, "soft_delete"),
				Destroy: true,
				Check:   checkVaultSoftDeleted(t, s, name, 1),
			},
			// Create again: version 2, readable, with the new metadata;
			// version 1 stays deleted.
			{
				Config: vaultSecretConfig(p, name, "sk-soft-two", 1, "second", `{ owner = "b" }`, "soft_delete"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringExact("2")),
					statecheck.ExpectKnownValue("data.llmsecret_secret.test", tfjsonpath.New("value"), knownvalue.StringExact("sk-soft-two")),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkVault(t, s, name, "sk-soft-two", 2, map[string]string{"description": "second", "tag:owner": "b"}),
					func(*terraform.State) error {
						st, err := readKV(t, s, "secret", name)
						if err != nil {
							return err
						}
						if !st.deleted[1] || st.deleted[2] {
							return fmt.Errorf("vault: secret/%s deleted versions %v, want only version 1", name, st.deleted)
						}
						return nil
					},
				),
			},
		},
		// The final destroy soft-deletes version 2.
		CheckDestroy: func(*terraform.State) error { return checkVaultSoftDeleted(t, s, name, 2)(nil) },
	})
}

// TestAccVaultSecret_policyDenied: with a token whose policy only reads,
// reads work and writes fail naming the path and the missing capability.
func TestAccVaultSecret_policyDenied(t *testing.T) {
	s := startVault(t)
	s.WritePolicy(t, "kv-read-only", `
path "secret/data/*"     { capabilities = ["read"] }
path "secret/metadata/*" { capabilities = ["read"] }
`)
	token := vaultToken(t, s, "kv-read-only")
	writeVaultBehind(t, s, "SEEDED_KEY", "sk-seeded-0001")
	p := vaultProvider(s, token, readWrite, "")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// Reading is allowed.
			{
				Config: p + `
data "llmsecret_secret" "seeded" {
  name = "SEEDED_KEY"
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.llmsecret_secret.seeded", tfjsonpath.New("value"), knownvalue.StringExact("sk-seeded-0001")),
				},
			},
			// A new secret needs "create" on its data path.
			{
				Config: p + `
resource "llmsecret_secret" "test" {
  name             = "DENIED_NEW"
  value_wo         = "sk-denied-0001"
  value_wo_version = 1
}
`,
				ExpectError: phrase(`creating secret (DENIED_NEW) in hashicorp_vault`,
					`Vault denied "create" on secret/data/DENIED_NEW`, `permission denied`,
					`the token's policies need capability create/update on that path`),
			},
			// A create never overwrites an existing secret: it says to
			// import it.
			{
				Config: p + `
resource "llmsecret_secret" "test" {
  name             = "SEEDED_KEY"
  value_wo         = "sk-denied-0001"
  value_wo_version = 1
}
`,
				ExpectError: phrase(`creating secret (SEEDED_KEY) in hashicorp_vault`, `it already exists`, `import block id = "SEEDED_KEY"`),
			},
			// Imported, overwriting it needs "update".
			{
				Config: p + `
import {
  to = llmsecret_secret.test
  id = "SEEDED_KEY"
}

resource "llmsecret_secret" "test" {
  name             = "SEEDED_KEY"
  value_wo         = "sk-denied-0001"
  value_wo_version = 1
}
`,
				ExpectError: phrase(`secret (SEEDED_KEY) in hashicorp_vault`,
					`Vault denied "update" on secret/data/SEEDED_KEY`, `capability create/update`),
			},
			// Forget it again: this token may not delete either.
			{
				Config: p + `
removed {
  from = llmsecret_secret.test
  lifecycle {
    destroy = false
  }
}
`,
			},
		},
	})
	// Nothing was written.
	st, err := readKV(t, s, "secret", "SEEDED_KEY")
	if err != nil || st.current != 1 || st.value != "sk-seeded-0001" {
		t.Errorf("vault: SEEDED_KEY after denied writes: version %d, %v; want version 1 unchanged", st.current, err)
	}
	if st, err := readKV(t, s, "secret", "DENIED_NEW"); err != nil || st.exists {
		t.Errorf("vault: DENIED_NEW after a denied create: exists %t, %v; want absent", st.exists, err)
	}
}

// TestAccVaultSecret_namesLiteLLMCannotAddress: names LiteLLM's Vault
// reader cannot address (it puts the name into its request URL unescaped)
// fail at plan, before anything is written, with an error naming the
// secret, the store and the rule.
func TestAccVaultSecret_namesLiteLLMCannotAddress(t *testing.T) {
	s := startVault(t)
	p := vaultProvider(s, s.RootToken, readWrite, "")
	var steps []resource.TestStep
	for _, tc := range []struct{ name, rule string }{
		{"OPENAI_API_KEY?v=2", `"?" starts the URL's query string`},
		{"team/key#1", `"#" starts the URL's fragment`},
		{"discount-100%", `"%" starts a percent-escape`},
	} {
		steps = append(steps, resource.TestStep{
			Config: p + fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name             = %q
  value_wo         = "sk-never-written-0001"
  value_wo_version = 1
}
`, tc.name),
			PlanOnly:    true,
			ExpectError: phrase("hashicorp_vault", "secret name", strconv.Quote(tc.name), tc.rule),
		})
	}
	// White space at either end is refused for every store, by the shared
	// name rules.
	steps = append(steps, resource.TestStep{
		Config: p + `
resource "llmsecret_secret" "test" {
  name             = "OPENAI_API_KEY "
  value_wo         = "sk-never-written-0001"
  value_wo_version = 1
}
`,
		PlanOnly:    true,
		ExpectError: phrase("secret name", strconv.Quote("OPENAI_API_KEY "), "must not end with white space (U+0020 at byte 14"),
	})
	testPlansRefused(t, s, steps)
}

// TestAccVaultSecret_customMetadataLimits: a description or tags beyond
// Vault's custom_metadata limits fail at plan, before anything is written,
// naming the secret, the store and the rule.
func TestAccVaultSecret_customMetadataLimits(t *testing.T) {
	s := startVault(t)
	p := vaultProvider(s, s.RootToken, readWrite, "")
	var steps []resource.TestStep
	for _, tc := range []struct{ tags, rule string }{
		{fmt.Sprintf(`{ owner = %q }`, strings.Repeat("x", 513)), "values are at most 512 bytes"},
		{fmt.Sprintf(`{ %s = "v" }`, strings.Repeat("k", 125)), "tag names can have at most 124 bytes"},
	} {
		steps = append(steps, resource.TestStep{
			Config:      vaultSecretConfig(p, "LIMITS_KEY", "sk-never-written-0001", 1, "d", tc.tags, "delete"),
			PlanOnly:    true,
			ExpectError: phrase("hashicorp_vault", "LIMITS_KEY", tc.rule),
		})
	}
	testPlansRefused(t, s, steps)
}

// testPlansRefused runs steps that all fail at plan, then checks that
// nothing was written under secret/.
func testPlansRefused(t *testing.T, s *vaulttest.Server, steps []resource.TestStep) {
	t.Helper()
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps:                    steps,
	})
	if keys, err := s.Client(t).Logical().List("secret/metadata"); err != nil || keys != nil {
		t.Errorf("vault: secret/ after refused plans: got %v, %v; want nothing written", keys, err)
	}
}

// TestAccVault_appRole: AppRole login through the approle block, at a
// non-default mount; it wins over a token in the same block (a bad one here,
// which would fail every request).
func TestAccVault_appRole(t *testing.T) {
	s := startVault(t)
	s.WritePolicy(t, "kv-rw", vaultKVPolicy)
	roleID, secretID := s.AppRole(t, "approle-ci", "kv-rw", map[string]any{"token_ttl": "10m"})
	p := vaultProvider(s, "hvs.not-a-valid-token", readWrite, fmt.Sprintf(`
    approle = {
      role_id    = %[1]q
      secret_id  = %[2]q
      mount_path = "approle-ci"
    }`, roleID, secretID))
	const name, value = "APPROLE_KEY", "sk-approle-0001"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: vaultSecretConfig(p, name, value, 1, "via AppRole", `{ auth = "approle" }`, "delete"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringExact("1")),
					statecheck.ExpectKnownValue("data.llmsecret_secret.test", tfjsonpath.New("value"), knownvalue.StringExact(value)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkVault(t, s, name, value, 1, map[string]string{"description": "via AppRole", "tag:auth": "approle"}),
					// The logins: tokens of auth/approle-ci/login.
					func(*terraform.State) error {
						leases, err := s.Client(t).Logical().List("sys/leases/lookup/auth/approle-ci/login/")
						if err != nil {
							return fmt.Errorf("vault: listing the AppRole login leases: %w", err)
						}
						if leases == nil || fmt.Sprint(leases.Data["keys"]) == "[]" {
							return fmt.Errorf("vault: no token from an AppRole login at auth/approle-ci")
						}
						return nil
					},
				),
			},
		},
		CheckDestroy: func(*terraform.State) error { return checkVaultGone(t, s, name)(nil) },
	})
}

// TestAccVault_certAuth: TLS certificate login through the tls block over
// HTTPS, verified with ca_cert_file; it wins over a (bad) token.
func TestAccVault_certAuth(t *testing.T) {
	s := startVaultTLS(t)
	s.WritePolicy(t, "kv-rw", vaultKVPolicy)
	login := s.EnableCert(t, "kv-rw")
	p := vaultProvider(s, "hvs.not-a-valid-token", readWrite, fmt.Sprintf(`
    tls = {
      ca_cert_file     = %[1]q
      client_cert_file = %[2]q
      client_key_file  = %[3]q
      cert_role        = %[4]q
    }`, s.CACertFile, login.CertFile, login.KeyFile, login.Role))
	const name, value = "CERT_KEY", "sk-cert-0001"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: vaultSecretConfig(p, name, value, 1, "via cert", `{ auth = "cert" }`, "delete"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.llmsecret_secret.test", tfjsonpath.New("value"), knownvalue.StringExact(value)),
				},
				Check: checkVault(t, s, name, value, 1, map[string]string{"description": "via cert", "tag:auth": "cert"}),
			},
		},
		CheckDestroy: func(*terraform.State) error { return checkVaultGone(t, s, name)(nil) },
	})
}

// TestAccVault_skipVerify: tls.skip_verify unset leaves VAULT_SKIP_VERIFY in
// charge; an explicit false wins over it.
func TestAccVault_skipVerify(t *testing.T) {
	s := startVaultTLS(t)
	writeVaultBehind(t, s, "TLS_KEY", "sk-tls-0001")
	t.Setenv("VAULT_SKIP_VERIFY", "true")
	read := `
data "llmsecret_secret" "test" {
  name = "TLS_KEY"
}
`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// skip_verify = false: Vault's certificate (from its own CA) is
			// checked against the system roots and refused.
			{
				Config:      vaultProvider(s, s.RootToken, "", "tls = { skip_verify = false }") + read,
				ExpectError: phrase("cannot verify Vault's TLS certificate at "+s.Addr, "tls.ca_cert_file (or VAULT_CACERT)"),
			},
			// Unset: VAULT_SKIP_VERIFY=true applies.
			{
				Config: vaultProvider(s, s.RootToken, "", "") + read,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.llmsecret_secret.test", tfjsonpath.New("value"), knownvalue.StringExact("sk-tls-0001")),
				},
			},
		},
	})
}

// TestAccVault_envOnly: with no hashicorp_vault block, LiteLLM's HCP_VAULT_*
// variables configure the store, and they win over Vault's VAULT_ADDR and
// VAULT_TOKEN (here another server); without them, VAULT_* applies.
func TestAccVault_envOnly(t *testing.T) {
	s := startVault(t)
	other := vaulttest.Start(t)
	mountKV(t, s, "kv-llm")
	t.Setenv("HCP_VAULT_ADDR", s.Addr)
	t.Setenv("HCP_VAULT_TOKEN", s.RootToken)
	t.Setenv("HCP_VAULT_MOUNT_NAME", "kv-llm")
	t.Setenv("HCP_VAULT_PATH_PREFIX", "litellm")
	t.Setenv("VAULT_ADDR", other.Addr)
	t.Setenv("VAULT_TOKEN", other.RootToken)
	const name, value = "ENV_ONLY_KEY", "sk-env-only-0001"
	config := fmt.Sprintf(`
provider "llmsecret" {
  key_management_system   = "hashicorp_vault"
  key_management_settings = { access_mode = "read_and_write" }
}

resource "llmsecret_secret" "test" {
  name             = %[1]q
  value_wo         = %[2]q
  value_wo_version = 1
}

data "llmsecret_secret" "test" {
  name       = llmsecret_secret.test.full_name
  depends_on = [llmsecret_secret.test]
}
`, name, value)
	where := func(srv *vaulttest.Server, mount, path string, want bool) resource.TestCheckFunc {
		return func(*terraform.State) error {
			st, err := readKV(t, srv, mount, path)
			if err != nil {
				return err
			}
			if st.live != want || (want && st.value != value) {
				return fmt.Errorf("vault %s: %s/%s readable %t (or a different value); want %t", srv.Addr, mount, path, st.live, want)
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// HCP_VAULT_*: the secret is kv-llm/data/litellm/ENV_ONLY_KEY on
			// the HCP_VAULT_ADDR server, nothing on the VAULT_ADDR one.
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("full_name"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue("data.llmsecret_secret.test", tfjsonpath.New("value"), knownvalue.StringExact(value)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					where(s, "kv-llm", "litellm/"+name, true),
					where(other, "secret", name, false),
					where(other, "secret", "litellm/"+name, false),
				),
			},
			// Without HCP_VAULT_*, VAULT_ADDR and VAULT_TOKEN apply (mount
			// "secret", no prefix): the other server lacks the secret, so
			// it is planned and created there.
			{
				PreConfig: func() {
					for _, v := range []string{"HCP_VAULT_ADDR", "HCP_VAULT_TOKEN", "HCP_VAULT_MOUNT_NAME", "HCP_VAULT_PATH_PREFIX"} {
						unsetEnv(t, v)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionCreate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					where(other, "secret", name, true),
					where(s, "kv-llm", "litellm/"+name, true),
				),
			},
		},
	})
}

// TestAccVault_primarySecretNameRefused: LiteLLM reads a primary secret only
// from AWS Secrets Manager, so primary_secret_name on Vault fails at
// configure, naming the setting, the store and why.
func TestAccVault_primarySecretNameRefused(t *testing.T) {
	s := startVault(t)
	p := vaultProvider(s, s.RootToken, readWrite+fmt.Sprintf("\n    primary_secret_name = %q", testPrimarySecret), "")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      p + settingsSecretConfig("a", "PK_A", "sk-vault-pk-a-0001"),
			ExpectError: phrase("invalid key_management_settings", "primary_secret_name", "LiteLLM reads primary secrets only from AWS Secrets Manager", "hashicorp_vault store"),
		}},
	})
}

// vaultDefaultPolicyConfig is one llmsecret_secret without deletion_policy.
func vaultDefaultPolicyConfig(p, name, value string) string {
	return p + fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name             = %[1]q
  value_wo         = %[2]q
  value_wo_version = 1
}
`, name, value)
}

// TestAccVaultSecret_defaultSoftDelete: deletion_policy defaults to
// soft_delete on Vault, as LiteLLM deletes; a rename deletes the old name the
// same recoverable way (its latest version deleted, the metadata kept), and
// so does destroy.
func TestAccVaultSecret_defaultSoftDelete(t *testing.T) {
	s := startVault(t)
	p := vaultProvider(s, s.RootToken, readWrite, "")
	const name, renamed, value = "SOFT_DEFAULT_KEY", "SOFT_DEFAULT_KEY_V2", "sk-vault-soft-default-0001"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: vaultDefaultPolicyConfig(p, name, value),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("deletion_policy"), knownvalue.StringExact("soft_delete")),
				},
				Check: checkVault(t, s, name, value, 1, nil),
			},
			// Rename: the new name is written, the old one soft-deleted.
			{
				Config: vaultDefaultPolicyConfig(p, renamed, value),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkVault(t, s, renamed, value, 1, nil),
					checkVaultSoftDeleted(t, s, name, 1),
				),
			},
		},
		CheckDestroy: func(*terraform.State) error { return checkVaultSoftDeleted(t, s, renamed, 1)(nil) },
	})
}

// TestAccVault_virtualKeyEmptyPrefix: with store_virtual_keys and an empty
// prefix_for_stored_virtual_keys, a plain name is stored bare; a virtual key
// would be "/" + name (LiteLLM's join), which Vault refuses: at plan, naming
// the rule and the prefix.
func TestAccVault_virtualKeyEmptyPrefix(t *testing.T) {
	s := startVault(t)
	p := vaultProvider(s, s.RootToken, readWrite+"\n    store_virtual_keys = true\n    prefix_for_stored_virtual_keys = \"\"", "")
	const value = "sk-vault-empty-prefix-0001"
	virtual := `
resource "llmsecret_secret" "vk" {
  name             = "team-key"
  virtual_key      = true
  value_wo         = "sk-virtual"
  value_wo_version = 1
}
`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: vaultDefaultPolicyConfig(p, "OPENAI_API_KEY", value),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("full_name"), knownvalue.StringExact("OPENAI_API_KEY")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("virtual_key"), knownvalue.Bool(false)),
				},
				Check: checkVault(t, s, "OPENAI_API_KEY", value, 1, nil),
			},
			{
				Config:      vaultDefaultPolicyConfig(p, "OPENAI_API_KEY", value) + virtual,
				PlanOnly:    true,
				ExpectError: phrase("invalid secret name", "/team-key", "must not start or end with", `prefix_for_stored_virtual_keys ""`, "virtual_key is true"),
			},
		},
	})
}

// TestVaultStoreOptions maps a hashicorp_vault block with every attribute set
// onto vault.Options, one to one; unset nested blocks and skip_verify stay
// empty so the store's environment fallbacks apply; an unknown attribute is
// refused rather than read as unset.
func TestVaultStoreOptions(t *testing.T) {
	ctx := context.Background()
	objType, ok := vaultSchema().GetType().(basetypes.ObjectType)
	if !ok {
		t.Fatalf("hashicorp_vault schema type: %T, want an object", vaultSchema().GetType())
	}
	nestedType := func(name string) basetypes.ObjectType {
		ot, ok := objType.AttrTypes[name].(basetypes.ObjectType)
		if !ok {
			t.Fatalf("hashicorp_vault.%s type: %T, want an object", name, objType.AttrTypes[name])
		}
		return ot
	}
	block := func(approle, tls types.Object, overrides map[string]attr.Value) types.Object {
		v := map[string]attr.Value{
			"address": types.StringValue("https://vault.example.com:8200"), "token": types.StringValue("tok"),
			"namespace": types.StringValue("ns"), "login_namespace": types.StringValue("ns/login"),
			"secret_namespace": types.StringValue("ns/secrets"), "mount": types.StringValue("kv"),
			"path_prefix": types.StringValue("apps"), "data_key": types.StringValue("value"),
			"approle": approle, "tls": tls,
		}
		maps.Copy(v, overrides)
		return types.ObjectValueMust(objType.AttrTypes, v)
	}
	approle := types.ObjectValueMust(nestedType("approle").AttrTypes, map[string]attr.Value{
		"role_id": types.StringValue("rid"), "secret_id": types.StringValue("sid"), "mount_path": types.StringValue("approle-ci"),
	})
	tls := types.ObjectValueMust(nestedType("tls").AttrTypes, map[string]attr.Value{
		"ca_cert_file": types.StringValue("/ca.pem"), "client_cert_file": types.StringValue("/c.pem"),
		"client_key_file": types.StringValue("/k.pem"), "cert_role": types.StringValue("web"), "skip_verify": types.BoolValue(false),
	})
	env := func(string) (string, bool) { return "", false }

	got, err := vaultOptions(ctx, block(approle, tls, nil), env)
	if err != nil {
		t.Fatal(err)
	}
	if got.LookupEnv == nil {
		t.Error("LookupEnv: got nil, want the provider's")
	}
	got.LookupEnv = nil
	no := false
	want := vault.Options{
		Address: "https://vault.example.com:8200", Token: "tok", Namespace: "ns",
		Mount: "kv", PathPrefix: "apps", DataKey: "value",
		AppRole: vault.AppRoleOptions{RoleID: "rid", SecretID: "sid", MountPath: "approle-ci"},
		TLS:     vault.TLSOptions{CACertFile: "/ca.pem", ClientCertFile: "/c.pem", ClientKeyFile: "/k.pem", CertRole: "web", SkipVerify: &no},
	}
	if got.TLS.SkipVerify == nil || *got.TLS.SkipVerify {
		t.Errorf("TLS.SkipVerify: got %v, want a pointer to false", got.TLS.SkipVerify)
	}
	got.TLS.SkipVerify, want.TLS.SkipVerify = nil, nil
	if got.LoginNamespace == nil || *got.LoginNamespace != "ns/login" || got.SecretNamespace == nil || *got.SecretNamespace != "ns/secrets" {
		t.Errorf("LoginNamespace, SecretNamespace: got %v and %v, want ns/login and ns/secrets", got.LoginNamespace, got.SecretNamespace)
	}
	got.LoginNamespace, got.SecretNamespace = nil, nil
	if fmt.Sprintf("%#v", *got) != fmt.Sprintf("%#v", want) {
		t.Errorf("Options:\n got %#v\nwant %#v", *got, want)
	}

	// Null nested blocks, and a tls block without skip_verify.
	got, err = vaultOptions(ctx, block(types.ObjectNull(nestedType("approle").AttrTypes), types.ObjectNull(nestedType("tls").AttrTypes), nil), env)
	if err != nil {
		t.Fatal(err)
	}
	if got.AppRole != (vault.AppRoleOptions{}) || got.TLS != (vault.TLSOptions{}) {
		t.Errorf("null approle and tls: got %+v and %+v, want zero values", got.AppRole, got.TLS)
	}
	tlsNoSkip := types.ObjectValueMust(nestedType("tls").AttrTypes, map[string]attr.Value{
		"ca_cert_file": types.StringNull(), "client_cert_file": types.StringNull(), "client_key_file": types.StringNull(),
		"cert_role": types.StringNull(), "skip_verify": types.BoolNull(),
	})
	if got, err = vaultOptions(ctx, block(approle, tlsNoSkip, nil), env); err != nil || got.TLS.SkipVerify != nil {
		t.Errorf("unset skip_verify: got %v, %v; want nil so VAULT_SKIP_VERIFY applies", got.TLS.SkipVerify, err)
	}
	// An unset login or secret namespace is nil (HCP_VAULT_*_NAMESPACE, then
	// namespace, apply); an empty one is the root namespace, as in LiteLLM.
	got, err = vaultOptions(ctx, block(approle, tls, map[string]attr.Value{"login_namespace": types.StringNull(), "secret_namespace": types.StringValue("")}), env)
	if err != nil || got.LoginNamespace != nil || got.SecretNamespace == nil || *got.SecretNamespace != "" {
		t.Errorf("null login_namespace, empty secret_namespace: got %v and %v (%v), want nil and a pointer to \"\"", got.LoginNamespace, got.SecretNamespace, err)
	}
	// A null block is all defaults.
	if got, err = vaultOptions(ctx, types.ObjectNull(objType.AttrTypes), env); err != nil || got.Address != "" || got.AppRole != (vault.AppRoleOptions{}) {
		t.Errorf("null block: got %+v, %v; want empty options", got, err)
	}

	// Unknown values name the attribute.
	for attrPath, b := range map[string]types.Object{
		"hashicorp_vault.token": block(approle, tls, map[string]attr.Value{"token": types.StringUnknown()}),
		"hashicorp_vault.approle.secret_id": block(types.ObjectValueMust(nestedType("approle").AttrTypes, map[string]attr.Value{
			"role_id": types.StringValue("rid"), "secret_id": types.StringUnknown(), "mount_path": types.StringNull(),
		}), tls, nil),
		"hashicorp_vault.tls": block(approle, types.ObjectUnknown(nestedType("tls").AttrTypes), nil),
	} {
		_, err := (&LLMSecretProvider{lookupEnv: env}).newBackend(ctx, vault.Kind, b)
		if err == nil || !strings.Contains(err.Error(), attrPath+" must be known at plan time") {
			t.Errorf("unknown %s: got %v, want an error naming it", attrPath, err)
		}
	}
}
