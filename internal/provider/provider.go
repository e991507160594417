// Package provider is the terraform-plugin-framework glue of the llmsecret
// provider: schemas, models and CRUD handlers that call the backend layer. It
// never imports a store SDK; everything goes through *backends.Store (a store
// that holds secrets) or *backends.Keyring (a KMS store), as backends.Gateway.
package provider

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

const providerTypeName = "llmsecret"

var (
	_ provider.Provider                       = &LLMSecretProvider{}
	_ provider.ProviderWithEphemeralResources = &LLMSecretProvider{}
	_ provider.ProviderWithListResources      = &LLMSecretProvider{}
)

// LLMSecretProvider is the llmsecret provider.
type LLMSecretProvider struct {
	version string
	// lookupEnv reads the process environment; tests replace it.
	lookupEnv func(string) (string, bool)
	// valueWarned is set once the "Prefer value_wo" warning was given: it
	// appears once per provider process (one CLI command's plan or apply).
	valueWarned atomic.Bool
}

// LLMSecretProviderModel is the provider block.
type LLMSecretProviderModel struct {
	KeyManagementSystem   types.String                `tfsdk:"key_management_system"`
	LiteLLMConfigFile     types.String                `tfsdk:"litellm_config_file"`
	KeyManagementSettings *KeyManagementSettingsModel `tfsdk:"key_management_settings"`
	Timeouts              *ProviderTimeoutsModel      `tfsdk:"timeouts"`
	SuppressValueWarning  types.Bool                  `tfsdk:"suppress_value_warning"`
	// storeBlocks are the stores' blocks by kind (null when absent), read by
	// decodeProviderConfig through the registry rather than one field a
	// store.
	storeBlocks map[string]types.Object `tfsdk:"-"`
}

// KeyManagementSettingsModel mirrors LiteLLM's key_management_settings.
type KeyManagementSettingsModel struct {
	AccessMode                 types.String `tfsdk:"access_mode"`
	HostedKeys                 types.List   `tfsdk:"hosted_keys"`
	StoreVirtualKeys           types.Bool   `tfsdk:"store_virtual_keys"`
	PrefixForStoredVirtualKeys types.String `tfsdk:"prefix_for_stored_virtual_keys"`
	PrimarySecretName          types.String `tfsdk:"primary_secret_name"`
	Description                types.String `tfsdk:"description"`
	Tags                       types.Map    `tfsdk:"tags"`
}

// New returns a constructor of the provider, as providerserver expects.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &LLMSecretProvider{version: version}
	}
}

// Metadata implements provider.Provider.
func (p *LLMSecretProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = providerTypeName
	resp.Version = p.version
}

// Schema implements provider.Provider.
func (p *LLMSecretProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Manages the secrets LLM gateways run on (provider API keys, virtual keys) in the stores the " +
			"LiteLLM proxy reads from. The provider block mirrors LiteLLM's `key_management_system` and " +
			"`key_management_settings`, so one set of settings serves the gateway and the infrastructure code.",
		Attributes: map[string]schema.Attribute{
			"key_management_system": schema.StringAttribute{
				MarkdownDescription: "The store, as LiteLLM names it: " + backtickList(storeKinds) + ". Defaults to `local`, " +
					"a dotenv file. Each store is configured by the block of the same name (`local`, `hashicorp_vault`, ...); " +
					"a block of a store that is not selected is an error (it is never ignored), so set this whenever you set a store block.",
				Optional:   true,
				Validators: []validator.String{storeKindValidator{}},
			},
			"key_management_settings": settingsSchema(),
			"litellm_config_file":     schema.StringAttribute{MarkdownDescription: litellmConfigFileDescription, Optional: true},
			"timeouts":                timeoutsSchema(),
			"suppress_value_warning": schema.BoolAttribute{
				MarkdownDescription: "Set to `true` to silence the \"Prefer value_wo\" warning that a plan gives (once per " +
					"run) when an `llmsecret_secret` sets `value`, which is stored in state. Default `false`.",
				Optional: true,
			},
		},
	}
	for kind, st := range stores() {
		resp.Schema.Attributes[kind] = st.schema()
	}
}

