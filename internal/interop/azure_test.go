package interop

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/azurekv/kvfake"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/interop/litellmtest"
)

// Azure Key Vault: LiteLLM's reader is the official Python SDK. The proxy
// builds it in load_from_azure_key_vault (litellm/proxy/proxy_server.py) as
// SecretClient(vault_url=AZURE_KEY_VAULT_URI, credential=DefaultAzureCredential())
// and get_secret (secret_managers/main.py) calls client.get_secret(name)
// with the name unmapped. The tests build the client exactly so, against the
// Key Vault double (kvfake) on loopback: DefaultAzureCredential takes the
// client secret from AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET
// and gets a real token from the double's Entra endpoint
// (AZURE_AUTHORITY_HOST), the SDK meets Key Vault's bearer challenge and
// checks its resource, and TLS trusts the double's CA (REQUESTS_CA_BUNDLE).
// Two things differ from a proxy on Azure, neither of them about names or
// values: the credential is built with disable_instance_discovery (MSAL
// would validate the double's authority against login.microsoftonline.com),
// and name resolution: the double serves
// https://llmsecret.localhost:<port>, and Python's resolver does not send
// *.localhost to the loopback address as RFC 6761 asks, so the snippet
// resolves those names to 127.0.0.1 (as the provider's transport does).

// azureEnv points the provider (this process) at the double, the way
// LiteLLM users configure LiteLLM: AZURE_KEY_VAULT_URI plus the
// client-secret variables; it returns the same settings for LiteLLM's
// process.
func azureEnv(t *testing.T, fake *kvfake.Server) map[string]string {
	t.Helper()
	ca, err := fake.CAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fo := fake.Options()
	env := map[string]string{
		"AZURE_KEY_VAULT_URI":  fake.VaultURL(),
		"AZURE_TENANT_ID":      fo.TenantID,
		"AZURE_CLIENT_ID":      fo.ClientID,
		"AZURE_CLIENT_SECRET":  fo.ClientSecret,
		"AZURE_AUTHORITY_HOST": fake.AuthorityHost(),
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	t.Setenv("SSL_CERT_FILE", ca)
	for _, k := range []string{"AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "AZURE_FEDERATED_TOKEN_FILE", "MSI_ENDPOINT"} {
		t.Setenv(k, "")
	}
	py := map[string]string{"REQUESTS_CA_BUNDLE": ca}
	for k, v := range env {
		py[k] = v
	}
	return py
}

// azureClientPy builds LiteLLM's Key Vault client as the proxy does and
// installs it as LiteLLM's secret manager, with key_management_settings as
// in the proxy's config (general_settings.key_management_settings).
const azureClientPy = `
import socket
_getaddrinfo = socket.getaddrinfo
def _resolve_localhost(host, *args, **kwargs):
    if isinstance(host, str) and host.lower().rstrip(".").endswith(".localhost"):
        host = "127.0.0.1"
    return _getaddrinfo(host, *args, **kwargs)
socket.getaddrinfo = _resolve_localhost

from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient
from litellm.types.secret_managers.main import KeyManagementSettings, KeyManagementSystem
from litellm.secret_managers.main import get_secret

# litellm/proxy/proxy_server.py, load_from_azure_key_vault, with one
# addition: disable_instance_discovery, because MSAL validates an authority
# it does not know (the double's) against login.microsoftonline.com, which a
# test cannot reach. The credential still comes from AZURE_TENANT_ID /
# AZURE_CLIENT_ID / AZURE_CLIENT_SECRET through the same chain.
KVUri = os.getenv("AZURE_KEY_VAULT_URI", None)
credential = DefaultAzureCredential(disable_instance_discovery=True)
client = SecretClient(vault_url=KVUri, credential=credential)
litellm.secret_manager_client = client
litellm._key_management_system = KeyManagementSystem.AZURE_KEY_VAULT
litellm._key_management_settings = KeyManagementSettings(access_mode="read_only")
`

// TestInteropAzure_LiteLLMReadsOurSecrets: values the resource wrote through
// the CLI are what LiteLLM's get_secret returns for the same names, given
// bare and as the os.environ/ references of a LiteLLM config, and what the
// SDK's get_secret returns directly (so a read error cannot hide behind
// get_secret's silent fallback to the environment).
func TestInteropAzure_LiteLLMReadsOurSecrets(t *testing.T) {
	acc(t)
	fake := kvfake.New(t, nil)
	pyEnv := azureEnv(t, fake)
	secrets := map[string]string{
		"OPENAI-API-KEY":    "sk-openai-azure-0001",
		"anthropic-api-key": "sk-ant-azure \"quoted\" ünïcode",
		"a":                 "x",
	}
	config := `
provider "llmsecret" {
  key_management_system   = "azure_key_vault"
  key_management_settings = { access_mode = "read_and_write" }
}
`
	i := 0
	for name, value := range secrets {
		i++
		config += fmt.Sprintf(`
resource "llmsecret_secret" "s%d" {
  name             = %q
  value_wo         = %q
  value_wo_version = 1
}
`, i, name, value)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{{
			Config: config,
			Check: func(*terraform.State) error {
				var got map[string]struct {
					SDK       *string `json:"sdk"`
					GetSecret *string `json:"get_secret"`
					Reference *string `json:"reference"`
				}
				names := make([]string, 0, len(secrets))
				for n := range secrets {
					names = append(names, n)
				}
				litellmtest.Run(t, pyEnv, azureClientPy+fmt.Sprintf(`
out = {}
for name in %s:
    out[name] = {
        "sdk": client.get_secret(name).value,
        "get_secret": get_secret(name),
        "reference": get_secret("os.environ/" + name),
    }
# The environment-variable spelling the provider used to map silently:
# LiteLLM asks Key Vault for exactly this name, misses OPENAI-API-KEY and
# falls back to its (empty) environment.
out["OPENAI_API_KEY"] = {"get_secret": get_secret("OPENAI_API_KEY")}
emit(out)
`, pyStrList(names)), &got)
				if v := got["OPENAI_API_KEY"].GetSecret; v != nil {
					return fmt.Errorf("litellm get_secret(OPENAI_API_KEY) found a value; LiteLLM reads Key Vault names unmapped, so it must miss OPENAI-API-KEY")
				}
				for name, want := range secrets {
					g := got[name]
					for what, v := range map[string]*string{"SecretClient.get_secret": g.SDK, "litellm get_secret": g.GetSecret, "litellm get_secret(os.environ/)": g.Reference} {
						if v == nil || *v != want {
							return fmt.Errorf("%s(%q): got %v, want the value the provider wrote", what, name, azDeref(v))
						}
					}
				}
				return nil
			},
		}},
	})
}

