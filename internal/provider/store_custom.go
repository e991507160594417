package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func customStoreFactory() storeFactory {
	return storeFactory{schema: customSchema, notBuilt: "CyberArk Conjur store and custom stores"}
}

func customSchema() schema.SingleNestedAttribute {
	return nested("A custom store over the HTTP or exec contract."+notBuiltNote, map[string]schema.Attribute{
		"url":     str("Base URL of the HTTP contract."),
		"headers": schema.MapAttribute{MarkdownDescription: "Headers sent with every request.", ElementType: types.StringType, Optional: true, Sensitive: true},
		"timeout": str("Per-call timeout, e.g. `30s`."),
		"command": schema.ListAttribute{MarkdownDescription: "Command of the exec contract.", ElementType: types.StringType, Optional: true},
	})
}
