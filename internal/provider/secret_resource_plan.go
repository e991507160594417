package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// ModifyPlan implements resource.ResourceWithModifyPlan: it refuses at plan
// what the store or the settings cannot do, and computes full_name and id.
func (r *SecretResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if r.store == nil {
		return
	}
	if req.Plan.Raw.IsNull() {
		r.planDestroy(ctx, req.State.Raw, &resp.Diagnostics)
		return
	}
	r.warnValue(req.Config.Raw, &resp.Diagnostics)
	var plan SecretResourceModel
	if resp.Diagnostics.Append(getSecret(ctx, req.Plan.Raw, &plan)...); resp.Diagnostics.HasError() {
		return
	}
	if err := r.store.CheckWritable(); err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("llmsecret_secret cannot be managed with the %s store's settings", r.store.Kind()), err.Error())
		return
	}
	plan.TagsAll = mergedTags(r.store.Settings(), plan.Tags)
	r.planDeletionPolicy(req.Config.Raw, &plan, &resp.Diagnostics)
	ok := true
	switch {
	case plan.Name.IsUnknown() || plan.Prefix.IsUnknown() || plan.VirtualKey.IsUnknown():
		plan.FullName, plan.ID, plan.Version = types.StringUnknown(), types.StringUnknown(), types.StringUnknown()
	case !r.planName(&plan, &resp.Diagnostics):
		return
	case req.State.Raw.IsNull():
		ok = r.planCreate(ctx, req, &plan, &resp.Diagnostics)
	default:
		ok = r.planUpdate(ctx, req, &plan, &resp.Diagnostics)
	}
	if ok {
		setUseAWSKMSEnv(r.store.Kind(), &plan)
		resp.Diagnostics.Append(setSecret(ctx, &resp.Plan.Raw, req.Plan.Raw.Type(), &plan)...)
	}
}

// planDestroy refuses at plan a destroy the settings or the store cannot
// carry out, so it does not fail halfway through apply.
func (r *SecretResource) planDestroy(ctx context.Context, raw tftypes.Value, diags *diag.Diagnostics) {
	var state SecretResourceModel
	diags.Append(getSecret(ctx, raw, &state)...)
	policy := state.DeletionPolicy.ValueString()
	if diags.HasError() || policy == policyAbandon {
		return
	}
	summary := fmt.Sprintf("cannot delete secret (%s) in %s", state.FullName.ValueString(), r.store.Kind())
	if err := r.store.CheckWritable(); err != nil {
		diags.AddError(summary, err.Error())
		return
	}
	if why := r.path.refuseDeletion(policy, true); why != "" {
		diags.AddAttributeError(path.Root("deletion_policy"), summary, why)
	}
}

// planDeletionPolicy fills in the store's default deletion_policy when the
// configuration leaves it out, and refuses a policy the store cannot apply.
func (r *SecretResource) planDeletionPolicy(config tftypes.Value, plan *SecretResourceModel, diags *diag.Diagnostics) {
	if (plan.DeletionPolicy.IsUnknown() || plan.DeletionPolicy.IsNull()) && configStates(config, "deletion_policy")[0] == attrNull {
		plan.DeletionPolicy = types.StringValue(r.path.defaultDeletionPolicy())
	}
	if why := r.path.refuseDeletion(plan.DeletionPolicy.ValueString(), false); why != "" {
		diags.AddAttributeError(path.Root("deletion_policy"), "deletion_policy not supported", why)
	}
}

// planName computes full_name and id with the store's name rules (DESIGN.md,
// Names), checks the metadata the write will carry, and warns when LiteLLM
// reads the name from its environment rather than the store. It reports
// whether the plan may go on.
func (r *SecretResource) planName(plan *SecretResourceModel, diags *diag.Diagnostics) bool {
	full, err := r.store.FullName(plan.Name.ValueString(), optionalString(plan.Prefix), plan.VirtualKey.ValueBool())
	if err != nil {
		diags.AddAttributeError(path.Root("name"), fmt.Sprintf("invalid secret name for the %s store", r.store.Kind()), err.Error())
		return false
	}
	plan.FullName = types.StringValue(full)
	if !r.path.checkMetadata(plan, diags) {
		return false
	}
	plan.ID = plan.FullName
	if why := r.path.envOnlyName(full); why != "" {
		diags.AddAttributeWarning(path.Root("name"), "LiteLLM does not read this secret from the store",
			fmt.Sprintf("secret (%s) is written to %s, but %s: the proxy uses its own environment variable", full, r.store.Kind(), why))
	}
	return true
}

