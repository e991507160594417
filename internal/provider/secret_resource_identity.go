package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

var _ resource.ResourceWithIdentity = &SecretResource{}

// identityFullName is the one attribute of llmsecret_secret's identity: the
// name the secret has in the store. One provider configuration talks to one
// store, so nothing else is needed to tell two secrets apart (DESIGN.md,
// "Adopting a store").
const identityFullName = "full_name"

// IdentitySchema implements resource.ResourceWithIdentity (Terraform 1.12+:
// import blocks with identity = { full_name = "..." }, and the results of
// `terraform query`).
func (r *SecretResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identityschema.Schema{
		Attributes: map[string]identityschema.Attribute{
			identityFullName: identityschema.StringAttribute{
				RequiredForImport: true,
				Description:       "The secret's name in the store, prefixes included: the resource's full_name.",
			},
		},
	}
}

// setIdentity records full in the response's identity. Clients without
// resource identity (OpenTofu 1.11, Terraform before 1.12) send none; then
// there is nothing to set.
func setIdentity(identity *tfsdk.ResourceIdentity, full string) {
	if identity == nil || full == "" {
		return
	}
	// Built directly rather than with SetAttribute: a refresh of thousands of
	// secrets sets one identity each, and the path-based setter re-walks the
	// schema every time (DESIGN.md, "Adopting a store").
	identity.Raw = tftypes.NewValue(identityType, map[string]tftypes.Value{
		identityFullName: tftypes.NewValue(tftypes.String, full),
	})
}

// identityType is the identity schema's type.
var identityType = tftypes.Object{AttributeTypes: map[string]tftypes.Type{identityFullName: tftypes.String}}

// importID is the full_name an import asks for: the import block's id, or
// its identity's full_name.
func importID(ctx context.Context, req resource.ImportStateRequest) (string, diag.Diagnostics) {
	if req.ID != "" || req.Identity == nil {
		return req.ID, nil
	}
	var full string
	diags := req.Identity.GetAttribute(ctx, path.Root(identityFullName), &full)
	return full, diags
}

// stateToImport is the state an import of full starts from, before its
// first Read. A full_name under the settings' prefix (store_virtual_keys on)
// imports as a virtual key; any other as a bare name. FullName applies the
// name rules: a name the store cannot hold (or LiteLLM cannot read) is an
// error.
func stateToImport(store *backends.Store, full string) (SecretResourceModel, error) {
	name, prefix, virtualKey := store.Settings().SplitFullName(full)
	full, err := store.FullName(name, prefix, virtualKey)
	if err != nil {
		return SecretResourceModel{}, err
	}
	return importedState(name, prefix, virtualKey, full, defaultDeletionPolicy(store.Caps())), nil
}

// valueUnmanaged reports whether the configuration sets neither value nor
// value_wo: the resource then manages the secret's name and metadata and
// keeps whatever value the store holds. That is what an adopted secret's
// generated configuration looks like (terraform query writes no value), so
// it plans clean after its import; creating one is refused at plan.
func valueUnmanaged(config tftypes.Value) bool {
	states := configStates(config, "value", "value_wo")
	return states[0] == attrNull && states[1] == attrNull
}
