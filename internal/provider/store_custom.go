package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/custom"
)

// customStoreModel is the custom block.
type customStoreModel struct {
	URL     types.String `tfsdk:"url"`
	Headers types.Map    `tfsdk:"headers"`
	Timeout types.String `tfsdk:"timeout"`
	Command types.List   `tfsdk:"command"`
}

func customStoreFactory() storeFactory {
	return storeFactory{kind: custom.Kind, address: custom.Kind + ".url (or, with " + custom.Kind + ".command, the address your program calls)",
		schema: customSchema, build: buildCustom, createCommand: "your store's own tooling"}
}

func buildCustom(ctx context.Context, block types.Object, _ func(string) (string, bool)) (backends.Backend, error) {
	var m customStoreModel
	if err := blockAs(ctx, block, &m); err != nil {
		return nil, err
	}
	opts := custom.Options{URL: m.URL.ValueString()}
	if !m.Headers.IsNull() {
		opts.Headers = map[string]string{}
		if d := m.Headers.ElementsAs(ctx, &opts.Headers, false); d.HasError() {
			return nil, fmt.Errorf("custom.headers: %v", d.Errors())
		}
	}
	if !m.Command.IsNull() {
		if d := m.Command.ElementsAs(ctx, &opts.Command, false); d.HasError() {
			return nil, fmt.Errorf("custom.command: %v", d.Errors())
		}
	}
	if s := m.Timeout.ValueString(); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("custom.timeout %q is not a positive duration such as \"30s\" or \"2m\"", s)
		}
		opts.Timeout = d
	}
	return custom.New(ctx, &opts)
}

func customSchema() schema.SingleNestedAttribute {
	other := func(name string) path.Expression { return path.MatchRelative().AtParent().AtName(name) }
	return nested("A store of your own behind the HTTP (`url`) or exec (`command`) contract; set exactly one. See the "+
		"[custom store guide](guides/custom.md).",
		map[string]schema.Attribute{
			"url": schema.StringAttribute{
				MarkdownDescription: "Base URL of the HTTP contract, e.g. `https://secrets.internal/llm`. Secrets are " +
					"at `{url}/secrets/{name}`, the name percent-encoded as one path segment (`/` is `%2F`).",
				Optional:   true,
				Validators: []validator.String{stringvalidator.ConflictsWith(other("command"))},
			},
			"headers": schema.MapAttribute{
				MarkdownDescription: "Headers sent with every HTTP request, e.g. `{ Authorization = \"Bearer ...\" }`. " +
					"Sensitive. Redirects are not followed, so headers never go elsewhere.",
				ElementType: types.StringType,
				Optional:    true,
				Sensitive:   true,
			},
			"timeout": str("Bound of one operation (one HTTP exchange, or one run of `command`, which is killed " +
				"when it is exceeded), e.g. `30s`; default `30s`."),
			"command": schema.ListAttribute{
				MarkdownDescription: "Program and arguments of the exec contract, e.g. " +
					"`[\"/usr/local/bin/my-store\", \"--profile\", \"prod\"]`. Run once per operation, without a shell, " +
					"in the provider's working directory (the configuration directory) and environment.",
				ElementType: types.StringType,
				Optional:    true,
				Validators:  []validator.List{listvalidator.SizeAtLeast(1)},
			},
		})
}
