package provider

import (
	"context"
	"math/big"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// TestSecretResourceValidateConfig checks the value / value_wo rules at the
// protocol, with values the CLI only knows at apply among them.
func TestSecretResourceValidateConfig(t *testing.T) {
	h := newProtoHarness(t, filepath.Join(t.TempDir(), ".env"))
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	unknownStr := tftypes.NewValue(tftypes.String, tftypes.UnknownValue)
	one := tftypes.NewValue(tftypes.Number, big.NewFloat(1))
	cases := map[string]struct {
		set  map[string]tftypes.Value
		want []string // "severity summary: detail fragment"; none means no diagnostic
	}{
		"value_wo with version": {set: map[string]tftypes.Value{"value_wo": str("v"), "value_wo_version": one}},
		// The "Prefer value_wo" warning is the plan's (TestValueWarningOncePerRun).
		"value": {set: map[string]tftypes.Value{"value": str("v")}},
		"both": {set: map[string]tftypes.Value{"value": str("v"), "value_wo": str("w"), "value_wo_version": one},
			want: []string{"ERROR Invalid Attribute Combination: only one of value and value_wo"}},
		// Neither: an adopted secret whose value Terraform does not manage;
		// creating one is refused at plan (TestAccSecretResource_invalidConfig).
		"neither": {set: map[string]tftypes.Value{}},
		"value_wo without version": {set: map[string]tftypes.Value{"value_wo": str("w")},
			want: []string{"ERROR Missing Attribute Configuration: with value_wo needs value_wo_version"}},
		"version without value_wo": {set: map[string]tftypes.Value{"value": str("v"), "value_wo_version": one},
			want: []string{"ERROR Missing Attribute Configuration: versions value_wo"}},
		"value_wo unknown until apply, value null": {set: map[string]tftypes.Value{"value_wo": unknownStr, "value_wo_version": one}},
		"value unknown until apply, value_wo set":  {set: map[string]tftypes.Value{"value": unknownStr, "value_wo": str("w"), "value_wo_version": one}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tc.set["name"] = str("OPENAI_API_KEY")
			resp, err := h.srv.ValidateResourceConfig(context.Background(), &tfprotov6.ValidateResourceConfigRequest{
				TypeName: "llmsecret_secret", Config: dynamic(t, nullsExcept(h.resource, tc.set)),
				ClientCapabilities: &tfprotov6.ValidateResourceConfigClientCapabilities{WriteOnlyAttributesAllowed: true},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Diagnostics) != len(tc.want) {
				t.Fatalf("got %d diagnostics (%s), want %d: %q", len(resp.Diagnostics), diagText(resp.Diagnostics), len(tc.want), tc.want)
			}
			for _, want := range tc.want {
				sev, rest, _ := strings.Cut(want, " ")
				summary, fragment, _ := strings.Cut(rest, ": ")
				found := false
				for _, d := range resp.Diagnostics {
					found = found || (d.Severity.String() == sev && d.Summary == summary && strings.Contains(d.Detail, fragment))
				}
				if !found {
					t.Errorf("no %s diagnostic %q containing %q in %s", sev, summary, fragment, diagText(resp.Diagnostics))
				}
			}
		})
	}
}

// TestDefaultDeletionPolicy: deletion_policy defaults to soft_delete where
// the store can delete recoverably (as LiteLLM and the aws provider delete),
// delete where it can only delete for good, abandon where it cannot delete,
// and delete (destroy only forgets) on KMS stores. The caps are the stores'.
func TestDefaultDeletionPolicy(t *testing.T) {
	for store, tc := range map[string]struct {
		caps backends.Caps
		want string
	}{
		"aws_secret_manager (recovery window)":    {backends.Caps{Write: true, Delete: true, SoftDelete: true, Metadata: true, PrimarySecret: true}, policySoftDelete},
		"hashicorp_vault (latest-version delete)": {backends.Caps{Write: true, Delete: true, SoftDelete: true, Metadata: true, ImmediateDelete: true}, policySoftDelete},
		"azure_key_vault (soft delete)":           {backends.Caps{Write: true, Delete: true, SoftDelete: true, Metadata: true}, policySoftDelete},
		"local (no recovery)":                     {backends.Caps{Write: true, Delete: true, Binary: true, EnvFallback: true, ImmediateDelete: true}, policyDelete},
		"cyberark (no delete)":                    {backends.Caps{Write: true, Binary: true}, policyAbandon},
		"primary secret (fields: no soft delete)": {backends.Caps{Write: true, Delete: true}, policyDelete},
	} {
		if got := defaultDeletionPolicy(tc.caps); got != tc.want {
			t.Errorf("default deletion_policy on %s: got %q, want %q", store, got, tc.want)
		}
	}
	// KMS stores (a *Keyring) take the KMS path.
	if got, want := (kmsPath{}).defaultDeletionPolicy(), policyDelete; got != want {
		t.Errorf("default deletion_policy on %s: got %q, want %q", "aws_kms (no remote object)", got, want)
	}
}
