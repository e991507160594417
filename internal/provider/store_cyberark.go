package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/cyberark"
)

// cyberarkStoreModel is the cyberark block.
type cyberarkStoreModel struct {
	URL          types.String `tfsdk:"url"`
	Account      types.String `tfsdk:"account"`
	Login        types.String `tfsdk:"login"`
	APIKey       types.String `tfsdk:"api_key"`
	ClientCert   types.String `tfsdk:"client_cert"`
	ClientKey    types.String `tfsdk:"client_key"`
	SSLVerify    types.Bool   `tfsdk:"ssl_verify"`
	CACert       types.String `tfsdk:"ca_cert"`
	PolicyBranch types.String `tfsdk:"policy_branch"`
	AuthnJWT     types.Object `tfsdk:"authn_jwt"`
}

// cyberarkJWTModel is cyberark.authn_jwt.
type cyberarkJWTModel struct {
	ServiceID types.String `tfsdk:"service_id"`
	Token     types.String `tfsdk:"token"`
}

func cyberarkStoreFactory() storeFactory {
	return storeFactory{kind: cyberark.Kind, address: cyberark.Kind + ".url, or CYBERARK_API_BASE / CONJUR_APPLIANCE_URL", schema: cyberarkSchema, build: buildCyberArk,
		createCommand: "conjur variable set -i %[1]s -v <value> (the variable must be declared in a policy first)"}
}

func buildCyberArk(ctx context.Context, block types.Object, lookupEnv func(string) (string, bool)) (backends.Backend, error) {
	var m cyberarkStoreModel
	if err := blockAs(ctx, block, &m); err != nil {
		return nil, err
	}
	var jwt cyberarkJWTModel
	if err := blockAs(ctx, m.AuthnJWT, &jwt); err != nil {
		return nil, err
	}
	return cyberark.New(&cyberark.Options{
		URL:          m.URL.ValueString(),
		Account:      m.Account.ValueString(),
		Login:        m.Login.ValueString(),
		APIKey:       m.APIKey.ValueString(),
		ClientCert:   m.ClientCert.ValueString(),
		ClientKey:    m.ClientKey.ValueString(),
		SSLVerify:    m.SSLVerify.ValueBoolPointer(),
		CACert:       m.CACert.ValueString(),
		PolicyBranch: m.PolicyBranch.ValueString(),
		JWTServiceID: jwt.ServiceID.ValueString(),
		JWTToken:     jwt.Token.ValueString(),
		LookupEnv:    lookupEnv,
	})
}

func cyberarkSchema() schema.SingleNestedAttribute {
	return nested("CyberArk Conjur variables, through its REST API. Every attribute falls back to LiteLLM's `CYBERARK_*` "+
		"variable, then Conjur's `CONJUR_*`; see the [CyberArk Conjur guide](guides/cyberark.md).",
		map[string]schema.Attribute{
			"url": str("Conjur appliance URL, e.g. `https://conjur.example.com`. Falls back to `CYBERARK_API_BASE`, " +
				"then `CONJUR_APPLIANCE_URL`. Required."),
			"account": str("Conjur account. Falls back to `CYBERARK_ACCOUNT`, then `CONJUR_ACCOUNT`; default `default`."),
			"login": str("Login to authenticate as, e.g. `admin` or `host/llm-gateway`. Falls back to `CYBERARK_USERNAME`, " +
				"then `CONJUR_AUTHN_LOGIN`. Required with `api_key` or a client certificate; with `authn_jwt` it is the optional host id."),
			"api_key": sensitive("API key of `login` (POST `/authn/{account}/{login}/authenticate`). Falls back to " +
				"`CYBERARK_API_KEY`, then `CONJUR_AUTHN_API_KEY`. Required unless `authn_jwt` is set, or `client_cert` and " +
				"`client_key` are (a login with the certificate alone, as LiteLLM)."),
			"client_cert": str("Client certificate for mutual TLS with Conjur or the gateway in front of it: PEM " +
				"text or the path of a PEM file. Falls back to `CYBERARK_CLIENT_CERT`. Set together with `client_key`. " +
				"Without `api_key` or `authn_jwt`, the store logs in with the certificate alone, as LiteLLM does: " +
				"POST `/authn/{account}/{login}/authenticate` over mutual TLS with an empty body."),
			"client_key": sensitive("Private key of `client_cert`: PEM text or the path of a PEM file. Falls back to " +
				"`CYBERARK_CLIENT_KEY`."),
			"ssl_verify": schema.BoolAttribute{
				MarkdownDescription: "Verify Conjur's TLS certificate. Falls back to `CYBERARK_SSL_VERIFY`, read as " +
					"LiteLLM reads it: only `false` (any case) turns verification off; any other value, `0` and `no` " +
					"included, keeps it on. Default `true`. Turn off only for tests with self-signed certificates; " +
					"prefer `ca_cert`.",
				Optional: true,
			},
			"ca_cert": str("CA certificates to trust instead of the system roots (Conjur's self-signed CA): PEM text " +
				"or the path of a PEM file. Falls back to `CONJUR_SSL_CERTIFICATE` (PEM), then `CONJUR_CERT_FILE` (path)."),
			"policy_branch": str("Policy branch that variables are declared in, e.g. `apps/llm`; default `root`. " +
				"Names are relative to it: with `apps/llm`, the name `OPENAI_API_KEY` is the variable " +
				"`apps/llm/OPENAI_API_KEY`. The login needs `create` on the branch to declare new variables; " +
				"changing the value of an existing variable needs only `update` on it."),
			"authn_jwt": nested("Log in with authn-jwt (CI workload identity, e.g. a GitLab or GitHub Actions "+
				"OIDC token) instead of an API key: POST `/authn-jwt/{service_id}/{account}[/{login}]/authenticate`.",
				map[string]schema.Attribute{
					"service_id": str("The authn-jwt service id. Falls back to `CONJUR_AUTHN_JWT_SERVICE_ID`. When " +
						"set (here or there), authn-jwt is used instead of `api_key`."),
					"token": sensitive("The JWT. Falls back to `CONJUR_AUTHN_JWT_TOKEN`."),
				}),
		})
}
