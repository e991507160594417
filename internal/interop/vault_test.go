package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault/vaulttest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/interop/litellmtest"
)

// HashiCorp Vault: what llmsecret_secret writes, LiteLLM's
// HashicorpSecretManager (configured only by its HCP_VAULT_* variables)
// reads through get_secret, the gateway's own path for `os.environ/NAME`;
// what LiteLLM writes (async_write_secret), our data source reads, and our
// update keeps the fields LiteLLM put beside the value. The server is a real
// Vault dev server (vaulttest).

// vaultEnvVars are the variables the provider's vault store or the vault
// api client would read from the test process; each test clears them.
var vaultEnvVars = []string{
	"HCP_VAULT_ADDR", "HCP_VAULT_TOKEN", "HCP_VAULT_NAMESPACE", "HCP_VAULT_LOGIN_NAMESPACE",
	"HCP_VAULT_SECRET_NAMESPACE", "HCP_VAULT_MOUNT_NAME", "HCP_VAULT_PATH_PREFIX",
	"HCP_VAULT_APPROLE_ROLE_ID", "HCP_VAULT_APPROLE_SECRET_ID", "HCP_VAULT_APPROLE_MOUNT_PATH",
	"HCP_VAULT_CLIENT_CERT", "HCP_VAULT_CLIENT_KEY", "HCP_VAULT_CERT_ROLE",
	"VAULT_ADDR", "VAULT_TOKEN", "VAULT_NAMESPACE", "VAULT_CACERT", "VAULT_SKIP_VERIFY", "VAULT_HEADERS",
}

// startVault starts a Vault dev server with the vault variables of the test
// process cleared (the provider runs in this process).
func startVault(t *testing.T) *vaulttest.Server {
	t.Helper()
	acc(t)
	for _, v := range vaultEnvVars {
		t.Setenv(v, "") // registers the restore
		if err := os.Unsetenv(v); err != nil {
			t.Fatal(err)
		}
	}
	return vaulttest.Start(t)
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
		if _, err := c.Logical().Read(path + "/config"); err == nil {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("KV v2 engine at %s not ready: %v", path, err)
		}
		time.Sleep(20 * time.Millisecond) // polling under a deadline
	}
}

// pyList renders names as a Python list literal (JSON strings are valid
// Python string literals).
func pyList(t *testing.T, names []string) string {
	t.Helper()
	b, err := json.Marshal(names)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// litellmVaultReads runs LiteLLM's reader as the proxy does: a fresh
// HashicorpSecretManager (so nothing is served from its read cache)
// configured by env alone, and get_secret("os.environ/<name>") for each
// name. A name LiteLLM does not find comes back null (get_secret falls
// back to the process environment, which holds none of these names).
func litellmVaultReads(t *testing.T, env map[string]string, names []string) map[string]*string {
	t.Helper()
	got := map[string]*string{}
	litellmtest.Run(t, env, `
import litellm
from litellm.secret_managers.hashicorp_secret_manager import HashicorpSecretManager
from litellm.secret_managers.main import get_secret
from litellm.types.secret_managers.main import KeyManagementSettings
HashicorpSecretManager()  # registers itself as litellm.secret_manager_client
litellm._key_management_settings = KeyManagementSettings()
emit({n: get_secret("os.environ/" + n) for n in `+pyList(t, names)+`})
`, &got)
	return got
}

// checkLiteLLMReads is a Check: LiteLLM, configured by env, reads want.
func checkLiteLLMReads(t *testing.T, env map[string]string, want map[string]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		names := slices.Sorted(maps.Keys(want))
		got := litellmVaultReads(t, env, names)
		var bad []string
		for _, n := range names {
			switch g := got[n]; {
			case g == nil:
				bad = append(bad, fmt.Sprintf("%q: not found", n))
			case *g != want[n]:
				bad = append(bad, fmt.Sprintf("%q: a different value than the one configured", n))
			}
		}
		if len(bad) > 0 {
			return fmt.Errorf("LiteLLM's HashicorpSecretManager (env %v) did not read what the provider wrote:\n  %s", envNames(env), strings.Join(bad, "\n  "))
		}
		return nil
	}
}

// envNames lists the variables of env without their values (a token).
func envNames(env map[string]string) []string { return slices.Sorted(maps.Keys(env)) }

