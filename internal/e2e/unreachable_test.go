package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault/vaulttest"
)

// TestLoad_vaultUnreachableFailsFast: 300 secrets at -parallelism=10, and
// Vault becomes unreachable (its address refuses connections) right after
// the first secret is written. The calls in flight spend their retries;
// every later one fails at once, naming the store and the first error,
// instead of each spending the whole retry budget (before this, 300
// resources ran past 5 minutes). The state lists exactly the secrets that
// exist in Vault.
func TestLoad_vaultUnreachableFailsFast(t *testing.T) {
	cliPath(t)
	const n, parallelism = 300, 10
	srv := vaulttest.Start(t)
	target, err := url.Parse(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	// The address the provider uses: a proxy to Vault that shuts down once
	// the first secret write answered: it stops accepting connections and
	// closes idle ones, and the requests it is serving get their answers
	// (a write whose answer is lost as the store dies cannot be known to
	// exist: it stays out of state, and the next apply adopts it, since it
	// holds the value that apply writes).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	proxy := &http.Server{ReadHeaderTimeout: 10 * time.Second}
	var once sync.Once
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp.ServeHTTP(w, r)
		if (r.Method == http.MethodPut || r.Method == http.MethodPost) && strings.Contains(r.URL.Path, "/data/") {
			once.Do(func() { go func() { _ = proxy.Shutdown(context.Background()) }() })
		}
	})
	go func() { _ = proxy.Serve(ln) }()
	t.Cleanup(func() { _ = proxy.Close() })

	w := newWorkspace(t)
	w.write("main.tf", requiredProviders+fmt.Sprintf(`
provider "llmsecret" {
  key_management_system   = "hashicorp_vault"
  key_management_settings = { access_mode = "read_and_write" }
  hashicorp_vault = {
    address = "http://%s"
    token   = %q
  }
}

resource "llmsecret_secret" "s" {
  count            = %d
  name             = format("DEAD_%%04d", count.index)
  value_wo         = "v-${count.index}"
  value_wo_version = 1
}
`, ln.Addr(), srv.RootToken, n))
	start := time.Now()
	out, err := w.run("apply", "-auto-approve", "-input=false", "-no-color", fmt.Sprintf("-parallelism=%d", parallelism))
	took := time.Since(start)
	if err == nil {
		t.Fatalf("apply with Vault unreachable succeeded\n%s", tail(out, 20))
	}
	flat := strings.Join(strings.Fields(out), " ") // the CLI wraps long lines
	notTried := strings.Count(flat, "not tried, the store was unreachable earlier in this run")
	gaveUp := strings.Count(flat, "gave up after") - notTried // each not-tried error quotes the first
	// Every resource but the first write and the calls in flight when Vault
	// went away fails without a store call.
	if notTried < n-1-2*parallelism {
		t.Errorf("%d resources failed at once without trying the store, want at least %d; %d spent their retries\n%s",
			notTried, n-1-2*parallelism, gaveUp, tail(out, 30))
	}
	if !strings.Contains(flat, "connection refused") {
		t.Errorf("the errors do not name the first error (connection refused)\n%s", tail(out, 30))
	}

	// The state lists exactly what Vault holds.
	client := srv.Client(t)
	list, err := client.Logical().ListWithContext(context.Background(), "secret/metadata/")
	if err != nil {
		t.Fatal(err)
	}
	var inVault []string
	if list != nil {
		keys, _ := list.Data["keys"].([]any)
		for _, k := range keys {
			if name, ok := k.(string); ok {
				inVault = append(inVault, name)
			}
		}
	}
	slices.Sort(inVault)
	if got := stateNames(t, w); !slices.Equal(got, inVault) {
		t.Errorf("state lists %v, Vault holds %v", got, inVault)
	}
	t.Logf("hashicorp_vault unreachable after the first write: %d resources at -parallelism=%d, apply failed after %s; %d failed at once, %d spent their retries, %d in state and in Vault",
		n, parallelism, took.Round(100*time.Millisecond), notTried, gaveUp, len(inVault))
}
