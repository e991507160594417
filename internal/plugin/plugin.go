// Package plugin serves the provider to Terraform and OpenTofu over plugin
// protocol 6, as providerserver.Serve does, with two fixes for runs of
// thousands of resources:
//
//   - The plugin's own loggers are turned off when the CLI would discard what
//     they write (QuietUnlessLogging).
//   - Each request's context is handed to the framework through a wrapper
//     that lets go of the request's context chain when the request returns.
//     terraform-plugin-framework v1.19.0 keeps the cancel function of every
//     request's context until StopProvider (proto6server registerContext),
//     and with it the whole chain (loggers, gRPC stream): about 20 KB per
//     request, so a plan of 2,000 secrets held over 100 MB that the garbage
//     collector could never free. With the wrapper a request leaves a few
//     hundred bytes behind.
package plugin

import (
	"context"
	"os"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
)

// Serve serves the provider made by p at address until the CLI stops it.
// debugMode runs it for a debugger (-debug): it prints TF_REATTACH_PROVIDERS and
// waits.
func Serve(address string, p func() provider.Provider, debugMode bool) error {
	QuietUnlessLogging()
	TuneGC()
	var opts []tf6server.ServeOpt
	if debugMode {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	return tf6server.Serve(address, func() tfprotov6.ProviderServer {
		return Detach(providerserver.NewProtocol6(p())())
	}, opts...)
}

// QuietUnlessLogging turns the plugin's own loggers off when the CLI would
// discard what they write. Terraform and OpenTofu forward a provider's log
// lines only when TF_LOG_PROVIDER or TF_LOG sets a level; otherwise they
// drop them. terraform-plugin-go and the framework, though, log at TRACE by
// default, so every request would format and pipe dozens of JSON lines that
// nobody reads (a fifth of the provider's CPU in a plan of thousands of
// resources, and CLI time to drop them). Levels the user set are kept.
func QuietUnlessLogging() {
	for _, v := range []string{"TF_LOG_PROVIDER", "TF_LOG"} {
		if l := strings.TrimSpace(os.Getenv(v)); l != "" && !strings.EqualFold(l, "off") {
			return
		}
	}
	for _, v := range []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PROVIDER_LLMSECRET"} {
		if _, set := os.LookupEnv(v); !set {
			_ = os.Setenv(v, "off")
		}
	}
}

// GC settings of the plugin process, unless GOGC or GOMEMLIMIT says otherwise.
const (
	gcPercent   = 200
	memoryLimit = 32 << 20
)

// TuneGC makes the garbage collector run half as often as Go's default. The
// framework allocates about half a megabyte of short-lived values per
// resource per plan while the live heap stays near 10 MB, so with GOGC=100
// the collector ran every few resources and took a fifth of the provider's
// CPU. GOGC=200 halves that; the soft memory limit (32 MiB of Go memory, on
// top of the ~25 MB of mapped binary) keeps peak RSS under 60 MB at 2,000
// resources, measured by make bench. GOGC=400 measured 68 MB.
func TuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(memoryLimit)
	}
}

// Detach wraps s so that the per-request methods see a context that drops
// its reference to the request's context chain when the method returns.
// Configuration and schema calls pass through unchanged (they happen once).
func Detach(s tfprotov6.ProviderServer) tfprotov6.ProviderServer { return server{s} }

type server struct{ tfprotov6.ProviderServer }

// call runs f with a detachable context released when f returns.
func call[Req, Resp any](ctx context.Context, req Req, f func(context.Context, Req) (Resp, error)) (Resp, error) {
	d := &detachable{}
	d.cur.Store(&holder{ctx})
	defer d.cur.Store(&released)
	return f(d, req)
}

// detachable is a context that delegates to the request's context until the
// request returns, then to a canceled context with no values.
type detachable struct{ cur atomic.Pointer[holder] }

type holder struct{ ctx context.Context }

var released = func() holder {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return holder{ctx}
}()

