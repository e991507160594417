package provider

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// Deletion policies of llmsecret_secret.
const (
	policyDelete     = "delete"
	policySoftDelete = "soft_delete"
	policyAbandon    = "abandon"
)

// privateImported marks state written by ImportState, so the first Read checks
// the store even under access_mode write_only. Import never brings the value
// into state: with value_wo it must never be there, and with value the next
// apply writes the configured value.
const privateImported = "imported"

var (
	_ resource.Resource                   = &SecretResource{}
	_ resource.ResourceWithConfigure      = &SecretResource{}
	_ resource.ResourceWithImportState    = &SecretResource{}
	_ resource.ResourceWithModifyPlan     = &SecretResource{}
	_ resource.ResourceWithValidateConfig = &SecretResource{}
)

// NewSecretResource returns the llmsecret_secret resource.
func NewSecretResource() resource.Resource { return &SecretResource{} }

// SecretResource manages one secret in the configured store.
type SecretResource struct {
	store backends.Gateway
	// path is what an object does on this store: a KMS store only encrypts,
	// any other store holds the secret. Configure picks it once.
	path secretPath
	// timeout is the provider's timeouts.default: the deadline of an
	// operation whose timeouts block does not set one.
	timeout time.Duration
	// valueWarned and quietValue: see warnValue.
	valueWarned *atomic.Bool
	quietValue  bool
}

// secretPath is the part of llmsecret_secret that differs between a store
// that holds secrets (storedPath) and a KMS store, which holds none and
// encrypts the value into ciphertext instead (kmsPath). The handlers and the
// plan call it without asking which store it is.
type secretPath interface {
	// planWrite marks what a write of the value computes at apply, after
	// checking a value known at plan; false when the plan must stop.
	planWrite(ctx context.Context, config tfsdk.Config, plan *SecretResourceModel, diags *diag.Diagnostics) bool
	// checkMetadata applies the store's rules on description and tags.
	checkMetadata(plan *SecretResourceModel, diags *diag.Diagnostics) bool
	// refuseDeletion says why deletion_policy policy cannot be applied (by
	// a destroy when destroying), "" when it can.
	refuseDeletion(policy string, destroying bool) string
	// create and update write the value and set the plan's version or
	// ciphertext; errors name the operation and its deadline.
	create(ctx context.Context, wr backends.WriteRequest, plan *SecretResourceModel, limit time.Duration) diag.Diagnostics
	update(ctx context.Context, wr backends.WriteRequest, plan, state *SecretResourceModel, limit time.Duration) diag.Diagnostics
	// read refreshes state from the store.
	read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse, state *SecretResourceModel)
	// delete applies deletion_policy to the object of state.
	delete(ctx context.Context, state *SecretResourceModel, diags *diag.Diagnostics)
	// importState is the state an import of full starts from, or why
	// nothing can be imported.
	importState(full string) (SecretResourceModel, error)
	// defaultDeletionPolicy is deletion_policy when the configuration
	// leaves it out.
	defaultDeletionPolicy() string
	// keepsMetadata reports whether the store keeps description and tags.
	keepsMetadata() bool
	// envOnlyName says why LiteLLM reads full from its environment and never
	// from the store, "" when it reads the store.
	envOnlyName(full string) string
}

// secretPathFor is the one place that tells a KMS store (a *Keyring) from
// one that holds secrets (a *Store).
func secretPathFor(store backends.Gateway, timeout time.Duration) secretPath {
	switch s := store.(type) {
	case *backends.Keyring:
		return kmsPath{store: s}
	case *backends.Store:
		return storedPath{store: s, timeout: timeout}
	}
	return nil
}

// SecretResourceModel is llmsecret_secret's state.
type SecretResourceModel struct {
	ID             types.String `tfsdk:"id"`
	Name           types.String `tfsdk:"name"`
	Prefix         types.String `tfsdk:"prefix"`
	VirtualKey     types.Bool   `tfsdk:"virtual_key"`
	FullName       types.String `tfsdk:"full_name"`
	Value          types.String `tfsdk:"value"`
	ValueWO        types.String `tfsdk:"value_wo"`
	ValueWOVersion types.Int64  `tfsdk:"value_wo_version"`
	Description    types.String `tfsdk:"description"`
	Tags           types.Map    `tfsdk:"tags"`
	TagsAll        types.Map    `tfsdk:"tags_all"`
	Version        types.String `tfsdk:"version"`
	DeletionPolicy types.String `tfsdk:"deletion_policy"`
	Ciphertext     types.String `tfsdk:"ciphertext"`
	// UseAWSKMSEnvName and UseAWSKMSEnvValue are the variable of LiteLLM's
	// USE_AWS_KMS start-up path (aws_kms only).
	UseAWSKMSEnvName  types.String   `tfsdk:"use_aws_kms_env_name"`
	UseAWSKMSEnvValue types.String   `tfsdk:"use_aws_kms_env_value"`
	Timeouts          timeouts.Value `tfsdk:"timeouts"`
}

