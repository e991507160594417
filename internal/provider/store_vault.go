package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault"
)

// vaultStoreModel is the hashicorp_vault block.
type vaultStoreModel struct {
	Address         types.String `tfsdk:"address"`
	Token           types.String `tfsdk:"token"`
	Namespace       types.String `tfsdk:"namespace"`
	LoginNamespace  types.String `tfsdk:"login_namespace"`
	SecretNamespace types.String `tfsdk:"secret_namespace"`
	Mount           types.String `tfsdk:"mount"`
	PathPrefix      types.String `tfsdk:"path_prefix"`
	DataKey         types.String `tfsdk:"data_key"`
	AppRole         types.Object `tfsdk:"approle"`
	TLS             types.Object `tfsdk:"tls"`
}

// vaultAppRoleModel is hashicorp_vault.approle.
type vaultAppRoleModel struct {
	RoleID    types.String `tfsdk:"role_id"`
	SecretID  types.String `tfsdk:"secret_id"`
	MountPath types.String `tfsdk:"mount_path"`
}

// vaultTLSModel is hashicorp_vault.tls.
type vaultTLSModel struct {
	CACertFile     types.String `tfsdk:"ca_cert_file"`
	ClientCertFile types.String `tfsdk:"client_cert_file"`
	ClientKeyFile  types.String `tfsdk:"client_key_file"`
	CertRole       types.String `tfsdk:"cert_role"`
	SkipVerify     types.Bool   `tfsdk:"skip_verify"`
}

func vaultStoreFactory() storeFactory {
	return storeFactory{kind: vault.Kind, address: vault.Kind + ".address, or HCP_VAULT_ADDR / VAULT_ADDR (default http://127.0.0.1:8200)", schema: vaultSchema, build: buildVault,
		createCommand: "vault kv put -mount=<mount> <path_prefix/>%[1]s key=<value> (with the block's mount, path_prefix and data_key)"}
}

func buildVault(ctx context.Context, block types.Object, lookupEnv func(string) (string, bool)) (backends.Backend, error) {
	opts, err := vaultOptions(ctx, block, lookupEnv)
	if err != nil {
		return nil, err
	}
	return vault.New(ctx, opts)
}

// vaultOptions maps the hashicorp_vault block one-to-one onto vault.Options.
// Unset attributes stay empty (skip_verify stays nil), so the vault package
// applies the environment fallbacks and defaults in its one place.
func vaultOptions(ctx context.Context, block types.Object, lookupEnv func(string) (string, bool)) (*vault.Options, error) {
	var m vaultStoreModel
	if err := blockAs(ctx, block, &m); err != nil {
		return nil, err
	}
	var approle vaultAppRoleModel
	if err := blockAs(ctx, m.AppRole, &approle); err != nil {
		return nil, err
	}
	var tls vaultTLSModel
	if err := blockAs(ctx, m.TLS, &tls); err != nil {
		return nil, err
	}
	return &vault.Options{
		Address:         m.Address.ValueString(),
		Token:           m.Token.ValueString(),
		Namespace:       m.Namespace.ValueString(),
		LoginNamespace:  m.LoginNamespace.ValueStringPointer(), // nil when unset; "" is the root namespace, as in LiteLLM
		SecretNamespace: m.SecretNamespace.ValueStringPointer(),
		Mount:           m.Mount.ValueString(),
		PathPrefix:      m.PathPrefix.ValueString(),
		DataKey:         m.DataKey.ValueString(),
		AppRole: vault.AppRoleOptions{
			RoleID:    approle.RoleID.ValueString(),
			SecretID:  approle.SecretID.ValueString(),
			MountPath: approle.MountPath.ValueString(),
		},
		TLS: vault.TLSOptions{
			CACertFile:     tls.CACertFile.ValueString(),
			ClientCertFile: tls.ClientCertFile.ValueString(),
			ClientKeyFile:  tls.ClientKeyFile.ValueString(),
			CertRole:       tls.CertRole.ValueString(),
			SkipVerify:     tls.SkipVerify.ValueBoolPointer(), // nil when unset: VAULT_SKIP_VERIFY applies
		},
		LookupEnv: lookupEnv,
	}, nil
}

