package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awskms"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awssm"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/azurekv"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/custom"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/cyberark"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpkms"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpsm"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/local"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/litellmconfig"
)

// litellmConfigFileDescription documents the provider attribute.
const litellmConfigFileDescription = "Path of the LiteLLM proxy's `config.yaml` (a relative path is relative to the " +
	"directory Terraform runs in). The provider takes " +
	"`general_settings.key_management_system` and `general_settings.key_management_settings` from it, with " +
	"`os.environ/NAME` references read from the environment as the proxy reads them, so the gateway and the " +
	"infrastructure code share one configuration. Attributes set in the provider block win over the file. LiteLLM's " +
	"AWS settings map to the `aws_secret_manager` block: `aws_region_name` to `region`, `aws_role_name` to `role_arn`, " +
	"`aws_session_name` to `session_name`, `aws_external_id` to `external_id`, `aws_profile_name` to `profile`, " +
	"`aws_sts_endpoint` to `sts_endpoint`, `kms_key_id` and `replica_regions` to the attributes of the same name, and " +
	"`aws_web_identity_token` (`oidc/file/<path>` or `oidc/env_path/NAME`) to `web_identity_token_file`. A setting " +
	"the provider cannot honour (an unknown key, an AWS setting with another store, `key_management_system: local`, " +
	"which the proxy refuses) is an error naming the key and the file. See the " +
	"[LiteLLM proxy guide](guides/litellm_proxy.md)."

// applyLiteLLMConfig merges the file named by litellm_config_file into cfg:
// a provider attribute that is set wins, every other one takes the file's
// value (DESIGN.md, The proxy's config.yaml). It returns the file's custom
// secret manager class (nil without one), which no provider attribute holds
// and the data source renders back.
func (p *LLMSecretProvider) applyLiteLLMConfig(ctx context.Context, cfg *LLMSecretProviderModel) (*string, diag.Diagnostics) {
	var diags diag.Diagnostics
	at := path.Root("litellm_config_file")
	if cfg.LiteLLMConfigFile.IsNull() {
		return nil, diags
	}
	if cfg.LiteLLMConfigFile.IsUnknown() {
		diags.AddAttributeError(at, "Unknown litellm_config_file",
			"litellm_config_file must be known at plan time; it cannot depend on a value computed during apply.")
		return nil, diags
	}
	file := cfg.LiteLLMConfigFile.ValueString()
	lc, err := litellmconfig.Load(file, p.env())
	if err != nil {
		diags.AddAttributeError(at, "Invalid LiteLLM config file", err.Error())
		return nil, diags
	}
	fail := func(key, format string, args ...any) (*string, diag.Diagnostics) {
		diags.AddAttributeError(at, "LiteLLM config setting the provider cannot honour",
			(&litellmconfig.Error{Path: file, Key: key, Msg: fmt.Sprintf(format, args...)}).Error())
		return nil, diags
	}

	if k := lc.KeyManagementSystem; k != nil {
		switch {
		case *k == local.Kind:
			return fail("key_management_system", "LiteLLM has no %q secret manager: its proxy refuses the value at "+
				"start-up. Remove the key: the proxy then reads secrets from its environment, which the provider's "+
				"default local store (a dotenv file) serves", local.Kind)
		case !slices.Contains(storeKinds, *k):
			msg := fmt.Sprintf("%q is not a store LiteLLM 1.110.2 knows", *k)
			if s := closest(*k, storeKinds); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			return fail("key_management_system", "%s; valid values: %s", msg, strings.Join(storeKinds, ", "))
		case cfg.KeyManagementSystem.IsNull():
			cfg.KeyManagementSystem = types.StringValue(*k)
		}
	}
	kind := defaultStoreKind
	if !cfg.KeyManagementSystem.IsNull() {
		kind = cfg.KeyManagementSystem.ValueString()
	}

	s := &lc.Settings
	// LiteLLM passes these only to its AWS Secrets Manager reader.
	for _, key := range litellmconfig.AWSKeys {
		if kind != awssm.Kind && awsSettingSet(s, key) {
			return fail("key_management_settings."+key, "LiteLLM reads it only with key_management_system %q and "+
				"ignores it with %q; remove it, or select %s", awssm.Kind, kind, awssm.Kind)
		}
	}
	if s.PrimarySecretName != nil && kind != awssm.Kind && (cfg.KeyManagementSettings == nil || cfg.KeyManagementSettings.PrimarySecretName.IsNull()) {
		return fail("key_management_settings.primary_secret_name", "LiteLLM reads a primary secret only from "+
			"key_management_system %q; with %q it reads each name on its own, so it would never find secrets stored "+
			"as fields of one; remove it", awssm.Kind, kind)
	}
	if s.CustomSecretManager != nil && kind != custom.Kind {
		return fail("key_management_settings.custom_secret_manager", "LiteLLM reads it only with key_management_system "+
			"%q and ignores it with %q; remove it", custom.Kind, kind)
	}
	// With the custom store, custom_secret_manager names the proxy's Python
	// class; the provider reaches the same store through its custom block.

	if cfg.KeyManagementSettings == nil {
		cfg.KeyManagementSettings = &KeyManagementSettingsModel{
			HostedKeys: types.ListNull(types.StringType), Tags: types.MapNull(types.StringType),
		}
	}
	m := cfg.KeyManagementSettings
	takeStr(&m.AccessMode, s.AccessMode)
	takeStr(&m.PrefixForStoredVirtualKeys, s.PrefixForStoredVirtualKeys)
	takeStr(&m.PrimarySecretName, s.PrimarySecretName)
	takeStr(&m.Description, s.Description)
	if m.StoreVirtualKeys.IsNull() && s.StoreVirtualKeys != nil {
		m.StoreVirtualKeys = types.BoolValue(*s.StoreVirtualKeys)
	}
	if m.HostedKeys.IsNull() && s.HostedKeys != nil {
		v, d := types.ListValueFrom(ctx, types.StringType, s.HostedKeys)
		diags.Append(d...)
		m.HostedKeys = v
	}
	if m.Tags.IsNull() && s.Tags != nil {
		v, d := types.MapValueFrom(ctx, types.StringType, s.Tags)
		diags.Append(d...)
		m.Tags = v
	}
	if kind == awssm.Kind {
		diags.Append(p.mergeAWSSettings(ctx, cfg, file, s)...)
	}
	return s.CustomSecretManager, diags
}