// planCreate plans the first write: what the write computes is unknown
// until apply.
func (r *SecretResource) planCreate(ctx context.Context, req resource.ModifyPlanRequest, plan *SecretResourceModel, diags *diag.Diagnostics) bool {
	if valueUnmanaged(req.Config.Raw) {
		diags.AddAttributeError(path.Root("value_wo"), fmt.Sprintf("creating secret (%s) in %s", plan.FullName.ValueString(), r.store.Kind()),
			"no value to write: set value_wo (with value_wo_version) or value. A resource without a value only "+
				"adopts a secret that already exists: import it (an import block, or terraform query).")
		return false
	}
	plan.Ciphertext = types.StringNull()
	if !r.path.planWrite(ctx, req.Config, plan, diags) {
		return false
	}
	r.warnMetadataDropped(plan, nil, diags)
	return true
}

// planUpdate keeps what the store computed unless the update writes the
// value again.
func (r *SecretResource) planUpdate(ctx context.Context, req resource.ModifyPlanRequest, plan *SecretResourceModel, diags *diag.Diagnostics) bool {
	var state SecretResourceModel
	if diags.Append(getSecret(ctx, req.State.Raw, &state)...); diags.HasError() {
		return false
	}
	plan.Version, plan.Ciphertext = state.Version, state.Ciphertext
	if valueUnmanaged(req.Config.Raw) && !plan.FullName.Equal(state.FullName) {
		diags.AddAttributeError(path.Root("name"), fmt.Sprintf("renaming secret (%s) to (%s) in %s", state.FullName.ValueString(), plan.FullName.ValueString(), r.store.Kind()),
			"the value of this secret is not managed by Terraform (no value or value_wo), so there is no value to "+
				"write under the new name; set value_wo (with value_wo_version) for the rename, or keep the name.")
		return false
	}
	if writesValue(plan, &state) && !r.path.planWrite(ctx, req.Config, plan, diags) {
		return false
	}
	r.warnMetadataDropped(plan, &state, diags)
	return true
}

// warnMetadataDropped warns when a plan sets a description or tags of the
// resource's own (new, or changed from state) on a store that keeps no
// metadata: the local dotenv file, KMS stores, CyberArk and fields of a
// primary secret. Terraform keeps them in state and tags_all, but the store
// (and so LiteLLM) never sees them. A warning, not an error: the provider's
// default tags apply to every store alike, and the aws provider also plans
// attributes a resource cannot carry everywhere with a warning.
func (r *SecretResource) warnMetadataDropped(plan, state *SecretResourceModel, diags *diag.Diagnostics) {
	if r.path.keepsMetadata() {
		return
	}
	newly := func(p, s attr.Value) bool { return !p.IsNull() && (state == nil || !p.Equal(s)) }
	var stateDesc, stateTags attr.Value = types.StringNull(), types.MapNull(types.StringType)
	if state != nil {
		stateDesc, stateTags = state.Description, state.Tags
	}
	for _, a := range []struct {
		name        string
		plan, state attr.Value
	}{{"description", plan.Description, stateDesc}, {"tags", plan.Tags, stateTags}} {
		if newly(a.plan, a.state) {
			diags.AddAttributeWarning(path.Root(a.name), "Not kept by the store",
				fmt.Sprintf("secret (%s) in %s: this store keeps no description or tags, so %s is kept in Terraform state only; "+
					"the store and LiteLLM never see it", plan.FullName.ValueString(), r.store.Kind(), a.name))
		}
	}
}

// writesValue reports whether an update writes the value again: a new value,
// a new value_wo_version, or a rotation to a new name. With no value
// configured the store's value is kept (adoption), and only a rename
// (refused at plan) would need one.
func writesValue(plan, state *SecretResourceModel) bool {
	if plan.Value.IsNull() && plan.ValueWOVersion.IsNull() {
		return !plan.FullName.Equal(state.FullName)
	}
	return !plan.Value.Equal(state.Value) || !plan.ValueWOVersion.Equal(state.ValueWOVersion) ||
		!plan.FullName.Equal(state.FullName)
}

// defaultDeletionPolicy is deletion_policy when the configuration leaves it
// out on a store that holds secrets: soft_delete where the store can delete
// recoverably (AWS recovery window, Vault latest-version delete, Azure soft
// delete), as LiteLLM and the aws provider delete; delete where it can only
// delete for good; abandon where it cannot delete, so destroy never fails
// there. KMS stores, where destroy only forgets, default to delete
// (kmsPath.defaultDeletionPolicy).
func defaultDeletionPolicy(caps backends.Caps) string {
	switch {
	case caps.Delete && caps.SoftDelete:
		return policySoftDelete
	case caps.Delete:
		return policyDelete
	}
	return policyAbandon
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
