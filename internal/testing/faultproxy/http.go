package faultproxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/testpki"
)

// forwardTimeout bounds one exchange with the server.
const forwardTimeout = 30 * time.Second

// Options configures a Proxy.
type Options struct {
	// TLS serves HTTPS with a certificate from the proxy's own CA (CAPEM)
	// for localhost, *.localhost, 127.0.0.1 and ::1.
	TLS bool
	// UpstreamTLS is the TLS configuration towards an https server (the CA
	// that signed its certificate).
	UpstreamTLS *tls.Config
	// Rewrite maps strings of the server's answers (headers and bodies) to
	// what the client must see, and back in request bodies, like a reverse
	// proxy rewriting its upstream's own address: a server that names
	// itself (Key Vault's bearer challenge names its host and port) then
	// names the proxy. Use RewritePort for the usual case.
	Rewrite map[string]string
	// Describe, when set, replaces the escaped path as what rules match and
	// events record, for protocols that name the operation and the object
	// in headers or the body (AWS JSON: "/secretsmanager.CreateSecret/NAME").
	// It must not return a secret value.
	Describe func(r *http.Request, body []byte) string
}

// RewritePort returns the Rewrite of a server on host:upstreamPort behind a
// proxy on host:proxyPort, plain and percent-encoded.
func RewritePort(host, upstreamPort, proxyPort string) map[string]string {
	return map[string]string{
		host + ":" + upstreamPort:   host + ":" + proxyPort,
		host + "%3A" + upstreamPort: host + "%3A" + proxyPort,
	}
}

// Proxy is an HTTP(S) reverse proxy on a loopback port that injects faults.
// It keeps the Host header of each request, so name-based servers (Key Vault)
// see the host the client asked for.
type Proxy struct {
	ruleSet
	describe func(r *http.Request, body []byte) string
	rewrite  map[string]string
	upstream *url.URL
	srv      *httptest.Server
	client   *http.Client
	caPEM    []byte
	done     chan struct{}
	once     sync.Once
}

// New starts a proxy to upstream (a base URL, http:// or https://) and stops
// it when the test ends.
func New(tb testing.TB, upstream string, opts *Options) *Proxy {
	tb.Helper()
	p, err := Start(upstream, opts)
	if err != nil {
		tb.Fatalf("faultproxy: %v", err)
	}
	tb.Cleanup(p.Close)
	return p
}

// Start starts a proxy; the caller closes it.
func Start(upstream string, opts *Options) (*Proxy, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	u, err := url.Parse(upstream)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("upstream %q is not an http(s) base URL", upstream)
	}
	p := &Proxy{upstream: u, rewrite: o.Rewrite, describe: o.Describe, done: make(chan struct{})}
	p.client = &http.Client{
		Transport: &http.Transport{
			TLSClientConfig:     o.UpstreamTLS,
			DisableCompression:  true,
			MaxIdleConnsPerHost: 64,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	if o.TLS {
		cert, caPEM, err := testpki.LocalhostCert("faultproxy CA")
		if err != nil {
			return nil, err
		}
		p.caPEM = caPEM
		// HTTP/1.1 only: a fault must be able to take the connection over.
		p.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
		p.srv.StartTLS()
	} else {
		p.srv.Start()
	}
	return p, nil
}

// URL is the proxy's base URL, http(s)://127.0.0.1:<port>.
func (p *Proxy) URL() string { return p.srv.URL }

// Port is the proxy's port.
func (p *Proxy) Port() string {
	_, port, _ := net.SplitHostPort(p.srv.Listener.Addr().String())
	return port
}

// SetRewrite replaces Options.Rewrite, for a rewrite that needs the proxy's
// own port. Call it before the first request.
func (p *Proxy) SetRewrite(m map[string]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rewrite = m
}

// CAPEM is the certificate of the CA that signed the proxy's certificate
// (TLS only).
func (p *Proxy) CAPEM() []byte { return p.caPEM }

// Close releases hanging requests and stops the proxy.
func (p *Proxy) Close() {
	p.once.Do(func() {
		close(p.done)
		p.srv.CloseClientConnections()
		p.srv.Close()
		p.client.CloseIdleConnections()
	})
}

// hopHeaders are not forwarded (RFC 9110 section 7.6.1).
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// answer is the server's answer, read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the client went away
	}
	what := r.URL.EscapedPath()
	if p.describe != nil {
		what = p.describe(r, body)
	}
	f, _, ev := p.choose(r.Method, what)
	if f.Delay > 0 && !p.wait(r.Context(), f.Delay) {
		return
	}
	var ans *answer
	if f.passes() || f.Forwarded || f.ResetMidBody {
		ans, err = p.forward(r, body)
		if err != nil {
			p.answered(ev, http.StatusBadGateway)
			http.Error(w, "faultproxy: forwarding: "+err.Error(), http.StatusBadGateway)
			return
		}
	}
	switch {
	case f.Hang:
		p.wait(r.Context(), 0)
		hijackClose(w, false)
	case f.Drop:
		hijackClose(w, false)
	case f.ResetMidBody:
		resetMidBody(w, ans)
	case f.Status != 0:
		p.answered(ev, f.Status)
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		b := f.Body
		if b == "" {
			// Key Vault, custom stores and most JSON APIs read "error";
			// AWS JSON protocols read "__type" and "message".
			b = fmt.Sprintf(`{"__type":"Injected","message":"faultproxy: injected %[1]d","error":{"code":"Injected","message":"faultproxy: injected %[1]d"}}`, f.Status)
			w.Header().Set("Content-Type", "application/json")
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, b)
	default:
		p.answered(ev, ans.status)
		for k, vs := range ans.header {
			w.Header()[k] = vs
		}
		for _, h := range hopHeaders {
			w.Header().Del(h)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(ans.body)))
		w.WriteHeader(ans.status)
		_, _ = w.Write(ans.body)
	}
}

