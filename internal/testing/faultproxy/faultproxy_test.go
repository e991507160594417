package faultproxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// upstream is a server that answers every request with a fixed body and
// counts what reached it.
func upstream(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	n := new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("X-Host", r.Host)
		_, _ = io.WriteString(w, `{"value":"0123456789abcdef"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, n
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, string, error) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func TestProxyFaults(t *testing.T) {
	up, reached := upstream(t)
	p := New(t, up.URL, nil)
	c := &http.Client{Timeout: 2 * time.Second}

	// Pass-through keeps the Host header and the body.
	resp, body, err := get(t, c, p.URL()+"/secrets/a")
	if err != nil || resp.StatusCode != 200 || body != `{"value":"0123456789abcdef"}` {
		t.Fatalf("pass: got %v %q %v", resp, body, err)
	}
	if h := resp.Header.Get("X-Host"); !strings.HasPrefix(h, "127.0.0.1:") {
		t.Errorf("pass: upstream saw Host %q, want the proxy's", h)
	}

	// 429 with Retry-After, on the 2nd matching request only.
	p.Add(Rule{Method: "GET", Path: `^/secrets/b$`, Nth: 2, Fault: Throttle("3")})
	for i, want := range []int{200, 429, 200} {
		resp, _, err := get(t, c, p.URL()+"/secrets/b")
		if err != nil || resp.StatusCode != want {
			t.Fatalf("request %d: got %v, %v; want %d", i+1, resp, err, want)
		}
		if want == 429 && resp.Header.Get("Retry-After") != "3" {
			t.Errorf("429 without its Retry-After")
		}
	}

	// 503 forever; the server is never reached.
	before := reached.Load()
	p.Add(Rule{Path: `/down`, Times: Forever, Fault: Status(503)})
	for range 3 {
		if resp, _, _ := get(t, c, p.URL()+"/down"); resp == nil || resp.StatusCode != 503 {
			t.Fatalf("503: got %v", resp)
		}
	}
	if reached.Load() != before {
		t.Errorf("a Status fault reached the server")
	}

	// Drop: no answer at all. (Go's transport would replay an idempotent
	// request that failed on a reused connection, so use a fresh one.)
	p.Add(Rule{Path: `/drop`, Fault: Drop()})
	fresh := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	if _, _, err := get(t, fresh, p.URL()+"/drop"); err == nil {
		t.Errorf("drop: got an answer")
	}

	// Reset mid-body: headers arrive, the body is cut by a reset.
	p.Add(Rule{Path: `/reset`, Fault: ResetMidBody()})
	before = reached.Load()
	resp, body, err = get(t, c, p.URL()+"/reset")
	if err == nil {
		t.Errorf("reset mid-body: read the whole body %q", body)
	} else if resp == nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Logf("reset mid-body: %v", err)
	}
	if reached.Load() != before+1 {
		t.Errorf("reset mid-body did not forward the request")
	}

	// Hang past the client's timeout; forwarded first, so the server acted.
	p.Add(Rule{Path: `/hang`, Fault: Hang().AfterForward()})
	before = reached.Load()
	short := &http.Client{Timeout: 200 * time.Millisecond}
	if _, _, err := get(t, short, p.URL()+"/hang"); err == nil {
		t.Errorf("hang: got an answer")
	}
	if reached.Load() != before+1 {
		t.Errorf("forwarded hang did not reach the server")
	}

	// Delay alone succeeds, late.
	p.Add(Rule{Path: `/slow`, Fault: Delay(150 * time.Millisecond)})
	start := time.Now()
	if resp, _, err := get(t, c, p.URL()+"/slow"); err != nil || resp.StatusCode != 200 {
		t.Errorf("delay: %v %v", resp, err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("delay: answered after %s", d)
	}

	st := p.Stats()
	if st.Injected != 8 || st.ByFault["429 Retry-After=3"] != 1 || st.ByFault["503"] != 3 || st.ByFault["forwarded+hang"] != 1 {
		t.Errorf("stats: %+v", st)
	}
	if n := p.Count("GET", `^/secrets/b$`); n != 3 {
		t.Errorf("Count: got %d, want 3", n)
	}
}

func TestProxyTLS(t *testing.T) {
	up := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Host)
	}))
	t.Cleanup(up.Close)
	upPool := x509.NewCertPool()
	upPool.AddCert(up.Certificate())
	p := New(t, up.URL, &Options{TLS: true, UpstreamTLS: &tls.Config{RootCAs: upPool, MinVersion: tls.VersionTLS12}})
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(p.CAPEM()) {
		t.Fatal("CAPEM is not PEM")
	}
	c := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, "127.0.0.1:"+p.Port())
		},
	}}
	_, body, err := get(t, c, "https://vault.localhost:"+p.Port()+"/x")
	if err != nil || body != "vault.localhost:"+p.Port() {
		t.Fatalf("TLS pass: %q %v", body, err)
	}
	p.Add(Rule{Fault: ResetMidBody()})
	if _, _, err := get(t, c, "https://vault.localhost:"+p.Port()+"/x"); err == nil {
		t.Errorf("TLS reset mid-body: got the whole answer")
	}
}

func TestTCPProxy(t *testing.T) {
	up, _ := upstream(t)
	p := NewTCP(t, strings.TrimPrefix(up.URL, "http://"))
	c := &http.Client{Timeout: 300 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	base := "http://" + p.Addr()
	if _, _, err := get(t, c, base+"/a"); err != nil {
		t.Fatalf("pass: %v", err)
	}
	p.Add(ConnRule{ConnFault: ConnFault{Drop: true}})
	if _, _, err := get(t, c, base+"/a"); err == nil {
		t.Errorf("drop: got an answer")
	}
	p.Add(ConnRule{ConnFault: ConnFault{ResetAfter: 20}})
	if _, _, err := get(t, c, base+"/a"); err == nil {
		t.Errorf("reset after 20 bytes: got an answer")
	}
	p.Add(ConnRule{ConnFault: ConnFault{Hang: true}})
	if _, _, err := get(t, c, base+"/a"); err == nil {
		t.Errorf("hang: got an answer")
	}
	if _, _, err := get(t, c, base+"/a"); err != nil {
		t.Errorf("after the faults: %v", err)
	}
	if st := p.Stats(); st.Requests != 5 || st.Injected != 3 {
		t.Errorf("stats: %+v", st)
	}
}
