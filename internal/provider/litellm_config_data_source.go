package provider

import (
	"context"
	"fmt"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/litellmconfig"
)

var _ datasource.DataSourceWithConfigure = &LiteLLMConfigDataSource{}

// LiteLLMConfigDataSource is llmsecret_litellm_config: the LiteLLM proxy's
// side of the provider's configuration. It calls no store and holds no
// value, only settings and names (DESIGN.md, The proxy's config.yaml).
type LiteLLMConfigDataSource struct {
	store backends.Gateway
}

// LiteLLMConfigDataSourceModel is its schema.
type LiteLLMConfigDataSourceModel struct {
	SecretNames          types.List   `tfsdk:"secret_names"`
	KeyManagementSystem  types.String `tfsdk:"key_management_system"`
	GeneralSettingsYAML  types.String `tfsdk:"general_settings_yaml"`
	EnvironmentVariables types.List   `tfsdk:"environment_variables"`
	References           types.Map    `tfsdk:"references"`
}

// NewLiteLLMConfigDataSource returns the data source.
func NewLiteLLMConfigDataSource() datasource.DataSource { return &LiteLLMConfigDataSource{} }

// Metadata implements datasource.DataSource.
func (d *LiteLLMConfigDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_litellm_config"
}

// Schema implements datasource.DataSource.
func (d *LiteLLMConfigDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The LiteLLM proxy's side of this provider's configuration: the `general_settings` of its " +
			"`config.yaml` that select the same store with the same settings, the names of the environment variables its " +
			"reader for that store takes, and the `os.environ/NAME` reference of each secret. It reads no store and holds " +
			"no secret value. See the [LiteLLM proxy guide](../guides/litellm_proxy.md).",
		Attributes: map[string]schema.Attribute{
			"secret_names": schema.ListAttribute{
				MarkdownDescription: "Names of secrets the proxy's config refers to: the `full_name` of each `llmsecret_secret`. " +
					"Each is checked against the store's name rules, as at plan of a resource.",
				ElementType: types.StringType,
				Optional:    true,
				Validators:  []validator.List{listvalidator.UniqueValues()},
			},
			"key_management_system": schema.StringAttribute{
				MarkdownDescription: "The store the provider uses, as LiteLLM names it.",
				Computed:            true,
			},
			"general_settings_yaml": schema.StringAttribute{
				MarkdownDescription: "YAML of the proxy config's `general_settings` block: `key_management_system` and " +
					"`key_management_settings` (with LiteLLM's AWS settings for `aws_secret_manager`). The local store is " +
					"rendered without `key_management_system`, which the proxy refuses as `local`: it then reads secrets from " +
					"its environment. Merge it into the proxy's `config.yaml`; `litellm_config_file` reads it back into the " +
					"same provider configuration.",
				Computed: true,
			},
			"environment_variables": schema.ListAttribute{
				MarkdownDescription: "Names (never values) of the environment variables LiteLLM's reader for this store takes " +
					"from the proxy's environment to reach the same store as the provider, e.g. `HCP_VAULT_ADDR` and " +
					"`HCP_VAULT_TOKEN`, and `LITELLM_LICENSE` where that reader needs LiteLLM's enterprise licence.",
				ElementType: types.StringType,
				Computed:    true,
			},
			"references": schema.MapAttribute{
				MarkdownDescription: "For each of `secret_names`, the value to write in the proxy's config where the secret " +
					"is used: `os.environ/NAME`.",
				ElementType: types.StringType,
				Computed:    true,
			},
		},
	}
}

// Configure implements datasource.DataSourceWithConfigure.
func (d *LiteLLMConfigDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.store = storeFrom(req.ProviderData, &resp.Diagnostics)
}

// Read implements datasource.DataSource.
func (d *LiteLLMConfigDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m LiteLLMConfigDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if d.store == nil {
		resp.Diagnostics.AddError("Provider not configured", "llmsecret_litellm_config needs a configured llmsecret provider.")
		return
	}
	pc, ok := lookupProxyConfig(d.store)
	if !ok {
		resp.Diagnostics.AddError("Unexpected provider data", "no LiteLLM configuration was recorded for this provider; please report this provider bug")
		return
	}
	var names []string
	if !m.SecretNames.IsNull() {
		resp.Diagnostics.Append(m.SecretNames.ElementsAs(ctx, &names, false)...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	refs := make(map[string]string, len(names))
	for i, name := range names {
		if err := d.store.ValidateName(name); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("secret_names").AtListIndex(i), "Invalid secret name",
				fmt.Sprintf("rendering the LiteLLM reference of secret (%s) in %s: %s", name, pc.kind, err))
			continue
		}
		if hk := pc.settings.HostedKeys; hk != nil && !slices.Contains(hk, name) {
			resp.Diagnostics.AddAttributeWarning(path.Root("secret_names").AtListIndex(i), "Secret not in hosted_keys",
				fmt.Sprintf("key_management_settings.hosted_keys does not list %q, so LiteLLM reads os.environ/%s from the "+
					"proxy's environment, not from the %s store.", name, name, pc.kind))
		}
		refs[name] = litellmconfig.EnvPrefix + name
	}
	if resp.Diagnostics.HasError() {
		return
	}
	for _, w := range pc.warnings {
		resp.Diagnostics.AddWarning("LiteLLM proxy cannot follow this provider configuration", w)
	}
	out, err := litellmconfig.Render(pc.kind, &pc.settings)
	if err != nil {
		resp.Diagnostics.AddError("Rendering the LiteLLM config", err.Error())
		return
	}
	m.KeyManagementSystem = types.StringValue(pc.kind)
	m.GeneralSettingsYAML = types.StringValue(string(out))
	env, diags := types.ListValueFrom(ctx, types.StringType, pc.env)
	resp.Diagnostics.Append(diags...)
	r, diags := types.MapValueFrom(ctx, types.StringType, refs)
	resp.Diagnostics.Append(diags...)
	m.EnvironmentVariables, m.References = env, r
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
