package interop

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/interop/litellmtest"
)

// liteLLMSecretNames runs LiteLLM's own KeyManagementEventHooks._get_secret_name
// (the name under which the proxy stores a virtual key) for name under each
// prefix_for_stored_virtual_keys. The hooks module needs the proxy extras to
// import, so the function's source is taken from LiteLLM's file with ast and
// run as it is, against the real litellm module.
func liteLLMSecretNames(t *testing.T, name string, prefixes []string) map[string]string {
	t.Helper()
	in, err := json.Marshal(map[string]any{"name": name, "prefixes": prefixes})
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]string
	litellmtest.Run(t, nil, fmt.Sprintf(`
import ast, json, os, textwrap
import litellm
from litellm.types.secret_managers.main import KeyManagementSettings

src_path = os.path.join(os.path.dirname(litellm.__file__), "proxy", "hooks", "key_management_event_hooks.py")
tree = ast.parse(open(src_path).read())
fn = None
for node in ast.walk(tree):
    if isinstance(node, ast.FunctionDef) and node.name == "_get_secret_name":
        fn = node
if fn is None:
    raise SystemExit("_get_secret_name not found in " + src_path)
fn.decorator_list = []
ns = {"litellm": litellm}
exec(compile(ast.Module(body=[fn], type_ignores=[]), src_path, "exec"), ns)
args = json.loads(%q)
res = {}
for p in args["prefixes"]:
    litellm._key_management_settings = KeyManagementSettings(store_virtual_keys=True, prefix_for_stored_virtual_keys=p)
    res[p] = ns["_get_secret_name"](args["name"])
emit(res)
`, string(in)), &out)
	return out
}

// TestInteropSettings_virtualKeyPrefixJoin: a virtual_key resource is stored
// exactly where LiteLLM stores a virtual key of that name, for prefixes with
// and without a trailing "/" and for the empty prefix ("/" + name); a plain
// name is stored bare, where LiteLLM's get_secret reads it. One provider
// configuration per run: the in-process provider serves every alias of a
// configuration as one instance.
func TestInteropSettings_virtualKeyPrefixJoin(t *testing.T) {
	acc(t)
	const name = "team-a"
	prefixes := []string{"litellm/", "litellm", "team/keys/", "team", ""}
	want := liteLLMSecretNames(t, name, prefixes)
	if want[""] != "/"+name {
		t.Errorf("LiteLLM's join of the empty prefix: got %q, want %q (the provider's documentation says so)", want[""], "/"+name)
	}
	for _, p := range prefixes {
		t.Run(fmt.Sprintf("prefix %q", p), func(t *testing.T) {
			env := filepath.Join(t.TempDir(), ".env")
			cfg := fmt.Sprintf(`
provider "llmsecret" {
  key_management_settings = {
    access_mode                    = "read_and_write"
    store_virtual_keys             = true
    prefix_for_stored_virtual_keys = %[1]q
  }
  local = { env_file = %[2]q }
}

resource "llmsecret_secret" "vk" {
  name        = %[3]q
  virtual_key = true
  value       = "sk-vk"
}

resource "llmsecret_secret" "plain" {
  name  = "OPENAI_API_KEY"
  value = "sk-plain"
}
`, p, env, name)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: factories,
				Steps: []resource.TestStep{{
					Config: cfg,
					Check: func(s *terraform.State) error {
						if got := s.RootModule().Resources["llmsecret_secret.vk"].Primary.Attributes["full_name"]; got != want[p] {
							return fmt.Errorf("prefix_for_stored_virtual_keys %q: full_name %q, but LiteLLM stores the virtual key %s as %q", p, got, name, want[p])
						}
						if got := s.RootModule().Resources["llmsecret_secret.plain"].Primary.Attributes["full_name"]; got != "OPENAI_API_KEY" {
							return fmt.Errorf("a plain name under store_virtual_keys: full_name %q, want OPENAI_API_KEY (LiteLLM's get_secret reads it bare)", got)
						}
						return nil
					},
				}},
			})
		})
	}
}
