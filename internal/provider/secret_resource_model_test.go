package provider

import (
	"context"
	"math/big"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// TestSecretCodecMatchesFramework pins the hand-written codec of
// llmsecret_secret to the schema: for states, plans and configs of every
// shape, decodeSecret reads what the framework's reflection reads, and
// encodeSecret writes back the very value it was given (and what the
// framework's reflection would write).
func TestSecretCodecMatchesFramework(t *testing.T) {
	ctx := context.Background()
	var sr resource.SchemaResponse
	NewSecretResource().Schema(ctx, resource.SchemaRequest{}, &sr)
	typ := asObject(t, sr.Schema.Type().TerraformType(ctx))
	timeoutsT := asObject(t, typ.AttributeTypes["timeouts"])

	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	unknown := func(t tftypes.Type) tftypes.Value { return tftypes.NewValue(t, tftypes.UnknownValue) }
	tagsT := tftypes.Map{ElementType: tftypes.String}
	cases := map[string]map[string]tftypes.Value{
		"config with value_wo": {
			"name": str("OPENAI_API_KEY"), "value_wo": str("sk-1"),
			"value_wo_version": tftypes.NewValue(tftypes.Number, big.NewFloat(3)),
		},
		"state after apply": {
			"id": str("llm/OPENAI_API_KEY"), "name": str("OPENAI_API_KEY"), "prefix": str("llm/"),
			"full_name": str("llm/OPENAI_API_KEY"), "value_wo_version": tftypes.NewValue(tftypes.Number, big.NewFloat(1)),
			"description": str("key"), "version": str("7"), "deletion_policy": str("soft_delete"),
			"virtual_key": tftypes.NewValue(tftypes.Bool, true),
			"tags":        tftypes.NewValue(tagsT, map[string]tftypes.Value{"team": str("ml"), "env": str("")}),
			"tags_all":    tftypes.NewValue(tagsT, map[string]tftypes.Value{"team": str("ml"), "env": str(""), "owner": str("platform")}),
			"timeouts":    nullsExcept(timeoutsT, map[string]tftypes.Value{"create": str("2m"), "read": str("30s")}),
		},
		"plan with unknowns": {
			"id": unknown(tftypes.String), "name": str("A"), "full_name": unknown(tftypes.String),
			"value": str("v"), "version": unknown(tftypes.String), "ciphertext": unknown(tftypes.String),
			"tags":     tftypes.NewValue(tagsT, map[string]tftypes.Value{"k": unknown(tftypes.String)}),
			"tags_all": unknown(tagsT),
			"timeouts": unknown(timeoutsT),
		},
		"empty tags, unknown tags map": {
			"name": str("B"), "tags": tftypes.NewValue(tagsT, map[string]tftypes.Value{}),
			"description": unknown(tftypes.String), "value_wo_version": unknown(tftypes.Number),
		},
		"unknown tags":      {"name": str("C"), "tags": unknown(tagsT), "deletion_policy": unknown(tftypes.String), "virtual_key": unknown(tftypes.Bool)},
		"virtual_key false": {"name": str("V"), "virtual_key": tftypes.NewValue(tftypes.Bool, false)},
		"all null":          {},
	}
	for name, set := range cases {
		t.Run(name, func(t *testing.T) {
			raw := nullsExcept(typ, set)
			got, diags := decodeSecret(ctx, raw)
			if diags.HasError() {
				t.Fatalf("decodeSecret: %v", diags)
			}
			var want SecretResourceModel
			if d := (tfsdk.State{Schema: sr.Schema, Raw: raw}).Get(ctx, &want); d.HasError() {
				t.Fatalf("framework Get: %v", d)
			}
			if !modelsEqual(got, want) {
				t.Fatalf("decodeSecret read\n%+v\nthe framework reads\n%+v", got, want)
			}
			back, diags := encodeSecret(ctx, typ, &got)
			if diags.HasError() {
				t.Fatalf("encodeSecret: %v", diags)
			}
			if !back.Equal(raw) {
				t.Fatalf("encodeSecret wrote\n%s\nwant\n%s", back, raw)
			}
			fw := tfsdk.State{Schema: sr.Schema, Raw: tftypes.NewValue(typ, nil)}
			if d := fw.Set(ctx, &want); d.HasError() {
				t.Fatalf("framework Set: %v", d)
			}
			if !back.Equal(fw.Raw) {
				t.Fatalf("encodeSecret wrote\n%s\nthe framework writes\n%s", back, fw.Raw)
			}
		})
	}

	t.Run("zero model encodes as nulls", func(t *testing.T) {
		var m SecretResourceModel
		m.Name = types.StringValue("D")
		got, diags := encodeSecret(ctx, typ, &m)
		if diags.HasError() {
			t.Fatalf("encodeSecret: %v", diags)
		}
		if want := nullsExcept(typ, map[string]tftypes.Value{"name": str("D")}); !got.Equal(want) {
			t.Fatalf("got\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("a value of another type is an error, and leaves the target alone", func(t *testing.T) {
		wrong := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"name": tftypes.String}}
		dst := str("untouched")
		m := SecretResourceModel{Name: types.StringValue("E")}
		if d := setSecret(ctx, &dst, wrong, &m); !d.HasError() {
			t.Fatal("setSecret accepted a type that is not llmsecret_secret's")
		}
		if !dst.Equal(str("untouched")) {
			t.Fatalf("setSecret changed its target on error: %s", dst)
		}
	})
}

// modelsEqual compares two models attribute by attribute.
func modelsEqual(a, b SecretResourceModel) bool {
	return a.ID.Equal(b.ID) && a.Name.Equal(b.Name) && a.Prefix.Equal(b.Prefix) && a.VirtualKey.Equal(b.VirtualKey) && a.FullName.Equal(b.FullName) &&
		a.Value.Equal(b.Value) && a.ValueWO.Equal(b.ValueWO) && a.ValueWOVersion.Equal(b.ValueWOVersion) &&
		a.Description.Equal(b.Description) && a.Tags.Equal(b.Tags) && a.TagsAll.Equal(b.TagsAll) && a.Version.Equal(b.Version) &&
		a.DeletionPolicy.Equal(b.DeletionPolicy) && a.Ciphertext.Equal(b.Ciphertext) && a.Timeouts.Equal(b.Timeouts)
}