// mergeAWSSettings fills the aws_secret_manager block's unset attributes from
// LiteLLM's AWS settings.
func (p *LLMSecretProvider) mergeAWSSettings(ctx context.Context, cfg *LLMSecretProviderModel, file string, s *litellmconfig.Settings) diag.Diagnostics {
	var diags diag.Diagnostics
	var m awsSecretsManagerStoreModel
	if err := blockAs(ctx, cfg.storeBlock(awssm.Kind), &m); err != nil {
		diags.AddAttributeError(path.Root(awssm.Kind), "Invalid aws_secret_manager block", err.Error())
		return diags
	}
	if m.ReplicaRegions.IsNull() {
		m.ReplicaRegions = types.ListNull(types.StringType)
	}
	takeStr(&m.Region, s.AWSRegionName)
	takeStr(&m.RoleARN, s.AWSRoleName)
	takeStr(&m.SessionName, s.AWSSessionName)
	takeStr(&m.ExternalID, s.AWSExternalID)
	takeStr(&m.Profile, s.AWSProfileName)
	takeStr(&m.STSEndpoint, s.AWSSTSEndpoint)
	takeStr(&m.KMSKeyID, s.KMSKeyID)
	if m.ReplicaRegions.IsNull() && s.ReplicaRegions != nil {
		v, d := types.ListValueFrom(ctx, types.StringType, s.ReplicaRegions)
		diags.Append(d...)
		m.ReplicaRegions = v
	}
	if s.AWSWebIdentityToken != nil && m.WebIdentityTokenFile.IsNull() {
		f, err := webIdentityTokenFile(*s.AWSWebIdentityToken, p.env())
		if err != nil {
			diags.AddAttributeError(path.Root("litellm_config_file"), "LiteLLM config setting the provider cannot honour",
				(&litellmconfig.Error{Path: file, Key: "key_management_settings.aws_web_identity_token", Msg: err.Error()}).Error())
			return diags
		}
		m.WebIdentityTokenFile = types.StringValue(f)
	}
	// The block's type as the framework decoded it from the schema, null or not.
	obj, d := types.ObjectValueFrom(ctx, cfg.storeBlock(awssm.Kind).AttributeTypes(ctx), m)
	diags.Append(d...)
	if !diags.HasError() {
		cfg.storeBlocks[awssm.Kind] = obj
	}
	return diags
}

