package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// checkUnchanged is the second-writer check of Update: before a new value
// replaces the secret, the store's current version must still be the one in
// state (what this resource last wrote or read). Two configurations (or a
// configuration and a script) managing one name would otherwise overwrite
// each other without a word. Terraform refreshes before it plans, so this
// catches a write made between plan and apply, or any made since the last
// apply when the plan skipped the refresh (-refresh=false).
//
// Nothing is checked when state has no version, when access_mode is
// write_only (the credential may not read), or when the secret is gone (the
// write creates it again, as a refresh would have planned). A version that
// is only a fingerprint of the value (stores without version ids) is kept in
// state in its salted form (stateVersion), compared by recomputing it, and
// not printed.
func (p storedPath) checkUnchanged(ctx context.Context, state *SecretResourceModel, full string) diag.Diagnostics {
	var diags diag.Diagnostics
	want := state.Version.ValueString()
	if state.Version.IsNull() || state.Version.IsUnknown() || want == "" || p.store.Settings().AccessMode == backends.WriteOnly {
		return diags
	}
	summary := fmt.Sprintf("updating secret (%s) in %s", full, p.store.Kind())
	sec, err := p.store.ReadStoredFresh(ctx, full)
	switch {
	case backends.CodeOf(err) == backends.NotFound:
		return diags
	case err != nil:
		diags.AddError(summary, fmt.Sprintf("reading it to check that it did not change since this configuration last read it: %v", err))
		return diags
	case sec.Version == "" || sec.Version == want:
		return diags
	case backends.IsKDFVersion(want) && backends.IsFingerprint(full, sec.Value, sec.Version) && backends.KDFMatches(want, sec.Value):
		// State keeps the salted form of a fingerprint store's version:
		// the value is the one this resource last saw.
		return diags
	}
	seen := fmt.Sprintf("version %s, now %s", want, sec.Version)
	if sec.Version == backends.Fingerprint(full, sec.Value) {
		seen = "it now holds a different value"
	}
	diags.AddError(summary, fmt.Sprintf("It changed since this configuration last read it (%s); another configuration or process may manage it: refresh and review.", seen))
	return diags
}