// Metadata implements resource.Resource.
func (r *SecretResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_secret"
	// A rename changes full_name, the identity, in place (DESIGN.md,
	// "Adopting a store"): the secret is the same object under a new name.
	resp.ResourceBehavior.MutableIdentity = true
}

// Configure implements resource.ResourceWithConfigure.
func (r *SecretResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	switch d := req.ProviderData.(type) {
	case nil:
		// provider not configured yet
	case *resourceData:
		r.store, r.timeout = d.store, d.timeout
		r.path = secretPathFor(d.store, d.timeout)
		r.valueWarned, r.quietValue = d.valueWarned, d.quietValue
		if r.path == nil {
			r.store = nil
			resp.Diagnostics.AddError("Unexpected provider data",
				fmt.Sprintf("want *backends.Store or *backends.Keyring, got %T; please report this provider bug", d.store))
		}
	default:
		resp.Diagnostics.AddError("Unexpected provider data",
			fmt.Sprintf("want *provider.resourceData, got %T; please report this provider bug", req.ProviderData))
	}
}

// configured reports whether Configure gave the resource its store, with an
// error when the CLI called a handler before configuring the provider.
func (r *SecretResource) configured(diags *diag.Diagnostics) bool {
	if r.store == nil {
		diags.AddError("Provider not configured", "the llmsecret provider was not configured before this resource was used; please report this provider bug")
		return false
	}
	return true
}

// ValidateConfig implements resource.ResourceWithValidateConfig: at most one
// of value and value_wo (neither: the store's value is kept, see
// valueUnmanaged), value_wo only with value_wo_version (the nudge from
// value towards value_wo is ModifyPlan's, which knows the provider's
// settings: see warnValue). These checks read the raw configuration
// rather than going through the framework's path-matching validators, which
// cost a tenth of the provider's CPU in a plan of thousands of secrets. A
// value not known until apply is checked then.
func (r *SecretResource) ValidateConfig(_ context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	states := configStates(req.Config.Raw, "value", "value_wo", "value_wo_version")
	value, wo, version := states[0], states[1], states[2]
	switch {
	case value == attrUnknown || wo == attrUnknown:
	case value == attrSet && wo == attrSet:
		resp.Diagnostics.AddAttributeError(path.Root("value_wo"), "Invalid Attribute Combination",
			"llmsecret_secret takes only one of value and value_wo; keep value_wo (with value_wo_version), which stays out of state.")
	}
	switch {
	case wo != attrNull && version == attrNull:
		resp.Diagnostics.AddAttributeError(path.Root("value_wo_version"), "Missing Attribute Configuration",
			"llmsecret_secret with value_wo needs value_wo_version: write-only values are not in state, so a new "+
				"value_wo_version is how a new value gets written.")
	case version != attrNull && wo == attrNull:
		resp.Diagnostics.AddAttributeError(path.Root("value_wo_version"), "Missing Attribute Configuration",
			"llmsecret_secret's value_wo_version versions value_wo; set value_wo, or remove value_wo_version.")
	}
}

// warnValue gives the "Prefer value_wo" warning when the configuration sets
// value: once per provider process (not once per resource, which buried a
// plan of many secrets in copies of it), and never with the provider's
// suppress_value_warning.
func (r *SecretResource) warnValue(config tftypes.Value, diags *diag.Diagnostics) {
	if r.quietValue || r.valueWarned == nil || configStates(config, "value")[0] == attrNull {
		return
	}
	if r.valueWarned.CompareAndSwap(false, true) {
		diags.AddAttributeWarning(path.Root("value"), "Prefer value_wo",
			"value is stored in Terraform state (marked sensitive). Use value_wo with value_wo_version to keep the "+
				"secret out of state and plans. This warning appears once per run; set suppress_value_warning = true "+
				"in the provider block to silence it.")
	}
}

// startWrite is the common start of Create and Update: the write built from
// plan and config (value_wo comes from config and is cleared from the plan),
// a context that masks the value in logs, bounded by the operation's timeout.
func (r *SecretResource) startWrite(ctx context.Context, plan, config *SecretResourceModel, op string) (context.Context, backends.WriteRequest, context.CancelFunc, time.Duration, diag.Diagnostics) {
	wr, diags := writeRequest(plan, config)
	if diags.HasError() {
		return ctx, wr, func() {}, 0, diags
	}
	plan.ValueWO = types.StringNull()
	plan.TagsAll = mergedTags(r.store.Settings(), plan.Tags) // known at apply
	ctx, cancel, limit, d := withDeadline(maskValue(ctx, wr.Value), r.timeout, plan.Timeouts, op)
	diags.Append(d...)
	return ctx, wr, cancel, limit, diags
}

// writeRequest builds the store write from the plan, taking value_wo from the
// config (write-only values are never in the plan).
func writeRequest(plan, config *SecretResourceModel) (backends.WriteRequest, diag.Diagnostics) {
	var diags diag.Diagnostics
	wr := backends.WriteRequest{Name: plan.FullName.ValueString(), Description: plan.Description.ValueString()}
	switch {
	case !config.ValueWO.IsNull() && !config.ValueWO.IsUnknown():
		wr.Value = []byte(config.ValueWO.ValueString())
	case !plan.Value.IsNull() && !plan.Value.IsUnknown():
		wr.Value = []byte(plan.Value.ValueString())
	case config.ValueWO.IsNull() && plan.Value.IsNull():
		// No value configured: a metadata change of an adopted secret.
	default:
		diags.AddAttributeError(path.Root("value_wo"), "No secret value", "exactly one of value and value_wo must be set to a known value")
	}
	if !plan.Tags.IsNull() {
		wr.Tags = stringMap(plan.Tags)
	}
	return wr, diags
}

