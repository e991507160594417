package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

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
	store *backends.Store
	// timeout is the provider's timeouts.default: the deadline of an
	// operation whose timeouts block does not set one.
	timeout time.Duration
	// valueWarned and quietValue: see warnValue.
	valueWarned *atomic.Bool
	quietValue  bool
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

// Schema implements resource.Resource.
func (r *SecretResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Writes, rotates and deletes one secret (a provider API key, a virtual key) in the store " +
			"selected by the provider's `key_management_system`. Needs `key_management_settings.access_mode` " +
			"`read_and_write` or `write_only`.\n\n" +
			"Prefer `value_wo` + `value_wo_version`: the value is then never stored in state or shown in plans. " +
			"A resource manages only what it wrote or imported: create refuses a name that already holds a live secret " +
			"(import it to adopt it), except a soft-deleted one (recovered) or one holding exactly the configured value. " +
			"Changing `name`, `prefix` or `virtual_key` (whatever changes `full_name`) rotates in place, LiteLLM's way: the new name must be free; it is " +
			"written, read back and compared (not under `access_mode = \"write_only\"`), and only then is the old name deleted; if the read-back fails " +
			"the old secret stays, and the new name is never deleted for good. " +
			"Refresh detects a value changed outside Terraform and plans to write the configured one back.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Same as `full_name`.",
				Computed:            true,
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Secret name, e.g. `OPENAI_API_KEY`. Must not be empty, contain `..` as a path " +
					"segment, or contain control characters, and must not differ from another name only invisibly: no white " +
					"space at either end, and no Unicode format characters (zero-width space U+200B, joiners U+200C/U+200D, " +
					"word joiner U+2060, byte order mark U+FEFF, ...) or spaces other than U+0020 (no-break space U+00A0, ...) " +
					"anywhere; the plan fails naming the position and the code point. Inner ASCII spaces and non-ASCII letters " +
					"are fine. Each store adds its own limits. Changing it rotates the secret.",
				Required:   true,
				Validators: []validator.String{nameValidator},
			},
			"prefix": schema.StringAttribute{
				MarkdownDescription: prefixDescription + " Changing it rotates the secret.",
				Optional:            true,
			},
			"virtual_key": schema.BoolAttribute{
				MarkdownDescription: virtualKeyDescription + " Changing it changes `full_name` when the settings' prefix " +
					"applies, which rotates the secret like a change of `prefix`. Import sets it to true for a `full_name` " +
					"under the settings' prefix.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
			},
			"full_name": schema.StringAttribute{
				MarkdownDescription: "The name as stored: prefix joined with `name`. Import uses it.",
				Computed:            true,
			},
			"value": schema.StringAttribute{
				MarkdownDescription: "The secret value. Stored in state (sensitive). Prefer `value_wo`. Exactly one of " +
					"`value` and `value_wo` must be set.",
				Optional:  true,
				Sensitive: true,
			},
			"value_wo": schema.StringAttribute{
				MarkdownDescription: "The secret value, write-only: never stored in state or plan (Terraform 1.11+, " +
					"OpenTofu 1.11+). Bump `value_wo_version` to write a new value.",
				Optional:  true,
				Sensitive: true,
				WriteOnly: true,
			},
			"value_wo_version": schema.Int64Attribute{
				MarkdownDescription: "Version of `value_wo`; change it to write a new value. Refresh clears it when the " +
					"store's value changed outside Terraform, so the next apply writes the configured value back.",
				Optional: true,
			},
			"description": schema.StringAttribute{
				MarkdownDescription: "Description, merged over `key_management_settings.description`. Kept by stores " +
					"that have metadata (not the local dotenv file).",
				Optional: true,
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: "Tags, merged over `key_management_settings.tags` (these win key by key). Kept " +
					"by stores that have metadata (not the local dotenv file).",
				ElementType: types.StringType,
				Optional:    true,
			},
			"tags_all": schema.MapAttribute{
				MarkdownDescription: "All tags the secret carries: `key_management_settings.tags` merged with `tags` " +
					"(`tags` wins key by key), as the plan shows them. A change of a default tag in the provider block " +
					"shows here. On stores with metadata refresh reads it from the store; the local dotenv file, KMS " +
					"stores, CyberArk and primary-secret fields store no tags, and there it is only the merge.",
				ElementType: types.StringType,
				Computed:    true,
			},
			"version": schema.StringAttribute{
				MarkdownDescription: versionDescription,
				Computed:            true,
			},
			"ciphertext": schema.StringAttribute{
				MarkdownDescription: "KMS stores (`aws_kms`, `google_kms`) only: the value encrypted with the store's key, " +
					"bare standard base64. It is the value of the proxy's environment variable `full_name` when LiteLLM " +
					"runs with `key_management_system: aws_kms` (or `google_kms`): set it exactly as it is, without an " +
					"`aws_kms/` prefix and without surrounding whitespace. Null on other stores. On KMS stores there is no " +
					"remote object: refresh keeps state, and destroy only forgets.",
				Computed: true,
			},
			"use_aws_kms_env_name": schema.StringAttribute{
				MarkdownDescription: "`aws_kms` only: the environment variable for LiteLLM's start-up decryption " +
					"(`USE_AWS_KMS=True`, an enterprise feature), `LITELLM_SECRET_AWS_KMS_` followed by `full_name`; " +
					"LiteLLM decrypts it at start-up into the variable `full_name`. Null on other stores, and when LiteLLM " +
					"would not give back `full_name` from it (a name that itself contains `litellm_secret_aws_kms_`, in any " +
					"case, or `=`).",
				Computed: true,
			},
			"use_aws_kms_env_value": schema.StringAttribute{
				MarkdownDescription: "`aws_kms` only: the value of `use_aws_kms_env_name`, `aws_kms/` followed by " +
					"`ciphertext` (LiteLLM's start-up path strips the prefix). Not for `key_management_system: aws_kms`, " +
					"which does not strip it. Null when `use_aws_kms_env_name` is.",
				Computed: true,
			},
			"deletion_policy": schema.StringAttribute{
				MarkdownDescription: "What destroy and the old name of a rotation (a change of `full_name`) do: " +
					"`soft_delete` (recoverable: AWS Secrets Manager's recovery window, Vault's latest-version delete, " +
					"Azure Key Vault's soft delete, Google Secret Manager's disabled latest version), `delete` (gone for good " +
					"where the store allows it), `abandon` (forget only). Defaults to `soft_delete` on stores that can " +
					"delete recoverably, as LiteLLM and the aws provider delete; to `delete` on stores that can only delete " +
					"for good (the local dotenv file, custom stores with a delete operation; on KMS stores destroy only " +
					"forgets); to `abandon` on stores that cannot delete (`cyberark`, custom stores without a delete " +
					"operation), where `delete` is refused at plan.",
				Optional:   true,
				Computed:   true,
				Validators: []validator.String{stringvalidator.OneOf(policyDelete, policySoftDelete, policyAbandon)},
			},
		},
		Blocks: map[string]schema.Block{"timeouts": timeoutsBlock(ctx)},
	}
}