// vaultSecretsConfig is one llmsecret_secret per name (resource "s<i>") with
// value_wo, in the order of names.
func vaultSecretsConfig(provider string, names []string, values map[string]string, version int) string {
	var b strings.Builder
	b.WriteString(provider)
	for i, n := range names {
		fmt.Fprintf(&b, `
resource "llmsecret_secret" "s%d" {
  name             = %q
  value_wo         = %q
  value_wo_version = %d
}
`, i, n, values[n], version)
	}
	return b.String()
}

// interopVaultNames are names a user may give that LiteLLM can address:
// paths with "/", spaces inside, non-ASCII, and the punctuation LiteLLM's
// HTTP client sends unescaped or escapes.
var interopVaultNames = []string{
	"OPENAI_API_KEY",
	"team-a/ANTHROPIC_API_KEY",
	"litellm/prod/azure key: eu+1",
	"ключ/🔑 api",
	"a&b=c;d,e",
	"x[1]|^~!$'()*@",
	`q"<>{}` + "`",
	`back\slash`,
}

// valuesFor gives each name a distinct value for one step.
func valuesFor(names []string, step string) map[string]string {
	out := map[string]string{}
	for i, n := range names {
		out[n] = fmt.Sprintf("sk-interop-%s-%02d", step, i)
	}
	return out
}

// TestInteropVault_DefaultMount: values our resources wrote on the default
// mount (secret, no path prefix) are read by LiteLLM configured only by
// HCP_VAULT_ADDR and HCP_VAULT_TOKEN, names with "/" included; a new value
// (a new KV version) is read too.
func TestInteropVault_DefaultMount(t *testing.T) {
	s := startVault(t)
	provider := fmt.Sprintf(`
provider "llmsecret" {
  key_management_system   = "hashicorp_vault"
  key_management_settings = { access_mode = "read_and_write" }
  hashicorp_vault         = { address = %q, token = %q }
}
`, s.Addr, s.RootToken)
	litellmEnv := map[string]string{"HCP_VAULT_ADDR": s.Addr, "HCP_VAULT_TOKEN": s.RootToken}
	v1, v2 := valuesFor(interopVaultNames, "one"), valuesFor(interopVaultNames, "two")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{
			{Config: vaultSecretsConfig(provider, interopVaultNames, v1, 1), Check: checkLiteLLMReads(t, litellmEnv, v1)},
			{Config: vaultSecretsConfig(provider, interopVaultNames, v2, 2), Check: checkLiteLLMReads(t, litellmEnv, v2)},
		},
	})
}

// TestInteropVault_MountAndPathPrefix: the provider and LiteLLM share one
// set of HCP_VAULT_* variables (no hashicorp_vault attribute at all): a
// non-default mount and a path prefix, written with the stray white space
// and slashes LiteLLM trims. LiteLLM reads every value, and Vault holds
// them at <mount>/data/<prefix>/<name>.
func TestInteropVault_MountAndPathPrefix(t *testing.T) {
	s := startVault(t)
	mountKV(t, s, "kv-team")
	env := map[string]string{
		"HCP_VAULT_ADDR":        s.Addr,
		"HCP_VAULT_TOKEN":       s.RootToken,
		"HCP_VAULT_MOUNT_NAME":  " /kv-team/ ",
		"HCP_VAULT_PATH_PREFIX": "/apps/litellm/ ",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	provider := `
provider "llmsecret" {
  key_management_system   = "hashicorp_vault"
  key_management_settings = { access_mode = "read_and_write" }
}
`
	names := []string{"OPENAI_API_KEY", "team-a/prod/ANTHROPIC_API_KEY", "ключ/🔑 api"}
	v1 := valuesFor(names, "prefixed")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{{
			Config: vaultSecretsConfig(provider, names, v1, 1),
			Check: resource.ComposeAggregateTestCheckFunc(
				checkLiteLLMReads(t, env, v1),
				func(*terraform.State) error {
					for _, n := range names {
						sec, err := s.Client(t).KVv2("kv-team").Get(context.Background(), "apps/litellm/"+n)
						if err != nil || sec.Data["key"] != v1[n] {
							return fmt.Errorf("vault: kv-team/data/apps/litellm/%s: want the value written there (got err %v)", n, err)
						}
					}
					return nil
				},
			),
		}},
	})
}

// litellmVaultWrite runs LiteLLM's own async_write_secret, configured by
// env alone, and fails the test unless Vault accepted it.
func litellmVaultWrite(t *testing.T, env map[string]string, name, value, description string) {
	t.Helper()
	var got map[string]any
	litellmtest.Run(t, env, fmt.Sprintf(`
from litellm.secret_managers.hashicorp_secret_manager import HashicorpSecretManager
m = HashicorpSecretManager()
r = asyncio.run(m.async_write_secret(secret_name=%s, secret_value=%s, description=%s))
emit({"status": r.get("status"), "version": (r.get("data") or {}).get("version")})
`, pyStr(t, name), pyStr(t, value), pyStr(t, description)), &got)
	if got["status"] == "error" || got["version"] == nil {
		t.Fatalf("LiteLLM's async_write_secret of %q: got %v, want a new KV version", name, got)
	}
}

