package interop

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig/awstest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/interop/litellmtest"
)

// liteLLMLoadGeneralSettings loads a proxy config.yaml as LiteLLM 1.110.2's
// proxy does: first ProxyConfig._initialize_secret_manager_from_raw_config
// (with its _check_for_os_environ_vars), then load_config's second reading of
// key_management_settings; then, for aws_secret_manager, it builds
// LiteLLM's AWSSecretsManagerV2 reader as initialize_secret_manager does.
// proxy_server does not import without the proxy extras, so the three
// methods' source is taken from LiteLLM's file with ast and run as it is;
// only initialize_secret_manager is recorded instead of run.
func liteLLMLoadGeneralSettings(t *testing.T, configYAML string, env map[string]string) map[string]any {
	t.Helper()
	var out map[string]any
	litellmtest.Run(t, env, fmt.Sprintf(`
import ast, copy, json, os, yaml, logging
from typing import Final, Mapping
import litellm
from litellm.secret_managers.main import get_secret, secret_manager_would_be_consulted
from litellm.types.router import holds_secret_pointer
from litellm.types.secret_managers.main import KeyManagementSettings
from litellm.constants import DEFAULT_MAX_RECURSE_DEPTH

src_path = os.path.join(os.path.dirname(litellm.__file__), "proxy", "proxy_server.py")
tree = ast.parse(open(src_path).read())
wanted = {"_check_for_os_environ_vars", "_resolved_config_value", "_initialize_secret_manager_from_raw_config"}
fns = []
for node in ast.walk(tree):
    if isinstance(node, ast.ClassDef) and node.name == "ProxyConfig":
        fns = [f for f in node.body if isinstance(f, ast.FunctionDef) and f.name in wanted]
if len(fns) != len(wanted):
    raise SystemExit("ProxyConfig methods not found in " + src_path)
ns = {"litellm": litellm, "copy": copy, "Final": Final, "Mapping": Mapping, "get_secret": get_secret,
      "secret_manager_would_be_consulted": secret_manager_would_be_consulted,
      "holds_secret_pointer": holds_secret_pointer, "KeyManagementSettings": KeyManagementSettings,
      "DEFAULT_MAX_RECURSE_DEPTH": DEFAULT_MAX_RECURSE_DEPTH,
      "verbose_proxy_logger": logging.getLogger("proxy")}
cls = ast.ClassDef(name="P", bases=[], keywords=[], body=fns, decorator_list=[], type_params=[])
exec(compile(ast.fix_missing_locations(ast.Module(body=[cls], type_ignores=[])), src_path, "exec"), ns)
P = ns["P"]
selected = []
P.initialize_secret_manager = lambda self, key_management_system, config_file_path=None: selected.append(key_management_system)

config = yaml.safe_load(%q)
P()._initialize_secret_manager_from_raw_config(config, "config.yaml")
# load_config then resolves the whole config and reads key_management_settings
# again (whether or not a secret manager was selected), as its lines under
# "LOAD KEY MANAGEMENT SETTINGS" do.
general_settings = P()._check_for_os_environ_vars(config=config).get("general_settings") or {}
if general_settings.get("key_management_settings", None) is not None:
    litellm._key_management_settings = KeyManagementSettings(**general_settings["key_management_settings"])
res = {"selected": selected, "settings": None, "aws": None}
if litellm._key_management_settings is not None:
    res["settings"] = litellm._key_management_settings.model_dump()
if selected == ["aws_secret_manager"]:
    from litellm.secret_managers.aws_secret_manager_v2 import AWSSecretsManagerV2
    AWSSecretsManagerV2.load_aws_secret_manager(use_aws_secret_manager=True, key_management_settings=litellm._key_management_settings)
    c = litellm.secret_manager_client
    res["aws"] = {k: getattr(c, k) for k in ("aws_region_name", "aws_role_name", "aws_session_name", "aws_external_id",
        "aws_profile_name", "aws_web_identity_token", "aws_sts_endpoint", "replica_regions", "kms_key_id")}
emit(res)
`, configYAML), &out)
	return out
}