// timeoutsBlock is the resource's timeouts block (create, read, update,
// delete), documented.
func timeoutsBlock(ctx context.Context) schema.Block {
	b := timeouts.Block(ctx, timeouts.Opts{
		Create: true, Read: true, Update: true, Delete: true,
		CreateDescription: "Deadline of writing a new secret, e.g. `\"2m\"`.",
		ReadDescription:   "Deadline of reading the secret back during refresh and plan.",
		UpdateDescription: "Deadline of writing a new value, renaming or changing metadata.",
		DeleteDescription: "Deadline of deleting the secret and waiting until the store no longer returns it.",
	})
	if nb, ok := b.(schema.SingleNestedBlock); ok {
		nb.MarkdownDescription = "Deadlines of this resource's operations (durations such as `\"30s\"`), overriding the " +
			"provider's `timeouts.default` (20m). Each covers every store call of the operation, retries and waits " +
			"included; when it runs out the operation fails with an error that names it."
		return nb
	}
	return b
}

// timeoutsNull is the value of an absent timeouts block.
func timeoutsNull() timeouts.Value {
	return timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{
		"create": types.StringType, "read": types.StringType, "update": types.StringType, "delete": types.StringType,
	})}
}

// withDeadline bounds one operation (op is create, read, update or delete)
// by the resource's timeouts block, else the provider's default.
// startWrite is the common start of Create and Update: the write built from
// plan and config (value_wo comes from config and is cleared from the plan),
// a context that masks the value in logs, bounded by the operation's timeout.
func (r *SecretResource) startWrite(ctx context.Context, plan, config *SecretResourceModel, op string) (context.Context, backends.WriteRequest, context.CancelFunc, time.Duration, diag.Diagnostics) {
	wr, diags := r.writeRequest(plan, config)
	if diags.HasError() {
		return ctx, wr, func() {}, 0, diags
	}
	plan.ValueWO = types.StringNull()
	plan.TagsAll = mergedTags(r.store.Settings(), plan.Tags) // known at apply
	ctx, cancel, limit, d := r.withDeadline(maskValue(ctx, wr.Value), plan.Timeouts, op)
	diags.Append(d...)
	return ctx, wr, cancel, limit, diags
}

