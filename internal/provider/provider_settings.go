package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
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
				MarkdownDescription: "When true, `prefix_for_stored_virtual_keys` is applied to the objects marked " +
					"`virtual_key = true`, and only to them: LiteLLM prefixes only the virtual keys it stores, and its " +
					"`get_secret` reads every other name bare (so `OPENAI_API_KEY` is stored as `OPENAI_API_KEY`). An " +
					"object's own `prefix` still wins. Default false.",
				Optional: true,
			},
			"prefix_for_stored_virtual_keys": schema.StringAttribute{
				MarkdownDescription: "Prefix of virtual keys (`virtual_key = true`) when `store_virtual_keys` is true, " +
					"joined exactly as LiteLLM's `_get_secret_name` joins: `prefix + name` when it ends with `/`, else " +
					"`prefix + \"/\" + name`; so `\"\"` gives `\"/\" + name`, which stores that refuse a leading `/` " +
					"(e.g. Vault) refuse at plan. Default `litellm/`.",
				Optional: true,
			},
			"primary_secret_name": schema.StringAttribute{
				MarkdownDescription: "`aws_secret_manager` only: every name lives as a field of one JSON object stored under " +
					"this name, which LiteLLM reads. See the [AWS Secrets Manager guide](guides/aws_secret_manager.md).",
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
	// Unset is the default, "litellm/"; "" is a prefix LiteLLM joins as "/".
	s.PrefixForStoredVirtualKeys = m.PrefixForStoredVirtualKeys.ValueStringPointer()
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

// Provider-level timeout defaults.
const (
	// defaultOperationTimeout bounds one create, read, update or delete of
	// llmsecret_secret, retries included, like Terraform providers' usual
	// 20 minutes.
	defaultOperationTimeout = 20 * time.Minute
)

// ProviderTimeoutsModel is the provider's timeouts attribute.
type ProviderTimeoutsModel struct {
	Default     types.String `tfsdk:"default"`
	PerCall     types.String `tfsdk:"per_call"`
	MaxAttempts types.Int64  `tfsdk:"max_attempts"`
}

// storeTimeouts is the provider's timeouts attribute, resolved.
type storeTimeouts struct {
	// operation is the default deadline of each llmsecret_secret operation.
	operation time.Duration
	// perCall and retry go to backends.StoreOptions.
	perCall time.Duration
	retry   backends.RetryPolicy
}

func timeoutsSchema() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "How long the provider waits for the store, and how often it tries again; a resource's own " +
			"`timeouts` block overrides `default`. See [Retries and timeouts](#retries-and-timeouts).",
		Optional: true,
		Attributes: map[string]schema.Attribute{
			"default": schema.StringAttribute{
				MarkdownDescription: "Deadline of each create, read (refresh), update and delete of `llmsecret_secret`, all " +
					"attempts and waits included, unless the resource's `timeouts` block sets one, e.g. `\"5m\"`. Default " +
					"`\"20m\"`. When it runs out the error says which operation timed out " +
					"and the last store error. Reads of data sources and ephemeral resources are bounded by `per_call` and " +
					"`max_attempts`.",
				Optional:   true,
				Validators: []validator.String{durationValidator},
			},
			"per_call": schema.StringAttribute{
				MarkdownDescription: "Bound of one attempt of one store call (one HTTP or gRPC exchange, one run of a custom " +
					"store's command), e.g. `\"30s\"`. An attempt that runs out is retried. Default `\"60s\"`.",
				Optional:   true,
				Validators: []validator.String{durationValidator},
			},
			"max_attempts": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Attempts of one store call, the first included; `1` turns retries off. "+
					"Default `%d`.", backends.DefaultRetryPolicy.MaxAttempts),
				Optional:   true,
				Validators: []validator.Int64{int64validator.Between(1, 100)},
			},
		},
	}
}

// timeoutsFromModel resolves the provider's timeouts attribute; nil gives
// the defaults.
func timeoutsFromModel(m *ProviderTimeoutsModel) (storeTimeouts, diag.Diagnostics) {
	var diags diag.Diagnostics
	t := storeTimeouts{operation: defaultOperationTimeout, perCall: backends.DefaultCallTimeout, retry: backends.DefaultRetryPolicy}
	if m == nil {
		return t, diags
	}
	for name, v := range map[string]attr.Value{"default": m.Default, "per_call": m.PerCall, "max_attempts": m.MaxAttempts} {
		if v.IsUnknown() {
			diags.AddAttributeError(path.Root("timeouts").AtName(name), "Unknown timeouts."+name,
				fmt.Sprintf("timeouts.%s must be known at plan time; it cannot depend on a value computed during apply.", name))
		}
	}
	if diags.HasError() {
		return t, diags
	}
	parse := func(name string, v types.String, into *time.Duration) {
		if v.IsNull() {
			return
		}
		d, err := parseTimeout(v.ValueString())
		if err != nil {
			diags.AddAttributeError(path.Root("timeouts").AtName(name), "Invalid timeouts."+name, err.Error())
			return
		}
		*into = d
	}
	parse("default", m.Default, &t.operation)
	parse("per_call", m.PerCall, &t.perCall)
	if !m.MaxAttempts.IsNull() {
		t.retry.MaxAttempts = int(m.MaxAttempts.ValueInt64())
	}
	return t, diags
}

// parseTimeout parses a positive Go duration such as "30s" or "2m".
func parseTimeout(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration such as \"30s\", \"5m\" or \"1h30m\" (units: ms, s, m, h)", s)
	}
	return d, nil
}

// durationValidator checks a timeout at validate time.
var durationValidator = stringCheck{
	desc:    "must be a positive duration such as \"30s\" or \"5m\"",
	summary: "Invalid duration",
	check:   func(s string) error { _, err := parseTimeout(s); return err },
}
