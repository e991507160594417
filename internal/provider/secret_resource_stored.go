package provider

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// storedPath is llmsecret_secret on a store that holds secrets: create,
// refresh, update, rename and delete go to the store (DESIGN.md, Objects).
type storedPath struct {
	store *backends.Store
	// timeout is the provider's timeouts.default.
	timeout time.Duration
}

var _ secretPath = storedPath{}

// planWrite checks a value known at plan; the store's version is known only
// after the write.
func (p storedPath) planWrite(ctx context.Context, config tfsdk.Config, plan *SecretResourceModel, diags *diag.Diagnostics) bool {
	if !p.validatePlannedValue(ctx, config, plan, diags) {
		return false
	}
	plan.Version = types.StringUnknown()
	return true
}

// validatePlannedValue applies the store's rules on the value itself (e.g.
// the local store refuses what python-dotenv cannot hand to LiteLLM) at
// plan, when the value is known: value from the plan, value_wo from the
// configuration (write-only values are there during planning). An unknown
// value is checked by the write itself at apply. It reports whether the plan
// may go on.
func (p storedPath) validatePlannedValue(ctx context.Context, config tfsdk.Config, plan *SecretResourceModel, diags *diag.Diagnostics) bool {
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
	req := backends.WriteRequest{Name: plan.FullName.ValueString(), Value: []byte(v.ValueString())}
	if err := p.store.ValidateWrite(req); err != nil {
		diags.AddAttributeError(attr, fmt.Sprintf("value not accepted by the %s store", p.store.Kind()), err.Error())
		return false
	}
	return true
}

// checkMetadata applies the store's rules on tags and description (label
// rules) at plan, pointing at description when the tags alone pass.
func (p storedPath) checkMetadata(plan *SecretResourceModel, diags *diag.Diagnostics) bool {
	full := plan.FullName.ValueString()
	meta := planMetadata(full, plan)
	err := p.store.ValidateWrite(meta)
	if err == nil {
		return true
	}
	attr := path.Root("tags")
	if p.store.ValidateWrite(backends.WriteRequest{Name: full, Tags: meta.Tags}) == nil {
		attr = path.Root("description")
	}
	diags.AddAttributeError(attr, fmt.Sprintf("invalid tags or description for the %s store", p.store.Kind()), err.Error())
	return false
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

// refuseDeletion says why the store cannot apply policy, "" when it can. A
// destroy needs a delete whatever the policy, except abandon; a plan refuses
// only the policy it sets.
func (p storedPath) refuseDeletion(policy string, destroying bool) string {
	caps := p.store.Caps()
	switch {
	case policy == policyAbandon:
		return ""
	case (destroying || policy == policyDelete) && !caps.Delete:
		return noDeleteMessage(p.store)
	case policy == policySoftDelete && !caps.SoftDelete:
		msg := fmt.Sprintf("the %s store has no soft delete (recoverable deletion); set deletion_policy = %q or %q", p.store.Kind(), policyDelete, policyAbandon)
		if destroying {
			msg += " and apply before destroying"
		}
		return msg
	}
	return ""
}

// importState is the state an import of full starts from (stateToImport): a
// stored secret is adopted by its full_name.
func (p storedPath) importState(full string) (SecretResourceModel, error) {
	return stateToImport(p.store, full)
}

// defaultDeletionPolicy is the store's default (see defaultDeletionPolicy).
func (p storedPath) defaultDeletionPolicy() string { return defaultDeletionPolicy(p.store.Caps()) }

// keepsMetadata reports whether the store keeps description and tags.
func (p storedPath) keepsMetadata() bool { return p.store.Caps().Metadata }

// envOnlyName is the store's EnvOnlyName.
func (p storedPath) envOnlyName(full string) string { return p.store.EnvOnlyName(full) }

// noDeleteMessage explains the plan-time refusal of deletion_policy = delete
// on a store that cannot delete, with the store's reason when it gives one.
func noDeleteMessage(s *backends.Store) string {
	msg := fmt.Sprintf("the %s store cannot delete secrets", s.Kind())
	if why := s.NoDeleteReason(); why != "" {
		msg += ": " + why
	}
	return msg + fmt.Sprintf("; set deletion_policy = %q (the default on this store) so destroy forgets the secret and leaves it in the store", policyAbandon)
}

// create refuses a name that already holds someone else's secret: the
// resource manages only what it wrote or what was imported.
func (p storedPath) create(ctx context.Context, wr backends.WriteRequest, plan *SecretResourceModel, limit time.Duration) diag.Diagnostics {
	var diags diag.Diagnostics
	version, err := p.store.Create(ctx, wr)
	if err != nil {
		addStoreError(ctx, &diags, fmt.Sprintf("creating secret (%s) in %s", wr.Name, p.store.Kind()), "create", limit, err)
		return diags
	}
	plan.Version, _ = stateVersion(wr.Name, wr.Value, version, types.StringNull())
	return diags
}

// update renames LiteLLM's way when full_name changed, writes a new version
// for a new value (after the second-writer check), and otherwise changes
// metadata alone where the store can.
func (p storedPath) update(ctx context.Context, wr backends.WriteRequest, plan, state *SecretResourceModel, limit time.Duration) diag.Diagnostics {
	var diags diag.Diagnostics
	oldFull, version := state.FullName.ValueString(), state.Version.ValueString()
	summary := fmt.Sprintf("updating secret (%s) in %s", wr.Name, p.store.Kind())
	var err error
	switch {
	case oldFull != wr.Name:
		summary = fmt.Sprintf("rotating secret (%s) to (%s) in %s", oldFull, wr.Name, p.store.Kind())
		version, err = p.store.Rotate(ctx, oldFull, wr, deleteMode(state.DeletionPolicy.ValueString()))
	case writesValue(plan, state):
		if diags.Append(p.checkUnchanged(ctx, state, wr.Name)...); diags.HasError() {
			return diags
		}
		version, err = p.store.Write(ctx, wr)
	case !plan.Description.Equal(state.Description) || !plan.Tags.Equal(state.Tags) ||
		(p.store.Caps().Metadata && !plan.TagsAll.Equal(state.TagsAll)):
		err = p.store.UpdateMetadata(ctx, wr.Name, wr.Description, wr.Tags)
		if backends.CodeOf(err) == backends.Unsupported && wr.Value == nil {
			err = fmt.Errorf("the %s store changes description and tags only with a new value, and this secret's value is not managed by Terraform: set value_wo (with value_wo_version): %w", p.store.Kind(), err)
		} else if backends.CodeOf(err) == backends.Unsupported {
			version, err = p.store.Write(ctx, wr)
		}
	}
	if err != nil {
		addStoreError(ctx, &diags, summary, "update", limit, err)
		return diags
	}
	plan.Version, _ = stateVersion(wr.Name, wr.Value, version, state.Version)
	return diags
}

// read detects a secret deleted or changed outside Terraform. Under
// access_mode write_only it keeps state without reading, except on the
// first read after an import.
func (p storedPath) read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse, state *SecretResourceModel) {
	imported, diags := req.Private.GetKey(ctx, privateImported)
	resp.Diagnostics.Append(diags...)
	if p.store.Settings().AccessMode == backends.WriteOnly && imported == nil {
		tflog.Debug(ctx, "access_mode write_only: refresh keeps state without reading the store")
		return
	}
	full := state.FullName.ValueString()
	ctx, cancel, limit, diags := withDeadline(ctx, p.timeout, state.Timeouts, "read")
	defer cancel()
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	sec, err := p.store.ReadStored(ctx, full)
	if backends.CodeOf(err) == backends.NotFound {
		resp.Diagnostics.AddWarning("Secret not found",
			fmt.Sprintf("secret (%s) is no longer in the %s store; removing it from state so the next apply creates it again", full, p.store.Kind()))
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addStoreError(ctx, &resp.Diagnostics, fmt.Sprintf("reading secret (%s) in %s", full, p.store.Kind()), "read", limit, err)
		return
	}
	ctx = maskValue(ctx, sec.Value)
	if imported != nil {
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateImported, nil)...)
	}
	resp.Diagnostics.Append(p.readValue(ctx, sec, state)...)
	if p.store.Caps().Metadata {
		resp.Diagnostics.Append(p.readMetadata(ctx, sec, state)...)
	}
	resp.Diagnostics.Append(setSecret(ctx, &resp.State.Raw, req.State.Raw.Type(), state)...)
}