func (r *SecretResource) withDeadline(ctx context.Context, t timeouts.Value, op string) (context.Context, context.CancelFunc, time.Duration, diag.Diagnostics) {
	def := r.timeout
	if def <= 0 {
		def = defaultOperationTimeout
	}
	var (
		d     time.Duration
		diags diag.Diagnostics
	)
	switch op {
	case "create":
		d, diags = t.Create(ctx, def)
	case "read":
		d, diags = t.Read(ctx, def)
	case "update":
		d, diags = t.Update(ctx, def)
	default:
		d, diags = t.Delete(ctx, def)
	}
	if d <= 0 {
		d = def
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	return ctx, cancel, d, diags
}

// addStoreError reports a failed store call under summary (the aws-style
// "creating secret (X) in local"). When the operation's deadline ran out,
// the summary says so and the detail says which setting to raise and what
// the store last said.
func addStoreError(ctx context.Context, diags *diag.Diagnostics, summary, op string, limit time.Duration, err error) {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		diags.AddError(fmt.Sprintf("%s: timed out after %s", summary, limit),
			fmt.Sprintf("The %s did not finish within %s (the resource's timeouts.%s, else the provider's timeouts.default); "+
				"raise it if the store is slow. The last store error was: %v", op, limit, op, err))
		return
	}
	diags.AddError(summary, detailOf(summary, err.Error()))
}

// detailOf is the detail of a diagnostic whose summary is summary: the
// store's message without the summary it may start with, so the CLI does not
// print the same words twice ("creating secret (X) in local" above, "it
// already exists; ..." below).
func detailOf(summary, msg string) string {
	if rest, ok := strings.CutPrefix(msg, summary+": "); ok && rest != "" {
		return rest
	}
	return msg
}

// ValidateConfig implements resource.ResourceWithValidateConfig: exactly one
// of value and value_wo, value_wo only with value_wo_version (the nudge from
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

// Configure implements resource.ResourceWithConfigure.
func (r *SecretResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	switch d := req.ProviderData.(type) {
	case nil:
		// provider not configured yet
	case *resourceData:
		r.store, r.timeout = d.store, d.timeout
		r.valueWarned, r.quietValue = d.valueWarned, d.quietValue
	default:
		resp.Diagnostics.AddError("Unexpected provider data",
			fmt.Sprintf("want *provider.resourceData, got %T; please report this provider bug", req.ProviderData))
	}
}

