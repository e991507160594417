package bench

import (
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
)

// countingProxy is a loopback reverse proxy in front of Vault that counts the
// requests the provider makes, by kind: reads (GET of KV data), writes (PUT
// or POST of KV data or metadata) and everything else. It proves how many
// store calls a plan makes without trusting the provider's own account.
type countingProxy struct {
	url string
	srv *http.Server
	ln  net.Listener

	mu sync.Mutex
	n  map[string]int
}

func newCountingProxy(target string) (*countingProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &countingProxy{url: "http://" + ln.Addr().String(), ln: ln, n: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.count(r)
		rp.ServeHTTP(w, r)
	})}
	go func() {
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	}()
	return p, nil
}

func (p *countingProxy) count(r *http.Request) {
	kind := "other"
	kv := strings.Contains(r.URL.Path, "/data/") || strings.Contains(r.URL.Path, "/metadata/")
	switch {
	case kv && r.Method == http.MethodGet:
		kind = "read"
	case kv && (r.Method == http.MethodPut || r.Method == http.MethodPost || r.Method == http.MethodDelete):
		kind = "write"
	}
	p.mu.Lock()
	p.n[kind]++
	p.mu.Unlock()
}

func (p *countingProxy) reset() {
	p.mu.Lock()
	clear(p.n)
	p.mu.Unlock()
}

func (p *countingProxy) counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.n))
	for k, v := range p.n {
		out[k] = v
	}
	return out
}

func (p *countingProxy) close() { _ = p.srv.Close() }
