package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awskms"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awssm"
)

// awsSharedModel is the configuration both AWS stores share.
type awsSharedModel struct {
	Region               types.String `tfsdk:"region"`
	Endpoint             types.String `tfsdk:"endpoint"`
	Profile              types.String `tfsdk:"profile"`
	AccessKey            types.String `tfsdk:"access_key"`
	SecretKey            types.String `tfsdk:"secret_key"`
	RoleARN              types.String `tfsdk:"role_arn"`
	SessionName          types.String `tfsdk:"session_name"`
	ExternalID           types.String `tfsdk:"external_id"`
	WebIdentityTokenFile types.String `tfsdk:"web_identity_token_file"`
	STSEndpoint          types.String `tfsdk:"sts_endpoint"`
}

// options maps the shared attributes; awsconfig resolves their fallbacks.
func (m awsSharedModel) options() awsconfig.Options {
	return awsconfig.Options{
		Region: m.Region.ValueString(), Endpoint: m.Endpoint.ValueString(), Profile: m.Profile.ValueString(),
		AccessKey: m.AccessKey.ValueString(), SecretKey: m.SecretKey.ValueString(),
		RoleARN: m.RoleARN.ValueString(), SessionName: m.SessionName.ValueString(), ExternalID: m.ExternalID.ValueString(),
		WebIdentityTokenFile: m.WebIdentityTokenFile.ValueString(), STSEndpoint: m.STSEndpoint.ValueString(),
	}
}

// awsSecretsManagerStoreModel is the aws_secret_manager block.
type awsSecretsManagerStoreModel struct {
	awsSharedModel
	KMSKeyID             types.String `tfsdk:"kms_key_id"`
	ReplicaRegions       types.List   `tfsdk:"replica_regions"`
	RecoveryWindowInDays types.Int64  `tfsdk:"recovery_window_in_days"`
}

// awsKMSStoreModel is the aws_kms block.
type awsKMSStoreModel struct {
	awsSharedModel
	KeyID types.String `tfsdk:"key_id"`
}

func awsSecretsManagerStoreFactory() storeFactory {
	return storeFactory{kind: awssm.Kind, schema: func() schema.SingleNestedAttribute { return awsSchema(true) }, build: buildAWSSecretsManager,
		address:       awssm.Kind + ".region and endpoint, or AWS_REGION_NAME / AWS_REGION and AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL",
		createCommand: "aws secretsmanager create-secret --name %[1]s --secret-string <value>"}
}

func awsKMSStoreFactory() storeFactory {
	return storeFactory{kind: awskms.Kind, schema: func() schema.SingleNestedAttribute { return awsSchema(false) }, buildKeeper: buildAWSKMS,
		address: awskms.Kind + ".region and endpoint, or AWS_REGION_NAME / AWS_REGION and AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL"}
}

func buildAWSSecretsManager(ctx context.Context, block types.Object, lookupEnv func(string) (string, bool)) (backends.Backend, error) {
	var m awsSecretsManagerStoreModel
	if err := blockAs(ctx, block, &m); err != nil {
		return nil, err
	}
	var replicas []string
	if !m.ReplicaRegions.IsNull() {
		if diags := m.ReplicaRegions.ElementsAs(ctx, &replicas, false); diags.HasError() {
			return nil, backends.Errorf(backends.InvalidArgument, "%s.replica_regions: %v", awssm.Kind, diags.Errors())
		}
	}
	return awssm.New(ctx, &awssm.Options{
		AWS:                  m.options(),
		KMSKeyID:             m.KMSKeyID.ValueString(),
		ReplicaRegions:       replicas,
		RecoveryWindowInDays: int(m.RecoveryWindowInDays.ValueInt64()),
		LookupEnv:            lookupEnv,
	})
}

func buildAWSKMS(ctx context.Context, block types.Object, lookupEnv func(string) (string, bool)) (backends.Keeper, error) {
	var m awsKMSStoreModel
	if err := blockAs(ctx, block, &m); err != nil {
		return nil, err
	}
	return awskms.New(ctx, &awskms.Options{
		AWS:       m.options(),
		KeyID:     m.KeyID.ValueString(),
		LookupEnv: lookupEnv,
	})
}

// sibling is a path to another attribute of the same nested block.
func sibling(name string) path.Expression { return path.MatchRelative().AtParent().AtName(name) }