// ModifyPlan implements resource.ResourceWithModifyPlan: it refuses at plan
// what the store or the settings cannot do, and computes full_name and id.
func (r *SecretResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if r.store == nil {
		return
	}
	if req.Plan.Raw.IsNull() { // destroy
		var state SecretResourceModel
		resp.Diagnostics.Append(getSecret(ctx, req.State.Raw, &state)...)
		if resp.Diagnostics.HasError() || state.DeletionPolicy.ValueString() == policyAbandon {
			return
		}
		if err := r.store.CheckWritable(); err != nil {
			resp.Diagnostics.AddError(fmt.Sprintf("cannot delete secret (%s) in %s", state.FullName.ValueString(), r.store.Kind()), err.Error())
			return
		}
		caps := r.store.Caps()
		switch {
		case caps.KMS:
		case !caps.Delete:
			resp.Diagnostics.AddAttributeError(path.Root("deletion_policy"), fmt.Sprintf("cannot delete secret (%s) in %s", state.FullName.ValueString(), r.store.Kind()), noDeleteMessage(r.store))
		case state.DeletionPolicy.ValueString() == policySoftDelete && !caps.SoftDelete:
			resp.Diagnostics.AddAttributeError(path.Root("deletion_policy"), fmt.Sprintf("cannot delete secret (%s) in %s", state.FullName.ValueString(), r.store.Kind()),
				fmt.Sprintf("the %s store has no soft delete (recoverable deletion); set deletion_policy = %q or %q and apply before destroying", r.store.Kind(), policyDelete, policyAbandon))
		}
		return
	}
	r.warnValue(req.Config.Raw, &resp.Diagnostics)
	var plan SecretResourceModel
	resp.Diagnostics.Append(getSecret(ctx, req.Plan.Raw, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.store.CheckWritable(); err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("llmsecret_secret cannot be managed with the %s store's settings", r.store.Kind()), err.Error())
		return
	}
	plan.TagsAll = mergedTags(r.store.Settings(), plan.Tags)
	caps := r.store.Caps()
	if plan.DeletionPolicy.IsUnknown() || plan.DeletionPolicy.IsNull() {
		if configStates(req.Config.Raw, "deletion_policy")[0] == attrNull {
			plan.DeletionPolicy = types.StringValue(defaultDeletionPolicy(caps))
		}
	}
	switch policy := plan.DeletionPolicy.ValueString(); {
	case caps.KMS:
		// Nothing remote to delete: destroy only forgets.
	case policy == policyDelete:
		if !caps.Delete {
			resp.Diagnostics.AddAttributeError(path.Root("deletion_policy"), "deletion_policy not supported",
				noDeleteMessage(r.store))
		}
	case policy == policySoftDelete:
		if !caps.SoftDelete {
			resp.Diagnostics.AddAttributeError(path.Root("deletion_policy"), "deletion_policy not supported",
				fmt.Sprintf("the %s store has no soft delete (recoverable deletion); set deletion_policy = %q or %q", r.store.Kind(), policyDelete, policyAbandon))
		}
	}
	if plan.Name.IsUnknown() || plan.Prefix.IsUnknown() || plan.VirtualKey.IsUnknown() {
		plan.FullName = types.StringUnknown()
		plan.ID = types.StringUnknown()
		plan.Version = types.StringUnknown()
		setUseAWSKMSEnv(r.store.Kind(), &plan)
		resp.Diagnostics.Append(setSecret(ctx, &resp.Plan.Raw, req.Plan.Raw.Type(), &plan)...)
		return
	}
	full, err := r.store.FullName(plan.Name.ValueString(), optionalString(plan.Prefix), plan.VirtualKey.ValueBool())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("name"), fmt.Sprintf("invalid secret name for the %s store", r.store.Kind()), err.Error())
		return
	}
	if meta := planMetadata(full, &plan); !caps.KMS {
		// The store's rules on tags and description (label rules), at plan.
		if err := r.store.ValidateWrite(meta); err != nil {
			attr := path.Root("tags")
			if r.store.ValidateWrite(backends.WriteRequest{Name: full, Tags: meta.Tags}) == nil {
				attr = path.Root("description")
			}
			resp.Diagnostics.AddAttributeError(attr, fmt.Sprintf("invalid tags or description for the %s store", r.store.Kind()), err.Error())
			return
		}
	}
	plan.FullName = types.StringValue(full)
	plan.ID = plan.FullName
	if why := r.store.EnvOnlyName(full); why != "" {
		resp.Diagnostics.AddAttributeWarning(path.Root("name"), "LiteLLM does not read this secret from the store",
			fmt.Sprintf("secret (%s) is written to %s, but %s: the proxy uses its own environment variable", full, r.store.Kind(), why))
	}

	unmanaged := valueUnmanaged(req.Config.Raw)
	if req.State.Raw.IsNull() { // create
		if unmanaged {
			resp.Diagnostics.AddAttributeError(path.Root("value_wo"), fmt.Sprintf("creating secret (%s) in %s", full, r.store.Kind()),
				"no value to write: set value_wo (with value_wo_version) or value. A resource without a value only "+
					"adopts a secret that already exists: import it (an import block, or terraform query).")
			return
		}
		if !caps.KMS && !r.validatePlannedValue(ctx, req.Config, &plan, full, &resp.Diagnostics) {
			return
		}
		plan.Version = types.StringUnknown()
		plan.Ciphertext = types.StringNull()
		if caps.KMS {
			plan.Ciphertext = types.StringUnknown()
		}
		setUseAWSKMSEnv(r.store.Kind(), &plan)
		resp.Diagnostics.Append(setSecret(ctx, &resp.Plan.Raw, req.Plan.Raw.Type(), &plan)...)
		return
	}
	var state SecretResourceModel
	resp.Diagnostics.Append(getSecret(ctx, req.State.Raw, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.Version, plan.Ciphertext = state.Version, state.Ciphertext
	if unmanaged && !plan.FullName.Equal(state.FullName) {
		resp.Diagnostics.AddAttributeError(path.Root("name"), fmt.Sprintf("renaming secret (%s) to (%s) in %s", state.FullName.ValueString(), full, r.store.Kind()),
			"the value of this secret is not managed by Terraform (no value or value_wo), so there is no value to "+
				"write under the new name; set value_wo (with value_wo_version) for the rename, or keep the name.")
		return
	}
	if writesValue(&plan, &state) {
		if !caps.KMS && !r.validatePlannedValue(ctx, req.Config, &plan, full, &resp.Diagnostics) {
			return
		}
		plan.Version = types.StringUnknown()
		if caps.KMS {
			plan.Ciphertext = types.StringUnknown()
		}
	}
	setUseAWSKMSEnv(r.store.Kind(), &plan)
	resp.Diagnostics.Append(setSecret(ctx, &resp.Plan.Raw, req.Plan.Raw.Type(), &plan)...)
}

// validatePlannedValue applies the store's rules on the value itself (e.g.
// the local store refuses what python-dotenv cannot hand to LiteLLM) at
// plan, when the value is known: value from the plan, value_wo from the
// configuration (write-only values are there during planning). An unknown
// value is checked by the write itself at apply. It reports whether the plan
// may go on.
func (r *SecretResource) validatePlannedValue(ctx context.Context, config tfsdk.Config, plan *SecretResourceModel, full string, diags *diag.Diagnostics) bool {
	attr, v := path.Root("value"), plan.Value
	if v.IsNull() {
		var wo types.String
		if d := config.GetAttribute(ctx, path.Root("value_wo"), &wo); d.HasError() {
			return true
		}
		attr, v = path.Root("value_wo"), wo
	}
	if v.IsNull() || v.IsUnknown() {
		return true
	}
	if err := r.store.ValidateWrite(backends.WriteRequest{Name: full, Value: []byte(v.ValueString())}); err != nil {
		diags.AddAttributeError(attr, fmt.Sprintf("value not accepted by the %s store", r.store.Kind()), err.Error())
		return false
	}
	return true
}

// mergedTags is tags_all: the settings' default tags merged with the
// resource's own (own win), as every write merges them. It is unknown while
// any own tag is, and null when there is no tag at all.
func mergedTags(settings *backends.Settings, own types.Map) types.Map {
	if own.IsUnknown() {
		return types.MapUnknown(types.StringType)
	}
	for _, v := range own.Elements() {
		if v.IsUnknown() {
			return types.MapUnknown(types.StringType)
		}
	}
	_, merged := settings.Merge("", stringMap(own))
	return tagsValue(merged)
}

// tagsValue is tags as a map value, null when empty.
func tagsValue(tags map[string]string) types.Map {
	if len(tags) == 0 {
		return types.MapNull(types.StringType)
	}
	elems := make(map[string]attr.Value, len(tags))
	for k, v := range tags {
		elems[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, elems)
}

// planMetadata is the description and tags a write will carry, as far as the
// plan knows them: an unknown description or tag value is left out.
func planMetadata(full string, plan *SecretResourceModel) backends.WriteRequest {
	req := backends.WriteRequest{Name: full}
	if !plan.Description.IsUnknown() {
		req.Description = plan.Description.ValueString()
	}
	if !plan.Tags.IsNull() && !plan.Tags.IsUnknown() {
		req.Tags = map[string]string{}
		for k, v := range plan.Tags.Elements() {
			if sv, ok := v.(types.String); ok && !sv.IsUnknown() && !sv.IsNull() {
				req.Tags[k] = sv.ValueString()
			}
		}
	}
	return req
}

// writesValue reports whether an update writes the value again: a new value,
// a new value_wo_version, or a rotation to a new name.
func writesValue(plan, state *SecretResourceModel) bool {
	if plan.Value.IsNull() && plan.ValueWOVersion.IsNull() {
		// No value configured: the store's value is kept (adoption), and
		// only a rename (refused at plan) would need one.
		return !plan.FullName.Equal(state.FullName)
	}
	return !plan.Value.Equal(state.Value) || !plan.ValueWOVersion.Equal(state.ValueWOVersion) ||
		!plan.FullName.Equal(state.FullName)
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
	resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, plan.FullName.ValueString())...)
	ctx, wr, cancel, limit, diags := r.startWrite(ctx, &plan, &config, "create")
	defer cancel()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if r.store.IsKMS() {
		if err := r.encrypt(ctx, wr, &plan); err != nil {
			addStoreError(ctx, &resp.Diagnostics, fmt.Sprintf("encrypting secret (%s) with %s", wr.Name, r.store.Kind()), "create", limit, err)
			return
		}
		resp.Diagnostics.Append(setSecret(ctx, &resp.State.Raw, req.Plan.Raw.Type(), &plan)...)
		return
	}
	// Create refuses a name that already holds someone else's secret: the
	// resource manages only what it wrote or what was imported.
	version, err := r.store.Create(ctx, wr)
	if err != nil {
		addStoreError(ctx, &resp.Diagnostics, fmt.Sprintf("creating secret (%s) in %s", wr.Name, r.store.Kind()), "create", limit, err)
		return
	}
	plan.Version, _ = stateVersion(wr.Name, wr.Value, version, types.StringNull())
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
	resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, state.FullName.ValueString())...)
	if r.store.IsKMS() {
		return // no remote object: the ciphertext in state is the truth
	}
	imported, diags := req.Private.GetKey(ctx, privateImported)
	resp.Diagnostics.Append(diags...)
	if r.store.Settings().AccessMode == backends.WriteOnly && imported == nil {
		// write_only forbids reading the store; keep what the last apply wrote.
		tflog.Debug(ctx, "access_mode write_only: refresh keeps state without reading the store")
		return
	}
	full := state.FullName.ValueString()
	ctx, cancel, limit, diags := r.withDeadline(ctx, state.Timeouts, "read")
	defer cancel()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	sec, err := r.store.Find(ctx, full)
	if backends.CodeOf(err) == backends.NotFound {
		resp.Diagnostics.AddWarning("Secret not found",
			fmt.Sprintf("secret (%s) is no longer in the %s store; removing it from state so the next apply creates it again", full, r.store.Kind()))
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addStoreError(ctx, &resp.Diagnostics, fmt.Sprintf("reading secret (%s) in %s", full, r.store.Kind()), "read", limit, err)
		return
	}
	ctx = maskValue(ctx, sec.Value)
	if imported != nil {
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateImported, nil)...)
	}
	version, sameVersion := stateVersion(full, sec.Value, sec.Version, state.Version)
	switch {
	case !state.Value.IsNull():
		if state.Value.ValueString() != string(sec.Value) {
			tflog.Info(ctx, "secret value changed outside Terraform", map[string]any{"secret": full})
			state.Value = types.StringValue(string(sec.Value))
		}
	case !state.ValueWOVersion.IsNull() && !state.Version.IsNull() && sec.Version != "" && !sameVersion:
		// value_wo is never in state, so a new store version is the drift
		// signal. Clearing value_wo_version makes the plan write value_wo again.
		resp.Diagnostics.AddWarning("Secret changed outside Terraform",
			fmt.Sprintf("secret (%s) in %s has version %s, but Terraform wrote %s; the next apply writes the configured value_wo again",
				full, r.store.Kind(), version.ValueString(), state.Version.ValueString()))
		state.ValueWOVersion = types.Int64Null()
	}
	if sec.Version != "" {
		state.Version = version
	}
	if r.store.Caps().Metadata {
		resp.Diagnostics.Append(r.readMetadata(ctx, sec, &state)...)
	}
	resp.Diagnostics.Append(setSecret(ctx, &resp.State.Raw, req.State.Raw.Type(), &state)...)
}

