package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/local"
)

// storeFactory is one store's part of the provider: its
// key_management_system value, the schema of its block and how to build its
// backend from it. Each store keeps its factory in its own store_<kind>.go
// file; adding a store adds that file and one line to storeRegistry.
type storeFactory struct {
	// kind is the key_management_system value and the name of the store's
	// block: the store package's Kind, so each kind is spelt once.
	kind   string
	schema func() schema.SingleNestedAttribute
	// address says where the store's address is set, for errors of a store
	// that cannot be reached (backends.StoreOptions.AddressHint).
	address string
	// build maps the store's block (null when absent) to its package's
	// Options and builds the backend; the store package resolves environment
	// fallbacks. A KMS store sets buildKeeper instead: it holds no secrets,
	// and the provider wraps it in a *backends.Keyring.
	build       func(ctx context.Context, block types.Object, lookupEnv func(string) (string, bool)) (backends.Backend, error)
	buildKeeper func(ctx context.Context, block types.Object, lookupEnv func(string) (string, bool)) (backends.Keeper, error)
	// createCommand is how a secret is created without Terraform, with %[1]s
	// the full name, for the hint of a data source that found none; "" where
	// there is nothing to create (KMS stores).
	createCommand string
}

// storeRegistry is every store, in the order the docs and errors list them.
func storeRegistry() []storeFactory {
	return []storeFactory{
		localStoreFactory(),
		vaultStoreFactory(),
		awsSecretsManagerStoreFactory(),
		awsKMSStoreFactory(),
		azureKeyVaultStoreFactory(),
		googleSecretManagerStoreFactory(),
		googleKMSStoreFactory(),
		cyberarkStoreFactory(),
		customStoreFactory(),
	}
}

// defaultStoreKind is the store of a provider block without
// key_management_system, as LiteLLM's default.
const defaultStoreKind = local.Kind

// storeKinds are the key_management_system values, in registry order.
var storeKinds = func() []string {
	var kinds []string
	for _, st := range storeRegistry() {
		kinds = append(kinds, st.kind)
	}
	return kinds
}()

// stores is the registry by kind.
func stores() map[string]storeFactory {
	m := map[string]storeFactory{}
	for _, st := range storeRegistry() {
		m[st.kind] = st
	}
	return m
}

// builtStore is what a factory built: a Backend (a store that holds
// secrets) or a Keeper (a KMS store); the other is nil.
type builtStore struct {
	backend backends.Backend
	keeper  backends.Keeper
}

// wrap gives the layer's object for what was built: a *backends.Store or a
// *backends.Keyring, as the one backends.Gateway every object gets.
func (b builtStore) wrap(opts *backends.StoreOptions) (backends.Gateway, error) {
	if b.keeper != nil {
		kr, err := backends.NewKeyring(b.keeper, opts)
		if err != nil {
			return nil, err
		}
		return kr, nil
	}
	s, err := backends.NewStore(b.backend, opts)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// newBackend builds the store selected by key_management_system.
func (p *LLMSecretProvider) newBackend(ctx context.Context, kind string, block types.Object) (builtStore, error) {
	st, ok := stores()[kind]
	if !ok {
		return builtStore{}, fmt.Errorf("unknown key_management_system %q; valid values: %s", kind, backtickList(storeKinds))
	}
	// Reading an unknown value as unset would silently fall back to the
	// environment, for every store alike.
	if attr := unknownAttribute(kind, block); attr != "" {
		return builtStore{}, backends.Errorf(backends.InvalidArgument, "%s must be known at plan time; it cannot depend on a value computed during apply", attr)
	}
	if st.buildKeeper != nil {
		k, err := st.buildKeeper(ctx, block, p.lookupEnv)
		return builtStore{keeper: k}, err
	}
	b, err := st.build(ctx, block, p.lookupEnv)
	return builtStore{backend: b}, err
}

// blockAs decodes a store block into its model; a null block leaves the
// model's zero value (every attribute null).
func blockAs(ctx context.Context, block types.Object, target any) error {
	if block.IsNull() {
		return nil
	}
	diags := block.As(ctx, target, basetypes.ObjectAsOptions{UnhandledNullAsEmpty: true, UnhandledUnknownAsEmpty: false})
	if diags.HasError() {
		return fmt.Errorf("decoding the store block: %v", diags.Errors())
	}
	return nil
}

// str, sensitive and nested keep the store schemas short.
func str(desc string) schema.StringAttribute {
	return schema.StringAttribute{MarkdownDescription: desc, Optional: true}
}

func sensitive(desc string) schema.StringAttribute {
	return schema.StringAttribute{MarkdownDescription: desc, Optional: true, Sensitive: true}
}

func nested(desc string, attrs map[string]schema.Attribute) schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{MarkdownDescription: desc, Optional: true, Attributes: attrs}
}

// unknownAttribute returns the path (prefix.attr[.nested]) of the first
// attribute of obj whose value is unknown at plan time, or "". Treating an
// unknown value as unset would silently fall back to the environment.
func unknownAttribute(prefix string, obj types.Object) string {
	if obj.IsUnknown() {
		return prefix
	}
	if obj.IsNull() {
		return ""
	}
	attrs := obj.Attributes()
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		v := attrs[name]
		p := prefix + "." + name
		if o, ok := v.(types.Object); ok {
			if u := unknownAttribute(p, o); u != "" {
				return u
			}
			continue
		}
		if v.IsUnknown() {
			return p
		}
	}
	return ""
}

// decodeProviderConfig reads the provider block: each store's block by the
// registry's kinds, the other attributes into the model's fields by their
// tfsdk tags. The model has no field a store, so adding a store does not
// touch it.
func decodeProviderConfig(ctx context.Context, config tfsdk.Config) (LLMSecretProviderModel, diag.Diagnostics) {
	var (
		cfg   LLMSecretProviderModel
		diags diag.Diagnostics
		attrs map[string]tftypes.Value
	)
	full, ok := config.Schema.(schema.Schema)
	if err := config.Raw.As(&attrs); !ok || err != nil {
		diags.AddError("Value Conversion Error", fmt.Sprintf("reading the provider block (%T): %v; please report this provider bug", config.Schema, err))
		return cfg, diags
	}
	rest := schema.Schema{Attributes: maps.Clone(full.Attributes)}
	blocks := map[string]types.Object{}
	for _, kind := range storeKinds {
		var block types.Object
		diags.Append(config.GetAttribute(ctx, path.Root(kind), &block)...)
		blocks[kind] = block
		delete(rest.Attributes, kind)
		delete(attrs, kind)
	}
	restRaw := tftypes.NewValue(rest.Type().TerraformType(ctx), attrs)
	// Get replaces the whole model, so the blocks go in after it.
	diags.Append(tfsdk.Config{Schema: rest, Raw: restRaw}.Get(ctx, &cfg)...)
	cfg.storeBlocks = blocks
	return cfg, diags
}
