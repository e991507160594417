package faultproxy

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// CallFault is what happens to a chosen gRPC call.
type CallFault struct {
	// Delay holds the call this long first.
	Delay time.Duration
	// Forwarded runs the call on the server before the fault, so a write
	// lands and only its answer is lost.
	Forwarded bool
	// Code fails the call with this status (codes.OK: no failure).
	Code codes.Code
	// RetryAfter adds a google.rpc.RetryInfo with this delay to Code.
	RetryAfter time.Duration
	// Hang holds the call until the client gives up. With Net, the client's
	// connections go silent (every byte dropped both ways) until then, so
	// the client's own deadline ends the call, as on a silent network, and
	// are cut afterwards; without it the server's deadline (propagated by
	// the client) ends the call with DEADLINE_EXCEEDED.
	Hang bool
	// Cut breaks the client's connections (Net's) under the call, before
	// it ran on the server or, with Forwarded, after (the answer is lost).
	Cut bool
	// Net is the TCP proxy the client reaches the server through.
	Net *TCPProxy
}

// String names the fault for reports.
func (f CallFault) String() string {
	var parts []string
	if f.Delay > 0 {
		parts = append(parts, "delay "+f.Delay.String())
	}
	if f.Forwarded {
		parts = append(parts, "forwarded")
	}
	switch {
	case f.Cut && f.Forwarded:
		parts = append(parts, "connection cut mid-answer")
	case f.Cut:
		parts = append(parts, "connection cut")
	case f.Hang:
		parts = append(parts, "hang")
	case f.Code != codes.OK:
		s := f.Code.String()
		if f.RetryAfter > 0 {
			s += " RetryInfo=" + f.RetryAfter.String()
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "pass"
	}
	return strings.Join(parts, "+")
}

// CallRule chooses gRPC calls.
type CallRule struct {
	// Method is the short method name, e.g. "AddSecretVersion" ("" any).
	Method string
	// Target is a regular expression matched against the request's
	// resource: its name, parent or secret_id field ("" any).
	Target string
	// Nth and Times choose matching calls as in Rule.
	Nth, Times int
	CallFault
}

type callRule struct {
	CallRule
	re            *regexp.Regexp
	seen, applied int
}

// hangGrace is how long a silent connection stays silent after the call's
// server-side deadline, which the client's own follows closely.
const hangGrace = 300 * time.Millisecond

// GRPCFaults is a unary server interceptor that injects faults into chosen
// calls of an in-process gRPC server.
type GRPCFaults struct {
	mu     sync.Mutex
	rules  []*callRule
	stats  Stats
	events []Event
}

// NewGRPC returns an injector without rules.
func NewGRPC() *GRPCFaults { return &GRPCFaults{} }

// ServerOption installs the injector on a server (the fakes' Start take
// server options).
func (g *GRPCFaults) ServerOption() grpc.ServerOption {
	return grpc.ChainUnaryInterceptor(g.intercept)
}

// Add appends rules; the first that applies wins.
func (g *GRPCFaults) Add(rules ...CallRule) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, r := range rules {
		c := &callRule{CallRule: r}
		if r.Target != "" {
			c.re = regexp.MustCompile(r.Target)
		}
		if c.Nth <= 0 {
			c.Nth = 1
		}
		if c.Times == 0 {
			c.Times = 1
		}
		g.rules = append(g.rules, c)
	}
}

// Clear removes every rule.
func (g *GRPCFaults) Clear() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rules = nil
}

// Stats returns the counters (Requests counts calls).
func (g *GRPCFaults) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stats.clone()
}

// target is the resource a request names, without its payload.
func target(req any) string {
	var parts []string
	if r, ok := req.(interface{ GetName() string }); ok && r.GetName() != "" {
		parts = append(parts, r.GetName())
	}
	if r, ok := req.(interface{ GetParent() string }); ok && r.GetParent() != "" {
		parts = append(parts, r.GetParent())
	}
	if r, ok := req.(interface{ GetSecretId() string }); ok && r.GetSecretId() != "" {
		parts = append(parts, r.GetSecretId())
	}
	return strings.Join(parts, " ")
}

// Events returns every call seen (Path is the request's resource).
func (g *GRPCFaults) Events() []Event {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.events)
}

// Count returns how many calls matched method ("" any) and the resource
// expression ("" any).
func (g *GRPCFaults) Count(method, target string) int { return countEvents(g.Events(), method, target) }

func (g *GRPCFaults) choose(method, tgt string) (CallFault, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var (
		f   CallFault
		hit bool
	)
	for _, r := range g.rules {
		if r.Method != "" && r.Method != method {
			continue
		}
		if r.re != nil && !r.re.MatchString(tgt) {
			continue
		}
		r.seen++
		if r.seen < r.Nth || (r.Times != Forever && r.applied >= r.Times) || hit {
			continue
		}
		r.applied++
		f, hit = r.CallFault, true
	}
	ev := Event{Seq: len(g.events) + 1, Method: method, Path: tgt, At: time.Now()}
	if hit {
		ev.Fault = f.String()
	}
	g.stats.count(ev.Fault)
	g.events = append(g.events, ev)
	return f, hit
}

func (g *GRPCFaults) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	method := info.FullMethod[strings.LastIndex(info.FullMethod, "/")+1:]
	f, hit := g.choose(method, target(req))
	if !hit {
		g.forwarded()
		return handler(ctx, req)
	}
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	var (
		resp any
		err  error
	)
	if f.Hang && f.Net != nil {
		f.Net.Silence()
	}
	if f.Forwarded || (!f.Hang && f.Code == codes.OK && !f.Cut) {
		g.forwarded()
		// The server acts on the call even if the client has gone.
		resp, err = handler(context.WithoutCancel(ctx), req)
	}
	switch {
	case f.Cut:
		if f.Net != nil {
			f.Net.CutAll()
		}
		return nil, status.Error(codes.Unavailable, "faultproxy: connection cut")
	case f.Hang:
		<-ctx.Done()
		if f.Net != nil {
			// The client's own deadline has passed by now; cut the silent
			// connections so its next attempt reconnects.
			time.Sleep(hangGrace)
			f.Net.CutAll()
		}
		return nil, status.FromContextError(ctx.Err()).Err()
	case f.Code != codes.OK:
		st := status.New(f.Code, fmt.Sprintf("faultproxy: injected %s", f.Code))
		if f.RetryAfter > 0 {
			if d, derr := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(f.RetryAfter)}); derr == nil {
				st = d
			}
		}
		return nil, st.Err()
	}
	return resp, err
}

func (g *GRPCFaults) forwarded() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stats.Forwarded++
}