func awsSchema(secretsManager bool) schema.SingleNestedAttribute {
	endpointVar := "AWS_ENDPOINT_URL_KMS"
	if secretsManager {
		endpointVar = "AWS_ENDPOINT_URL_SECRETS_MANAGER"
	}
	attrs := map[string]schema.Attribute{
		"region": str("AWS region, e.g. `us-east-1`. Falls back to `AWS_REGION_NAME` (LiteLLM's variable), then " +
			"`AWS_REGION`, `AWS_DEFAULT_REGION`, then the region of the shared config profile. Required from one of them."),
		"endpoint": str("Endpoint URL override (a VPC interface endpoint, a FIPS endpoint, an emulator such as moto). " +
			"Falls back to `" + endpointVar + "`, then `AWS_ENDPOINT_URL`."),
		"profile": str("Named profile of the shared config and credentials files (`AWS_CONFIG_FILE`, " +
			"`AWS_SHARED_CREDENTIALS_FILE`; `~/.aws/config` and `~/.aws/credentials` by default), with its SSO, " +
			"`credential_process` and `role_arn` settings. Falls back to `AWS_PROFILE`."),
		"access_key": schema.StringAttribute{
			MarkdownDescription: "Static access key ID; set with `secret_key`. Without them, the AWS SDK's default " +
				"credential chain runs (environment, web identity, profile, instance roles).",
			Optional:   true,
			Validators: []validator.String{stringvalidator.AlsoRequires(sibling("secret_key"))},
		},
		"secret_key": schema.StringAttribute{
			MarkdownDescription: "Static secret access key; set with `access_key`.",
			Optional:            true,
			Sensitive:           true,
			Validators:          []validator.String{stringvalidator.AlsoRequires(sibling("access_key"))},
		},
		"role_arn": str("ARN of a role to assume with STS, using the credentials above (`AssumeRole`), or the token " +
			"in `web_identity_token_file` (`AssumeRoleWithWebIdentity`). Credentials are cached until they expire."),
		"session_name": str("Role session name of the assumed role. Default `terraform-provider-llmsecret`."),
		"external_id": schema.StringAttribute{
			MarkdownDescription: "External ID of `AssumeRole`, for roles whose trust policy requires one. Needs `role_arn`.",
			Optional:            true,
			Validators: []validator.String{
				stringvalidator.AlsoRequires(sibling("role_arn")),
				stringvalidator.ConflictsWith(sibling("web_identity_token_file")),
			},
		},
		"web_identity_token_file": schema.StringAttribute{
			MarkdownDescription: "File holding an OIDC token (EKS IRSA, GitHub Actions, ...) to assume `role_arn` with " +
				"`AssumeRoleWithWebIdentity`; re-read at each refresh. Needs `role_arn`.",
			Optional:   true,
			Validators: []validator.String{stringvalidator.AlsoRequires(sibling("role_arn"))},
		},
		"sts_endpoint": str("STS endpoint URL for role assumption and for the credential check at plan " +
			"(`GetCallerIdentity`, skipped when only `endpoint` is set). Falls back to `AWS_ENDPOINT_URL_STS`, then " +
			"`AWS_ENDPOINT_URL`."),
	}
	if secretsManager {
		attrs["kms_key_id"] = str("KMS key (ID, ARN or alias) that encrypts secrets this provider creates; the " +
			"account's `aws/secretsmanager` key when unset. Existing secrets keep their key.")
		attrs["replica_regions"] = schema.ListAttribute{
			MarkdownDescription: "Regions to replicate written secrets to (`ReplicateSecretToRegions`), with each " +
				"region's default key. A secret lacking one of them is replicated when it is written; a failed " +
				"replication is shown as a warning and does not fail the write, as in LiteLLM. Replicas are removed " +
				"before a secret is deleted, as Secrets Manager requires.",
			ElementType: types.StringType,
			Optional:    true,
			Validators: []validator.List{
				listvalidator.UniqueValues(),
				listvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1)),
			},
		}
		attrs["recovery_window_in_days"] = schema.Int64Attribute{
			MarkdownDescription: "Recovery window of `deletion_policy = \"soft_delete\"`, 7 to 30 days; default 7, as " +
				"LiteLLM. `delete` deletes without recovery (`ForceDeleteWithoutRecovery`). Writing a name that is " +
				"scheduled for deletion restores it and writes the new value, description and tags.",
			Optional:   true,
			Validators: []validator.Int64{int64validator.Between(awssm.MinRecoveryWindowInDays, awssm.MaxRecoveryWindowInDays)},
		}
		return nested("AWS Secrets Manager: one secret per name, the value in `SecretString`. See the "+
			"[AWS Secrets Manager guide](guides/aws_secret_manager.md) for names, permissions and deletion.", attrs)
	}
	attrs["key_id"] = str("KMS key that encrypts (`llmsecret_secret` sets `ciphertext`): key ID, key ARN, alias " +
		"name (`alias/...`) or alias ARN. Decrypting needs no key (a ciphertext names its key); when `key_id` is set, " +
		"a ciphertext made with another key is refused.")
	return nested("AWS KMS: holds no secrets; `llmsecret_secret` encrypts its value into `ciphertext` for the "+
		"gateway's environment. See the [AWS KMS guide](guides/aws_kms.md).", attrs)
}

// setUseAWSKMSEnv sets use_aws_kms_env_name and use_aws_kms_env_value of m
// from its full_name and ciphertext: the variable of LiteLLM's USE_AWS_KMS
// start-up path on the aws_kms store, null elsewhere.
func setUseAWSKMSEnv(kind string, m *SecretResourceModel) {
	m.UseAWSKMSEnvName, m.UseAWSKMSEnvValue = types.StringNull(), types.StringNull()
	if kind != awskms.Kind {
		return
	}
	if m.FullName.IsUnknown() {
		m.UseAWSKMSEnvName, m.UseAWSKMSEnvValue = types.StringUnknown(), types.StringUnknown()
		return
	}
	name, ok := awskms.StartupEnvName(m.FullName.ValueString())
	if !ok {
		return
	}
	m.UseAWSKMSEnvName = types.StringValue(name)
	switch {
	case m.Ciphertext.IsUnknown():
		m.UseAWSKMSEnvValue = types.StringUnknown()
	case !m.Ciphertext.IsNull():
		m.UseAWSKMSEnvValue = types.StringValue(awskms.StartupEnvValue(m.Ciphertext.ValueString()))
	}
}
