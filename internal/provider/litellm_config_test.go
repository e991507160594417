package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awssm"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/custom"
)

// writeLiteLLMConfig writes a proxy config.yaml for one test.
func writeLiteLLMConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const litellmConfigDS = "data.llmsecret_litellm_config.proxy"

// The local store configured from the proxy's config.yaml: access_mode comes
// from the file through an os.environ/ reference, and the data source renders
// the settings back without key_management_system (the proxy refuses local).
func TestAccLiteLLMConfig_localFromFile(t *testing.T) {
	t.Setenv("LLMSECRET_TEST_ACCESS_MODE", "read_and_write")
	cfgFile := writeLiteLLMConfig(t, `
model_list:
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o, api_key: os.environ/OPENAI_API_KEY}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  key_management_settings:
    access_mode: os.environ/LLMSECRET_TEST_ACCESS_MODE
    description: from the proxy config
`)
	env := envFile(t)
	const value = "sk-from-litellm-config-0001"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
provider "llmsecret" {
  litellm_config_file = %[1]q
  local = { env_file = %[2]q }
}

resource "llmsecret_secret" "test" {
  name             = "OPENAI_API_KEY"
  value_wo         = %[3]q
  value_wo_version = 1
}

data "llmsecret_litellm_config" "proxy" {
  secret_names = [llmsecret_secret.test.full_name]
}
`, cfgFile, env, value),
			Check: checkStored(t, env, "OPENAI_API_KEY", value),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(res, tfjsonpath.New("description"), knownvalue.Null()),
				statecheck.ExpectKnownValue(litellmConfigDS, tfjsonpath.New("key_management_system"), knownvalue.StringExact("local")),
				statecheck.ExpectKnownValue(litellmConfigDS, tfjsonpath.New("general_settings_yaml"), knownvalue.StringExact(
					"general_settings:\n  key_management_settings:\n    access_mode: read_and_write\n    description: \"from the proxy config\"\n")),
				statecheck.ExpectKnownValue(litellmConfigDS, tfjsonpath.New("environment_variables"), knownvalue.ListExact(nil)),
				statecheck.ExpectKnownValue(litellmConfigDS, tfjsonpath.New("references"), knownvalue.MapExact(map[string]knownvalue.Check{
					"OPENAI_API_KEY": knownvalue.StringExact("os.environ/OPENAI_API_KEY"),
				})),
				expectNoSecretInState(value),
			},
		}},
	})
}

// An attribute of the provider block wins over the file, key by key.
func TestAccLiteLLMConfig_providerWins(t *testing.T) {
	cfgFile := writeLiteLLMConfig(t, `
general_settings:
  key_management_settings:
    access_mode: write_only
    hosted_keys: [OPENAI_API_KEY]
`)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
provider "llmsecret" {
  litellm_config_file     = %[1]q
  key_management_settings = { access_mode = "read_and_write" }
  local                   = { env_file = %[2]q }
}

data "llmsecret_litellm_config" "proxy" {}
`, cfgFile, envFile(t)),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(litellmConfigDS, tfjsonpath.New("general_settings_yaml"), knownvalue.StringExact(
					"general_settings:\n  key_management_settings:\n    access_mode: read_and_write\n    hosted_keys:\n      - OPENAI_API_KEY\n")),
			},
		}},
	})
}

// A setting the provider cannot honour fails plan, naming the key and the file.
func TestAccLiteLLMConfig_unhonourable(t *testing.T) {
	cases := map[string]struct{ file, want string }{
		"AWS setting on another store": {"general_settings:\n  key_management_settings:\n    aws_region_name: us-east-1\n",
			`(?s)general_settings\.key_management_settings\.aws_region_name.*only with.*aws_secret_manager`},
		"primary secret on another store": {"general_settings:\n  key_management_settings:\n    primary_secret_name: all\n",
			`(?s)key_management_settings\.primary_secret_name.*primary secret only from`},
		"local": {"general_settings:\n  key_management_system: local\n", `(?s)general_settings\.key_management_system.*proxy\s+refuses`},
		"unknown key": {"general_settings:\n  key_management_settings:\n    acces_mode: read_only\n",
			`(?s)line 3.*key_management_settings\.acces_mode.*not a\s+key_management_settings\s+key`},
		"missing file": {"", `(?s)reading LiteLLM config.*no such file`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "absent.yaml")
			if tc.file != "" {
				p = writeLiteLLMConfig(t, tc.file)
			}
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: fmt.Sprintf(`
provider "llmsecret" {
  litellm_config_file = %q
}

data "llmsecret_litellm_config" "proxy" {}
`, p),
					ExpectError: regexp.MustCompile(`(?s)` + regexp.QuoteMeta(filepath.Base(p)) + `.*` + strings.TrimPrefix(tc.want, "(?s)")),
				}},
			})
		})
	}
}

