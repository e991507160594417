package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
)

func azureKeyVaultStoreFactory() storeFactory {
	return storeFactory{schema: azureSchema, notBuilt: "Azure Key Vault store"}
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
