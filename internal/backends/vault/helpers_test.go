package vault_test

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault/vaulttest"
)

// Two servers are shared by the package's tests (starting one takes about
// a second): plain HTTP and HTTPS (certificate login needs TLS). Tests that
// change a server's state (sealing) start their own.
var shared struct {
	plainOnce, tlsOnce sync.Once
	plain, tls         *vaulttest.Server
	plainErr, tlsErr   error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.plain != nil {
		shared.plain.Stop()
	}
	if shared.tls != nil {
		shared.tls.Stop()
	}
	os.Exit(code)
}

// plainServer returns the shared HTTP server, starting it on first use.
func plainServer(t testing.TB) *vaulttest.Server {
	t.Helper()
	shared.plainOnce.Do(func() { shared.plain, shared.plainErr = vaulttest.Launch(vaulttest.Options{}) })
	if shared.plainErr != nil {
		t.Fatalf("starting the shared Vault dev server: %v", shared.plainErr)
	}
	return shared.plain
}

// tlsServer returns the shared HTTPS server, starting it on first use.
func tlsServer(t testing.TB) *vaulttest.Server {
	t.Helper()
	shared.tlsOnce.Do(func() { shared.tls, shared.tlsErr = vaulttest.Launch(vaulttest.Options{TLS: true}) })
	if shared.tlsErr != nil {
		t.Fatalf("starting the shared Vault dev server with TLS: %v", shared.tlsErr)
	}
	return shared.tls
}

// kvPolicy lets a token manage every secret of the dev server's KV engine.
const kvPolicy = `
path "secret/data/*"     { capabilities = ["create", "read", "update", "delete"] }
path "secret/metadata/*" { capabilities = ["create", "read", "update", "delete", "list"] }
`

// noEnv is a LookupEnv with nothing set, so the process environment never
// leaks into a test.
func noEnv(string) (string, bool) { return "", false }

// envOf is a LookupEnv over m.
func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func newBackend(t testing.TB, opts *vault.Options) backends.Backend {
	t.Helper()
	if opts.LookupEnv == nil {
		opts.LookupEnv = noEnv
	}
	b, err := vault.New(context.Background(), opts)
	if err != nil {
		t.Fatalf("vault.New: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// tokenOptions are options for the server's root token.
func tokenOptions(s *vaulttest.Server) *vault.Options {
	return &vault.Options{Address: s.Addr, Token: s.RootToken, TLS: vault.TLSOptions{CACertFile: s.CACertFile}, LookupEnv: noEnv}
}

// newStore wraps b in a read-and-write *Store that never sleeps between
// retries and sees no environment.
func newStore(t testing.TB, b backends.Backend, attempts int) *backends.Store {
	t.Helper()
	s, err := backends.NewStore(b, &backends.StoreOptions{
		Settings:  backends.Settings{AccessMode: backends.ReadAndWrite},
		LookupEnv: noEnv,
		Retry:     backends.RetryPolicy{MaxAttempts: attempts, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond},
		Wait:      func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// uniq returns a name unique to this test run.
func uniq(t testing.TB, s string) string {
	return strings.ReplaceAll(t.Name(), "/", "-") + "-" + time.Now().Format("150405.000000000") + "-" + s
}

// recorded is one request seen by a recorder.
type recorded struct {
	Method    string
	Path      string // unescaped, without /v1/
	RawPath   string // as sent
	Namespace string
	// HasNamespace: the request carried an X-Vault-Namespace header at all.
	HasNamespace bool
	Token        string
	Status       int
}

// recorder records the requests a backend sends, then forwards them.
type recorder struct {
	next http.RoundTripper
	// before, when set, runs before a request is forwarded.
	before func(r *http.Request)

	mu   sync.Mutex
	reqs []recorded
}

func (r *recorder) wrap(next http.RoundTripper) http.RoundTripper {
	r.next = next
	return r
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.before != nil {
		r.before(req)
	}
	resp, err := r.next.RoundTrip(req)
	rec := recorded{
		Method:    req.Method,
		Path:      strings.TrimPrefix(req.URL.Path, "/v1/"),
		RawPath:   req.URL.EscapedPath(),
		Namespace: req.Header.Get("X-Vault-Namespace"),
		Token:     req.Header.Get("X-Vault-Token"),
	}
	if resp != nil {
		rec.Status = resp.StatusCode
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, rec)
	r.mu.Unlock()
	return resp, err
}

func (r *recorder) all() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

// paths returns the "METHOD path" of every request.
func (r *recorder) paths() []string {
	var out []string
	for _, q := range r.all() {
		out = append(out, q.Method+" "+q.Path)
	}
	return out
}

// count returns how many requests went to path with method.
func (r *recorder) count(method, path string) int {
	n := 0
	for _, q := range r.all() {
		if q.Method == method && q.Path == path {
			n++
		}
	}
	return n
}

func wantCode(t *testing.T, what string, err error, want backends.Code) {
	t.Helper()
	if got := backends.CodeOf(err); got != want {
		t.Errorf("%s: got code %v, want %v (err: %v)", what, got, want, err)
	}
}

func wantContains(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got nil error, want one containing %q", what, parts)
		return
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: got message %q, want it to contain %q", what, err, p)
		}
	}
}

func noLeak(t *testing.T, what string, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("%s: message %q contains a secret", what, err)
		}
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
