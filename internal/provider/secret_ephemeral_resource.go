package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

var (
	_ ephemeral.EphemeralResource              = &SecretEphemeralResource{}
	_ ephemeral.EphemeralResourceWithConfigure = &SecretEphemeralResource{}
)

// NewSecretEphemeralResource returns the llmsecret_secret ephemeral resource.
func NewSecretEphemeralResource() ephemeral.EphemeralResource { return &SecretEphemeralResource{} }

// SecretEphemeralResource reads one secret without ever storing it.
type SecretEphemeralResource struct {
	store backends.Gateway
}

// SecretEphemeralResourceModel is the llmsecret_secret ephemeral resource.
type SecretEphemeralResourceModel = SecretDataSourceModel

// Metadata implements ephemeral.EphemeralResource.
func (e *SecretEphemeralResource) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_secret"
}

// Schema implements ephemeral.EphemeralResource.
func (e *SecretEphemeralResource) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads one secret for the duration of a plan or apply, never storing it in state or " +
			"plan files (Terraform 1.10+, OpenTofu 1.11+). Feed it to write-only arguments or other providers' " +
			"ephemeral inputs. Same settings as the data source.",
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

// Configure implements ephemeral.EphemeralResourceWithConfigure.
func (e *SecretEphemeralResource) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	e.store = storeFrom(req.ProviderData, &resp.Diagnostics)
}

// Open implements ephemeral.EphemeralResource.
func (e *SecretEphemeralResource) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	var m SecretEphemeralResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, diags := m.read(ctx, e.store)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.Result.Set(ctx, &m)...)
}
