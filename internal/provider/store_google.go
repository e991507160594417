package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpkms"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpsm"
)

// googleSecretManagerStoreModel is the google_secret_manager block.
type googleSecretManagerStoreModel struct {
	ProjectID   types.String `tfsdk:"project_id"`
	Location    types.String `tfsdk:"location"`
	Credentials types.String `tfsdk:"credentials"`
	AccessToken types.String `tfsdk:"access_token"`
	Endpoint    types.String `tfsdk:"endpoint"`
}

// googleKMSStoreModel is the google_kms block.
type googleKMSStoreModel struct {
	KeyName     types.String `tfsdk:"key_name"`
	Credentials types.String `tfsdk:"credentials"`
	AccessToken types.String `tfsdk:"access_token"`
	Endpoint    types.String `tfsdk:"endpoint"`
}

func googleSecretManagerStoreFactory() storeFactory {
	return storeFactory{kind: gcpsm.Kind, schema: func() schema.SingleNestedAttribute { return googleSchema(true) }, build: buildGoogleSecretManager,
		address:       gcpsm.Kind + ".endpoint (unset: Google's public endpoint)",
		createCommand: "gcloud secrets create %[1]s, then gcloud secrets versions add %[1]s --data-file=-"}
}

func googleKMSStoreFactory() storeFactory {
	return storeFactory{kind: gcpkms.Kind, schema: func() schema.SingleNestedAttribute { return googleSchema(false) }, buildKeeper: buildGoogleKMS,
		address: gcpkms.Kind + ".endpoint (unset: Google's public endpoint)"}
}

func buildGoogleSecretManager(ctx context.Context, block types.Object, lookupEnv func(string) (string, bool)) (backends.Backend, error) {
	var m googleSecretManagerStoreModel
	if err := blockAs(ctx, block, &m); err != nil {
		return nil, err
	}
	return gcpsm.New(ctx, &gcpsm.Options{
		ProjectID:   m.ProjectID.ValueString(),
		Location:    m.Location.ValueString(),
		Credentials: m.Credentials.ValueString(),
		AccessToken: m.AccessToken.ValueString(),
		Endpoint:    m.Endpoint.ValueString(),
		LookupEnv:   lookupEnv,
	})
}

func buildGoogleKMS(ctx context.Context, block types.Object, lookupEnv func(string) (string, bool)) (backends.Keeper, error) {
	var m googleKMSStoreModel
	if err := blockAs(ctx, block, &m); err != nil {
		return nil, err
	}
	return gcpkms.New(ctx, &gcpkms.Options{
		KeyName:     m.KeyName.ValueString(),
		Credentials: m.Credentials.ValueString(),
		AccessToken: m.AccessToken.ValueString(),
		Endpoint:    m.Endpoint.ValueString(),
		LookupEnv:   lookupEnv,
	})
}

func googleSchema(secretManager bool) schema.SingleNestedAttribute {
	attrs := map[string]schema.Attribute{
		"credentials": sensitive("Credentials JSON, as its content or the path of a file. Falls back to " +
			"`GOOGLE_CREDENTIALS`, then Application Default Credentials; conflicts with `access_token`."),
		"access_token": sensitive("OAuth2 access token, sent as is (it is not refreshed). Falls back to " +
			"`GOOGLE_OAUTH_ACCESS_TOKEN`. Takes precedence over credentials from the environment; conflicts with `credentials`."),
		"endpoint": str("Service endpoint override (Private Service Connect, an emulator); `http://` and loopback " +
			"addresses are reached in plain text without credentials."),
	}
	if secretManager {
		attrs["project_id"] = str("Project that holds the secrets (ID or number). Falls back to " +
			"`GOOGLE_SECRET_MANAGER_PROJECT_ID` (LiteLLM's variable), then `GOOGLE_CLOUD_PROJECT`. Required from one of them.")
		attrs["credentials"] = sensitive("Credentials JSON, as its content or the path of a file. Falls back to " +
			"`GOOGLE_CREDENTIALS`, then LiteLLM's `GCS_PATH_SERVICE_ACCOUNT`, then Application Default Credentials; " +
			"conflicts with `access_token`.")
		attrs["location"] = schema.StringAttribute{
			MarkdownDescription: "Location of regional secrets, e.g. `us-east1`; unset: global secrets. " +
				"**LiteLLM cannot read regional secrets** (a warning at plan); see the [guide](guides/google_secret_manager.md).",
			Optional:   true,
			Validators: []validator.String{regionalSecretsWarning{}},
		}
		return nested("Google Secret Manager, global secrets, as LiteLLM reads them. See the "+
			"[Google Secret Manager guide](guides/google_secret_manager.md) for names, labels and deletion.", attrs)
	}
	attrs["key_name"] = str("Symmetric crypto key, `projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>` (not a key " +
		"version). Falls back to `GOOGLE_KMS_RESOURCE_NAME` (LiteLLM's variable). Required from one of them.")
	return nested("Google Cloud KMS: holds no secrets; `llmsecret_secret` encrypts its value into `ciphertext` for "+
		"the gateway's environment. See the [Google Cloud KMS guide](guides/google_kms.md).", attrs)
}

// regionalSecretsWarning warns, at validate and plan time, that LiteLLM
// cannot read the regional secrets that google_secret_manager.location
// selects: its reader builds projects/<p>/secrets/<name>/versions/latest
// only.
type regionalSecretsWarning struct{}

func (regionalSecretsWarning) Description(context.Context) string {
	return "warns that LiteLLM reads only global secrets"
}

func (v regionalSecretsWarning) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (regionalSecretsWarning) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() || req.ConfigValue.ValueString() == "" {
		return
	}
	resp.Diagnostics.AddAttributeWarning(req.Path, "LiteLLM cannot read regional secrets",
		fmt.Sprintf("%[1]s.location = %[2]q makes every secret a regional secret "+
			"(projects/<project>/locations/%[2]s/secrets/<name>). LiteLLM's %[1]s reader reads only "+
			"global secrets (projects/<project>/secrets/<name>/versions/latest), so the gateway will not find "+
			"these secrets and falls back to its process environment. Remove location for secrets the LiteLLM "+
			"proxy must read.", gcpsm.Kind, req.ConfigValue.ValueString()))
}