// Vault selected by the file; the block gives the address and token, and the
// data source names the variables LiteLLM's reader takes.
func TestAccLiteLLMConfig_vault(t *testing.T) {
	s := startVault(t)
	cfgFile := writeLiteLLMConfig(t, `
general_settings:
  key_management_system: hashicorp_vault
  key_management_settings:
    access_mode: read_and_write
`)
	const value = "sk-vault-from-config-0001"
	const name = "OPENAI_API_KEY"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
provider "llmsecret" {
  litellm_config_file = %[1]q
  hashicorp_vault = {
    address = %[2]q
    token   = %[3]q
    mount   = "secret"
  }
}

resource "llmsecret_secret" "test" {
  name             = %[4]q
  value_wo         = %[5]q
  value_wo_version = 1
}

data "llmsecret_litellm_config" "proxy" {
  secret_names = [llmsecret_secret.test.full_name]
}
`, cfgFile, s.Addr, s.RootToken, name, value),
			Check: checkVault(t, s, name, value, 1, nil),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(litellmConfigDS, tfjsonpath.New("key_management_system"), knownvalue.StringExact("hashicorp_vault")),
				statecheck.ExpectKnownValue(litellmConfigDS, tfjsonpath.New("general_settings_yaml"), knownvalue.StringExact(
					"general_settings:\n  key_management_system: hashicorp_vault\n  key_management_settings:\n    access_mode: read_and_write\n")),
				statecheck.ExpectKnownValue(litellmConfigDS, tfjsonpath.New("environment_variables"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.StringExact("HCP_VAULT_ADDR"), knownvalue.StringExact("HCP_VAULT_TOKEN"),
					knownvalue.StringExact("HCP_VAULT_MOUNT_NAME"), knownvalue.StringExact("LITELLM_LICENSE"),
				})),
				statecheck.ExpectKnownValue(litellmConfigDS, tfjsonpath.New("references"), knownvalue.MapExact(map[string]knownvalue.Check{
					name: knownvalue.StringExact("os.environ/" + name),
				})),
				expectNoSecretInState(value),
				expectNoSecretInState(s.RootToken),
			},
		}},
	})
}

// LiteLLM's AWS settings land in the aws_secret_manager block's unset
// attributes; a set attribute wins.
func TestLiteLLMConfig_awsMapping(t *testing.T) {
	ctx := context.Background()
	t.Setenv("LLMSECRET_TEST_TOKEN_PATH", "/var/run/token")
	f := writeLiteLLMConfig(t, `
general_settings:
  key_management_system: aws_secret_manager
  key_management_settings:
    aws_region_name: eu-west-1
    aws_role_name: arn:aws:iam::123456789012:role/gw
    aws_session_name: gw
    aws_external_id: ext
    aws_profile_name: prof
    aws_web_identity_token: oidc/env_path/LLMSECRET_TEST_TOKEN_PATH
    aws_sts_endpoint: https://sts.example
    kms_key_id: alias/gw
    replica_regions: [us-east-2]
    primary_secret_name: litellm-secrets
`)
	objType, ok := awsSchema(true).GetType().(types.ObjectType)
	if !ok {
		t.Fatal("aws_secret_manager is not an object")
	}
	attrTypes := objType.AttrTypes
	block, d := types.ObjectValue(attrTypes, nullAttrs(attrTypes, map[string]string{"region": "us-east-1"}))
	if d.HasError() {
		t.Fatal(d)
	}
	cfg := LLMSecretProviderModel{LiteLLMConfigFile: types.StringValue(f), storeBlocks: map[string]types.Object{awssm.Kind: block}}
	p := &LLMSecretProvider{}
	if _, d := p.applyLiteLLMConfig(ctx, &cfg); d.HasError() {
		t.Fatal(d)
	}
	var m awsSecretsManagerStoreModel
	if err := blockAs(ctx, cfg.storeBlock(awssm.Kind), &m); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{
		"kind": cfg.KeyManagementSystem.ValueString(), "region": m.Region.ValueString(), "role": m.RoleARN.ValueString(),
		"session": m.SessionName.ValueString(), "external": m.ExternalID.ValueString(), "profile": m.Profile.ValueString(),
		"token": m.WebIdentityTokenFile.ValueString(), "sts": m.STSEndpoint.ValueString(), "kms": m.KMSKeyID.ValueString(),
		"replicas": m.ReplicaRegions.String(), "primary": cfg.KeyManagementSettings.PrimarySecretName.ValueString(),
	}
	want := map[string]string{
		"kind": "aws_secret_manager", "region": "us-east-1", "role": "arn:aws:iam::123456789012:role/gw", "session": "gw",
		"external": "ext", "profile": "prof", "token": "/var/run/token", "sts": "https://sts.example", "kms": "alias/gw",
		"replicas": `["us-east-2"]`, "primary": "litellm-secrets",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}

	// The data source renders them back as LiteLLM's keys.
	pc, err := newProxyConfig(ctx, awssm.Kind, &cfg, backendsSettings(t, &cfg), nil, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if *pc.settings.AWSRegionName != "us-east-1" || *pc.settings.AWSWebIdentityToken != "oidc/file//var/run/token" ||
		strings.Join(pc.env, ",") != "" {
		t.Fatalf("got %+v, env %v", pc.settings, pc.env)
	}
}

func TestLiteLLMConfig_webIdentityToken(t *testing.T) {
	for _, v := range []string{"eyJhbGciOi.token", "oidc/github/sts.amazonaws.com", "oidc/env_path/UNSET_VAR"} {
		if _, err := webIdentityTokenFile(v, func(string) (string, bool) { return "", false }); err == nil {
			t.Errorf("%q: no error", v)
		} else if strings.Contains(err.Error(), "eyJ") {
			t.Errorf("%q: the token is in the error: %v", v, err)
		}
	}
}

// nullAttrs is every attribute of an object type null, but for the strings in set.
func nullAttrs(attrTypes map[string]attr.Type, set map[string]string) map[string]attr.Value {
	out := make(map[string]attr.Value, len(attrTypes))
	for k, ty := range attrTypes {
		switch ty := ty.(type) {
		case basetypes.StringType:
			out[k] = types.StringNull()
			if v, ok := set[k]; ok {
				out[k] = types.StringValue(v)
			}
		case basetypes.Int64Type:
			out[k] = types.Int64Null()
		case basetypes.BoolType:
			out[k] = types.BoolNull()
		case basetypes.ListType:
			out[k] = types.ListNull(ty.ElemType)
		default:
			panic(fmt.Sprintf("nullAttrs: %s has type %T", k, ty))
		}
	}
	return out
}

func backendsSettings(t *testing.T, cfg *LLMSecretProviderModel) backends.Settings {
	t.Helper()
	s, d := settingsFromModel(context.Background(), cfg.KeyManagementSettings)
	if d.HasError() {
		t.Fatal(d)
	}
	return s
}

// custom_secret_manager names the proxy's class: taken with the custom
// store and rendered back, refused with any other.
func TestLiteLLMConfig_customSecretManager(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ kms, wantErr string }{
		{"custom", ""},
		{"hashicorp_vault", "custom_secret_manager: LiteLLM reads it only with key_management_system \"custom\""},
	} {
		f := writeLiteLLMConfig(t, "general_settings:\n  key_management_system: "+tc.kms+
			"\n  key_management_settings:\n    custom_secret_manager: my_store.Manager\n")
		cfg := LLMSecretProviderModel{LiteLLMConfigFile: types.StringValue(f)}
		class, d := (&LLMSecretProvider{}).applyLiteLLMConfig(ctx, &cfg)
		if tc.wantErr != "" {
			if !d.HasError() || !strings.Contains(d.Errors()[0].Detail(), tc.wantErr) || !strings.Contains(d.Errors()[0].Detail(), f) {
				t.Errorf("%s: got %v, want an error naming the file and %q", tc.kms, d, tc.wantErr)
			}
			continue
		}
		if d.HasError() || class == nil || *class != "my_store.Manager" {
			t.Fatalf("%s: got %v, %v", tc.kms, class, d)
		}
		pc, err := newProxyConfig(ctx, custom.Kind, &cfg, backendsSettings(t, &cfg), class, func(string) (string, bool) { return "", false })
		if err != nil || pc.settings.CustomSecretManager == nil || len(pc.warnings) != 0 {
			t.Fatalf("got %+v, %v", pc, err)
		}
	}
}
