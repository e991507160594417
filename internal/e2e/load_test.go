package e2e

// Load: 1,000 secrets applied at -parallelism=50 through the real CLI, then
// every value read back straight from the store and compared: nothing lost,
// nothing duplicated.
//
//   - local: 1,000 keys in one dotenv file, written by 50 concurrent
//     writers of one provider process; the file must parse, bind every key
//     exactly once and stay 0600;
//   - aws_secret_manager (moto), primary_secret_name: 1,000 fields of ONE
//     JSON object (LiteLLM reads a primary secret only from AWS Secrets
//     Manager), every write a read-modify-write of the whole object;
//   - hashicorp_vault: 1,000 separate KV v2 secrets, one version each.
//
// A plan after each apply refreshes all 1,000 and must be empty.
// LOAD_SECRETS (default 1000) changes the count, e.g. for a quick local run.

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/reliability"
)

const loadParallelism = 50

// loadCount is how many secrets each load test applies.
func loadCount(t *testing.T) int {
	n := 1000
	if v := os.Getenv("LOAD_SECRETS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			t.Fatalf("LOAD_SECRETS=%q is not a positive number", v)
		}
	}
	return n
}

// loadValues returns n names and values. Every 7th value carries what a
// dotenv file and JSON must escape: quotes, a backslash, "=", "#", a
// newline and a tab.
func loadValues(t *testing.T, n int) map[string]string {
	values := make(map[string]string, n)
	for i := range n {
		v := "sk-load-" + randomHex(t, 12)
		if i%7 == 0 {
			v += "-'q\"b\\s=e#h\nline2\ttab"
		}
		values[fmt.Sprintf("LOAD_%04d", i)] = v
	}
	return values
}

func loadConfig(block, settings string) string {
	return requiredProviders + fmt.Sprintf(`
variable "values" {
  type = map(string)
}

provider "llmsecret" {
  %s
  key_management_settings = {
    access_mode = "read_and_write"
    %s
  }
}

resource "llmsecret_secret" "s" {
  for_each         = var.values
  name             = each.key
  value_wo         = each.value
  value_wo_version = 1
}
`, block, settings)
}

// loadRun applies the configuration with the values and checks the state
// and an empty plan after it; it returns the apply's and the plan's time.
func loadRun(t *testing.T, w *workspace, config string, values map[string]string) (apply, plan time.Duration) {
	t.Helper()
	vars, err := json.Marshal(map[string]any{"values": values})
	if err != nil {
		t.Fatal(err)
	}
	w.write("terraform.tfvars.json", string(vars))
	w.write("main.tf", config)
	p := fmt.Sprintf("-parallelism=%d", loadParallelism)
	start := time.Now()
	out, err := w.run("apply", "-auto-approve", "-input=false", "-no-color", p)
	apply = time.Since(start)
	if err != nil {
		t.Fatalf("apply of %d secrets: %v\n%s", len(values), err, tail(out, 40))
	}
	if want := fmt.Sprintf("%d added, 0 changed, 0 destroyed", len(values)); !strings.Contains(out, want) {
		t.Errorf("apply: want %q\n%s", want, tail(out, 10))
	}
	if got := len(stateNames(t, w)); got != len(values) {
		t.Errorf("state holds %d secrets, want %d", got, len(values))
	}
	start = time.Now()
	out, err = w.run("plan", "-detailed-exitcode", "-input=false", "-no-color", p)
	plan = time.Since(start)
	if code := exitCode(err); code != 0 {
		t.Errorf("plan after the apply (refreshing %d secrets): exit code %d, want 0 (no changes)\n%s", len(values), code, tail(out, 30))
	}
	return apply, plan
}

// compareAll reads every name back with s and compares.
func compareAll(t *testing.T, s *backends.Store, values map[string]string) (verified int) {
	t.Helper()
	lost, wrong := 0, 0
	for name, want := range values {
		sec, err := s.ReadStored(t.Context(), name)
		switch {
		case err != nil:
			lost++
			if lost <= 5 {
				t.Errorf("%s: %v", name, err)
			}
		case string(sec.Value) != want:
			wrong++
			if wrong <= 5 {
				t.Errorf("%s holds a different value than the one applied", name)
			}
		default:
			verified++
		}
	}
	if lost+wrong > 0 {
		t.Errorf("%d of %d secrets lost, %d with a wrong value", lost, len(values), wrong)
	}
	return verified
}

