package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

var (
	_ datasource.DataSource              = &SecretsDataSource{}
	_ datasource.DataSourceWithConfigure = &SecretsDataSource{}
)

// NewSecretsDataSource returns the llmsecret_secrets data source.
func NewSecretsDataSource() datasource.DataSource { return &SecretsDataSource{} }

// SecretsDataSource reads many secrets in one go.
type SecretsDataSource struct {
	store backends.Gateway
}

// SecretsDataSourceModel is the llmsecret_secrets data source.
type SecretsDataSourceModel struct {
	Names      types.List   `tfsdk:"names"`
	Prefix     types.String `tfsdk:"prefix"`
	VirtualKey types.Bool   `tfsdk:"virtual_key"`
	FullNames  types.Map    `tfsdk:"full_names"`
	Values     types.Map    `tfsdk:"values"`
}

// Metadata implements datasource.DataSource.
func (d *SecretsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_secrets"
}

// Schema implements datasource.DataSource.
func (d *SecretsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads several secrets in one read: one read of the primary secret when " +
			"`primary_secret_name` is set, the store's batch call where it has one, else concurrent reads with a " +
			"bound. Any missing name is an error naming it.",
		Attributes: map[string]schema.Attribute{
			"names": schema.ListAttribute{
				MarkdownDescription: "Secret names.",
				ElementType:         types.StringType,
				Required:            true,
				Validators:          []validator.List{listvalidator.ValueStringsAre(nameValidator), listvalidator.UniqueValues()},
			},
			"prefix": schema.StringAttribute{
				MarkdownDescription: prefixDescription,
				Optional:            true,
			},
			"virtual_key": schema.BoolAttribute{
				MarkdownDescription: virtualKeyDescription + " Applies to every name in `names`.",
				Optional:            true,
			},
			"full_names": schema.MapAttribute{
				MarkdownDescription: "The stored name of each name.",
				ElementType:         types.StringType,
				Computed:            true,
			},
			"values": schema.MapAttribute{
				MarkdownDescription: "The value of each name, keyed by name.",
				ElementType:         types.StringType,
				Computed:            true,
				Sensitive:           true,
			},
		},
	}
}

// Configure implements datasource.DataSourceWithConfigure.
func (d *SecretsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.store = storeFrom(req.ProviderData, &resp.Diagnostics)
}

// Read implements datasource.DataSource.
func (d *SecretsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m SecretsDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if d.store == nil {
		resp.Diagnostics.AddError("Provider not configured", "please report this provider bug")
		return
	}
	var names []string
	resp.Diagnostics.Append(m.Names.ElementsAs(ctx, &names, false)...)
	if resp.Diagnostics.HasError() {
		return
	}
	fulls := make([]string, len(names))
	fullMap := make(map[string]string, len(names))
	for i, n := range names {
		full, err := d.store.FullName(n, optionalString(m.Prefix), m.VirtualKey.ValueBool())
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("names").AtListIndex(i), fmt.Sprintf("invalid secret name for the %s store", d.store.Kind()), err.Error())
			return
		}
		fulls[i] = full
		fullMap[n] = fulls[i]
	}
	// A store's warnings (AWS: the batch read was refused, so secrets are
	// read one at a time) reach the user as warning diagnostics.
	wctx, warnings := backends.WithWarnings(ctx)
	got, err := d.store.ReadManyAsGateway(wctx, names, fulls)
	addWarnings(&resp.Diagnostics, warnings)
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("reading %d secrets in %s", len(names), d.store.Kind()), err.Error())
		return
	}
	values := make(map[string]string, len(got))
	for _, n := range names {
		sec, ok := got[n]
		if !ok {
			resp.Diagnostics.AddError(fmt.Sprintf("reading secret (%s) in %s", fullMap[n], d.store.Kind()), notFoundDetail(d.store, n, fullMap[n], nil))
			return
		}
		ctx = maskValue(ctx, sec.Value)
		values[n] = string(sec.Value)
	}
	fullNames, diags := types.MapValueFrom(ctx, types.StringType, fullMap)
	resp.Diagnostics.Append(diags...)
	vals, diags := types.MapValueFrom(ctx, types.StringType, values)
	resp.Diagnostics.Append(diags...)
	m.FullNames, m.Values = fullNames, vals
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