func (d *detachable) Deadline() (time.Time, bool) { return d.cur.Load().ctx.Deadline() }
func (d *detachable) Done() <-chan struct{}       { return d.cur.Load().ctx.Done() }
func (d *detachable) Err() error                  { return d.cur.Load().ctx.Err() }
func (d *detachable) Value(key any) any           { return d.cur.Load().ctx.Value(key) }

func (s server) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	return call(ctx, req, s.ProviderServer.ValidateResourceConfig)
}

func (s server) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	return call(ctx, req, s.ProviderServer.UpgradeResourceState)
}

func (s server) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	return call(ctx, req, s.ProviderServer.ReadResource)
}

func (s server) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	return call(ctx, req, s.ProviderServer.PlanResourceChange)
}

func (s server) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	return call(ctx, req, s.ProviderServer.ApplyResourceChange)
}

func (s server) ImportResourceState(ctx context.Context, req *tfprotov6.ImportResourceStateRequest) (*tfprotov6.ImportResourceStateResponse, error) {
	return call(ctx, req, s.ProviderServer.ImportResourceState)
}

func (s server) UpgradeResourceIdentity(ctx context.Context, req *tfprotov6.UpgradeResourceIdentityRequest) (*tfprotov6.UpgradeResourceIdentityResponse, error) {
	return call(ctx, req, s.ProviderServer.UpgradeResourceIdentity)
}

func (s server) ValidateDataResourceConfig(ctx context.Context, req *tfprotov6.ValidateDataResourceConfigRequest) (*tfprotov6.ValidateDataResourceConfigResponse, error) {
	return call(ctx, req, s.ProviderServer.ValidateDataResourceConfig)
}

func (s server) ReadDataSource(ctx context.Context, req *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	return call(ctx, req, s.ProviderServer.ReadDataSource)
}

func (s server) ValidateEphemeralResourceConfig(ctx context.Context, req *tfprotov6.ValidateEphemeralResourceConfigRequest) (*tfprotov6.ValidateEphemeralResourceConfigResponse, error) {
	return call(ctx, req, s.ProviderServer.ValidateEphemeralResourceConfig)
}

func (s server) OpenEphemeralResource(ctx context.Context, req *tfprotov6.OpenEphemeralResourceRequest) (*tfprotov6.OpenEphemeralResourceResponse, error) {
	return call(ctx, req, s.ProviderServer.OpenEphemeralResource)
}

func (s server) CloseEphemeralResource(ctx context.Context, req *tfprotov6.CloseEphemeralResourceRequest) (*tfprotov6.CloseEphemeralResourceResponse, error) {
	return call(ctx, req, s.ProviderServer.CloseEphemeralResource)
}

// listServer is what the framework's server implements for `terraform
// query` (list resources). tfprotov6 keeps it out of ProviderServer for now,
// and tf6server finds it by a type assertion: the wrapper must implement it
// too, or every list block fails with "ValidateListResourceConfig Not
// Implemented".
type listServer interface {
	tfprotov6.ProviderServer
	tfprotov6.ListResourceServer
}

var _ tfprotov6.ListResourceServer = server{}

func (s server) ValidateListResourceConfig(ctx context.Context, req *tfprotov6.ValidateListResourceConfigRequest) (*tfprotov6.ValidateListResourceConfigResponse, error) {
	l, ok := s.ProviderServer.(listServer)
	if !ok {
		return &tfprotov6.ValidateListResourceConfigResponse{}, nil
	}
	return call(ctx, req, l.ValidateListResourceConfig)
}

// ListResource passes the request's own context through: the results stream
// is read after the method returns, so a detached context would already be
// canceled when the first page is fetched.
func (s server) ListResource(ctx context.Context, req *tfprotov6.ListResourceRequest) (*tfprotov6.ListResourceServerStream, error) {
	l, ok := s.ProviderServer.(listServer)
	if !ok {
		return &tfprotov6.ListResourceServerStream{Results: tfprotov6.NoListResults}, nil
	}
	return l.ListResource(ctx, req)
}