func pyStr(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestInteropVault_LiteLLMWritesWeReadAndUpdate: a secret LiteLLM wrote
// (async_write_secret, with a description it keeps in the KV data) is read
// by our data source and our ephemeral resource; then our resource imports
// and updates it: the new
// KV version keeps LiteLLM's description field, and LiteLLM reads the new
// value.
func TestInteropVault_LiteLLMWritesWeReadAndUpdate(t *testing.T) {
	s := startVault(t)
	mountKV(t, s, "kv-gw")
	env := map[string]string{
		"HCP_VAULT_ADDR":        s.Addr,
		"HCP_VAULT_TOKEN":       s.RootToken,
		"HCP_VAULT_MOUNT_NAME":  "kv-gw",
		"HCP_VAULT_PATH_PREFIX": "gateway",
	}
	const name = "virtual/sk-team-a: key"
	const litellmValue, ourValue = "sk-written-by-litellm-0001", "sk-written-by-terraform-0002"
	provider := fmt.Sprintf(`
provider "llmsecret" {
  key_management_system   = "hashicorp_vault"
  key_management_settings = { access_mode = "read_and_write" }
  hashicorp_vault         = { address = %q, token = %q, mount = "kv-gw", path_prefix = "gateway" }
}
`, s.Addr, s.RootToken)
	readConfig := provider + fmt.Sprintf(`
data "llmsecret_secret" "from_litellm" { name = %q }
`, name)
	updateConfig := provider + fmt.Sprintf(`
import {
  to = llmsecret_secret.adopted
  id = %[1]q
}

resource "llmsecret_secret" "adopted" {
  name             = %[1]q
  value_wo         = %[2]q
  value_wo_version = 1
}
`, name, ourValue)
	const ds = "data.llmsecret_secret.from_litellm"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() { litellmVaultWrite(t, env, name, litellmValue, "written by LiteLLM") },
				Config:    readConfig,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("value"), knownvalue.StringExact(litellmValue)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("version"), knownvalue.StringExact("1")),
				},
			},
			ephemeralStep(resource.TestStep{
				Config: provider + fmt.Sprintf(`
ephemeral "llmsecret_secret" "from_litellm" { name = %q }

provider "echo" {
  data = ephemeral.llmsecret_secret.from_litellm
}

resource "echo" "test" {}
`, name),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("echo.test", tfjsonpath.New("data").AtMapKey("value"), knownvalue.StringExact(litellmValue)),
				},
			}),
			{
				Config: updateConfig,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("llmsecret_secret.adopted", tfjsonpath.New("version"), knownvalue.StringExact("2")),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkLiteLLMReads(t, env, map[string]string{name: ourValue}),
					func(*terraform.State) error {
						sec, err := s.Client(t).KVv2("kv-gw").Get(context.Background(), "gateway/"+name)
						switch {
						case err != nil:
							return fmt.Errorf("vault: reading kv-gw/data/gateway/%s: %w", name, err)
						case sec.Data["description"] != "written by LiteLLM":
							return fmt.Errorf("vault: kv-gw/data/gateway/%s: our update dropped LiteLLM's description field (fields now %v)", name, slices.Sorted(maps.Keys(sec.Data)))
						case sec.VersionMetadata == nil || sec.VersionMetadata.Version != 2:
							return fmt.Errorf("vault: kv-gw/data/gateway/%s: want version 2", name)
						}
						return nil
					},
				),
			},
		},
	})
}

