package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// storeFrom takes the store the provider handed over: a *backends.Store or
// a *backends.Keyring. nil provider data (validation before configure) is
// not an error.
func storeFrom(data any, diags *diag.Diagnostics) backends.Gateway {
	if data == nil {
		return nil
	}
	store, ok := data.(backends.Gateway)
	if !ok {
		diags.AddError("Unexpected provider data",
			fmt.Sprintf("want *backends.Store or *backends.Keyring, got %T; please report this provider bug", data))
		return nil
	}
	return store
}

// optionalString returns nil for a null string, so "unset" and "" differ.
func optionalString(v types.String) *string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	s := v.ValueString()
	return &s
}

// maskValue makes every log line written with ctx hide value, whatever
// message or field it ends up in: a second line of defence behind never
// logging values at all.
func maskValue(ctx context.Context, value []byte) context.Context {
	if len(value) == 0 {
		return ctx
	}
	v := string(value)
	ctx = tflog.MaskMessageStrings(ctx, v)
	return tflog.MaskAllFieldValuesStrings(ctx, v)
}

// stringCheck is a validator that runs check on a known config value and
// reports its error under summary.
type stringCheck struct {
	desc, summary string
	check         func(string) error
}

var _ validator.String = stringCheck{}

func (c stringCheck) Description(context.Context) string { return c.desc }

func (c stringCheck) MarkdownDescription(ctx context.Context) string { return c.Description(ctx) }

func (c stringCheck) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := c.check(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, c.summary, err.Error())
	}
}

// nameValidator applies the shared name rules (DESIGN.md, Names) at validate
// time, before the provider is configured; store limits follow at plan.
var nameValidator = stringCheck{
	desc:    "must not be empty, contain \"..\" as a path segment, contain control characters, start or end with white space, or contain invisible characters (Unicode format characters such as zero-width spaces, or spaces other than U+0020)",
	summary: "Invalid secret name",
	check:   backends.ValidateName,
}

// addWarnings turns what the store reported without failing (a replication
// that did not happen, a purge refused by purge protection) into warnings.
func addWarnings(diags *diag.Diagnostics, w *backends.Warnings) {
	for _, msg := range w.Messages() {
		diags.AddWarning("Secret store warning", msg)
	}
}

// Descriptions of the naming attributes every object shares.
const (
	prefixDescription = "Prefix of the stored name, overriding `key_management_settings.prefix_for_stored_virtual_keys` " +
		"(whether or not `virtual_key` is set). Joined as LiteLLM joins: `prefix + name` when the prefix ends with `/`, " +
		"else `prefix + \"/\" + name`. `\"\"` opts out of any prefix: the name is stored as written."
	virtualKeyDescription = "The object is a LiteLLM virtual key. With `key_management_settings.store_virtual_keys = true`, " +
		"only virtual keys get `prefix_for_stored_virtual_keys` (default `litellm/`), as LiteLLM prefixes only the virtual " +
		"keys it stores; every other name (e.g. `OPENAI_API_KEY`) is stored bare, where LiteLLM's `get_secret` reads it. " +
		"An empty settings prefix joins as LiteLLM does, giving `/` + name, which stores that refuse a leading `/` " +
		"refuse at plan. An object's own `prefix` wins. Default false."
)
