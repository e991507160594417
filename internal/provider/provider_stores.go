package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/local"
)

// newBackend builds the store selected by key_management_system. Each store
// package resolves its own environment fallbacks; this only maps HCL to its
// Options.
func (p *LLMSecretProvider) newBackend(_ context.Context, kind string, cfg *LLMSecretProviderModel) (backends.Backend, error) {
	switch kind {
	case kindLocal:
		opts := &local.Options{}
		if cfg.Local != nil {
			if cfg.Local.EnvFile.IsUnknown() {
				return nil, fmt.Errorf("local.env_file must be known at plan time")
			}
			opts.EnvFile = cfg.Local.EnvFile.ValueString()
		}
		return local.New(opts)
	case kindVault:
		return nil, fmt.Errorf(notBuiltYetMessage, kind, "issue: HashiCorp Vault store", kindLocal)
	case kindAWSSM, kindAWSKMS:
		return nil, fmt.Errorf(notBuiltYetMessage, kind, "issue: AWS Secrets Manager and AWS KMS stores", kindLocal)
	case kindAzureKV:
		return nil, fmt.Errorf(notBuiltYetMessage, kind, "issue: Azure Key Vault store", kindLocal)
	case kindGoogleSM, kindGoogleKMS:
		return nil, fmt.Errorf(notBuiltYetMessage, kind, "issue: Google Secret Manager and Google Cloud KMS stores", kindLocal)
	case kindCyberArk, kindCustom:
		return nil, fmt.Errorf(notBuiltYetMessage, kind, "issue: CyberArk Conjur store and custom stores", kindLocal)
	}
	return nil, fmt.Errorf("unknown key_management_system %q; valid values: %s", kind, backtickList(storeKinds))
}

func localSchema() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "The `local` store: a dotenv file, the embedded default.",
		Optional:            true,
		Attributes: map[string]schema.Attribute{
			"env_file": schema.StringAttribute{
				MarkdownDescription: "Path of the dotenv file. Default `.env` in the working directory (beside the " +
					"configuration). Created with mode 0600, replaced atomically and locked (`<env_file>.lock`) so parallel " +
					"writers in one or several processes never lose a line. Values are quoted and escaped so any byte " +
					"string round-trips; `${VAR}` is not interpolated. Reads of a name the file lacks fall back to the " +
					"process environment.",
				Optional: true,
			},
		},
	}
}

// str, sensitive and nested keep the store schemas below short.
func str(desc string) schema.StringAttribute {
	return schema.StringAttribute{MarkdownDescription: desc, Optional: true}
}

func sensitive(desc string) schema.StringAttribute {
	return schema.StringAttribute{MarkdownDescription: desc, Optional: true, Sensitive: true}
}

func nested(desc string, attrs map[string]schema.Attribute) schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{MarkdownDescription: desc, Optional: true, Attributes: attrs}
}

const notBuiltNote = " **Not built in this version:** selecting this store is refused at configure time."

func vaultSchema() schema.SingleNestedAttribute {
	return nested("HashiCorp Vault (KV v2)."+notBuiltNote, map[string]schema.Attribute{
		"address":          str("Vault address. Falls back to `HCP_VAULT_ADDR`, then `VAULT_ADDR`; default `http://127.0.0.1:8200`."),
		"token":            sensitive("Vault token. Falls back to `HCP_VAULT_TOKEN`, then `VAULT_TOKEN`."),
		"namespace":        str("Namespace for every request. Falls back to `HCP_VAULT_NAMESPACE`, then `VAULT_NAMESPACE`."),
		"login_namespace":  str("Namespace of login requests. Falls back to `HCP_VAULT_LOGIN_NAMESPACE`."),
		"secret_namespace": str("Namespace of secret requests. Falls back to `HCP_VAULT_SECRET_NAMESPACE`."),
		"mount":            str("KV v2 mount. Falls back to `HCP_VAULT_MOUNT_NAME`; default `secret`."),
		"path_prefix":      str("Path prefix under the mount. Falls back to `HCP_VAULT_PATH_PREFIX`."),
		"data_key":         str("Key of the value inside the secret's data. Default `key`."),
		"approle": nested("AppRole login (highest priority).", map[string]schema.Attribute{
			"role_id":    str("Role ID. Falls back to `HCP_VAULT_APPROLE_ROLE_ID`."),
			"secret_id":  sensitive("Secret ID. Falls back to `HCP_VAULT_APPROLE_SECRET_ID`."),
			"mount_path": str("AppRole mount. Falls back to `HCP_VAULT_APPROLE_MOUNT_PATH`; default `approle`."),
		}),
		"tls": nested("TLS settings and certificate login.", map[string]schema.Attribute{
			"ca_cert_file":     str("CA bundle. Falls back to `VAULT_CACERT`."),
			"client_cert_file": str("Client certificate. Falls back to `HCP_VAULT_CLIENT_CERT`."),
			"client_key_file":  str("Client key. Falls back to `HCP_VAULT_CLIENT_KEY`."),
			"cert_role":        str("Cert auth role. Falls back to `HCP_VAULT_CERT_ROLE`."),
			"skip_verify":      schema.BoolAttribute{MarkdownDescription: "Skip TLS verification. Falls back to `VAULT_SKIP_VERIFY`.", Optional: true},
		}),
	})
}

