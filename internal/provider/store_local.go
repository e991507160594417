package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/local"
)

// localStoreModel is the local block.
type localStoreModel struct {
	EnvFile types.String `tfsdk:"env_file"`
}

func localStoreFactory() storeFactory {
	return storeFactory{kind: local.Kind, schema: localSchema, build: buildLocal,
		createCommand: "add the line %[1]s=\"<value>\" to the dotenv file (" + local.Kind + ".env_file)"}
}

func buildLocal(ctx context.Context, block types.Object, _ func(string) (string, bool)) (backends.Backend, error) {
	var m localStoreModel
	if err := blockAs(ctx, block, &m); err != nil {
		return nil, err
	}
	return local.New(&local.Options{EnvFile: m.EnvFile.ValueString()})
}

func localSchema() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "The `local` store: a dotenv file, the embedded default.",
		Optional:            true,
		Attributes: map[string]schema.Attribute{
			"env_file": schema.StringAttribute{
				MarkdownDescription: "Path of the dotenv file. Default `.env` in the working directory; see the " +
					"[local store guide](guides/local-store.md) for quoting and when LiteLLM loads the file.",
				Optional: true,
			},
		},
	}
}