// Configure implements provider.Provider: it resolves the settings, builds the
// selected store and hands one backends.Gateway (a *backends.Store or a
// *backends.Keyring) to every object.
func (p *LLMSecretProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	cfg, diags := decodeProviderConfig(ctx, req.Config)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if cfg.KeyManagementSystem.IsUnknown() {
		resp.Diagnostics.AddAttributeError(path.Root("key_management_system"), "Unknown key_management_system",
			"key_management_system must be known at plan time; it cannot depend on a value computed during apply.")
		return
	}
	// The proxy's config.yaml fills what the block leaves unset, before the
	// store is selected from the result.
	customClass, diags := p.applyLiteLLMConfig(ctx, &cfg)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	kind, attr, summary, detail := selectStore(&cfg)
	if summary != "" {
		resp.Diagnostics.AddAttributeError(attr, summary, detail)
		return
	}

	settings, diags := settingsFromModel(ctx, cfg.KeyManagementSettings)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	timeouts, diags := timeoutsFromModel(cfg.Timeouts)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	b, err := p.newBackend(ctx, kind, cfg.storeBlock(kind))
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root(kindAttr(kind)), fmt.Sprintf("configuring the %s store", kind),
			backends.WithAddressHint(kind, stores()[kind].address, err).Error())
		return
	}
	store, err := b.wrap(&backends.StoreOptions{
		Settings:    settings,
		AddressHint: stores()[kind].address,
		Retry:       timeouts.retry,
		CallTimeout: timeouts.perCall,
		LookupEnv:   p.lookupEnv,
		OnRetry:     logRetry,
		// One Store per configure, so per CLI command: a per-run read cache.
		CacheReads: true,
	})
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("key_management_settings"), "invalid key_management_settings", err.Error())
		return
	}
	tflog.Debug(ctx, "configured llmsecret store", map[string]any{
		"store": kind, "settings": settings.String(), "operation_timeout": timeouts.operation.String(),
		"per_call_timeout": timeouts.perCall.String(), "max_attempts": timeouts.retry.MaxAttempts,
	})
	openStores.add(store)
	pc, err := newProxyConfig(ctx, kind, &cfg, settings, customClass, p.env())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root(kindAttr(kind)), fmt.Sprintf("configuring the %s store", kind), err.Error())
		return
	}
	registerProxyConfig(store, pc)
	// A cheap authenticated call (Vault: a token lookup), so that a wrong
	// token or address fails plan rather than halfway through apply.
	cctx, cancel := context.WithTimeout(ctx, timeouts.operation)
	err = store.CheckCredentials(cctx)
	cancel()
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root(kindAttr(kind)), fmt.Sprintf("configuring the %s store", kind), err.Error())
		return
	}
	resp.DataSourceData = store
	resp.ResourceData = &resourceData{store: store, timeout: timeouts.operation,
		valueWarned: &p.valueWarned, quietValue: cfg.SuppressValueWarning.ValueBool()}
	resp.EphemeralResourceData = store
	resp.ListResourceData = store
}

// resourceData is what llmsecret_secret gets from Configure: the store and
// the provider's default deadline of its operations (timeouts.default).
type resourceData struct {
	store   backends.Gateway
	timeout time.Duration
	// valueWarned is the provider's once-per-process flag of the "Prefer
	// value_wo" warning; quietValue is suppress_value_warning.
	valueWarned *atomic.Bool
	quietValue  bool
}

// storeBlock returns the provider block's nested attribute of a store, null
// when absent.
func (m *LLMSecretProviderModel) storeBlock(kind string) types.Object {
	if b, ok := m.storeBlocks[kind]; ok {
		return b
	}
	return types.ObjectNull(nil)
}

// kindAttr is the provider attribute a configure error points at.
func kindAttr(kind string) string {
	if kind == "" {
		return "key_management_system"
	}
	return kind
}

func logRetry(ctx context.Context, op, name string, attempt int, delay time.Duration, err error) {
	tflog.Warn(ctx, "retrying store call", map[string]any{
		"operation": op, "secret": name, "attempt": attempt, "delay": delay.String(),
		"code": backends.CodeOf(err).String(), "error": err.Error(),
	})
}

// Resources implements provider.Provider.
func (p *LLMSecretProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{NewSecretResource}
}

// DataSources implements provider.Provider.
func (p *LLMSecretProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{NewSecretDataSource, NewSecretsDataSource, NewLiteLLMConfigDataSource}
}

// ListResources implements provider.ProviderWithListResources.
func (p *LLMSecretProvider) ListResources(context.Context) []func() list.ListResource {
	return []func() list.ListResource{NewSecretListResource}
}

// EphemeralResources implements provider.ProviderWithEphemeralResources.
func (p *LLMSecretProvider) EphemeralResources(context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{NewSecretEphemeralResource}
}

// openStores are the stores Configure built in this process, closed by
// CloseStores when the plugin exits: closing revokes what a store obtained
// by logging in (a Vault login token), instead of leaving it valid until its
// lease runs out.
var openStores storeList

type storeList struct {
	mu     sync.Mutex
	stores []backends.Gateway
}

func (l *storeList) add(s backends.Gateway) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stores = append(l.stores, s)
}

// CloseStores closes every store this process configured. The plugin's main
// calls it when the CLI has shut the plugin down.
func CloseStores() {
	openStores.mu.Lock()
	stores := openStores.stores
	openStores.stores = nil
	openStores.mu.Unlock()
	for _, s := range stores {
		_ = s.Close()
	}
}
