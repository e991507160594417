package e2e

import (
	"context"
	"encoding/json"
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
	values := newSecretSet()
	for name, v := range a.values {
		core, _ := strings.CutPrefix(v, "sk-adopt-")
		values.secrets = append(values.secrets, secret{label: name, value: v, core: core})
	}
	if isOpenTofu() {
		a.generateByID(t, values)
	} else {
		a.query(t, values)
	}
	a.applyAndPlanClean(t, values)
}

// step runs one CLI command, logs how long it took and checks its output
// holds no value.
func (a *adoption) step(t *testing.T, values *secretSet, name string, args ...string) string {
	t.Helper()
	start := time.Now()
	out := a.w.mustRun(values, args...)
	t.Logf("%s of %d secrets: %s", name, len(a.names), time.Since(start).Round(10*time.Millisecond))
	checkNoLeak(t, name, out, values)
	return out
}

// generateByID is the path without terraform query (OpenTofu 1.11): import
// blocks by id, one per name, and plan -generate-config-out.
func (a *adoption) generateByID(t *testing.T, values *secretSet) {
	t.Helper()
	var imports strings.Builder
	for i, n := range a.names {
		fmt.Fprintf(&imports, "import {\n  to = llmsecret_secret.adopt_%d\n  id = %q\n}\n", i, n)
	}
	a.w.write("imports.tf", imports.String())
	a.step(t, values, "plan -generate-config-out", "plan", "-input=false", "-no-color", "-generate-config-out=adopted.tf")
	a.checkGenerated(t, values, a.w.read("imports.tf")+a.w.read("adopted.tf"))
}

// query is the path with terraform query (Terraform 1.14+): a list block
// finds the names, and -generate-config-out writes the resources and their
// identity import blocks.
func (a *adoption) query(t *testing.T, values *secretSet) {
	t.Helper()
	a.w.write("adopt.tfquery.hcl", fmt.Sprintf(`list "llmsecret_secret" "adopt" {
  provider         = llmsecret
  include_resource = true
  limit            = %d
  config {
    prefix = %q
  }
}
`, len(a.names)+10, a.prefix))
	out := a.step(t, values, "query", "query", "-no-color")
	for _, n := range a.names[:min(3, len(a.names))] {
		if !strings.Contains(out, n) {
			t.Errorf("terraform query does not list %s:\n%s", n, tail(out, 20))
		}
	}
	if strings.Contains(out, "UNRELATED") {
		t.Errorf("terraform query lists a secret outside prefix %q:\n%s", a.prefix, tail(out, 20))
	}
	a.step(t, values, "query -generate-config-out", "query", "-no-color", "-generate-config-out=adopted.tf")
	generated := a.w.read("adopted.tf")
	if !strings.Contains(generated, "full_name = ") {
		t.Errorf("the generated imports do not use the identity (full_name):\n%s", tail(generated, 30))
	}
	a.checkGenerated(t, values, generated)
}

// checkGenerated: one import block per secret, and no value anywhere.
func (a *adoption) checkGenerated(t *testing.T, values *secretSet, generated string) {
	t.Helper()
	if got := strings.Count("\n"+generated, "\nimport {"); got != len(a.names) {
		t.Fatalf("adopted.tf has %d import blocks, want %d:\n%s", got, len(a.names), tail(generated, 30))
	}
	if leaks := values.finds(generated); len(leaks) > 0 {
		t.Fatalf("adopted.tf holds secret values (%v)", leaks)
	}
}

// applyAndPlanClean applies the generated configuration (imports only) and
// checks that the next plan is empty and no value reached any file.
func (a *adoption) applyAndPlanClean(t *testing.T, values *secretSet) {
	t.Helper()
	out := a.step(t, values, "apply (import)", "apply", "-auto-approve", "-input=false", "-no-color")
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
// values are untouched. On OpenTofu, which has no query, import blocks by id
// and plan -generate-config-out take the same path.
func TestAdopt_localStore(t *testing.T) {
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
		sec, err := s.ReadStored(ctx, name)
		if err != nil || string(sec.Value) != a.values[name] || sec.Version != "1" {
			t.Fatalf("after adoption %s is not the seeded version 1 (err %v): adoption must not write", name, err)
		}
	}
}

// TestAdopt_stateWithoutIdentityUpgrades: a state written before the
// resource had an identity (an earlier provider version, or OpenTofu) plans
// with no change, and the next apply records the identity.
func TestAdopt_stateWithoutIdentityUpgrades(t *testing.T) {
	w := newWorkspace(t)
	w.write("main.tf", requiredProviders+fmt.Sprintf(`
provider "llmsecret" {
  key_management_settings = { access_mode = "read_and_write" }
  local                   = { env_file = %q }
}

resource "llmsecret_secret" "s" {
  name             = "UPGRADE_API_KEY"
  value_wo         = "sk-upgrade"
  value_wo_version = 1
}
`, w.path(".env")))
	w.mustRun(nil, "apply", "-auto-approve", "-input=false", "-no-color")
	var state map[string]any
	if err := json.Unmarshal([]byte(w.read("terraform.tfstate")), &state); err != nil {
		t.Fatal(err)
	}
	resources, _ := state["resources"].([]any)
	var instance map[string]any
	if len(resources) == 1 {
		r, _ := resources[0].(map[string]any)
		instances, _ := r["instances"].([]any)
		if len(instances) == 1 {
			instance, _ = instances[0].(map[string]any)
		}
	}
	if instance == nil {
		t.Fatalf("the state does not hold one resource instance:\n%s", w.read("terraform.tfstate"))
	}
	_, had := instance["identity"]
	if had != !isOpenTofu() {
		t.Errorf("after create the state has an identity: %t, want %t", had, !isOpenTofu())
	}
	delete(instance, "identity")
	delete(instance, "identity_schema_version")
	serial, _ := state["serial"].(float64)
	state["serial"] = serial + 1
	old, err := json.Marshal(state)
	if err != nil {
		t.Fatal(err)
	}
	w.write("terraform.tfstate", string(old))

	out, err := w.run("plan", "-detailed-exitcode", "-input=false", "-no-color")
	if code := exitCode(err); code != 0 {
		t.Fatalf("plan of a state without identity: exit code %d, want 0 (no changes):\n%s", code, tail(out, 30))
	}
	w.mustRun(nil, "apply", "-auto-approve", "-input=false", "-no-color")
	if isOpenTofu() {
		return
	}
	if !strings.Contains(w.read("terraform.tfstate"), `"full_name": "UPGRADE_API_KEY"`) {
		t.Errorf("after apply the state has no identity with full_name UPGRADE_API_KEY:\n%s", tail(w.read("terraform.tfstate"), 30))
	}
}