// TestInteropVault_DescriptionWhereLiteLLMWritesIt: our description lands
// in the KV data field "description", where LiteLLM's async_write_secret
// puts its own, beside the value LiteLLM reads.
func TestInteropVault_DescriptionWhereLiteLLMWritesIt(t *testing.T) {
	s := startVault(t)
	const name, value = "ANTHROPIC_API_KEY", "sk-described-0001"
	config := fmt.Sprintf(`
provider "llmsecret" {
  key_management_system   = "hashicorp_vault"
  key_management_settings = { access_mode = "read_and_write", description = "managed by terraform" }
  hashicorp_vault         = { address = %q, token = %q }
}

resource "llmsecret_secret" "k" {
  name             = %q
  value_wo         = %q
  value_wo_version = 1
}
`, s.Addr, s.RootToken, name, value)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{{
			Config: config,
			Check: resource.ComposeAggregateTestCheckFunc(
				checkLiteLLMReads(t, map[string]string{"HCP_VAULT_ADDR": s.Addr, "HCP_VAULT_TOKEN": s.RootToken}, map[string]string{name: value}),
				func(*terraform.State) error {
					sec, err := s.Client(t).KVv2("secret").Get(context.Background(), name)
					if err != nil || sec.Data["description"] != "managed by terraform" {
						return fmt.Errorf("vault: secret/data/%s: want the description in the data field LiteLLM writes it to (err %v)", name, err)
					}
					return nil
				},
			),
		}},
	})
}

// namespaceGuard is a reverse proxy in front of the dev server that answers
// as Vault Enterprise does for a namespace that does not exist: the OSS dev
// server ignores X-Vault-Namespace, so without it a request sent to the
// wrong namespace would go unnoticed.
type namespaceGuard struct {
	mu   sync.Mutex
	seen []string
}

func (g *namespaceGuard) start(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ns := r.Header.Get("X-Vault-Namespace"); ns != "" {
			g.mu.Lock()
			g.seen = append(g.seen, r.Method+" "+r.URL.Path+" in namespace "+ns)
			g.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			msg, _ := json.Marshal(map[string][]string{"errors": {"namespace " + ns + "/ not found"}})
			_, _ = w.Write(msg)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestInteropVault_StrayVaultNamespaceIgnored: VAULT_NAMESPACE in the
// environment (which LiteLLM never reads, but Vault's own client does) must
// not send our writes to a namespace: the provider configured like LiteLLM
// (HCP_VAULT_* only) writes where LiteLLM reads.
func TestInteropVault_StrayVaultNamespaceIgnored(t *testing.T) {
	s := startVault(t)
	guard := &namespaceGuard{}
	addr := guard.start(t, s.Addr)
	t.Setenv("VAULT_NAMESPACE", "stray-team")
	t.Setenv("HCP_VAULT_ADDR", addr)
	t.Setenv("HCP_VAULT_TOKEN", s.RootToken)
	const name, value = "OPENAI_API_KEY", "sk-no-namespace-0001"
	config := fmt.Sprintf(`
provider "llmsecret" {
  key_management_system   = "hashicorp_vault"
  key_management_settings = { access_mode = "read_and_write" }
}

resource "llmsecret_secret" "k" {
  name             = %q
  value_wo         = %q
  value_wo_version = 1
}
`, name, value)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{{
			Config: config,
			Check: resource.ComposeAggregateTestCheckFunc(
				func(*terraform.State) error {
					guard.mu.Lock()
					defer guard.mu.Unlock()
					if len(guard.seen) > 0 {
						return fmt.Errorf("requests carried a namespace LiteLLM does not use: %v", guard.seen)
					}
					return nil
				},
				checkLiteLLMReads(t, map[string]string{"HCP_VAULT_ADDR": s.Addr, "HCP_VAULT_TOKEN": s.RootToken}, map[string]string{name: value}),
			),
		}},
	})
}

// TestInteropVault_ReadCache: the guide's statement on LiteLLM's Vault read
// cache: a HashicorpSecretManager keeps each answer for 24 hours
// (SECRET_MANAGER_REFRESH_INTERVAL, 86400 s) unless HCP_VAULT_REFRESH_INTERVAL
// says otherwise, so a running proxy sees a new value only after that.
func TestInteropVault_ReadCache(t *testing.T) {
	acc(t)
	for _, tc := range []struct {
		env  map[string]string
		want float64
	}{
		{map[string]string{}, 86400},
		{map[string]string{"HCP_VAULT_REFRESH_INTERVAL": "300"}, 300},
	} {
		env := map[string]string{"HCP_VAULT_ADDR": "http://127.0.0.1:1", "HCP_VAULT_TOKEN": "t"}
		maps.Copy(env, tc.env)
		var got struct {
			TTL float64 `json:"ttl"`
		}
		litellmtest.Run(t, env, `
from litellm.secret_managers.hashicorp_secret_manager import HashicorpSecretManager
emit({"ttl": HashicorpSecretManager().cache.default_ttl})
`, &got)
		if got.TTL != tc.want {
			t.Errorf("HashicorpSecretManager read cache TTL with %v: got %v s, want %v s (the guide says so)", tc.env, got.TTL, tc.want)
		}
	}
}
