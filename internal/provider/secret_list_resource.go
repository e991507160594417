package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

var (
	_ list.ListResource              = &SecretListResource{}
	_ list.ListResourceWithConfigure = &SecretListResource{}
)

// NewSecretListResource returns the llmsecret_secret list resource, what
// `terraform query` (Terraform 1.14+) calls to find secrets to adopt.
func NewSecretListResource() list.ListResource { return &SecretListResource{} }

// SecretListResource lists the secrets of the configured store by name. It
// never reads a value: a result is a name, an identity and, when the list
// block asks for it, the state an import of that name starts from.
type SecretListResource struct {
	// store is the provider's store. Listing needs a *backends.Store: a KMS
	// store (*backends.Keyring) holds nothing to list, and List says so
	// (Gateway.CanList).
	store backends.Gateway
}

// secretListModel is the list block's config.
type secretListModel struct {
	Prefix     types.String `tfsdk:"prefix"`
	VirtualKey types.Bool   `tfsdk:"virtual_key"`
}

// Metadata implements list.ListResource: the same type name as the resource.
func (l *SecretListResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_secret"
}

// ListResourceConfigSchema implements list.ListResource.
func (l *SecretListResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Finds the secrets of the configured store by name for `terraform query` (Terraform 1.14+), " +
			"to import them. Results carry the identity (`full_name`) and never a value. See the " +
			"[adoption guide](../guides/adopting.md).",
		Attributes: map[string]schema.Attribute{
			"prefix": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Only secrets whose name starts with this. With `virtual_key = true` it is " +
					"the start of the name after the settings' `prefix_for_stored_virtual_keys`.",
			},
			"virtual_key": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "`true`: only the virtual keys stored under `prefix_for_stored_virtual_keys` " +
					"(needs `store_virtual_keys = true`); `false`: only the other secrets; unset: both.",
			},
		},
	}
}

// Configure implements list.ListResourceWithConfigure.
func (l *SecretListResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	l.store = storeFrom(req.ProviderData, &resp.Diagnostics)
}

// List implements list.ListResource. It streams: each store page becomes
// results as it arrives, and the stream stops at the query's limit.
func (l *SecretListResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	var cfg secretListModel
	if diags := req.Config.Get(ctx, &cfg); diags.HasError() {
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	if l.store == nil {
		stream.Results = list.ListResultsStreamDiagnostics(diag.Diagnostics{diag.NewErrorDiagnostic(
			"Provider not configured", "the provider's configuration is not known yet; run terraform query again")})
		return
	}
	search, wantVK, diags := l.search(cfg)
	if diags.HasError() {
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	summary := fmt.Sprintf("listing secrets in %s", l.store.Kind())
	store, isStore := l.store.(*backends.Store)
	if ok, why := l.store.CanList(); !ok || !isStore {
		if why == "" {
			why = fmt.Sprintf("want *backends.Store, got %T; please report this provider bug", l.store)
		}
		stream.Results = func(push func(list.ListResult) bool) {
			r := req.NewListResult(ctx)
			r.Diagnostics.AddError(summary, why)
			push(r)
		}
		return
	}
	stream.Results = func(push func(list.ListResult) bool) {
		var n int64
		for full, err := range store.List(ctx, search) {
			if err != nil {
				r := req.NewListResult(ctx)
				r.Diagnostics.AddError(summary, detailOf(summary, err.Error()))
				push(r)
				return
			}
			state, err := stateToImport(store, full)
			if err != nil || (wantVK != nil && state.VirtualKey.ValueBool() != *wantVK) {
				continue // a name the resource cannot import, or not the kind asked for
			}
			if !push(l.result(ctx, req, &state)) {
				return
			}
			if n++; req.Limit > 0 && n >= req.Limit {
				return
			}
		}
	}
}

// search is the full-name prefix to list, and which kind of secret to keep
// (nil: both).
func (l *SecretListResource) search(cfg secretListModel) (string, *bool, diag.Diagnostics) {
	var diags diag.Diagnostics
	prefix := cfg.Prefix.ValueString()
	if cfg.VirtualKey.IsNull() {
		return prefix, nil, diags
	}
	vk := cfg.VirtualKey.ValueBool()
	if !vk {
		return prefix, &vk, diags
	}
	settings := l.store.Settings()
	if !settings.StoreVirtualKeys {
		diags.AddAttributeError(path.Root("virtual_key"), "virtual_key needs store_virtual_keys",
			"virtual_key = true lists the virtual keys stored under prefix_for_stored_virtual_keys, but the provider's "+
				"key_management_settings.store_virtual_keys is not true, so no name is a virtual key; remove virtual_key "+
				"or set store_virtual_keys = true")
		return "", nil, diags
	}
	return backends.JoinPrefix(settings.VirtualKeyPrefix(), prefix), &vk, diags
}

// result is one listed secret: its identity, its full_name to show, and
// with include_resource the state an import would start from (no value).
func (l *SecretListResource) result(ctx context.Context, req list.ListRequest, state *SecretResourceModel) list.ListResult {
	r := req.NewListResult(ctx)
	full := state.FullName.ValueString()
	r.DisplayName = full
	setIdentity(r.Identity, full)
	if req.IncludeResource {
		r.Diagnostics.Append(setSecret(ctx, &r.Resource.Raw, req.ResourceSchema.Type().TerraformType(ctx), state)...)
	}
	return r
}
