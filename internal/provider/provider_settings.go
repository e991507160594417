package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

func settingsSchema() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "LiteLLM's `key_management_settings`: how the provider may use the store.",
		Optional:            true,
		Attributes: map[string]schema.Attribute{
			"access_mode": schema.StringAttribute{
				MarkdownDescription: "`read_only` (default): data sources and ephemeral resources read the store and every " +
					"`llmsecret_secret` resource is refused at plan. `write_only`: resources write; data sources and ephemeral " +
					"resources read the process environment (LiteLLM's fallback), and refresh does not read values back. " +
					"`read_and_write`: both.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.OneOf(backends.AccessModes...)},
			},
			"hosted_keys": schema.ListAttribute{
				MarkdownDescription: "When set, only these names are read from the store; a read of any other name comes " +
					"from the process environment. Writes are not filtered. Unset means every name is hosted.",
				ElementType: types.StringType,
				Optional:    true,
			},
			"store_virtual_keys": schema.BoolAttribute{
				MarkdownDescription: "When true, `prefix_for_stored_virtual_keys` is applied to every name the provider " +
					"writes or reads (an object's own `prefix` still wins). Default false.",
				Optional: true,
			},
			"prefix_for_stored_virtual_keys": schema.StringAttribute{
				MarkdownDescription: "Prefix joined as LiteLLM does: `prefix + name` when it ends with `/`, else " +
					"`prefix + \"/\" + name`. Default `litellm/`.",
				Optional: true,
			},
			"primary_secret_name": schema.StringAttribute{
				MarkdownDescription: "When set, every name lives as a field of ONE JSON object stored under this name. " +
					"One store read serves every read of a run; writes are serialised read-modify-writes of the object, so " +
					"parallel writes never lose a field. Values must be UTF-8 text.",
				Optional: true,
			},
			"description": schema.StringAttribute{
				MarkdownDescription: "Default description for every written secret; a resource's own `description` wins.",
				Optional:            true,
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: "Default tags for every written secret, merged under a resource's own `tags` " +
					"(the resource wins key by key), like the aws provider's `default_tags`.",
				ElementType: types.StringType,
				Optional:    true,
			},
		},
	}
}

// settingsFromModel turns the provider block's settings into backends.Settings.
func settingsFromModel(ctx context.Context, m *KeyManagementSettingsModel) (backends.Settings, diag.Diagnostics) {
	var s backends.Settings
	var diags diag.Diagnostics
	if m == nil {
		return s, diags
	}
	for name, v := range map[string]interface{ IsUnknown() bool }{
		"access_mode": m.AccessMode, "hosted_keys": m.HostedKeys, "store_virtual_keys": m.StoreVirtualKeys,
		"prefix_for_stored_virtual_keys": m.PrefixForStoredVirtualKeys, "primary_secret_name": m.PrimarySecretName,
		"description": m.Description, "tags": m.Tags,
	} {
		if v.IsUnknown() {
			diags.AddError("Unknown key_management_settings."+name,
				fmt.Sprintf("key_management_settings.%s must be known at plan time; it cannot depend on a value computed during apply.", name))
		}
	}
	if diags.HasError() {
		return s, diags
	}
	s.AccessMode = backends.AccessMode(m.AccessMode.ValueString())
	if !m.HostedKeys.IsNull() {
		s.HostedKeys = []string{}
		diags.Append(m.HostedKeys.ElementsAs(ctx, &s.HostedKeys, false)...)
	}
	s.StoreVirtualKeys = m.StoreVirtualKeys.ValueBool()
	s.PrefixForStoredVirtualKeys = m.PrefixForStoredVirtualKeys.ValueString()
	s.PrimarySecretName = m.PrimarySecretName.ValueString()
	s.Description = m.Description.ValueString()
	if !m.Tags.IsNull() {
		diags.Append(m.Tags.ElementsAs(ctx, &s.Tags, false)...)
	}
	return s, diags
}

func backtickList(items []string) string {
	quoted := make([]string, len(items))
	for i, it := range items {
		quoted[i] = "`" + it + "`"
	}
	return strings.Join(quoted, ", ")
}
