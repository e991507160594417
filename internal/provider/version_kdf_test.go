package provider

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

var kdfVersion = regexp.MustCompile(`^kdf1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{22}$`)

// TestAccSecretResource_versionSaltedKDF: on the local store (no version ids)
// state keeps the salted argon2id form, never the fast fingerprint, and a
// value changed behind Terraform's back still shows as drift.
func TestAccSecretResource_versionSaltedKDF(t *testing.T) {
	env := envFile(t)
	const name, v1, v2 = "OPENAI_API_KEY", "123456", "654321"
	var first string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: secretWOConfig(env, name, v1, 1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringRegexp(kdfVersion)),
				},
				Check: resource.TestCheckResourceAttrWith(res, "version", func(v string) error {
					if fp := backends.Fingerprint(name, []byte(v1)); strings.Contains(v, fp) {
						return fmt.Errorf("state version %q holds the fast fingerprint of the value", v)
					}
					if !backends.KDFMatches(v, []byte(v1)) {
						return fmt.Errorf("state version %q is not the KDF of the stored value", v)
					}
					first = v
					return nil
				}),
			},
			// Refresh of an unchanged value keeps the same salt: no diff.
			{
				Config: secretWOConfig(env, name, v1, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.TestCheckResourceAttrWith(res, "version", func(v string) error {
					if v != first {
						return fmt.Errorf("version changed on a refresh without a change: %q -> %q", first, v)
					}
					return nil
				}),
			},
			// The value changes outside Terraform: the plan writes value_wo again.
			{
				PreConfig: func() {
					if _, err := localStore(t, env).Write(context.Background(), backends.WriteRequest{Name: name, Value: []byte(v2)}); err != nil {
						t.Fatal(err)
					}
				},
				Config: secretWOConfig(env, name, v1, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkStored(t, env, name, v1),
					resource.TestCheckResourceAttrWith(res, "version", func(v string) error {
						if !kdfVersion.MatchString(v) || !backends.KDFMatches(v, []byte(v1)) {
							return fmt.Errorf("version after the repair %q is not the KDF of the configured value", v)
						}
						return nil
					}),
				),
			},
		},
		CheckDestroy: func(*terraform.State) error { return checkAbsent(t, env, name)(nil) },
	})
}

// readWithVersion drives ReadResource through the protocol server with a
// prior state holding version, and returns the new state's version and
// value_wo_version, and the diagnostics.
func readWithVersion(t *testing.T, h *protoHarness, name, version string) (tftypes.Value, map[string]tftypes.Value, []*tfprotov6.Diagnostic) {
	t.Helper()
	prior := h.secretState(name)
	var attrs map[string]tftypes.Value
	if err := prior.As(&attrs); err != nil {
		t.Fatal(err)
	}
	attrs["version"] = tftypes.NewValue(tftypes.String, version)
	state := dynamic(t, tftypes.NewValue(h.resource, attrs))
	read, err := h.srv.ReadResource(context.Background(), &tfprotov6.ReadResourceRequest{TypeName: "llmsecret_secret", CurrentState: state})
	if err != nil {
		t.Fatal(err)
	}
	nv, err := read.NewState.Unmarshal(h.resource)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]tftypes.Value
	if err := nv.As(&got); err != nil {
		t.Fatal(err)
	}
	return nv, got, read.Diagnostics
}

// TestSecretResourceRead_upgradesOldVersion: a state written by an earlier
// provider (version = the 16-hex fingerprint) is upgraded on refresh to the
// salted form, without a warning and without a planned change.
func TestSecretResourceRead_upgradesOldVersion(t *testing.T) {
	env := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(env, []byte("OPENAI_API_KEY=\"sk-bench-value\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newProtoHarness(t, env)
	old := backends.Fingerprint("OPENAI_API_KEY", []byte("sk-bench-value"))
	nv, got, diags := readWithVersion(t, h, "OPENAI_API_KEY", old)
	if len(diags) > 0 {
		t.Fatalf("ReadResource diagnostics: %s", diagText(diags))
	}
	var version string
	if err := got["version"].As(&version); err != nil {
		t.Fatal(err)
	}
	if !kdfVersion.MatchString(version) || !backends.KDFMatches(version, []byte("sk-bench-value")) {
		t.Fatalf("upgraded version %q: want the kdf1 form of the stored value", version)
	}
	var wov big.Float
	if err := got["value_wo_version"].As(&wov); err != nil || wov.Cmp(big.NewFloat(1)) != 0 {
		t.Fatalf("value_wo_version after the upgrade: got %v (%v), want 1 kept (no rewrite)", &wov, err)
	}
	plan, err := h.srv.PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{
		TypeName: "llmsecret_secret", PriorState: dynamic(t, nv), ProposedNewState: dynamic(t, nv),
		Config: dynamic(t, h.secretConfig("OPENAI_API_KEY")),
	})
	if err != nil || len(plan.Diagnostics) > 0 {
		t.Fatalf("PlanResourceChange: %v %s", err, diagText(plan.Diagnostics))
	}
	planned, err := plan.PlannedState.Unmarshal(h.resource)
	if err != nil {
		t.Fatal(err)
	}
	if !planned.Equal(nv) {
		t.Errorf("plan after the upgrade is not empty:\nprior   %v\nplanned %v", nv, planned)
	}
}

// TestSecretResourceRead_oldVersionDrift: an old-format version of another
// value is drift (warning, value_wo written again), not a silent upgrade.
func TestSecretResourceRead_oldVersionDrift(t *testing.T) {
	env := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(env, []byte("OPENAI_API_KEY=\"sk-changed\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newProtoHarness(t, env)
	_, got, diags := readWithVersion(t, h, "OPENAI_API_KEY", backends.Fingerprint("OPENAI_API_KEY", []byte("sk-bench-value")))
	if !strings.Contains(diagText(diags), "changed outside Terraform") {
		t.Errorf("diagnostics %s: want the drift warning", diagText(diags))
	}
	if !got["value_wo_version"].IsNull() {
		t.Errorf("value_wo_version after drift: got %v, want null (the plan writes value_wo again)", got["value_wo_version"])
	}
}

// BenchmarkRefresh1000LocalSecrets is a refresh (validate + read + plan) of
// 1,000 secrets on the local store whose states hold the salted version: the
// cost of one argon2id per secret included.
func BenchmarkRefresh1000LocalSecrets(b *testing.B) {
	env := filepath.Join(b.TempDir(), ".env")
	var body strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&body, "K%04d=\"sk-bench-value\"\n", i)
	}
	if err := os.WriteFile(env, []byte(body.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	h := newProtoHarness(b, env)
	states := make([]*tfprotov6.DynamicValue, 1000)
	configs := make([]*tfprotov6.DynamicValue, 1000)
	for i := range states {
		name := fmt.Sprintf("K%04d", i)
		var attrs map[string]tftypes.Value
		if err := h.secretState(name).As(&attrs); err != nil {
			b.Fatal(err)
		}
		attrs["version"] = tftypes.NewValue(tftypes.String, backends.KDFVersion([]byte("sk-bench-value")))
		states[i] = dynamic(b, tftypes.NewValue(h.resource, attrs))
		configs[i] = dynamic(b, h.secretConfig(name))
	}
	b.ResetTimer()
	for b.Loop() {
		for i := range states {
			h.refresh(b, states[i], configs[i])
		}
	}
}
