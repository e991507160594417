package provider

import (
	"context"
	"fmt"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// protoHarness drives the provider's protocol server in process, as the CLI
// does, without the CLI: what a plan of thousands of secrets costs the
// provider itself per resource.
type protoHarness struct {
	srv      tfprotov6.ProviderServer
	resource tftypes.Object
}

// newProtoHarness configures the provider on a local store at envFile.
func newProtoHarness(tb testing.TB, envFile string) *protoHarness {
	tb.Helper()
	return newProtoHarnessWith(tb, envFile, nil)
}

// newProtoHarnessWith is newProtoHarness with more top-level provider
// attributes set.
func newProtoHarnessWith(tb testing.TB, envFile string, extra map[string]tftypes.Value) *protoHarness {
	tb.Helper()
	ctx := context.Background()
	srv, err := providerserver.NewProtocol6WithError(New("bench")())()
	if err != nil {
		tb.Fatal(err)
	}
	schemas, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil || len(schemas.Diagnostics) > 0 {
		tb.Fatalf("GetProviderSchema: %v %s", err, diagText(schemas.Diagnostics))
	}
	providerType := asObject(tb, schemas.Provider.ValueType())
	localType := asObject(tb, providerType.AttributeTypes["local"])
	settingsType := asObject(tb, providerType.AttributeTypes["key_management_settings"])
	attrs := map[string]tftypes.Value{
		"local": nullsExcept(localType, map[string]tftypes.Value{"env_file": tftypes.NewValue(tftypes.String, envFile)}),
		"key_management_settings": nullsExcept(settingsType, map[string]tftypes.Value{
			"access_mode": tftypes.NewValue(tftypes.String, "read_and_write"),
		}),
	}
	maps.Copy(attrs, extra)
	config := nullsExcept(providerType, attrs)
	resp, err := srv.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: dynamic(tb, config)})
	if err != nil || len(resp.Diagnostics) > 0 {
		tb.Fatalf("ConfigureProvider: %v %s", err, diagText(resp.Diagnostics))
	}
	return &protoHarness{srv: srv, resource: asObject(tb, schemas.ResourceSchemas["llmsecret_secret"].ValueType())}
}

// nullsExcept is an object of type t whose attributes are null but for set.
func nullsExcept(t tftypes.Object, set map[string]tftypes.Value) tftypes.Value {
	vals := make(map[string]tftypes.Value, len(t.AttributeTypes))
	for name, at := range t.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
		if v, ok := set[name]; ok {
			vals[name] = v
		}
	}
	return tftypes.NewValue(t, vals)
}

func dynamic(tb testing.TB, v tftypes.Value) *tfprotov6.DynamicValue {
	tb.Helper()
	dv, err := tfprotov6.NewDynamicValue(v.Type(), v)
	if err != nil {
		tb.Fatal(err)
	}
	return &dv
}

// secretState is the state of one llmsecret_secret written with value_wo, as
// an apply of make bench's configuration leaves it.
func (h *protoHarness) secretState(name string) tftypes.Value {
	return nullsExcept(h.resource, map[string]tftypes.Value{
		"id":               tftypes.NewValue(tftypes.String, name),
		"name":             tftypes.NewValue(tftypes.String, name),
		"full_name":        tftypes.NewValue(tftypes.String, name),
		"value_wo_version": tftypes.NewValue(tftypes.Number, big.NewFloat(1)),
		"deletion_policy":  tftypes.NewValue(tftypes.String, "delete"),
		"virtual_key":      tftypes.NewValue(tftypes.Bool, false),
	})
}

// secretConfig is make bench's configuration of that secret.
func (h *protoHarness) secretConfig(name string) tftypes.Value {
	return nullsExcept(h.resource, map[string]tftypes.Value{
		"name":             tftypes.NewValue(tftypes.String, name),
		"value_wo":         tftypes.NewValue(tftypes.String, "sk-bench-value"),
		"value_wo_version": tftypes.NewValue(tftypes.Number, big.NewFloat(1)),
	})
}

// refresh is what a plan does to one secret: validate its configuration,
// read it, plan it. It fails tb unless the plan is empty.
func (h *protoHarness) refresh(tb testing.TB, state, config *tfprotov6.DynamicValue) {
	ctx := context.Background()
	v, err := h.srv.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{
		TypeName: "llmsecret_secret", Config: config,
		ClientCapabilities: &tfprotov6.ValidateResourceConfigClientCapabilities{WriteOnlyAttributesAllowed: true},
	})
	if err != nil || len(v.Diagnostics) > 0 {
		tb.Fatalf("ValidateResourceConfig: %v %s", err, diagText(v.Diagnostics))
	}
	read, err := h.srv.ReadResource(ctx, &tfprotov6.ReadResourceRequest{TypeName: "llmsecret_secret", CurrentState: state})
	if err != nil || len(read.Diagnostics) > 0 {
		tb.Fatalf("ReadResource: %v %s", err, diagText(read.Diagnostics))
	}
	plan, err := h.srv.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
		TypeName: "llmsecret_secret", PriorState: read.NewState, ProposedNewState: read.NewState, Config: config,
	})
	if err != nil || len(plan.Diagnostics) > 0 {
		tb.Fatalf("PlanResourceChange: %v %s", err, diagText(plan.Diagnostics))
	}
	if len(plan.RequiresReplace) > 0 {
		tb.Fatalf("PlanResourceChange wants to replace %v", plan.RequiresReplace)
	}
}

// BenchmarkSecretResourceRefresh is the provider's CPU per secret in a plan
// (validate + read + plan) on the local store, without the CLI.
func BenchmarkSecretResourceRefresh(b *testing.B) {
	env := filepath.Join(b.TempDir(), ".env")
	if err := os.WriteFile(env, []byte("OPENAI_API_KEY=\"sk-bench-value\"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	h := newProtoHarness(b, env)
	state := dynamic(b, h.secretState("OPENAI_API_KEY"))
	config := dynamic(b, h.secretConfig("OPENAI_API_KEY"))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.refresh(b, state, config)
	}
}

func diagText(ds []*tfprotov6.Diagnostic) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "[%s] %s: %s; ", d.Severity, d.Summary, d.Detail)
	}
	return b.String()
}

// asObject is t as an object type; it fails tb when t is not one.
func asObject(tb testing.TB, t tftypes.Type) tftypes.Object {
	tb.Helper()
	o, ok := t.(tftypes.Object)
	if !ok {
		tb.Fatalf("%s is not an object type", t)
	}
	return o
}