// readValue puts what the store holds into state: the value itself with
// value, else (value_wo is never in state) the store's version, a new one
// being the drift signal. Clearing value_wo_version makes the plan write
// value_wo again.
func (p storedPath) readValue(ctx context.Context, sec *backends.Secret, state *SecretResourceModel) diag.Diagnostics {
	var diags diag.Diagnostics
	full := state.FullName.ValueString()
	version, sameVersion := stateVersion(full, sec.Value, sec.Version, state.Version)
	switch {
	case !state.Value.IsNull():
		if state.Value.ValueString() != string(sec.Value) {
			tflog.Info(ctx, "secret value changed outside Terraform", map[string]any{"secret": full})
			state.Value = types.StringValue(string(sec.Value))
		}
	case !state.ValueWOVersion.IsNull() && !state.Version.IsNull() && sec.Version != "" && !sameVersion:
		// (With neither value nor value_wo the store's value is Terraform's
		// to keep, not to restore: a new version is taken silently.)
		diags.AddWarning("Secret changed outside Terraform",
			fmt.Sprintf("secret (%s) in %s has version %s, but Terraform wrote %s; the next apply writes the configured value_wo again",
				full, p.store.Kind(), version.ValueString(), state.Version.ValueString()))
		state.ValueWOVersion = types.Int64Null()
	}
	if sec.Version != "" {
		state.Version = version
	}
	return diags
}

// readMetadata puts the store's description and tags into state, leaving out
// what only the provider-level defaults contributed.
func (p storedPath) readMetadata(ctx context.Context, sec *backends.Secret, state *SecretResourceModel) diag.Diagnostics {
	var diags diag.Diagnostics
	defaults := p.store.Settings()
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

// delete deletes the secret as deletion_policy says, within the delete
// deadline.
func (p storedPath) delete(ctx context.Context, state *SecretResourceModel, diags *diag.Diagnostics) {
	full := state.FullName.ValueString()
	ctx, cancel, limit, d := withDeadline(ctx, p.timeout, state.Timeouts, "delete")
	defer cancel()
	if diags.Append(d...); diags.HasError() {
		return
	}
	if err := p.store.Delete(ctx, full, deleteMode(state.DeletionPolicy.ValueString())); err != nil {
		addStoreError(ctx, diags, fmt.Sprintf("deleting secret (%s) in %s", full, p.store.Kind()), "delete", limit, err)
	}
}

// deleteMode is the store's delete for a deletion_policy.
func deleteMode(policy string) backends.DeleteMode {
	switch policy {
	case policySoftDelete:
		return backends.DeleteSoft
	case policyAbandon:
		return backends.Abandon
	}
	return backends.DeleteForever
}
