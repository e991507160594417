package awstest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Request is one request the proxy saw.
type Request struct {
	// Op is the operation: the X-Amz-Target suffix of JSON services
	// ("CreateSecret", "Encrypt") or the Action of query services ("AssumeRole").
	Op string
	// Body is the request body (JSON or form).
	Body []byte
	// Header is the request's header (Authorization carries the access key).
	Header http.Header
	// Status is the status the client got; Injected says the proxy made it.
	Status   int
	Injected bool
}

// Fault is an answer the proxy gives instead of the server's.
type Fault struct {
	// Op is the operation to hit.
	Op string
	// Times is how many matching requests get the fault; a negative number
	// means all of them.
	Times int
	// Status is the HTTP status, e.g. 400 for ThrottlingException, 500.
	Status int
	// Code is the AWS error code, sent as x-amzn-ErrorType and __type.
	Code string
	// Message is the error message.
	Message string
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
	// AfterForward forwards the request to the server first and then
	// replaces its answer: the server applied the call but the client saw a
	// failure (a lost answer).
	AfterForward bool
}

// Throttle is the answer of a throttled AWS JSON call.
func Throttle(op string, times int) Fault {
	return Fault{Op: op, Times: times, Status: http.StatusBadRequest, Code: "ThrottlingException", Message: "Rate exceeded"}
}

// ServerError is a 500 of an AWS JSON call.
func ServerError(op string, times int) Fault {
	return Fault{Op: op, Times: times, Status: http.StatusInternalServerError, Code: "InternalServiceError", Message: "injected internal error"}
}

// Proxy is a recording reverse proxy in front of an emulator that can inject
// faults on chosen operations.
type Proxy struct {
	// URL is the proxy's endpoint.
	URL string

	mu     sync.Mutex
	reqs   []Request
	faults []*Fault
}

// NewProxy starts a proxy in front of upstream; it stops when the test ends.
func NewProxy(t testing.TB, upstream string) *Proxy {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatalf("proxy upstream %q: %v", upstream, err)
	}
	p := &Proxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		req := Request{Op: operation(r, body), Body: body, Header: r.Header.Clone()}
		f := p.take(req.Op)
		if f != nil && f.AfterForward {
			rec := httptest.NewRecorder()
			rp.ServeHTTP(rec, r)
		}
		if f != nil {
			req.Status, req.Injected = f.Status, true
			p.record(req)
			writeFault(w, f)
			return
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		rp.ServeHTTP(sw, r)
		req.Status = sw.status
		p.record(req)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Inject adds a fault. Faults are consumed in the order they were added.
func (p *Proxy) Inject(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, &f)
}

// Clear drops the faults not consumed yet.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = nil
}

// Reset forgets the recorded requests.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reqs = nil
}

// Requests returns the recorded requests of op ("" for all).
func (p *Proxy) Requests(op string) []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Request
	for _, r := range p.reqs {
		if op == "" || r.Op == op {
			out = append(out, r)
		}
	}
	return out
}

// Calls returns how many requests of op the proxy saw.
func (p *Proxy) Calls(op string) int { return len(p.Requests(op)) }

// Ops returns the operations seen, in order.
func (p *Proxy) Ops() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, len(p.reqs))
	for i, r := range p.reqs {
		out[i] = r.Op
	}
	return out
}

func (p *Proxy) record(r Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reqs = append(p.reqs, r)
}

func (p *Proxy) take(op string) *Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, f := range p.faults {
		if f.Op != op {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				p.faults = slices.Delete(p.faults, i, i+1)
			}
		}
		return f
	}
	return nil
}

func writeFault(w http.ResponseWriter, f *Fault) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", f.Code)
	w.Header().Set("X-Amzn-Requestid", "llmsecret-injected-fault")
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	w.WriteHeader(f.Status)
	fmt.Fprintf(w, `{"__type":%q,"message":%q}`, f.Code, f.Message)
}

// operation names the AWS operation of a request.
func operation(r *http.Request, body []byte) string {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		if _, op, ok := strings.Cut(target, "."); ok {
			return op
		}
		return target
	}
	if q, err := url.ParseQuery(string(body)); err == nil && q.Get("Action") != "" {
		return q.Get("Action")
	}
	return r.Method + " " + r.URL.Path
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
