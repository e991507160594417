package provider

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// planWarnings plans the creation of one llmsecret_secret per config through
// the protocol server, as the CLI does in one run, and returns the "Prefer
// value_wo" warnings the plans gave.
func planWarnings(t *testing.T, h *protoHarness, configs ...tftypes.Value) []*tfprotov6.Diagnostic {
	t.Helper()
	ctx := context.Background()
	var warnings []*tfprotov6.Diagnostic
	for _, c := range configs {
		config := dynamic(t, c)
		v, err := h.srv.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{
			TypeName: "llmsecret_secret", Config: config,
			ClientCapabilities: &tfprotov6.ValidateResourceConfigClientCapabilities{WriteOnlyAttributesAllowed: true},
		})
		if err != nil {
			t.Fatal(err)
		}
		plan, err := h.srv.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
			TypeName: "llmsecret_secret", PriorState: dynamic(t, tftypes.NewValue(h.resource, nil)),
			ProposedNewState: config, Config: config,
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range append(v.Diagnostics, plan.Diagnostics...) {
			switch {
			case d.Severity == tfprotov6.DiagnosticSeverityError:
				t.Fatalf("planning %s: %s", c, diagText([]*tfprotov6.Diagnostic{d}))
			case d.Summary == "Prefer value_wo":
				warnings = append(warnings, d)
			}
		}
	}
	return warnings
}

// TestValueWarningOncePerRun: three secrets with value give the "Prefer
// value_wo" warning once in a run, pointing at value; the provider's
// suppress_value_warning silences it; value_wo never gives it.
func TestValueWarningOncePerRun(t *testing.T) {
	withValue := func(h *protoHarness, name string) tftypes.Value {
		return nullsExcept(h.resource, map[string]tftypes.Value{
			"name": tftypes.NewValue(tftypes.String, name), "value": tftypes.NewValue(tftypes.String, "sk-"+name),
		})
	}
	env := func() string { return filepath.Join(t.TempDir(), ".env") }

	t.Run("once for three secrets", func(t *testing.T) {
		h := newProtoHarness(t, env())
		got := planWarnings(t, h, withValue(h, "A_KEY"), withValue(h, "B_KEY"), withValue(h, "C_KEY"))
		if len(got) != 1 {
			t.Fatalf("got %d \"Prefer value_wo\" warnings for three secrets with value, want 1: %s", len(got), diagText(got))
		}
		if got[0].Severity != tfprotov6.DiagnosticSeverityWarning || got[0].Attribute.String() != tftypes.NewAttributePath().WithAttributeName("value").String() {
			t.Errorf("warning %s at %v, want a warning on value", got[0].Severity, got[0].Attribute)
		}
	})
	t.Run("none with suppress_value_warning", func(t *testing.T) {
		h := newProtoHarnessWith(t, env(), map[string]tftypes.Value{"suppress_value_warning": tftypes.NewValue(tftypes.Bool, true)})
		if got := planWarnings(t, h, withValue(h, "A_KEY"), withValue(h, "B_KEY"), withValue(h, "C_KEY")); len(got) != 0 {
			t.Fatalf("got %d \"Prefer value_wo\" warnings with suppress_value_warning = true, want none: %s", len(got), diagText(got))
		}
	})
	t.Run("once with suppress_value_warning = false", func(t *testing.T) {
		h := newProtoHarnessWith(t, env(), map[string]tftypes.Value{"suppress_value_warning": tftypes.NewValue(tftypes.Bool, false)})
		if got := planWarnings(t, h, withValue(h, "A_KEY"), withValue(h, "B_KEY")); len(got) != 1 {
			t.Fatalf("got %d \"Prefer value_wo\" warnings, want 1: %s", len(got), diagText(got))
		}
	})
	t.Run("none for value_wo", func(t *testing.T) {
		h := newProtoHarness(t, env())
		wo := nullsExcept(h.resource, map[string]tftypes.Value{
			"name": tftypes.NewValue(tftypes.String, "A_KEY"), "value_wo": tftypes.NewValue(tftypes.String, "sk-a"),
			"value_wo_version": tftypes.NewValue(tftypes.Number, 1),
		})
		if got := planWarnings(t, h, wo); len(got) != 0 {
			t.Fatalf("got %d \"Prefer value_wo\" warnings for value_wo, want none: %s", len(got), diagText(got))
		}
	})
}