// webIdentityTokenFile maps LiteLLM's aws_web_identity_token, which its AWS
// client hands to get_secret, to the file the provider reads the token from.
// Only the forms that name a file can be honoured; a token written into the
// config (or read from elsewhere) cannot be re-read at each refresh.
func webIdentityTokenFile(v string, lookupEnv func(string) (string, bool)) (string, error) {
	if f, ok := strings.CutPrefix(v, "oidc/file/"); ok && f != "" {
		return f, nil
	}
	if name, ok := strings.CutPrefix(v, "oidc/env_path/"); ok && name != "" {
		if f, ok := lookupEnv(name); ok && f != "" {
			return f, nil
		}
		return "", fmt.Errorf("names the token file through %s, which is not set", name)
	}
	return "", fmt.Errorf("the provider reads the web identity token from a file (aws_secret_manager.web_identity_token_file); " +
		"write it as oidc/file/<absolute path> or oidc/env_path/<variable holding the path>, which LiteLLM reads the same way")
}

func awsSettingSet(s *litellmconfig.Settings, key string) bool {
	return map[string]bool{
		"aws_region_name": s.AWSRegionName != nil, "aws_role_name": s.AWSRoleName != nil,
		"aws_session_name": s.AWSSessionName != nil, "aws_external_id": s.AWSExternalID != nil,
		"aws_profile_name": s.AWSProfileName != nil, "aws_web_identity_token": s.AWSWebIdentityToken != nil,
		"aws_sts_endpoint": s.AWSSTSEndpoint != nil, "kms_key_id": s.KMSKeyID != nil, "replica_regions": s.ReplicaRegions != nil,
	}[key]
}

// takeStr sets a null attribute to the file's value.
func takeStr(attr *types.String, v *string) {
	if attr.IsNull() && v != nil {
		*attr = types.StringValue(*v)
	}
}

func (p *LLMSecretProvider) env() func(string) (string, bool) {
	if p.lookupEnv != nil {
		return p.lookupEnv
	}
	return os.LookupEnv
}

// proxyConfig is what llmsecret_litellm_config renders: the proxy's side of
// the store the provider configured.
type proxyConfig struct {
	kind     string
	settings litellmconfig.Settings
	env      []string
	// warnings are settings of the provider the proxy cannot follow.
	warnings []string
}

// proxyConfigs maps each configured store to its proxyConfig: data sources
// receive the backends.Gateway, and the one that renders the proxy's config
// looks the rest up here.
var proxyConfigs sync.Map

func registerProxyConfig(store backends.Gateway, pc *proxyConfig) { proxyConfigs.Store(store, pc) }

func lookupProxyConfig(store backends.Gateway) (*proxyConfig, bool) {
	v, ok := proxyConfigs.Load(store)
	if !ok {
		return nil, false
	}
	pc, ok := v.(*proxyConfig)
	return pc, ok
}

