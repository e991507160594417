package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// llmsecret_secret's state, plan and config convert to and from
// SecretResourceModel here, attribute by attribute, instead of through the
// framework's reflection (tfsdk.State.Get/Set). A plan of thousands of
// secrets converts each one several times, and the reflection path
// recompiles a regular expression per struct field and walks the schema per
// attribute: it was a third of the provider's CPU in a refresh. The
// round-trip test pins this codec to the schema.

// timeoutsType is the type of the timeouts block's value.
var timeoutsType = timeouts.Type{ObjectType: types.ObjectType{AttrTypes: map[string]attr.Type{
	"create": types.StringType, "read": types.StringType, "update": types.StringType, "delete": types.StringType,
}}}

// tagsType is the type of tags.
var tagsType = types.MapType{ElemType: types.StringType}

// decodeSecret reads an llmsecret_secret object (state, plan or config).
func decodeSecret(ctx context.Context, raw tftypes.Value) (SecretResourceModel, diag.Diagnostics) {
	var (
		m     SecretResourceModel
		diags diag.Diagnostics
		attrs map[string]tftypes.Value
	)
	if err := raw.As(&attrs); err != nil {
		diags.AddError("Value Conversion Error", fmt.Sprintf("reading llmsecret_secret: %s; please report this provider bug", err))
		return m, diags
	}
	// read decodes attribute name with type t into dst.
	read := func(name string, t attr.Type, dst func(attr.Value) bool) {
		v, err := t.ValueFromTerraform(ctx, attrOrNull(attrs, name, t.TerraformType(ctx)))
		if err == nil && !dst(v) {
			err = fmt.Errorf("decoded as %T", v)
		}
		if err != nil {
			diags.AddError("Value Conversion Error", fmt.Sprintf("reading llmsecret_secret.%s: %s; please report this provider bug", name, err))
		}
	}
	for _, f := range [...]struct {
		name string
		dst  *types.String
	}{
		{"id", &m.ID}, {"name", &m.Name}, {"prefix", &m.Prefix}, {"full_name", &m.FullName}, {"value", &m.Value},
		{"value_wo", &m.ValueWO}, {"description", &m.Description}, {"version", &m.Version},
		{"deletion_policy", &m.DeletionPolicy}, {"ciphertext", &m.Ciphertext},
		{"use_aws_kms_env_name", &m.UseAWSKMSEnvName}, {"use_aws_kms_env_value", &m.UseAWSKMSEnvValue},
	} {
		read(f.name, types.StringType, func(v attr.Value) (ok bool) { *f.dst, ok = v.(types.String); return ok })
	}
	read("virtual_key", types.BoolType, func(v attr.Value) (ok bool) { m.VirtualKey, ok = v.(types.Bool); return ok })
	read("value_wo_version", types.Int64Type, func(v attr.Value) (ok bool) { m.ValueWOVersion, ok = v.(types.Int64); return ok })
	read("tags", tagsType, func(v attr.Value) (ok bool) { m.Tags, ok = v.(types.Map); return ok })
	read("tags_all", tagsType, func(v attr.Value) (ok bool) { m.TagsAll, ok = v.(types.Map); return ok })
	read("timeouts", timeoutsType, func(v attr.Value) (ok bool) { m.Timeouts, ok = v.(timeouts.Value); return ok })
	return m, diags
}

// attrOrNull is attrs[name], or null of type t when the object lacks it (a
// null object has no attributes).
func attrOrNull(attrs map[string]tftypes.Value, name string, t tftypes.Type) tftypes.Value {
	if v, ok := attrs[name]; ok {
		return v
	}
	return tftypes.NewValue(t, nil)
}

// encodeSecret is m as an llmsecret_secret object of type typ (the type of
// the request's state or plan).
func encodeSecret(ctx context.Context, typ tftypes.Type, m *SecretResourceModel) (tftypes.Value, diag.Diagnostics) {
	var diags diag.Diagnostics
	t := m.Timeouts
	if len(t.AttributeTypes(ctx)) == 0 {
		t = timeoutsNull()
	}
	tags, tagsAll := m.Tags, m.TagsAll
	if tags.ElementType(ctx) == nil {
		tags = types.MapNull(types.StringType)
	}
	if tagsAll.ElementType(ctx) == nil {
		tagsAll = types.MapNull(types.StringType)
	}
	fields := map[string]attr.Value{
		"id": m.ID, "name": m.Name, "prefix": m.Prefix, "virtual_key": m.VirtualKey, "full_name": m.FullName,
		"value": m.Value, "value_wo": m.ValueWO, "value_wo_version": m.ValueWOVersion,
		"description": m.Description, "tags": tags, "tags_all": tagsAll, "version": m.Version,
		"deletion_policy": m.DeletionPolicy, "ciphertext": m.Ciphertext, "timeouts": t,
		"use_aws_kms_env_name": m.UseAWSKMSEnvName, "use_aws_kms_env_value": m.UseAWSKMSEnvValue,
	}
	vals := make(map[string]tftypes.Value, len(fields))
	for name, f := range fields {
		v, err := f.ToTerraformValue(ctx)
		if err != nil {
			diags.AddError("Value Conversion Error", fmt.Sprintf("writing llmsecret_secret.%s: %s; please report this provider bug", name, err))
			return tftypes.Value{}, diags
		}
		vals[name] = v
	}
	if err := tftypes.ValidateValue(typ, vals); err != nil {
		diags.AddError("Value Conversion Error", fmt.Sprintf("writing llmsecret_secret: %s; please report this provider bug", err))
		return tftypes.Value{}, diags
	}
	return tftypes.NewValue(typ, vals), diags
}

// getSecret decodes raw into m.
func getSecret(ctx context.Context, raw tftypes.Value, m *SecretResourceModel) diag.Diagnostics {
	var diags diag.Diagnostics
	*m, diags = decodeSecret(ctx, raw)
	return diags
}

// setSecret encodes m as an object of type typ into dst, which it leaves
// unchanged when m does not convert.
func setSecret(ctx context.Context, dst *tftypes.Value, typ tftypes.Type, m *SecretResourceModel) diag.Diagnostics {
	v, diags := encodeSecret(ctx, typ, m)
	if !diags.HasError() {
		*dst = v
	}
	return diags
}

// attrState is whether a configuration attribute is null, set or unknown.
type attrState int

const (
	attrNull attrState = iota
	attrSet
	attrUnknown
)

// configStates is the state of each named attribute of the object raw, in
// order. Attributes of a null object are null, those of an unknown object
// unknown.
func configStates(raw tftypes.Value, names ...string) []attrState {
	out := make([]attrState, len(names))
	var attrs map[string]tftypes.Value
	switch {
	case raw.IsNull():
		return out
	case !raw.IsKnown() || raw.As(&attrs) != nil:
		for i := range out {
			out[i] = attrUnknown
		}
		return out
	}
	for i, name := range names {
		switch v, ok := attrs[name]; {
		case !ok || v.IsNull():
			out[i] = attrNull
		case !v.IsKnown():
			out[i] = attrUnknown
		default:
			out[i] = attrSet
		}
	}
	return out
}

// stringMap is the known elements of a map of strings.
func stringMap(m types.Map) map[string]string {
	out := make(map[string]string, len(m.Elements()))
	for k, v := range m.Elements() {
		if sv, ok := v.(types.String); ok && !sv.IsNull() && !sv.IsUnknown() {
			out[k] = sv.ValueString()
		}
	}
	return out
}