// readMetadata puts the store's description and tags into state, leaving out
// what only the provider-level defaults contributed.
func (r *SecretResource) readMetadata(ctx context.Context, sec *backends.Secret, state *SecretResourceModel) diag.Diagnostics {
	var diags diag.Diagnostics
	defaults := r.store.Settings()
	if sec.Description != defaults.Description || !state.Description.IsNull() {
		if sec.Description == "" {
			state.Description = types.StringNull()
		} else {
			state.Description = types.StringValue(sec.Description)
		}
	}
	state.TagsAll = tagsValue(sec.Tags)
	// tags holds the resource's own tags: a key of the provider's default
	// tags that the resource does not set is left to tags_all, where a changed
	// default shows its new value in the plan.
	own := stringMap(state.Tags)
	got := map[string]string{}
	for k, v := range sec.Tags {
		if _, isDefault := defaults.Tags[k]; isDefault {
			if _, mine := own[k]; !mine {
				continue
			}
		}
		got[k] = v
	}
	if len(got) == 0 && state.Tags.IsNull() {
		return diags
	}
	if !maps.Equal(got, own) {
		tags, d := types.MapValueFrom(ctx, types.StringType, got)
		diags.Append(d...)
		state.Tags = tags
	}
	return diags
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
	resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, plan.FullName.ValueString())...)
	ctx, wr, cancel, limit, diags := r.startWrite(ctx, &plan, &config, "update")
	defer cancel()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if r.store.IsKMS() {
		if writesValue(&plan, &state) {
			if err := r.encrypt(ctx, wr, &plan); err != nil {
				addStoreError(ctx, &resp.Diagnostics, fmt.Sprintf("encrypting secret (%s) with %s", wr.Name, r.store.Kind()), "update", limit, err)
				return
			}
		}
		resp.Diagnostics.Append(setSecret(ctx, &resp.State.Raw, req.Plan.Raw.Type(), &plan)...)
		return
	}
	oldFull := state.FullName.ValueString()
	version := state.Version.ValueString()
	var err error
	switch {
	case oldFull != wr.Name:
		version, err = r.store.Rotate(ctx, oldFull, wr, deleteMode(state.DeletionPolicy.ValueString()))
		if err != nil {
			addStoreError(ctx, &resp.Diagnostics, fmt.Sprintf("rotating secret (%s) to (%s) in %s", oldFull, wr.Name, r.store.Kind()), "update", limit, err)
			return
		}
	case writesValue(&plan, &state):
		if resp.Diagnostics.Append(r.checkUnchanged(ctx, &state, wr.Name)...); resp.Diagnostics.HasError() {
			return
		}
		version, err = r.store.Write(ctx, wr)
	case !plan.Description.Equal(state.Description) || !plan.Tags.Equal(state.Tags) ||
		(r.store.Caps().Metadata && !plan.TagsAll.Equal(state.TagsAll)):
		err = r.store.UpdateMetadata(ctx, wr.Name, wr.Description, wr.Tags)
		if backends.CodeOf(err) == backends.Unsupported && wr.Value == nil {
			err = fmt.Errorf("the %s store changes description and tags only with a new value, and this secret's value is not managed by Terraform: set value_wo (with value_wo_version): %w", r.store.Kind(), err)
		} else if backends.CodeOf(err) == backends.Unsupported {
			version, err = r.store.Write(ctx, wr)
		}
	}
	if err != nil {
		addStoreError(ctx, &resp.Diagnostics, fmt.Sprintf("updating secret (%s) in %s", wr.Name, r.store.Kind()), "update", limit, err)
		return
	}
	plan.Version, _ = stateVersion(wr.Name, wr.Value, version, state.Version)
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
	if r.store.IsKMS() {
		return // no remote object: destroy only forgets the ciphertext
	}
	full := state.FullName.ValueString()
	ctx, cancel, limit, diags := r.withDeadline(ctx, state.Timeouts, "delete")
	defer cancel()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.store.Delete(ctx, full, deleteMode(state.DeletionPolicy.ValueString())); err != nil {
		addStoreError(ctx, &resp.Diagnostics, fmt.Sprintf("deleting secret (%s) in %s", full, r.store.Kind()), "delete", limit, err)
	}
}

