package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/azurekv"
)

// azureStoreModel is the azure_key_vault block.
type azureStoreModel struct {
	VaultURL                  types.String `tfsdk:"vault_url"`
	TenantID                  types.String `tfsdk:"tenant_id"`
	ClientID                  types.String `tfsdk:"client_id"`
	ClientSecret              types.String `tfsdk:"client_secret"`
	ClientCertificatePath     types.String `tfsdk:"client_certificate_path"`
	ClientCertificatePassword types.String `tfsdk:"client_certificate_password"`
	UseManagedIdentity        types.Bool   `tfsdk:"use_managed_identity"`
	UseWorkloadIdentity       types.Bool   `tfsdk:"use_workload_identity"`
	UseCLI                    types.Bool   `tfsdk:"use_cli"`
}

func azureKeyVaultStoreFactory() storeFactory {
	return storeFactory{kind: azurekv.Kind, address: azurekv.Kind + ".vault_url, or AZURE_KEY_VAULT_URI", schema: azureSchema, build: buildAzure,
		createCommand: "az keyvault secret set --vault-name <vault> --name %[1]s --value <value>"}
}

func buildAzure(ctx context.Context, block types.Object, lookupEnv func(string) (string, bool)) (backends.Backend, error) {
	var m azureStoreModel
	if err := blockAs(ctx, block, &m); err != nil {
		return nil, err
	}
	return azurekv.New(&azurekv.Options{
		VaultURL:                  m.VaultURL.ValueString(),
		TenantID:                  m.TenantID.ValueString(),
		ClientID:                  m.ClientID.ValueString(),
		ClientSecret:              m.ClientSecret.ValueString(),
		ClientCertificatePath:     m.ClientCertificatePath.ValueString(),
		ClientCertificatePassword: m.ClientCertificatePassword.ValueString(),
		UseManagedIdentity:        m.UseManagedIdentity.ValueBool(),
		UseWorkloadIdentity:       m.UseWorkloadIdentity.ValueBool(),
		UseCLI:                    m.UseCLI.ValueBool(),
		LookupEnv:                 lookupEnv,
	})
}

func azureSchema() schema.SingleNestedAttribute {
	return nested("Azure Key Vault secrets. Names are stored as written (letters, digits and `-`, as LiteLLM reads them); "+
		"credentials, tags and deletion are in the [Azure Key Vault guide](guides/azure_key_vault.md).",
		map[string]schema.Attribute{
			"vault_url": str("Vault URL, e.g. `https://myvault.vault.azure.net/`. Falls back to `AZURE_KEY_VAULT_URI` " +
				"(LiteLLM's variable); required from one of them."),
			"tenant_id": str("Microsoft Entra tenant of the service principal (client secret, certificate, workload " +
				"identity). Falls back to `AZURE_TENANT_ID`."),
			"client_id": str("Application (client) ID of the service principal, or of a user-assigned managed identity " +
				"with `use_managed_identity`. Falls back to `AZURE_CLIENT_ID`."),
			"client_secret": sensitive("Client secret of the service principal; with `tenant_id` and `client_id` it " +
				"selects client-secret authentication. Falls back to `AZURE_CLIENT_SECRET`."),
			"client_certificate_path": str("PEM or PKCS#12 file with the service principal's certificate and private " +
				"key; selects certificate authentication when no client secret is set. Falls back to " +
				"`AZURE_CLIENT_CERTIFICATE_PATH`."),
			"client_certificate_password": sensitive("Password of `client_certificate_path`. Falls back to " +
				"`AZURE_CLIENT_CERTIFICATE_PASSWORD`."),
			"use_managed_identity": schema.BoolAttribute{
				MarkdownDescription: "Authenticate with the host's managed identity (system-assigned, or the " +
					"user-assigned one named by `client_id`). At most one of the `use_*` attributes may be true.",
				Optional: true,
			},
			"use_workload_identity": schema.BoolAttribute{
				MarkdownDescription: "Authenticate with workload identity federation (AKS): `tenant_id`, `client_id` " +
					"and the token file in `AZURE_FEDERATED_TOKEN_FILE`.",
				Optional: true,
			},
			"use_cli": schema.BoolAttribute{
				MarkdownDescription: "Authenticate as the Azure CLI's signed-in account (`az login`), in `tenant_id` " +
					"when set.",
				Optional: true,
			},
		})
}
