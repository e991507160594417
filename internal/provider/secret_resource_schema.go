package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// The schema's descriptions stay short: the details each one links to are
// sections of templates/resources/secret.md.tmpl, so the generated page says
// every thing once.

// Schema implements resource.Resource.
func (r *SecretResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Writes, rotates and deletes one secret (a provider API key, a virtual key) in the store " +
			"selected by the provider's `key_management_system`; it needs `key_management_settings.access_mode` " +
			"`read_and_write` or `write_only`. Prefer `value_wo` + `value_wo_version`, which keep the value out of " +
			"state and plans; see [Behaviour](#behaviour).",
		Attributes: secretAttributes(),
		Blocks:     map[string]schema.Block{"timeouts": timeoutsBlock(ctx)},
	}
}

// secretAttributes are the resource's attributes: its naming, value and
// metadata arguments, then what the store computes.
func secretAttributes() map[string]schema.Attribute {
	attrs := map[string]schema.Attribute{
		"id": computedString("Same as `full_name`."),
		"name": schema.StringAttribute{
			MarkdownDescription: "Secret name, e.g. `OPENAI_API_KEY`. The plan refuses names a store or LiteLLM " +
				"cannot address; see [Names and prefixes](#names-and-prefixes). Changing it renames the secret.",
			Required:   true,
			Validators: []validator.String{nameValidator},
		},
		"prefix": schema.StringAttribute{
			MarkdownDescription: prefixDescription + " Changing it renames the secret.",
			Optional:            true,
		},
		"virtual_key": schema.BoolAttribute{
			MarkdownDescription: "Whether the object is a LiteLLM virtual key, which alone gets the settings' " +
				"`prefix_for_stored_virtual_keys`. Default false; see [Names and prefixes](#names-and-prefixes).",
			Optional: true,
			Computed: true,
			Default:  booldefault.StaticBool(false),
		},
		"full_name": computedString("The name as stored: prefix joined with `name`. Import uses it."),
		"deletion_policy": schema.StringAttribute{
			MarkdownDescription: "What destroy and the old name of a rename do: `soft_delete` (recoverable), `delete` " +
				"(gone for good where the store allows it) or `abandon` (forget only). The default depends on the " +
				"store; see [Deletion](#deletion).",
			Optional:   true,
			Computed:   true,
			Validators: []validator.String{stringvalidator.OneOf(policyDelete, policySoftDelete, policyAbandon)},
		},
	}
	for k, v := range valueAttributes() {
		attrs[k] = v
	}
	for k, v := range computedAttributes() {
		attrs[k] = v
	}
	return attrs
}

// valueAttributes are the value and the metadata written with it.
func valueAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"value": schema.StringAttribute{
			MarkdownDescription: "The secret value. Stored in state (sensitive). Prefer `value_wo`. Exactly one of " +
				"`value` and `value_wo` must be set.",
			Optional:  true,
			Sensitive: true,
		},
		"value_wo": schema.StringAttribute{
			MarkdownDescription: "The secret value, write-only: never stored in state or plan (Terraform 1.11+, " +
				"OpenTofu 1.11+). Bump `value_wo_version` to write a new value.",
			Optional:  true,
			Sensitive: true,
			WriteOnly: true,
		},
		"value_wo_version": schema.Int64Attribute{
			MarkdownDescription: "Version of `value_wo`; change it to write a new value. Refresh clears it when the " +
				"store's value changed outside Terraform, so the next apply writes the configured value back.",
			Optional: true,
		},
		"description": schema.StringAttribute{
			MarkdownDescription: "Description, merged over `key_management_settings.description`. Stores without " +
				"metadata keep it in state only, with a plan warning; see [Tags and description](#tags-and-description).",
			Optional: true,
		},
		"tags": schema.MapAttribute{
			MarkdownDescription: "Tags, merged over `key_management_settings.tags` (these win key by key). Stores " +
				"without metadata keep them in state only, with a plan warning; see [Tags and description](#tags-and-description).",
			ElementType: types.StringType,
			Optional:    true,
		},
	}
}

// computedAttributes are what the provider computes: the merged tags, the
// store's version and, on KMS stores, the ciphertext and its LiteLLM
// start-up variable.
func computedAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"tags_all": schema.MapAttribute{
			MarkdownDescription: "All tags the secret carries: `key_management_settings.tags` merged with `tags` " +
				"(`tags` wins key by key); see [Tags and description](#tags-and-description).",
			ElementType: types.StringType,
			Computed:    true,
		},
		"version": computedString(versionDescription),
		"ciphertext": computedString("KMS stores (`aws_kms`, `google_kms`) only: the value encrypted with the " +
			"store's key, bare standard base64, for the proxy's environment variable `full_name`. Null on other " +
			"stores; see [KMS stores](#kms-stores)."),
		"use_aws_kms_env_name": computedString("`aws_kms` only: the environment variable of LiteLLM's start-up " +
			"decryption (`USE_AWS_KMS=True`), `LITELLM_SECRET_AWS_KMS_` followed by `full_name`; see [KMS stores](#kms-stores)."),
		"use_aws_kms_env_value": computedString("`aws_kms` only: the value of `use_aws_kms_env_name`, `aws_kms/` " +
			"followed by `ciphertext`. Null when `use_aws_kms_env_name` is."),
	}
}

// computedString is a computed string attribute described by desc.
func computedString(desc string) schema.StringAttribute {
	return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
}

// timeoutsBlock is the resource's timeouts block (create, read, update,
// delete), documented.
func timeoutsBlock(ctx context.Context) schema.Block {
	b := timeouts.Block(ctx, timeouts.Opts{
		Create: true, Read: true, Update: true, Delete: true,
		CreateDescription: "Deadline of writing a new secret, e.g. `\"2m\"`.",
		ReadDescription:   "Deadline of reading the secret back during refresh and plan.",
		UpdateDescription: "Deadline of writing a new value, renaming or changing metadata.",
		DeleteDescription: "Deadline of deleting the secret and waiting until the store no longer returns it.",
	})
	if nb, ok := b.(schema.SingleNestedBlock); ok {
		nb.MarkdownDescription = "Deadlines of this resource's operations (durations such as `\"30s\"`), overriding the " +
			"provider's `timeouts.default` (20m). Each covers every store call of the operation, retries and waits " +
			"included; when it runs out the operation fails with an error that names it."
		return nb
	}
	return b
}

// timeoutsNull is the value of an absent timeouts block.
func timeoutsNull() timeouts.Value {
	return timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{
		"create": types.StringType, "read": types.StringType, "update": types.StringType, "delete": types.StringType,
	})}
}
