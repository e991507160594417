package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault/vaulttest"
)

// adoptCount is how many secrets the adoption tests put in a store before
// adopting them: ADOPT_N, else a few dozen (the 1,000-secret figures in
// docs/guides/adopting.md come from ADOPT_N=1000 runs).
func adoptCount(t *testing.T) int {
	t.Helper()
	if v := os.Getenv("ADOPT_N"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("ADOPT_N=%q is not a positive number", v)
		}
		return n
	}
	return 40
}

// requireQuery skips on OpenTofu, which has no `query` command and no list
// resources (OpenTofu 1.11); everything else about the provider works there.
func requireQuery(t *testing.T) {
	t.Helper()
	if isOpenTofu() {
		t.Skip("terraform query (list resources) needs Terraform 1.14+; OpenTofu 1.11 has no query command")
	}
}

// adoption is the user's path from an existing store to managed secrets:
// query with config generation, apply the generated imports, plan clean.
type adoption struct {
	w        *workspace
	names    []string
	values   map[string]string
	provider string
	prefix   string
}

func (a *adoption) run(t *testing.T) {
	t.Helper()
	a.w.write("main.tf", requiredProviders+a.provider)
	a.w.write("adopt.tfquery.hcl", fmt.Sprintf(`list "llmsecret_secret" "adopt" {
  provider         = llmsecret
  include_resource = true
  limit            = %d
  config {
    prefix = %q
  }
}
`, len(a.names)+10, a.prefix))
	values := newSecretSet()
	for name, v := range a.values {
		core, _ := strings.CutPrefix(v, "sk-adopt-")
		values.secrets = append(values.secrets, secret{label: name, value: v, core: core})
	}
	step := func(name string, args ...string) string {
		t.Helper()
		start := time.Now()
		out := a.w.mustRun(values, args...)
		t.Logf("%s of %d secrets: %s", name, len(a.names), time.Since(start).Round(10*time.Millisecond))
		checkNoLeak(t, name, out, values)
		return out
	}

	out := step("query", "query", "-no-color")
	for _, n := range a.names[:min(3, len(a.names))] {
		if !strings.Contains(out, n) {
			t.Errorf("terraform query does not list %s:\n%s", n, tail(out, 20))
		}
	}
	if strings.Contains(out, "UNRELATED") {
		t.Errorf("terraform query lists a secret outside prefix %q:\n%s", a.prefix, tail(out, 20))
	}
	step("query -generate-config-out", "query", "-no-color", "-generate-config-out=adopted.tf")
	generated := a.w.read("adopted.tf")
	if got := strings.Count(generated, "\nimport {"); got != len(a.names) {
		t.Fatalf("adopted.tf has %d import blocks, want %d:\n%s", got, len(a.names), tail(generated, 30))
	}
	if !strings.Contains(generated, "full_name = ") {
		t.Errorf("the generated imports do not use the identity (full_name):\n%s", tail(generated, 30))
	}
	if leaks := values.finds(generated); len(leaks) > 0 {
		t.Fatalf("adopted.tf holds secret values (%v)", leaks)
	}

	out = step("apply (import)", "apply", "-auto-approve", "-input=false", "-no-color")
	want := fmt.Sprintf("Apply complete! Resources: %d imported, 0 added, 0 changed, 0 destroyed.", len(a.names))
	if !strings.Contains(out, want) {
		t.Fatalf("apply of the generated configuration: want %q in:\n%s", want, tail(out, 20))
	}
	start := time.Now()
	out, err := a.w.run("plan", "-detailed-exitcode", "-input=false", "-no-color")
	t.Logf("plan after adoption of %d secrets: %s", len(a.names), time.Since(start).Round(10*time.Millisecond))
	if code := exitCode(err); code != 0 {
		t.Fatalf("plan after adoption: exit code %d, want 0 (no changes):\n%s", code, tail(values.redact(out), 40))
	}
	if leaks := scanDir(t, a.w.dir, values, func(rel string) bool { return strings.HasPrefix(rel, ".terraform") || rel == ".env" }); len(leaks) > 0 {
		t.Fatalf("secret values in the workspace after adoption: %v", leaks)
	}
}

// TestAdopt_localStore: a dotenv file written by hand is discovered by
// terraform query, imported through the generated configuration (identity
// import blocks, no value in any file) and then plans clean; the file's
// values are untouched.
func TestAdopt_localStore(t *testing.T) {
	requireQuery(t)
	w := newWorkspace(t)
	env := w.path(".env")
	a := &adoption{w: w, values: map[string]string{}, prefix: "ADOPT_"}
	for i := range adoptCount(t) {
		name := fmt.Sprintf("ADOPT_%04d_API_KEY", i)
		value := "sk-adopt-" + randomHex(t, 12)
		seed(t, env, name, value)
		a.names = append(a.names, name)
		a.values[name] = value
	}
	seed(t, env, "UNRELATED_KEY", "sk-unrelated-"+randomHex(t, 8))
	a.provider = fmt.Sprintf(`
provider "llmsecret" {
  key_management_settings = { access_mode = "read_and_write" }
  local                   = { env_file = %q }
}
`, env)
	a.run(t)
	for name, want := range a.values {
		if got, ok := storedValue(t, env, name); !ok || got != want {
			t.Fatalf("after adoption %s holds another value (or none): adoption must not write values", name)
		}
	}
}

// TestAdopt_vault: the same path on a real Vault, with secrets under a
// path_prefix in nested folders (the KV metadata LIST is walked folder by
// folder).
func TestAdopt_vault(t *testing.T) {
	requireQuery(t)
	srv := vaulttest.Start(t)
	ctx := context.Background()
	b, err := vault.New(ctx, &vault.Options{Address: srv.Addr, Token: srv.RootToken, PathPrefix: "llm",
		LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	s, err := backends.NewStore(b, &backends.StoreOptions{Settings: backends.Settings{AccessMode: backends.ReadAndWrite}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	a := &adoption{w: newWorkspace(t), values: map[string]string{}, prefix: "teams/"}
	n := adoptCount(t)
	for i := range n {
		// Two folders deep, so the listing walks a tree.
		a.names = append(a.names, fmt.Sprintf("teams/t%02d/KEY_%04d", i%7, i))
	}
	seedStart := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	sem := make(chan struct{}, 16)
	for _, name := range append([]string{"UNRELATED_KEY"}, a.names...) {
		value := "sk-adopt-" + randomHex(t, 12)
		if name != "UNRELATED_KEY" {
			a.values[name] = value
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if _, err := s.Write(ctx, backends.WriteRequest{Name: name, Value: []byte(value)}); err != nil {
				mu.Lock()
				defer mu.Unlock()
				t.Errorf("seeding %s: %v", name, err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("seeding %d secrets in Vault: %s", n+1, time.Since(seedStart).Round(10*time.Millisecond))
	a.provider = fmt.Sprintf(`
provider "llmsecret" {
  key_management_system   = "hashicorp_vault"
  key_management_settings = { access_mode = "read_and_write" }
  hashicorp_vault = {
    address     = %q
    token       = %q
    path_prefix = "llm"
  }
}
`, srv.Addr, srv.RootToken)
	a.run(t)
	for _, name := range a.names[:min(5, len(a.names))] {
		sec, err := s.Find(ctx, name)
		if err != nil || string(sec.Value) != a.values[name] || sec.Version != "1" {
			t.Fatalf("after adoption %s is not the seeded version 1 (err %v): adoption must not write", name, err)
		}
	}
}
