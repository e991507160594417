package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/cyberark/conjurtest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/interop/litellmtest"
)

// CyberArk Conjur: LiteLLM's CyberArkSecretManager and the provider against
// the same Conjur fake, which routes on the raw (escaped) request path, so
// the two clients find each other's variables only if they encode ids the
// same way on the wire.

// cyberarkNames need encoding: "/", spaces, non-ASCII, and the characters
// Go's url.PathEscape leaves alone but Python's quote(safe="") encodes.
var cyberarkNames = map[string]string{
	"team/llm/OPENAI_API_KEY": "sk-slash",
	"OPENAI API KEY":          "sk-space",
	"ключ/鍵/🔑":                "sk-non-ascii",
	"a:b@c+d,e;f=g$h&i!j":     "sk-sub-delims",
	"x?y#z%20":                "sk-query-chars",
	"~tilde.dot-dash_":        "sk-unreserved",
}

func cyberarkAPIKeyProvider(fake *conjurtest.Server) string {
	return fmt.Sprintf(`
provider "llmsecret" {
  key_management_system   = "cyberark"
  key_management_settings = { access_mode = "read_and_write" }
  cyberark = { url = %q, login = %q, api_key = %q }
}
`, fake.URL, conjurtest.AdminLogin, conjurtest.AdminAPIKey)
}

// litellmCyberArkRead reads NAMES with a fresh CyberArkSecretManager, once
// with sync_read_secret and once (a second manager, so no cache) with
// async_read_secret.
const litellmCyberArkRead = `
from litellm.secret_managers.cyberark_secret_manager import CyberArkSecretManager
names = json.loads(os.environ["NAMES"])
sync = CyberArkSecretManager()
got_sync = {n: sync.sync_read_secret(n) for n in names}
aio = CyberArkSecretManager()
async def read_all():
    return {n: await aio.async_read_secret(n) for n in names}
emit({"sync": got_sync, "async": asyncio.run(read_all())})
`

// litellmCyberArkWrite writes WRITE (a JSON object) with async_write_secret.
const litellmCyberArkWrite = `
from litellm.secret_managers.cyberark_secret_manager import CyberArkSecretManager
values = json.loads(os.environ["WRITE"])
m = CyberArkSecretManager()
async def write_all():
    return {n: (await m.async_write_secret(n, v))["status"] for n, v in values.items()}
emit(asyncio.run(write_all()))
`

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// secretPaths is the set of escaped /secrets/ paths (without query) in reqs.
func secretPaths(reqs []conjurtest.Request) map[string]bool {
	out := map[string]bool{}
	for _, r := range reqs {
		if strings.HasPrefix(r.EscapedPath, "/secrets/") {
			out[r.EscapedPath] = true
		}
	}
	return out
}

// checkLiteLLMReadsConjur runs LiteLLM's reader with env and checks it reads
// want, and that every /secrets/ path it requested is one the provider used.
func checkLiteLLMReadsConjur(t *testing.T, fake *conjurtest.Server, env map[string]string, want map[string]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		before := len(fake.Requests())
		ours := secretPaths(fake.Requests())
		env["NAMES"] = jsonForPython(t, sortedKeys(want))
		var got map[string]map[string]*string
		litellmtest.Run(t, env, litellmCyberArkRead, &got)
		var errs []string
		for _, mode := range []string{"sync", "async"} {
			for n, w := range want {
				switch v := got[mode][n]; {
				case v == nil:
					errs = append(errs, fmt.Sprintf("%s: LiteLLM finds no value for %q", mode, n))
				case *v != w:
					errs = append(errs, fmt.Sprintf("%s: LiteLLM reads %q for %q, want %q", mode, *v, n, w))
				}
			}
		}
		theirs := secretPaths(fake.Requests()[before:])
		for p := range theirs {
			if !ours[p] {
				errs = append(errs, fmt.Sprintf("LiteLLM requested %s, a path the provider never used", p))
			}
		}
		if len(theirs) != len(want) {
			errs = append(errs, fmt.Sprintf("LiteLLM requested %d distinct /secrets/ paths for %d names", len(theirs), len(want)))
		}
		if len(errs) > 0 {
			return fmt.Errorf("LiteLLM and the provider disagree on Conjur: %s", strings.Join(errs, "; "))
		}
		return nil
	}
}

