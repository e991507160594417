package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
)

func vaultStoreFactory() storeFactory {
	return storeFactory{schema: vaultSchema, notBuilt: "HashiCorp Vault store"}
}

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
