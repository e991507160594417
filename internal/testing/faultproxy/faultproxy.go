// Package faultproxy injects faults between a store's client and its server,
// for tests. Three injectors share one vocabulary of rules:
//
//   - Proxy is an HTTP(S) reverse proxy on a loopback port, for the stores
//     that speak HTTP (Azure Key Vault, CyberArk Conjur, custom HTTP stores,
//     Vault, AWS). On chosen requests it delays, drops the connection,
//     resets it in the middle of the answer's body, answers 429 (with or
//     without Retry-After) or 5xx, or hangs past the client's timeout; with
//     Forwarded the request first reaches the server, so a write lands and
//     only its answer is lost.
//   - TCPProxy forwards raw TCP, for gRPC stores: it delays, drops, resets
//     after a number of bytes, hangs, or cuts every open connection at once.
//   - GRPCFaults is a server interceptor for the in-process gRPC fakes: it
//     fails, delays or hangs chosen calls by method and resource name.
//
// Requests are chosen with rules: a method, a regular expression on the
// path (or resource name), and which matching requests (the Nth, for Times
// requests, or forever). Everything is counted, so a test can report what
// was injected and how often the client came back. Nothing here ever logs
// or records a request or answer body.
package faultproxy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Forever is Rule.Times for a fault that never stops.
const Forever = -1

// Fault is what happens to a chosen request.
type Fault struct {
	// Delay holds the request this long before anything else. Alone it is
	// a slow answer that still succeeds.
	Delay time.Duration
	// Forwarded sends the request to the server before the fault, so the
	// server acts on it (a write lands) but the client never sees the
	// server's answer. ResetMidBody always forwards.
	Forwarded bool
	// Status answers this HTTP status (429, 500, 502, 503, ...) with Body.
	Status int
	// RetryAfter is the Retry-After header of a Status answer; "" sends
	// none.
	RetryAfter string
	// Body is the body of a Status answer; "" sends a short JSON error
	// that says "faultproxy: injected <status>".
	Body string
	// Drop closes the connection without an answer.
	Drop bool
	// ResetMidBody forwards the request, sends the server's status line,
	// headers and half of its body, then resets the connection (TCP RST).
	ResetMidBody bool
	// Hang answers nothing until the client gives up or the proxy closes.
	Hang bool
}

// Delay is a slow answer.
func Delay(d time.Duration) Fault { return Fault{Delay: d} }

// Status answers code without reaching the server.
func Status(code int) Fault { return Fault{Status: code} }

// Throttle answers 429, with Retry-After when retryAfter is not empty.
func Throttle(retryAfter string) Fault {
	return Fault{Status: 429, RetryAfter: retryAfter}
}

// Drop closes the connection without an answer.
func Drop() Fault { return Fault{Drop: true} }

// ResetMidBody resets the connection in the middle of the answer's body.
func ResetMidBody() Fault { return Fault{ResetMidBody: true} }

// Hang answers nothing until the client gives up.
func Hang() Fault { return Fault{Hang: true} }

// AfterForward returns f applied after the request reached the server.
func (f Fault) AfterForward() Fault {
	f.Forwarded = true
	return f
}

