package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
)

func cyberarkStoreFactory() storeFactory {
	return storeFactory{schema: cyberarkSchema, notBuilt: "CyberArk Conjur store and custom stores"}
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