// ImportState implements resource.ResourceWithImportState: the import id (or
// the identity's full_name) is full_name. The first Read after import fills
// in the version and metadata; the value never comes into state.
func (r *SecretResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !r.configured(&resp.Diagnostics) {
		return
	}
	full, diags := importID(ctx, req)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	state, err := importedState(r.store, full)
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("importing secret (%s) in %s", full, r.store.Kind()), err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, state.FullName.ValueString())...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateImported, []byte(`true`))...)
}

// writeRequest builds the store write from the plan, taking value_wo from the
// config (write-only values are never in the plan).
func (r *SecretResource) writeRequest(plan, config *SecretResourceModel) (backends.WriteRequest, diag.Diagnostics) {
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

func (r *SecretResource) configured(diags *diag.Diagnostics) bool {
	if r.store == nil {
		diags.AddError("Provider not configured", "the llmsecret provider was not configured before this resource was used; please report this provider bug")
		return false
	}
	return true
}

// encrypt sets the plan's ciphertext from the KMS store. KMS stores have no
// version ids: version is null.
func (r *SecretResource) encrypt(ctx context.Context, wr backends.WriteRequest, plan *SecretResourceModel) error {
	ct, err := r.store.Encrypt(ctx, wr.Name, wr.Value)
	if err != nil {
		return err
	}
	plan.Ciphertext = types.StringValue(ct)
	plan.Version = types.StringNull()
	setUseAWSKMSEnv(r.store.Kind(), plan)
	return nil
}

// defaultDeletionPolicy is deletion_policy when the configuration leaves it
// out: soft_delete where the store can delete recoverably (AWS recovery
// window, Vault latest-version delete, Azure soft delete), as LiteLLM and the
// aws provider delete; delete where it can only delete for good (and on KMS
// stores, where destroy only forgets); abandon where it cannot delete, so
// destroy never fails there.
func defaultDeletionPolicy(caps backends.Caps) string {
	switch {
	case caps.KMS:
		return policyDelete
	case caps.Delete && caps.SoftDelete:
		return policySoftDelete
	case caps.Delete:
		return policyDelete
	}
	return policyAbandon
}

// noDeleteMessage explains the plan-time refusal of deletion_policy = delete
// on a store that cannot delete, with the store's reason when it gives one.
func noDeleteMessage(s *backends.Store) string {
	msg := fmt.Sprintf("the %s store cannot delete secrets", s.Kind())
	if why := s.NoDeleteReason(); why != "" {
		msg += ": " + why
	}
	return msg + fmt.Sprintf("; set deletion_policy = %q (the default on this store) so destroy forgets the secret and leaves it in the store", policyAbandon)
}

func deleteMode(policy string) backends.DeleteMode {
	switch policy {
	case policySoftDelete:
		return backends.DeleteSoft
	case policyAbandon:
		return backends.Abandon
	}
	return backends.DeleteForever
}
