package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

var (
	_ datasource.DataSource              = &SecretDataSource{}
	_ datasource.DataSourceWithConfigure = &SecretDataSource{}
)

// NewSecretDataSource returns the llmsecret_secret data source.
func NewSecretDataSource() datasource.DataSource { return &SecretDataSource{} }

// SecretDataSource reads one secret.
type SecretDataSource struct {
	store backends.Gateway
}

// SecretDataSourceModel is the llmsecret_secret data source.
type SecretDataSourceModel struct {
	Name       types.String `tfsdk:"name"`
	Prefix     types.String `tfsdk:"prefix"`
	VirtualKey types.Bool   `tfsdk:"virtual_key"`
	FullName   types.String `tfsdk:"full_name"`
	Value      types.String `tfsdk:"value"`
	Version    types.String `tfsdk:"version"`
	Ciphertext types.String `tfsdk:"ciphertext"`
}

// Metadata implements datasource.DataSource.
func (d *SecretDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_secret"
}

// Schema implements datasource.DataSource.
func (d *SecretDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads one secret, honouring `key_management_settings` (`write_only` and names outside " +
			"`hosted_keys` read the process environment; `primary_secret_name` reads a field). The value is stored " +
			"in state (sensitive): use the `llmsecret_secret` ephemeral resource to keep it out. A missing secret is " +
			"an error, never an empty string.",
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				MarkdownDescription: "Secret name.",
				Required:            true,
				Validators:          []validator.String{nameValidator},
			},
			"prefix": schema.StringAttribute{
				MarkdownDescription: prefixDescription,
				Optional:            true,
			},
			"virtual_key": schema.BoolAttribute{
				MarkdownDescription: virtualKeyDescription,
				Optional:            true,
			},
			"ciphertext": schema.StringAttribute{
				MarkdownDescription: kmsCiphertextDescription,
				Optional:            true,
			},
			"full_name": schema.StringAttribute{MarkdownDescription: "The name as stored.", Computed: true},
			"value":     schema.StringAttribute{MarkdownDescription: "The secret value.", Computed: true, Sensitive: true},
			"version": schema.StringAttribute{
				MarkdownDescription: "The store's version id (or a fingerprint); null when the value came from the environment.",
				Computed:            true,
			},
		},
	}
}

// Configure implements datasource.DataSourceWithConfigure.
func (d *SecretDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.store = storeFrom(req.ProviderData, &resp.Diagnostics)
}

// Read implements datasource.DataSource.
func (d *SecretDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m SecretDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, diags := m.read(ctx, d.store)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// read fills m from the store: the read of both the data source and the
// ephemeral resource. The returned context masks the value in logs.
func (m *SecretDataSourceModel) read(ctx context.Context, store backends.Gateway) (context.Context, diag.Diagnostics) {
	var diags diag.Diagnostics
	if store == nil {
		diags.AddError("Provider not configured", "please report this provider bug")
		return ctx, diags
	}
	name := m.Name.ValueString()
	full, err := store.FullName(name, optionalString(m.Prefix), m.VirtualKey.ValueBool())
	if err != nil {
		diags.AddAttributeError(path.Root("name"), fmt.Sprintf("invalid secret name for the %s store", store.Kind()), err.Error())
		return ctx, diags
	}
	// The one place the read tells a KMS store (a *Keyring, which decrypts)
	// from one that holds secrets.
	keyring, kms := store.(*backends.Keyring)
	var sec *backends.Secret
	switch {
	case kms:
		// LiteLLM's KMS reads can be right on one of its paths only (an
		// aws_kms/ prefix, a plaintext it reads as a boolean): say so.
		wctx, warnings := backends.WithWarnings(ctx)
		if m.Ciphertext.IsNull() {
			sec, err = keyring.ReadAsGateway(wctx, name, full)
		} else {
			sec, err = keyring.Decrypt(wctx, name, m.Ciphertext.ValueString())
		}
		addWarnings(&diags, warnings)
	case !m.Ciphertext.IsNull():
		err = backends.Errorf(backends.InvalidArgument, "ciphertext is only for KMS stores (aws_kms, google_kms); the %s store reads secrets by name", store.Kind())
	default:
		sec, err = store.ReadAsGateway(ctx, name, full)
	}
	if err != nil {
		summary := fmt.Sprintf("reading secret (%s) in %s", full, store.Kind())
		detail := err.Error()
		if backends.CodeOf(err) == backends.NotFound && !kms {
			detail = notFoundDetail(store, name, full, err)
		}
		// The detail does not repeat the summary.
		diags.AddError(summary, strings.TrimPrefix(detail, summary+": "))
		return ctx, diags
	}
	m.FullName = types.StringValue(full)
	m.Value = types.StringValue(string(sec.Value))
	m.Version = versionValue(sec.Version)
	return maskValue(ctx, sec.Value), diags
}

// kmsCiphertextDescription documents ciphertext on the data source and the
// ephemeral resource.
const kmsCiphertextDescription = "KMS stores (`aws_kms`, `google_kms`) only: the base64 ciphertext to decrypt; " +
	"unset, the environment variable called `name` is read, as LiteLLM reads it. See Decrypting in the " +
	"[AWS KMS](../guides/aws_kms.md#decrypting) and [Google Cloud KMS](../guides/google_kms.md#decrypting) guides."

func versionValue(v string) types.String {
	if v == "" {
		return types.StringNull()
	}
	return types.StringValue(v)
}