// String names the fault for reports, e.g. "429 Retry-After=1" or
// "forwarded+hang".
func (f Fault) String() string {
	var parts []string
	if f.Delay > 0 {
		parts = append(parts, "delay "+f.Delay.String())
	}
	if f.Forwarded {
		parts = append(parts, "forwarded")
	}
	switch {
	case f.Drop:
		parts = append(parts, "drop")
	case f.ResetMidBody:
		parts = append(parts, "reset-mid-body")
	case f.Hang:
		parts = append(parts, "hang")
	case f.Status != 0:
		s := fmt.Sprintf("%d", f.Status)
		if f.RetryAfter != "" {
			s += " Retry-After=" + f.RetryAfter
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "pass"
	}
	return strings.Join(parts, "+")
}

// passes reports whether the fault lets the server's answer through.
func (f Fault) passes() bool { return !f.Drop && !f.ResetMidBody && !f.Hang && f.Status == 0 }

// Rule chooses requests and says what happens to them.
type Rule struct {
	// Method matches the HTTP method ("" any).
	Method string
	// Path is a regular expression matched against the escaped path ("" any).
	Path string
	// Nth is the first matching request the fault applies to (1-based; 0
	// means 1).
	Nth int
	// Times is how many matching requests from the Nth on get the fault (0
	// means 1; Forever never stops).
	Times int
	Fault
}

// rule is a Rule with its compiled path and counters.
type rule struct {
	Rule
	re      *regexp.Regexp
	seen    int
	applied int
}

func compile(r Rule) *rule {
	c := &rule{Rule: r}
	if r.Path != "" {
		c.re = regexp.MustCompile(r.Path)
	}
	if c.Nth <= 0 {
		c.Nth = 1
	}
	if c.Times == 0 {
		c.Times = 1
	}
	return c
}

// take counts a request against the rule and reports whether the rule's
// fault applies to it.
func (c *rule) take(method, path string) bool {
	if c.Method != "" && !strings.EqualFold(c.Method, method) {
		return false
	}
	if c.re != nil && !c.re.MatchString(path) {
		return false
	}
	c.seen++
	if c.seen < c.Nth || (c.Times != Forever && c.applied >= c.Times) {
		return false
	}
	c.applied++
	return true
}

// Event is one request as the injector saw it (never its body).
type Event struct {
	// Seq numbers requests from 1.
	Seq    int
	Method string
	Path   string
	// Fault is what was done ("" when the request passed untouched).
	Fault string
	// Status is the status the client got (0 when it got none).
	Status int
	At     time.Time
}

// Stats counts what an injector did.
type Stats struct {
	// Requests received (connections, for TCPProxy).
	Requests int
	// Forwarded to the server.
	Forwarded int
	// Injected is the number of requests that got a fault.
	Injected int
	// ByFault counts Injected by Fault.String().
	ByFault map[string]int
}

// clone is a copy of s that shares no map with it.
func (s Stats) clone() Stats { return s.Add(Stats{}) }

// count records a request and the fault injected into it ("" for none).
func (s *Stats) count(fault string) {
	s.Requests++
	if fault == "" {
		return
	}
	s.Injected++
	if s.ByFault == nil {
		s.ByFault = map[string]int{}
	}
	s.ByFault[fault]++
}

// Add returns the sum of two Stats.
func (s Stats) Add(o Stats) Stats {
	out := Stats{Requests: s.Requests + o.Requests, Forwarded: s.Forwarded + o.Forwarded, Injected: s.Injected + o.Injected, ByFault: map[string]int{}}
	for k, v := range s.ByFault {
		out.ByFault[k] += v
	}
	for k, v := range o.ByFault {
		out.ByFault[k] += v
	}
	return out
}

// ruleSet is the rules and records shared by the injectors.
type ruleSet struct {
	mu     sync.Mutex
	rules  []*rule
	events []Event
	stats  Stats
}

// Add appends rules; earlier rules win when several apply.
func (s *ruleSet) Add(rules ...Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rules {
		s.rules = append(s.rules, compile(r))
	}
}

// Clear removes every rule; counters and events stay.
func (s *ruleSet) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = nil
}

// choose records a request and returns its fault and the event's index.
// Every matching rule counts the request; the first whose window covers it
// applies.
func (s *ruleSet) choose(method, path string) (Fault, bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var (
		f   Fault
		hit bool
	)
	for _, r := range s.rules {
		if r.take(method, path) && !hit {
			f, hit = r.Fault, true
		}
	}
	ev := Event{Seq: len(s.events) + 1, Method: method, Path: path, At: time.Now()}
	if hit {
		ev.Fault = f.String()
	}
	s.stats.count(ev.Fault)
	s.events = append(s.events, ev)
	return f, hit, len(s.events) - 1
}

func (s *ruleSet) forwarded() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Forwarded++
}

func (s *ruleSet) answered(i, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events[i].Status = status
}

// Stats returns the counters.
func (s *ruleSet) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.clone()
}

// Events returns every request seen, in order.
func (s *ruleSet) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

// Count returns how many requests matched method ("" any) and the path
// expression ("" any).
func (s *ruleSet) Count(method, path string) int { return countEvents(s.Events(), method, path) }

// countEvents counts the events whose method matches method ("" any, case
// folded) and whose path matches the expression expr ("" any).
func countEvents(events []Event, method, expr string) int {
	var re *regexp.Regexp
	if expr != "" {
		re = regexp.MustCompile(expr)
	}
	n := 0
	for _, e := range events {
		if (method == "" || strings.EqualFold(method, e.Method)) && (re == nil || re.MatchString(e.Path)) {
			n++
		}
	}
	return n
}