// Create implements resource.Resource.
func (r *SecretResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	ctx, warnings := backends.WithWarnings(ctx)
	defer addWarnings(&resp.Diagnostics, warnings)
	var plan, config SecretResourceModel
	resp.Diagnostics.Append(getSecret(ctx, req.Plan.Raw, &plan)...)
	resp.Diagnostics.Append(getSecret(ctx, req.Config.Raw, &config)...)
	if resp.Diagnostics.HasError() || !r.configured(&resp.Diagnostics) {
		return
	}
	setIdentity(resp.Identity, plan.FullName.ValueString())
	ctx, wr, cancel, limit, diags := r.startWrite(ctx, &plan, &config, "create")
	defer cancel()
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	if resp.Diagnostics.Append(r.path.create(ctx, wr, &plan, limit)...); resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(setSecret(ctx, &resp.State.Raw, req.Plan.Raw.Type(), &plan)...)
}

// Read implements resource.Resource: it detects a secret deleted or changed
// outside Terraform.
func (r *SecretResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state SecretResourceModel
	resp.Diagnostics.Append(getSecret(ctx, req.State.Raw, &state)...)
	if resp.Diagnostics.HasError() || !r.configured(&resp.Diagnostics) {
		return
	}
	// A state written before identity existed gets one on its first refresh.
	setIdentity(resp.Identity, state.FullName.ValueString())
	r.path.read(ctx, req, resp, &state)
}

// Update implements resource.Resource: a new value writes a new version, a new
// name rotates, a metadata change updates metadata alone where the store can.
func (r *SecretResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	ctx, warnings := backends.WithWarnings(ctx)
	defer addWarnings(&resp.Diagnostics, warnings)
	var plan, state, config SecretResourceModel
	resp.Diagnostics.Append(getSecret(ctx, req.Plan.Raw, &plan)...)
	resp.Diagnostics.Append(getSecret(ctx, req.State.Raw, &state)...)
	resp.Diagnostics.Append(getSecret(ctx, req.Config.Raw, &config)...)
	if resp.Diagnostics.HasError() || !r.configured(&resp.Diagnostics) {
		return
	}
	setIdentity(resp.Identity, plan.FullName.ValueString())
	ctx, wr, cancel, limit, diags := r.startWrite(ctx, &plan, &config, "update")
	defer cancel()
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	if resp.Diagnostics.Append(r.path.update(ctx, wr, &plan, &state, limit)...); resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(setSecret(ctx, &resp.State.Raw, req.Plan.Raw.Type(), &plan)...)
}

// Delete implements resource.Resource.
func (r *SecretResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	ctx, warnings := backends.WithWarnings(ctx)
	defer addWarnings(&resp.Diagnostics, warnings)
	var state SecretResourceModel
	resp.Diagnostics.Append(getSecret(ctx, req.State.Raw, &state)...)
	if resp.Diagnostics.HasError() || !r.configured(&resp.Diagnostics) {
		return
	}
	r.path.delete(ctx, &state, &resp.Diagnostics)
}

// ImportState implements resource.ResourceWithImportState: the import id (or
// the identity's full_name, Terraform 1.12+) is full_name. The first Read
// after import records the version and metadata; the value never comes
// into state.
func (r *SecretResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !r.configured(&resp.Diagnostics) {
		return
	}
	id, diags := importID(ctx, req)
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	summary := fmt.Sprintf("importing secret (%s) in %s", id, r.store.Kind())
	state, err := r.path.importState(id)
	if err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	setIdentity(resp.Identity, state.FullName.ValueString())
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateImported, []byte(`true`))...)
}

// importedState is the state an import writes: the name, and nulls where the
// first Read fills in what the store holds.
func importedState(name string, prefix *string, virtualKey bool, full, policy string) SecretResourceModel {
	return SecretResourceModel{
		ID:                types.StringValue(full),
		Name:              types.StringValue(name),
		Prefix:            types.StringPointerValue(prefix),
		VirtualKey:        types.BoolValue(virtualKey),
		FullName:          types.StringValue(full),
		Value:             types.StringNull(),
		ValueWO:           types.StringNull(),
		ValueWOVersion:    types.Int64Null(),
		Description:       types.StringNull(),
		Tags:              types.MapNull(types.StringType),
		TagsAll:           types.MapNull(types.StringType),
		Version:           types.StringNull(),
		DeletionPolicy:    types.StringValue(policy),
		Ciphertext:        types.StringNull(),
		UseAWSKMSEnvName:  types.StringNull(),
		UseAWSKMSEnvValue: types.StringNull(),
		Timeouts:          timeoutsNull(),
	}
}