// liteLLMDefaults is KeyManagementSettings() of LiteLLM 1.110.2.
func liteLLMDefaults() map[string]any {
	return map[string]any{
		"hosted_keys": nil, "store_virtual_keys": false, "prefix_for_stored_virtual_keys": "litellm/",
		"access_mode": "read_only", "primary_secret_name": nil, "description": nil, "tags": nil, "kms_key_id": nil,
		"custom_secret_manager": nil, "aws_region_name": nil, "aws_role_name": nil, "aws_session_name": nil,
		"aws_external_id": nil, "aws_profile_name": nil, "aws_web_identity_token": nil, "aws_sts_endpoint": nil,
		"replica_regions": nil,
	}
}

// renderedYAML captures the data source's general_settings_yaml.
func renderedYAML(into *string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		r, ok := s.RootModule().Resources["data.llmsecret_litellm_config.proxy"]
		if !ok {
			return fmt.Errorf("data.llmsecret_litellm_config.proxy is not in state")
		}
		*into = r.Primary.Attributes["general_settings_yaml"]
		return nil
	}
}

// TestInteropLiteLLMConfig_localRoundTrip: the fragment llmsecret_litellm_config
// renders is read by LiteLLM's own config loading into the provider's
// settings, and litellm_config_file reads it back into the same provider
// configuration (the second render is identical).
func TestInteropLiteLLMConfig_localRoundTrip(t *testing.T) {
	acc(t)
	dir := t.TempDir()
	env := filepath.Join(dir, ".env")
	cfgFile := filepath.Join(dir, "config.yaml")
	var first, second string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{
			{
				Config: fmt.Sprintf(`
provider "llmsecret" {
  key_management_settings = {
    access_mode                    = "read_and_write"
    hosted_keys                    = ["OPENAI_API_KEY", "true"]
    store_virtual_keys             = true
    prefix_for_stored_virtual_keys = "team/"
    description                    = "LLM gateway"
    tags                           = { owner = "platform", "on" = "yes" }
  }
  local = { env_file = %[1]q }
}

data "llmsecret_litellm_config" "proxy" {
  secret_names = ["OPENAI_API_KEY"]
}
`, env),
				Check: resource.ComposeTestCheckFunc(renderedYAML(&first), func(*terraform.State) error {
					return os.WriteFile(cfgFile, []byte(first), 0o600)
				}),
			},
			{
				Config: fmt.Sprintf(`
provider "llmsecret" {
  litellm_config_file = %[1]q
  local               = { env_file = %[2]q }
}

data "llmsecret_litellm_config" "proxy" {}
`, cfgFile, env),
				Check: renderedYAML(&second),
			},
		},
	})
	if first != second {
		t.Errorf("litellm_config_file did not read the rendered fragment back into the same configuration:\nfirst:\n%s\nsecond:\n%s", first, second)
	}
	got := liteLLMLoadGeneralSettings(t, first, nil)
	want := liteLLMDefaults()
	for k, v := range map[string]any{
		"access_mode": "read_and_write", "hosted_keys": []any{"OPENAI_API_KEY", "true"}, "store_virtual_keys": true,
		"prefix_for_stored_virtual_keys": "team/", "description": "LLM gateway",
		"tags": map[string]any{"owner": "platform", "on": "yes"},
	} {
		want[k] = v
	}
	if !reflect.DeepEqual(got["settings"], want) || !reflect.DeepEqual(got["selected"], []any{}) {
		g, _ := json.Marshal(got)
		t.Errorf("LiteLLM loaded\n%s\nwant settings %v and no secret manager (local)", g, want)
	}
}