// newProxyConfig computes the proxy's side of the provider's configuration
// (after applyLiteLLMConfig): the settings LiteLLM's config must hold and
// the names of the variables its reader for kind takes from its environment.
func newProxyConfig(ctx context.Context, kind string, cfg *LLMSecretProviderModel, settings backends.Settings, customClass *string, lookupEnv func(string) (string, bool)) (*proxyConfig, error) {
	pc := &proxyConfig{kind: kind, env: []string{}}
	s := &pc.settings
	s.CustomSecretManager = customClass
	if settings.AccessMode != "" {
		v := string(settings.AccessMode)
		s.AccessMode = &v
	}
	if settings.HostedKeys != nil {
		s.HostedKeys = slices.Clone(settings.HostedKeys)
	}
	if m := cfg.KeyManagementSettings; m != nil {
		s.StoreVirtualKeys = m.StoreVirtualKeys.ValueBoolPointer()
		s.PrimarySecretName = m.PrimarySecretName.ValueStringPointer()
		s.Description = m.Description.ValueStringPointer()
	}
	s.PrefixForStoredVirtualKeys = settings.PrefixForStoredVirtualKeys
	if settings.Tags != nil {
		s.Tags = settings.Tags
	}
	set := func(v types.String, names ...string) bool {
		if !v.IsNull() {
			return true
		}
		for _, n := range names {
			if _, ok := lookupEnv(n); ok {
				return true
			}
		}
		return false
	}
	add := func(names ...string) { pc.env = append(pc.env, names...) }
	block := cfg.storeBlock(kind)
	switch kind {
	case vault.Kind:
		var m vaultStoreModel
		var ar vaultAppRoleModel
		var tls vaultTLSModel
		if err := blockAs(ctx, block, &m); err != nil {
			return nil, err
		}
		if err := errors.Join(blockAs(ctx, m.AppRole, &ar), blockAs(ctx, m.TLS, &tls)); err != nil {
			return nil, err
		}
		if k := m.DataKey.ValueString(); k != "" && k != vault.DefaultDataKey {
			pc.warnings = append(pc.warnings, fmt.Sprintf("hashicorp_vault.data_key is %q, but the LiteLLM proxy reads "+
				"only the field %q of a Vault secret: it will not find what this provider writes.", k, vault.DefaultDataKey))
		}
		add("HCP_VAULT_ADDR")
		switch {
		case set(ar.RoleID, "HCP_VAULT_APPROLE_ROLE_ID"):
			add("HCP_VAULT_APPROLE_ROLE_ID", "HCP_VAULT_APPROLE_SECRET_ID")
			if set(ar.MountPath, "HCP_VAULT_APPROLE_MOUNT_PATH") {
				add("HCP_VAULT_APPROLE_MOUNT_PATH")
			}
		case set(tls.ClientCertFile, "HCP_VAULT_CLIENT_CERT"):
			add("HCP_VAULT_CLIENT_CERT", "HCP_VAULT_CLIENT_KEY")
			if set(tls.CertRole, "HCP_VAULT_CERT_ROLE") {
				add("HCP_VAULT_CERT_ROLE")
			}
		default:
			add("HCP_VAULT_TOKEN")
		}
		for _, o := range []struct {
			v    types.String
			name string
		}{
			{m.Namespace, "HCP_VAULT_NAMESPACE"}, {m.LoginNamespace, "HCP_VAULT_LOGIN_NAMESPACE"},
			{m.SecretNamespace, "HCP_VAULT_SECRET_NAMESPACE"}, {m.Mount, "HCP_VAULT_MOUNT_NAME"},
			{m.PathPrefix, "HCP_VAULT_PATH_PREFIX"},
		} {
			if set(o.v, o.name) {
				add(o.name)
			}
		}
		add("LITELLM_LICENSE")
	case awssm.Kind:
		var m awsSecretsManagerStoreModel
		if err := blockAs(ctx, block, &m); err != nil {
			return nil, err
		}
		s.AWSRegionName = m.Region.ValueStringPointer()
		s.AWSRoleName = m.RoleARN.ValueStringPointer()
		s.AWSSessionName = m.SessionName.ValueStringPointer()
		s.AWSExternalID = m.ExternalID.ValueStringPointer()
		s.AWSProfileName = m.Profile.ValueStringPointer()
		s.AWSSTSEndpoint = m.STSEndpoint.ValueStringPointer()
		s.KMSKeyID = m.KMSKeyID.ValueStringPointer()
		if f := m.WebIdentityTokenFile.ValueString(); f != "" {
			v := "oidc/file/" + f
			s.AWSWebIdentityToken = &v
		}
		if !m.ReplicaRegions.IsNull() {
			if d := m.ReplicaRegions.ElementsAs(ctx, &s.ReplicaRegions, false); d.HasError() {
				return nil, fmt.Errorf("aws_secret_manager.replica_regions: %v", d.Errors())
			}
		}
		if m.Region.IsNull() {
			add("AWS_REGION_NAME")
		}
		if !m.AccessKey.IsNull() {
			add("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
		}
		// LiteLLM's Secrets Manager client takes its endpoint from this
		// variable (bedrock-runtime replaced by secretsmanager).
		if set(m.Endpoint, "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL") {
			add("AWS_BEDROCK_RUNTIME_ENDPOINT")
		}
	case awskms.Kind:
		var m awsKMSStoreModel
		if err := blockAs(ctx, block, &m); err != nil {
			return nil, err
		}
		add("AWS_REGION_NAME")
		if !m.AccessKey.IsNull() {
			add("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
		}
	case azurekv.Kind:
		var m azureStoreModel
		if err := blockAs(ctx, block, &m); err != nil {
			return nil, err
		}
		add("AZURE_KEY_VAULT_URI")
		// LiteLLM builds DefaultAzureCredential, which reads these.
		switch {
		case set(m.ClientSecret, "AZURE_CLIENT_SECRET"):
			add("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET")
		case set(m.ClientCertificatePath, "AZURE_CLIENT_CERTIFICATE_PATH"):
			add("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_CERTIFICATE_PATH")
			if set(m.ClientCertificatePassword, "AZURE_CLIENT_CERTIFICATE_PASSWORD") {
				add("AZURE_CLIENT_CERTIFICATE_PASSWORD")
			}
		case m.UseWorkloadIdentity.ValueBool():
			add("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE")
		case set(m.ClientID, "AZURE_CLIENT_ID"):
			add("AZURE_CLIENT_ID")
		}
	case gcpsm.Kind:
		var m googleSecretManagerStoreModel
		if err := blockAs(ctx, block, &m); err != nil {
			return nil, err
		}
		add("GOOGLE_SECRET_MANAGER_PROJECT_ID")
		if set(m.Credentials, "GOOGLE_APPLICATION_CREDENTIALS") {
			add("GOOGLE_APPLICATION_CREDENTIALS")
		}
		add("LITELLM_LICENSE")
	case gcpkms.Kind:
		// LiteLLM refuses to load Google KMS without both.
		add("GOOGLE_KMS_RESOURCE_NAME", "GOOGLE_APPLICATION_CREDENTIALS")
	case custom.Kind:
		if customClass == nil {
			pc.warnings = append(pc.warnings, "LiteLLM's custom store loads the class named by "+
				"key_management_settings.custom_secret_manager (e.g. my_store.MyStoreManager), which no provider attribute "+
				"holds: add it to the rendered key_management_settings, or set it in the file litellm_config_file reads.")
		}
	case cyberark.Kind:
		var m cyberarkStoreModel
		if err := blockAs(ctx, block, &m); err != nil {
			return nil, err
		}
		add("CYBERARK_API_BASE", "CYBERARK_ACCOUNT", "CYBERARK_USERNAME")
		if set(m.ClientCert, "CYBERARK_CLIENT_CERT") {
			add("CYBERARK_CLIENT_CERT", "CYBERARK_CLIENT_KEY")
		} else {
			add("CYBERARK_API_KEY")
		}
		if _, ok := lookupEnv("CYBERARK_SSL_VERIFY"); ok || !m.SSLVerify.IsNull() {
			add("CYBERARK_SSL_VERIFY")
		}
		add("LITELLM_LICENSE")
	}
	return pc, nil
}
