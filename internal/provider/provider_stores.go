package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// storeFactory is one store's part of the provider block: the schema of its
// nested attribute and how to build its backend from it. Each store keeps its
// factory in its own store_<kind>.go file.
type storeFactory struct {
	schema func() schema.SingleNestedAttribute
	// address says where the store's address is set, for errors of a store
	// that cannot be reached (backends.StoreOptions.AddressHint).
	address string
	// build maps the store's block (null when absent) to its package's
	// Options and builds the backend; the store package resolves environment
	// fallbacks.
	build func(ctx context.Context, block types.Object, lookupEnv func(string) (string, bool)) (backends.Backend, error)
}

// stores lists every key_management_system value with its factory.
func stores() map[string]storeFactory {
	return map[string]storeFactory{
		kindLocal:     localStoreFactory(),
		kindVault:     vaultStoreFactory(),
		kindAWSSM:     awsSecretsManagerStoreFactory(),
		kindAWSKMS:    awsKMSStoreFactory(),
		kindAzureKV:   azureKeyVaultStoreFactory(),
		kindGoogleSM:  googleSecretManagerStoreFactory(),
		kindGoogleKMS: googleKMSStoreFactory(),
		kindCyberArk:  cyberarkStoreFactory(),
		kindCustom:    customStoreFactory(),
	}
}

// newBackend builds the store selected by key_management_system.
func (p *LLMSecretProvider) newBackend(ctx context.Context, kind string, block types.Object) (backends.Backend, error) {
	st, ok := stores()[kind]
	if !ok {
		return nil, fmt.Errorf("unknown key_management_system %q; valid values: %s", kind, backtickList(storeKinds))
	}
	// Reading an unknown value as unset would silently fall back to the
	// environment, for every store alike.
	if attr := unknownAttribute(kind, block); attr != "" {
		return nil, backends.Errorf(backends.InvalidArgument, "%s must be known at plan time; it cannot depend on a value computed during apply", attr)
	}
	return st.build(ctx, block, p.lookupEnv)
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