// TestInteropLiteLLMConfig_awsSecretsManager: the aws_secret_manager block is
// rendered as LiteLLM's AWS settings, and LiteLLM's AWSSecretsManagerV2
// reader is built with the same region, role, session, external ID, profile,
// STS endpoint, replicas and KMS key. Configuring the store calls no AWS API,
// so no server is needed.
func TestInteropLiteLLMConfig_awsSecretsManager(t *testing.T) {
	acc(t)
	for _, v := range []string{"AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	var rendered string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{{
			Config: `
provider "llmsecret" {
  key_management_system = "aws_secret_manager"
  key_management_settings = {
    primary_secret_name = "litellm-secrets"
  }
  aws_secret_manager = {
    region          = "eu-west-1"
    endpoint        = "http://127.0.0.1:9"
    access_key      = "AKIAEXAMPLEEXAMPLE00"
    secret_key      = "not-a-real-secret-key"
    role_arn        = "arn:aws:iam::123456789012:role/gateway"
    session_name    = "gateway"
    external_id     = "ext-1"
    sts_endpoint    = "http://127.0.0.1:9"
    kms_key_id      = "alias/gateway"
    replica_regions = ["us-east-2"]
  }
}

data "llmsecret_litellm_config" "proxy" {}
`,
			Check: renderedYAML(&rendered),
		}},
	})
	got := liteLLMLoadGeneralSettings(t, rendered, nil)
	wantAWS := map[string]any{
		"aws_region_name": "eu-west-1", "aws_role_name": "arn:aws:iam::123456789012:role/gateway", "aws_session_name": "gateway",
		"aws_external_id": "ext-1", "aws_profile_name": nil, "aws_web_identity_token": nil, "aws_sts_endpoint": "http://127.0.0.1:9",
		"replica_regions": []any{"us-east-2"}, "kms_key_id": "alias/gateway",
	}
	if !reflect.DeepEqual(got["selected"], []any{"aws_secret_manager"}) || !reflect.DeepEqual(got["aws"], wantAWS) {
		g, _ := json.Marshal(got)
		t.Errorf("LiteLLM loaded\n%s\nfrom\n%s\nwant its AWS reader built with %v", g, rendered, wantAWS)
	}
	if s, _ := got["settings"].(map[string]any); s == nil || s["primary_secret_name"] != "litellm-secrets" {
		t.Errorf("primary_secret_name: LiteLLM loaded %v", got["settings"])
	}
}

// TestInteropLiteLLMConfig_proxyServes: the LiteLLM proxy itself, started on
// a config.yaml whose general_settings is llmsecret_litellm_config's
// rendering as it is, whose model refers to the key by the data source's
// reference, and with an environment holding only the variables the data
// source names (plus the master key), serves a request with the key the
// resource wrote to AWS Secrets Manager (moto).
func TestInteropLiteLLMConfig_proxyServes(t *testing.T) {
	acc(t)
	litellmProxy(t) // install before the steps, outside the CLI's timeouts
	endpoint := awstest.StartMoto(t)
	upstream := newFakeOpenAI(t)
	dir := t.TempDir()
	const key = "sk-litellm-config-proxy-0001"
	// What the test knows of each variable the proxy may be told to need.
	known := litellmAWSEnv(endpoint, nil)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{{
			Config: awsProvider("aws_secret_manager", endpoint, `hosted_keys = ["OPENAI_API_KEY"]`, "") + fmt.Sprintf(`
resource "llmsecret_secret" "openai" {
  name             = "OPENAI_API_KEY"
  value_wo         = %q
  value_wo_version = 1
}

data "llmsecret_litellm_config" "proxy" {
  secret_names = [llmsecret_secret.openai.full_name]
}
`, key),
			Check: func(s *terraform.State) error {
				a := s.RootModule().Resources["data.llmsecret_litellm_config.proxy"].Primary.Attributes
				config := fmt.Sprintf(`model_list:
  - model_name: gpt-test
    litellm_params:
      model: openai/gpt-test
      api_base: %s
      api_key: %s

`, upstream.URL+"/v1", a["references.OPENAI_API_KEY"]) + a["general_settings_yaml"]
				if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(config), 0o600); err != nil {
					return err
				}
				env := map[string]string{"LITELLM_MASTER_KEY": "sk-test-master", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
				n, _ := strconv.Atoi(a["environment_variables.#"])
				for i := range n {
					name := a[fmt.Sprintf("environment_variables.%d", i)]
					v, ok := known[name]
					if !ok {
						return fmt.Errorf("the data source names %s, which this test cannot give the proxy", name)
					}
					env[name] = v
				}
				p := startProxy(t, dir, env)
				defer p.stop()
				if err := p.chat(); err != nil {
					return fmt.Errorf("config.yaml:\n%s\nenvironment: %v\n%w", config, slices.Sorted(maps.Keys(env)), err)
				}
				if got, _ := upstream.last(); got != "Bearer "+key {
					return fmt.Errorf("the upstream was not called with the key the resource wrote (config.yaml:\n%s)", config)
				}
				return nil
			},
		}},
	})
}
