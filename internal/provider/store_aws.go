package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func awsSecretsManagerStoreFactory() storeFactory {
	return storeFactory{schema: func() schema.SingleNestedAttribute { return awsSchema(true) }, notBuilt: "AWS Secrets Manager and AWS KMS stores"}
}

func awsKMSStoreFactory() storeFactory {
	return storeFactory{schema: func() schema.SingleNestedAttribute { return awsSchema(false) }, notBuilt: "AWS Secrets Manager and AWS KMS stores"}
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