func awsSchema(secretsManager bool) schema.SingleNestedAttribute {
	attrs := map[string]schema.Attribute{
		"region":                  str("Region. Falls back to `AWS_REGION_NAME`, `AWS_REGION`, `AWS_DEFAULT_REGION`."),
		"endpoint":                str("Endpoint override (VPC endpoints, emulators)."),
		"profile":                 str("Shared config profile."),
		"access_key":              str("Static access key."),
		"secret_key":              sensitive("Static secret key."),
		"role_arn":                str("Role to assume."),
		"session_name":            str("Session name for the assumed role."),
		"external_id":             str("External ID for the assumed role."),
		"web_identity_token_file": str("Web identity token file for role assumption."),
		"sts_endpoint":            str("STS endpoint override."),
	}
	if secretsManager {
		attrs["kms_key_id"] = str("KMS key for new secrets.")
		attrs["replica_regions"] = schema.ListAttribute{MarkdownDescription: "Regions to replicate new secrets to.", ElementType: types.StringType, Optional: true}
		attrs["recovery_window_in_days"] = schema.Int64Attribute{MarkdownDescription: "Recovery window of `soft_delete`, 7 to 30; default 7.", Optional: true}
		return nested("AWS Secrets Manager."+notBuiltNote, attrs)
	}
	attrs["key_id"] = str("KMS key used to encrypt.")
	return nested("AWS KMS."+notBuiltNote, attrs)
}

func azureSchema() schema.SingleNestedAttribute {
	return nested("Azure Key Vault."+notBuiltNote, map[string]schema.Attribute{
		"vault_url":                   str("Vault URL. Falls back to `AZURE_KEY_VAULT_URI`."),
		"tenant_id":                   str("Tenant. Falls back to `AZURE_TENANT_ID`."),
		"client_id":                   str("Client. Falls back to `AZURE_CLIENT_ID`."),
		"client_secret":               sensitive("Client secret. Falls back to `AZURE_CLIENT_SECRET`."),
		"client_certificate_path":     str("Client certificate path."),
		"client_certificate_password": sensitive("Client certificate password."),
		"use_managed_identity":        schema.BoolAttribute{MarkdownDescription: "Use managed identity.", Optional: true},
		"use_workload_identity":       schema.BoolAttribute{MarkdownDescription: "Use workload identity.", Optional: true},
		"use_cli":                     schema.BoolAttribute{MarkdownDescription: "Use the Azure CLI's login.", Optional: true},
	})
}

func googleSchema(secretManager bool) schema.SingleNestedAttribute {
	attrs := map[string]schema.Attribute{
		"credentials":  sensitive("Service account JSON content or file path. Else Application Default Credentials."),
		"access_token": sensitive("OAuth2 access token."),
		"endpoint":     str("Endpoint override."),
	}
	if secretManager {
		attrs["project_id"] = str("Project. Falls back to `GOOGLE_SECRET_MANAGER_PROJECT_ID`.")
		attrs["location"] = str("Location for regional secrets.")
		return nested("Google Secret Manager."+notBuiltNote, attrs)
	}
	attrs["key_name"] = str("Crypto key resource name. Falls back to `GOOGLE_KMS_RESOURCE_NAME`.")
	return nested("Google Cloud KMS."+notBuiltNote, attrs)
}

func cyberarkSchema() schema.SingleNestedAttribute {
	return nested("CyberArk Conjur."+notBuiltNote, map[string]schema.Attribute{
		"url":           str("Conjur URL. Falls back to `CYBERARK_API_BASE`."),
		"account":       str("Account. Falls back to `CYBERARK_ACCOUNT`; default `default`."),
		"login":         str("Login. Falls back to `CYBERARK_USERNAME`."),
		"api_key":       sensitive("API key. Falls back to `CYBERARK_API_KEY`."),
		"client_cert":   str("Client certificate for mTLS. Falls back to `CYBERARK_CLIENT_CERT`."),
		"client_key":    str("Client key for mTLS. Falls back to `CYBERARK_CLIENT_KEY`."),
		"ssl_verify":    schema.BoolAttribute{MarkdownDescription: "Verify TLS. Falls back to `CYBERARK_SSL_VERIFY`; default true.", Optional: true},
		"ca_cert":       str("CA certificate."),
		"policy_branch": str("Policy branch variables are declared in; default `root`."),
		"authn_jwt": nested("authn-jwt login.", map[string]schema.Attribute{
			"service_id": str("Service ID."),
			"token":      sensitive("JWT."),
		}),
	})
}

func customSchema() schema.SingleNestedAttribute {
	return nested("A custom store over the HTTP or exec contract."+notBuiltNote, map[string]schema.Attribute{
		"url":     str("Base URL of the HTTP contract."),
		"headers": schema.MapAttribute{MarkdownDescription: "Headers sent with every request.", ElementType: types.StringType, Optional: true, Sensitive: true},
		"timeout": str("Per-call timeout, e.g. `30s`."),
		"command": schema.ListAttribute{MarkdownDescription: "Command of the exec contract.", ElementType: types.StringType, Optional: true},
	})
}