// TestInteropCyberArk_namesOnTheWire: LiteLLM's CyberArkSecretManager finds
// what llmsecret_secret wrote for names with "/", spaces, non-ASCII and
// URL delimiters, requesting exactly the paths the provider used; and the
// provider's data source reads what LiteLLM wrote (async_write_secret,
// which declares the variable with its own policy first).
func TestInteropCyberArk_namesOnTheWire(t *testing.T) {
	acc(t)
	fake := conjurtest.New(t, conjurtest.Options{})
	litellmEnv := map[string]string{
		"CYBERARK_API_BASE": fake.URL,
		"CYBERARK_USERNAME": conjurtest.AdminLogin,
		"CYBERARK_API_KEY":  conjurtest.AdminAPIKey,
	}
	written := map[string]string{
		"litellm/team key":     "lt-space",
		"LITELLM ключ/🔑":       "lt-non-ascii",
		"vk/a:b+c@d=e":         "lt-delims",
		"LITELLM_PLAIN_SECRET": "lt-plain",
	}
	ourVars, ourReadBack := secretsVariables(cyberarkNames)
	theirVars, theirReadBack := secretsVariables(written)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{
			{
				Config:            cyberarkAPIKeyProvider(fake) + secretsConfig,
				ConfigVariables:   ourVars,
				ConfigStateChecks: []statecheck.StateCheck{ourReadBack},
				Check:             checkLiteLLMReadsConjur(t, fake, litellmEnv, cyberarkNames),
			},
			{
				PreConfig: func() {
					env := map[string]string{"WRITE": jsonForPython(t, written)}
					for k, v := range litellmEnv {
						env[k] = v
					}
					var status map[string]string
					litellmtest.Run(t, env, litellmCyberArkWrite, &status)
					for n := range written {
						if status[n] != "success" {
							t.Fatalf("LiteLLM async_write_secret(%q): status %q", n, status[n])
						}
					}
				},
				Config: cyberarkAPIKeyProvider(fake) + `
variable "names"  { type = list(string) }
variable "values" { type = list(string) }
data "llmsecret_secrets" "all" { names = var.names }
`,
				ConfigVariables:   theirVars,
				ConfigStateChecks: []statecheck.StateCheck{theirReadBack},
			},
		},
	})
}