// wait waits d (forever when 0) and reports whether the client is still
// there and the proxy still open.
func (p *Proxy) wait(ctx context.Context, d time.Duration) bool {
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-timer:
		return true
	case <-ctx.Done():
	case <-p.done:
	}
	return false
}

// forward sends the request to the server and reads its answer. It does not
// stop when the client goes away: a server acts on what reached it.
func (p *Proxy) forward(r *http.Request, body []byte) (*answer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), forwardTimeout)
	defer cancel()
	u := *p.upstream
	u.Path, u.RawPath = "", ""
	target := u.String() + r.URL.RequestURI()
	p.mu.Lock()
	rewrite := p.rewrite
	p.mu.Unlock()
	for from, to := range rewrite {
		body = bytes.ReplaceAll(body, []byte(to), []byte(from))
	}
	out, err := http.NewRequestWithContext(ctx, r.Method, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	out.Header = r.Header.Clone()
	for _, h := range hopHeaders {
		out.Header.Del(h)
	}
	out.Host = r.Host
	out.ContentLength = int64(len(body))
	resp, err := p.client.Do(out)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	p.forwarded()
	for from, to := range rewrite {
		b = bytes.ReplaceAll(b, []byte(from), []byte(to))
		for _, vs := range resp.Header {
			for i := range vs {
				vs[i] = strings.ReplaceAll(vs[i], from, to)
			}
		}
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// hijackClose takes the connection over and closes it: with reset, by a
// TCP RST (SO_LINGER 0), else by an orderly close.
func hijackClose(w http.ResponseWriter, reset bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("faultproxy: the connection cannot be taken over (HTTP/2?)")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	closeConn(conn, reset)
}

func closeConn(conn net.Conn, reset bool) {
	if reset {
		raw := conn
		if tc, ok := conn.(*tls.Conn); ok {
			raw = tc.NetConn()
		}
		if tcp, ok := raw.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0)
			_ = tcp.Close()
			return
		}
	}
	_ = conn.Close()
}

// resetMidBody sends the answer's status line, headers (with the full
// Content-Length) and half of its body, then resets the connection. An
// answer without a body is reset before its first byte (after the server
// acted on the request).
func resetMidBody(w http.ResponseWriter, ans *answer) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("faultproxy: the connection cannot be taken over (HTTP/2?)")
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	var head bytes.Buffer
	fmt.Fprintf(&head, "HTTP/1.1 %d %s\r\n", ans.status, http.StatusText(ans.status))
	h := ans.header.Clone()
	for _, k := range hopHeaders {
		h.Del(k)
	}
	h.Set("Content-Length", strconv.Itoa(len(ans.body)))
	_ = h.Write(&head)
	head.WriteString("\r\n")
	cut := head.Len() + len(ans.body)/2
	if len(ans.body) < 2 {
		cut = 0
	}
	whole := append(head.Bytes(), ans.body...)
	_, _ = writeAll(buf, whole[:cut])
	closeConn(conn, true)
}

func writeAll(w *bufio.ReadWriter, b []byte) (int, error) {
	n, err := w.Write(b)
	if err != nil {
		return n, err
	}
	return n, w.Flush()
}