func vaultSchema() schema.SingleNestedAttribute {
	return nested("HashiCorp Vault (or HCP Vault), KV version 2, as LiteLLM's `hashicorp_vault` reads it. Every attribute "+
		"falls back to LiteLLM's `HCP_VAULT_*` variable, then Vault's own, so the block can be left out; names, "+
		"authentication order, policies and deletion are in the [HashiCorp Vault guide](guides/hashicorp_vault.md).",
		map[string]schema.Attribute{
			"address": str(fmt.Sprintf("Vault URL, `http(s)://host[:port]`. Falls back to `HCP_VAULT_ADDR`, then "+
				"`VAULT_ADDR`; default `%s`.", vault.DefaultAddress)),
			"token": sensitive("Vault token, used when neither AppRole nor certificate login is configured. Falls back " +
				"to `HCP_VAULT_TOKEN`, then `VAULT_TOKEN`, then the file `~/.vault-token` that `vault login` writes (LiteLLM " +
				"does not read that file). Checked with a token lookup when the provider is configured, so a wrong token " +
				"fails `plan`. It is used as given (not renewed): give it a TTL that covers " +
				"the run. One of `token`, `approle` or the `tls` client certificate is required."),
			"namespace": str("Vault Enterprise / HCP Vault namespace of every request, e.g. `admin/team`. Falls back to " +
				"`HCP_VAULT_NAMESPACE`; none (the root namespace) by default. `VAULT_NAMESPACE` is ignored: LiteLLM does " +
				"not read it. It is the default of `login_namespace` and `secret_namespace`. White space, then `/`, is " +
				"trimmed from the ends, as LiteLLM does."),
			"login_namespace": str("Namespace of login and token requests (the auth method lives there), when it " +
				"differs from the secrets' namespace. Falls back to `HCP_VAULT_LOGIN_NAMESPACE` (even when set to an " +
				"empty string), then `namespace`. `\"\"` is the root namespace, as in LiteLLM."),
			"secret_namespace": str("Namespace of the KV requests. Falls back to `HCP_VAULT_SECRET_NAMESPACE` (even " +
				"when set to an empty string), then `namespace`. `\"\"` is the root namespace, as in LiteLLM."),
			"mount": str(fmt.Sprintf("Path of the KV version 2 secrets engine. Falls back to `HCP_VAULT_MOUNT_NAME`; "+
				"default `%s`. White space, then `/`, is trimmed from the ends, and a mount left empty is `%s`, "+
				"as LiteLLM does.", vault.DefaultMount, vault.DefaultMount)),
			"path_prefix": str("Path put between the mount and every name, e.g. `litellm` for " +
				"`secret/data/litellm/<name>`. Falls back to `HCP_VAULT_PATH_PREFIX`; none by default. Trimmed as " +
				"`mount`. (This is Vault's " +
				"own prefix; `key_management_settings.prefix_for_stored_virtual_keys` and an object's `prefix` are part " +
				"of the name and show in `full_name`.)"),
			"data_key": str(fmt.Sprintf("Field of the KV secret's data that holds the value. Default `%s`, as LiteLLM; "+
				"no environment variable. The LiteLLM proxy always reads `%s`: another field is invisible to it.", vault.DefaultDataKey, vault.DefaultDataKey)),
			"approle": nested("AppRole login, the first auth method tried: a login at "+
				"`auth/<mount_path>/login` with `role_id` and `secret_id` when both are set (here or in the environment).",
				map[string]schema.Attribute{
					"role_id":   str("Role ID. Falls back to `HCP_VAULT_APPROLE_ROLE_ID`."),
					"secret_id": sensitive("Secret ID. Falls back to `HCP_VAULT_APPROLE_SECRET_ID`."),
					"mount_path": str(fmt.Sprintf("Path the AppRole auth method is enabled at. Falls back to "+
						"`HCP_VAULT_APPROLE_MOUNT_PATH`; default `%s`.", vault.DefaultAppRoleMount)),
				}),
			"tls": nested("TLS settings, and TLS certificate login: the second auth method tried, when "+
				"`client_cert_file` and `client_key_file` are both set (here or in the environment) and no AppRole is. "+
				"The certificate is presented in the TLS handshake and the login is made at `auth/cert/login`, so "+
				"`address` must be `https://`.",
				map[string]schema.Attribute{
					"ca_cert_file": str("PEM file of the CA certificates that verify Vault's certificate. Falls back to " +
						"`VAULT_CACERT`; the system's roots by default."),
					"client_cert_file": str("PEM file of the client certificate for certificate login. Falls back to " +
						"`HCP_VAULT_CLIENT_CERT`."),
					"client_key_file": str("PEM file of the client certificate's private key. Falls back to " +
						"`HCP_VAULT_CLIENT_KEY`."),
					"cert_role": str("Name of the cert auth role (`auth/cert/certs/<cert_role>`) to log in with. Falls " +
						"back to `HCP_VAULT_CERT_ROLE`; without it Vault tries every role that trusts the certificate."),
					"skip_verify": schema.BoolAttribute{
						MarkdownDescription: "Do not verify Vault's TLS certificate (test servers only; prefer " +
							"`ca_cert_file`). When unset, falls back to `VAULT_SKIP_VERIFY` (`true`/`false`, `1`/`0`); " +
							"default `false`. An explicit `false` wins over the variable.",
						Optional: true,
					},
				}),
		})
}
