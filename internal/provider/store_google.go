package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
)

func googleSecretManagerStoreFactory() storeFactory {
	return storeFactory{schema: func() schema.SingleNestedAttribute { return googleSchema(true) }, notBuilt: "Google Secret Manager and Google Cloud KMS stores"}
}

func googleKMSStoreFactory() storeFactory {
	return storeFactory{schema: func() schema.SingleNestedAttribute { return googleSchema(false) }, notBuilt: "Google Secret Manager and Google Cloud KMS stores"}
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
