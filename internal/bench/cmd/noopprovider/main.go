// Command noopprovider is the bench's plugin floor (target "noop"): the
// llmsecret provider with the very same schemas, whose llmsecret_secret is
// served by do-nothing handlers at the protocol level, without the framework
// and without a store. Read returns the state it was given, plan returns the
// proposed state, apply fills in the computed attributes. What the CLI spends
// on it is what serving thousands of resources of this schema through any
// plugin costs the CLI (gRPC, msgpack, schema checks), which no provider can
// go below; the difference to the real provider is the provider's own share.
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/plugin"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/provider"
)

const secretType = "llmsecret_secret"

func main() {
	plugin.QuietUnlessLogging()
	plugin.TuneGC()
	err := tf6server.Serve("registry.terraform.io/llmsecret/llmsecret", func() tfprotov6.ProviderServer {
		s, err := newServer(context.Background())
		if err != nil {
			log.Fatal(err)
		}
		return s
	})
	if err != nil {
		log.Fatal(err)
	}
}

// server is the real provider's server but for llmsecret_secret's
// per-instance calls.
type server struct {
	tfprotov6.ProviderServer
	typ tftypes.Object
}

func newServer(ctx context.Context) (*server, error) {
	fw := plugin.Detach(providerserver.NewProtocol6(provider.New("noop")())())
	schemas, err := fw.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		return nil, err
	}
	rs, ok := schemas.ResourceSchemas[secretType]
	if !ok {
		return nil, fmt.Errorf("the provider has no %s", secretType)
	}
	typ, ok := rs.ValueType().(tftypes.Object)
	if !ok {
		return nil, fmt.Errorf("%s's type is %s, not an object", secretType, rs.ValueType())
	}
	return &server{ProviderServer: fw, typ: typ}, nil
}

func (s *server) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	if req.TypeName != secretType {
		return s.ProviderServer.ValidateResourceConfig(ctx, req)
	}
	return &tfprotov6.ValidateResourceConfigResponse{}, nil
}

func (s *server) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	if req.TypeName != secretType {
		return s.ProviderServer.UpgradeResourceState(ctx, req)
	}
	v, err := req.RawState.UnmarshalWithOpts(s.typ, tfprotov6.UnmarshalOpts{
		ValueFromJSONOpts: tftypes.ValueFromJSONOpts{IgnoreUndefinedAttributes: true},
	})
	if err != nil {
		return nil, err
	}
	dv, err := tfprotov6.NewDynamicValue(s.typ, v)
	return &tfprotov6.UpgradeResourceStateResponse{UpgradedState: &dv}, err
}

func (s *server) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	if req.TypeName != secretType {
		return s.ProviderServer.ReadResource(ctx, req)
	}
	return &tfprotov6.ReadResourceResponse{NewState: req.CurrentState, Private: req.Private}, nil
}

func (s *server) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	if req.TypeName != secretType {
		return s.ProviderServer.PlanResourceChange(ctx, req)
	}
	proposed, attrs, err := s.object(req.ProposedNewState)
	if err != nil || proposed.IsNull() {
		return &tfprotov6.PlanResourceChangeResponse{PlannedState: req.ProposedNewState, PlannedPrivate: req.PriorPrivate}, err
	}
	prior, err := req.PriorState.Unmarshal(s.typ)
	if err != nil {
		return nil, err
	}
	attrs["value_wo"] = tftypes.NewValue(tftypes.String, nil) // write-only: never planned
	if prior.IsNull() {
		for _, computed := range []string{"id", "full_name", "version"} {
			attrs[computed] = tftypes.NewValue(tftypes.String, tftypes.UnknownValue)
		}
		if attrs["deletion_policy"].IsNull() {
			attrs["deletion_policy"] = tftypes.NewValue(tftypes.String, "delete")
		}
	}
	planned, err := tfprotov6.NewDynamicValue(s.typ, tftypes.NewValue(s.typ, attrs))
	return &tfprotov6.PlanResourceChangeResponse{PlannedState: &planned, PlannedPrivate: req.PriorPrivate}, err
}

func (s *server) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	if req.TypeName != secretType {
		return s.ProviderServer.ApplyResourceChange(ctx, req)
	}
	planned, attrs, err := s.object(req.PlannedState)
	if err != nil || planned.IsNull() {
		return &tfprotov6.ApplyResourceChangeResponse{NewState: req.PlannedState}, err
	}
	fill := map[string]tftypes.Value{"id": attrs["name"], "full_name": attrs["name"], "version": tftypes.NewValue(tftypes.String, "1")}
	for name, v := range fill {
		if !attrs[name].IsKnown() {
			attrs[name] = v
		}
	}
	state, err := tfprotov6.NewDynamicValue(s.typ, tftypes.NewValue(s.typ, attrs))
	return &tfprotov6.ApplyResourceChangeResponse{NewState: &state, Private: req.PlannedPrivate}, err
}

// object decodes dv and, unless it is null, its attributes.
func (s *server) object(dv *tfprotov6.DynamicValue) (tftypes.Value, map[string]tftypes.Value, error) {
	v, err := dv.Unmarshal(s.typ)
	if err != nil || v.IsNull() {
		return v, nil, err
	}
	var attrs map[string]tftypes.Value
	err = v.As(&attrs)
	return v, attrs, err
}