// TestInteropAzure_WeReadSecretClientWrites: LiteLLM has no Key Vault
// write, so a secret is written with the SDK
// LiteLLM uses (SecretClient.set_secret) is read by the data source and the
// ephemeral resource by the same name.
func TestInteropAzure_WeReadSecretClientWrites(t *testing.T) {
	acc(t)
	fake := kvfake.New(t, nil)
	pyEnv := azureEnv(t, fake)
	const name, value = "GATEWAY-MASTER-KEY", "sk-litellm-wrote-this-0042"
	var wrote struct {
		Version string `json:"version"`
	}
	litellmtest.Run(t, pyEnv, azureClientPy+fmt.Sprintf(`
s = client.set_secret(%q, %q)
emit({"version": s.properties.version})
`, name, value), &wrote)
	if wrote.Version == "" {
		t.Fatal("SecretClient.set_secret returned no version")
	}
	provider := `
provider "llmsecret" {
  key_management_system = "azure_key_vault"
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps:                    readBackSteps(provider, name, value, wrote.Version),
	})
}

func azDeref(s *string) string {
	if s == nil {
		return "<none>"
	}
	return fmt.Sprintf("%q", *s)
}

// pyList renders names as a Python list literal (JSON strings are valid
// Python string literals).
func pyStrList(names []string) string {
	out := "["
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%q", n)
	}
	return out + "]"
}