func TestLoad_localDotenv(t *testing.T) {
	cliPath(t)
	n := loadCount(t)
	w := newWorkspace(t)
	env := w.path(".env")
	values := loadValues(t, n)
	block := fmt.Sprintf("local = {\n    env_file = %q\n  }", env)
	apply, plan := loadRun(t, w, loadConfig(block, ""), values)

	verified := compareAll(t, localStore(t, env), values)
	data, err := os.ReadFile(env)
	if err != nil {
		t.Fatal(err)
	}
	// Every key bound exactly once: a binding starts a line with its key
	// (values never contain "LOAD_", so continuation lines cannot match).
	bindings := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^(LOAD_\d{4})=`).FindAllStringSubmatch(string(data), -1) {
		bindings[m[1]]++
	}
	for name := range values {
		if bindings[name] != 1 {
			t.Errorf("%s is bound %d times in the dotenv file, want once", name, bindings[name])
		}
	}
	if len(bindings) != n {
		t.Errorf("the dotenv file binds %d keys, want %d", len(bindings), n)
	}
	fi, err := os.Stat(env)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("the dotenv file has mode %v, want 0600", fi.Mode().Perm())
	}
	t.Logf("local: %d secrets at -parallelism=%d: apply %s, plan (refresh) %s; %d verified; %d bytes, mode %v",
		n, loadParallelism, apply.Round(100*time.Millisecond), plan.Round(100*time.Millisecond), verified, len(data), fi.Mode().Perm())
}

func TestLoad_awsPrimarySecret(t *testing.T) {
	cliPath(t)
	n := loadCount(t)
	tg := reliability.Start(t, reliability.AWSSM)
	w := newWorkspace(t)
	values := loadValues(t, n)
	const primary = "LOAD_PRIMARY"
	apply, plan := loadRun(t, w, loadConfig(tg.Block, fmt.Sprintf("primary_secret_name = %q", primary)), values)

	s := tg.Open(t, true, &backends.StoreOptions{Settings: backends.Settings{AccessMode: backends.ReadAndWrite, PrimarySecretName: primary}})
	verified := compareAll(t, s.Store, values)
	raw, err := tg.Open(t, true, nil).ReadStored(t.Context(), primary)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]string
	if err := json.Unmarshal(raw.Value, &fields); err != nil {
		t.Fatalf("the primary secret is not a JSON object of strings: %v", err)
	}
	if len(fields) != n {
		t.Errorf("the primary secret has %d fields, want %d", len(fields), n)
	}
	writes := tg.Requests(reliability.Write, primary)
	t.Logf("aws_secret_manager primary secret: %d fields at -parallelism=%d: apply %s, plan (refresh) %s; %d verified; %d writes of the object (group commit), %d versions",
		n, loadParallelism, apply.Round(100*time.Millisecond), plan.Round(100*time.Millisecond), verified, writes, tg.Versions(primary))
}

func TestLoad_vaultSecrets(t *testing.T) {
	cliPath(t)
	n := loadCount(t)
	tg := reliability.Start(t, reliability.Vault)
	w := newWorkspace(t)
	values := loadValues(t, n)
	apply, plan := loadRun(t, w, loadConfig(tg.Block, ""), values)

	verified := compareAll(t, tg.Open(t, true, nil).Store, values)
	if objs := tg.Objects(); len(objs) != n {
		t.Errorf("Vault holds %d secrets, want %d", len(objs), n)
	}
	twice := 0
	for name := range values {
		if v := tg.Versions(name); v != 1 {
			twice++
			if twice <= 5 {
				t.Errorf("%s has %d versions, want 1", name, v)
			}
		}
	}
	t.Logf("hashicorp_vault: %d secrets at -parallelism=%d: apply %s, plan (refresh) %s; %d verified; %d requests through the proxy",
		n, loadParallelism, apply.Round(100*time.Millisecond), plan.Round(100*time.Millisecond), verified, tg.Injected().Requests)
}