// TestInteropCyberArk_clientCertificateAlone: with a client certificate and
// no API key, the provider logs in as LiteLLM does (POST
// /authn/{account}/{login}/authenticate over mutual TLS, empty body), and
// LiteLLM, configured only with CYBERARK_CLIENT_CERT / CYBERARK_CLIENT_KEY,
// reads what the provider wrote. LiteLLM sends the certificate only with its
// login (its reads use a client without it), so the fake verifies a
// certificate when given, as a Conjur LiteLLM works with must.
func TestInteropCyberArk_clientCertificateAlone(t *testing.T) {
	acc(t)
	fake := conjurtest.New(t, conjurtest.Options{ClientCertsIfGiven: true})
	// LiteLLM puts the login into the URL unencoded, so a host login
	// ("host/x") would not reach authn; a user login does.
	const login = "llm-gateway"
	fake.AddCertRole(login, conjurtest.All)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	if err := os.WriteFile(certFile, []byte(fake.ClientCertPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte(fake.ClientKeyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, []byte(fake.CACertPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	provider := fmt.Sprintf(`
provider "llmsecret" {
  key_management_system   = "cyberark"
  key_management_settings = { access_mode = "read_and_write" }
  cyberark = { url = %q, login = %q, client_cert = %q, client_key = %q, ca_cert = %q }
}
`, fake.URL, login, certFile, keyFile, caFile)
	values := map[string]string{"CERT_ONLY/OPENAI_API_KEY": "sk-cert", "CERT ONLY ключ": "sk-cert-2"}
	vars, readBack := secretsVariables(values)
	litellmEnv := map[string]string{
		"CYBERARK_API_BASE":    fake.URL,
		"CYBERARK_USERNAME":    login,
		"CYBERARK_CLIENT_CERT": certFile,
		"CYBERARK_CLIENT_KEY":  keyFile,
		// LiteLLM has no CA setting: it reads the fake's self-signed
		// certificate only with verification off.
		"CYBERARK_SSL_VERIFY": "false",
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{{
			Config:            provider + secretsConfig,
			ConfigVariables:   vars,
			ConfigStateChecks: []statecheck.StateCheck{readBack},
			Check: resource.ComposeTestCheckFunc(
				func(*terraform.State) error {
					for _, r := range fake.Requests() {
						if strings.HasPrefix(r.EscapedPath, "/authn/") && r.EscapedPath != "/authn/default/"+login+"/authenticate" {
							return fmt.Errorf("login request %s, want /authn/default/%s/authenticate", r.EscapedPath, login)
						}
					}
					return nil
				},
				checkLiteLLMReadsConjur(t, fake, litellmEnv, values),
			),
		}},
	})
}

// TestInteropCyberArk_sslVerifyAsLiteLLM: CYBERARK_SSL_VERIFY means the same
// to both clients. Against a Conjur with a certificate neither trusts, a
// value LiteLLM reads as "verify" ("no", "0": its str_to_bool knows only
// true and false, and anything else means verify) makes both refuse the
// connection, and " FALSE " lets both through.
func TestInteropCyberArk_sslVerifyAsLiteLLM(t *testing.T) {
	acc(t)
	fake := conjurtest.New(t, conjurtest.Options{TLS: true})
	fake.SetValue("TLS_SECRET", []byte("sk-tls"))
	readConfig := fmt.Sprintf(`
provider "llmsecret" {
  key_management_system = "cyberark"
  cyberark = { url = %q, login = %q, api_key = %q }
}
data "llmsecret_secret" "s" { name = "TLS_SECRET" }
`, fake.URL, conjurtest.AdminLogin, conjurtest.AdminAPIKey)
	litellmReads := func(verify string) *string {
		var got map[string]map[string]*string
		litellmtest.Run(t, map[string]string{
			"CYBERARK_API_BASE":   fake.URL,
			"CYBERARK_USERNAME":   conjurtest.AdminLogin,
			"CYBERARK_API_KEY":    conjurtest.AdminAPIKey,
			"CYBERARK_SSL_VERIFY": verify,
			"NAMES":               `["TLS_SECRET"]`,
		}, litellmCyberArkRead, &got)
		return got["sync"]["TLS_SECRET"]
	}
	for _, verify := range []string{"no", "0"} {
		t.Run("verify="+verify, func(t *testing.T) {
			if v := litellmReads(verify); v != nil {
				t.Fatalf("LiteLLM with CYBERARK_SSL_VERIFY=%q read through an untrusted certificate; the premise of this test is wrong", verify)
			}
			t.Setenv("CYBERARK_SSL_VERIFY", verify)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: factories,
				Steps: []resource.TestStep{{
					Config:      readConfig,
					ExpectError: diagRE("certificate"),
				}},
			})
		})
	}
	t.Run("verify=FALSE", func(t *testing.T) {
		if v := litellmReads(" FALSE "); v == nil || *v != "sk-tls" {
			t.Fatalf("LiteLLM with CYBERARK_SSL_VERIFY=\" FALSE \": got %v, want the value", v)
		}
		t.Setenv("CYBERARK_SSL_VERIFY", " FALSE ")
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: factories,
			Steps: []resource.TestStep{{
				Config: readConfig,
				Check:  resource.TestCheckResourceAttr("data.llmsecret_secret.s", "value", "sk-tls"),
			}},
		})
	})
}
