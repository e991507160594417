package e2e

// DESIGN.md, Secrets never leak: no secret value in logs (any TF_LOG level), in error
// messages, in plan output or, with value_wo, in state. The in-process
// acceptance tests cannot see what the CLI and the plugin print at TRACE, so
// this test runs the real CLI at the most verbose level through a whole
// lifecycle, plus error paths, and searches every byte of output and every
// file left in the working directory.

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/reliability"
)

// leakConfig uses every object of the provider, each carrying its own value:
//   - wo: value_wo (must never reach state)
//   - plain: value (sensitive, in state by design)
//   - ds_src + data.llmsecret_secret.ds: a value read back by the data source
//   - list_src + data.llmsecret_secrets.list: a value read by the batch read
//   - ephemeral.llmsecret_secret.eph feeding eph_copy's value_wo: the value
//     is seeded in the file, read ephemerally and written again; it must
//     never reach state
//   - primary: value_wo through a second provider instance with
//     primary_secret_name, i.e. a field of one JSON object in the store; on
//     AWS Secrets Manager (moto), the one store LiteLLM reads a primary
//     secret from (PRIMARY_STORE is replaced by its block)
//
// The outputs compare what the data sources read with the variables, so the
// test knows the reads really returned the values (and the CLI printed
// nothing but true/false).
const leakConfig = requiredProviders + `
variable "env_file" {
  type = string
}

variable "wo_value" {
  type      = string
  sensitive = true
}

variable "plain_value" {
  type      = string
  sensitive = true
}

variable "ds_value" {
  type      = string
  sensitive = true
}

variable "list_value" {
  type      = string
  sensitive = true
}

variable "primary_value" {
  type      = string
  sensitive = true
}

provider "llmsecret" {
  key_management_settings = {
    access_mode = "read_and_write"
  }
  local = {
    env_file = var.env_file
  }
}

provider "llmsecret" {
  alias = "primary"
  PRIMARY_STORE
  key_management_settings = {
    access_mode         = "read_and_write"
    primary_secret_name = "LEAK_PRIMARY"
  }
}

resource "llmsecret_secret" "wo" {
  name             = "LEAK_WO"
  value_wo         = var.wo_value
  value_wo_version = 1
}

resource "llmsecret_secret" "plain" {
  name  = "LEAK_PLAIN"
  value = var.plain_value
}

resource "llmsecret_secret" "ds_src" {
  name  = "LEAK_DS"
  value = var.ds_value
}

# depends_on: the name is known at plan time, so without it the first plan
# would read the secret before ds_src has written it.
data "llmsecret_secret" "ds" {
  name       = llmsecret_secret.ds_src.name
  depends_on = [llmsecret_secret.ds_src]
}

resource "llmsecret_secret" "list_src" {
  name  = "LEAK_LIST"
  value = var.list_value
}

data "llmsecret_secrets" "list" {
  names      = [llmsecret_secret.list_src.name, llmsecret_secret.plain.name]
  depends_on = [llmsecret_secret.list_src, llmsecret_secret.plain]
}

# LEAK_EPH_SRC is seeded in the dotenv file by the test before the first run.
ephemeral "llmsecret_secret" "eph" {
  name = "LEAK_EPH_SRC"
}

resource "llmsecret_secret" "eph_copy" {
  name             = "LEAK_EPH_COPY"
  value_wo         = ephemeral.llmsecret_secret.eph.value
  value_wo_version = 1
}

resource "llmsecret_secret" "primary" {
  provider         = llmsecret.primary
  name             = "LEAK_PRIMARY_FIELD"
  value_wo         = var.primary_value
  value_wo_version = 1
}

output "ds_ok" {
  value = nonsensitive(data.llmsecret_secret.ds.value == var.ds_value)
}

output "list_ok" {
  value = nonsensitive(data.llmsecret_secrets.list.values["LEAK_LIST"] == var.list_value && data.llmsecret_secrets.list.values["LEAK_PLAIN"] == var.plain_value)
}
`

// missingConfig is added for the error step: a data source of a secret that
// does not exist fails the plan after the provider has read the file holding
// every other value.
const missingConfig = `
data "llmsecret_secret" "missing" {
  name = "LEAK_MISSING"
}
`

// traceEnv turns on every log the CLI and the plugin SDKs have at their most
// verbose. Logs go to stderr (no TF_LOG_PATH), i.e. into the combined output
// the test scans: one sink holds the CLI's and the plugin's lines alike.
// TF_LOG_SDK_PROTO_DATA_DIR is deliberately not set: it is a debugging switch
// that dumps raw request payloads to files, values included, by design.
var traceEnv = []string{
	"TF_LOG=TRACE",
	"TF_LOG_CORE=TRACE",
	"TF_LOG_PROVIDER=TRACE",
	"TF_LOG_SDK=TRACE",
	"TF_LOG_SDK_PROTO=TRACE",
	"TF_LOG_SDK_FRAMEWORK=TRACE",
}

// providerTrace matches a TRACE line emitted by the plugin (not the CLI), as
// both CLIs prefix plugin lines with the plugin's name.
var providerTrace = regexp.MustCompile(`\[TRACE\] provider\.terraform-provider-llmsecret`)

func TestLeak_traceLogs(t *testing.T) {
	w := newWorkspace(t)
	envFile := w.path(".env")

	wo := newSecret(t, "value_wo")
	plain := newSecret(t, "value")
	ds := newSecret(t, "data_source")
	list := newSecret(t, "secrets_data_source")
	eph := newSecret(t, "ephemeral")
	primary := newSecret(t, "primary_field")
	// broken and failedWrite are only seen by the error steps below.
	broken := newSecret(t, "broken_dotenv")
	failedWrite := newSecret(t, "failed_write")

	// Nothing may print any of them, ever.
	all := newSecretSet(wo, plain, ds, list, eph, primary, broken, failedWrite)
	// Nothing may store these in state: they only ever travel as value_wo or
	// as an ephemeral value.
	neverInState := newSecretSet(wo, eph, primary, failedWrite)

	seed(t, envFile, "LEAK_EPH_SRC", eph.value)
	aws := reliability.Start(t, reliability.AWSSM)
	w.write("main.tf", strings.Replace(leakConfig, "PRIMARY_STORE", aws.Block, 1))
	w.env = append([]string{
		"TF_VAR_env_file=" + envFile,
		"TF_VAR_wo_value=" + wo.value,
		"TF_VAR_plain_value=" + plain.value,
		"TF_VAR_ds_value=" + ds.value,
		"TF_VAR_list_value=" + list.value,
		"TF_VAR_primary_value=" + primary.value,
	}, traceEnv...)

	// check scans one command's output and the workspace's files.
	check := func(step string, ws *workspace, out string) {
		t.Helper()
		if !providerTrace.MatchString(out) {
			// Without TRACE lines from the plugin the scan below proves
			// nothing, so this is a failure, not a pass.
			t.Errorf("%s: no [TRACE] line from the provider plugin in the output; is TF_LOG honoured?\n%s", step, tail(all.redact(out), 20))
		}
		for _, f := range all.finds(out) {
			t.Errorf("%s: LEAK in CLI output: %s", step, f)
		}
		// The dotenv files hold the values by design; the configuration holds
		// none. Everything else (state, state backups, .terraform, lock
		// files) must not hold a write-only or ephemeral value.
		skip := func(rel string) bool { return strings.HasPrefix(rel, ".env") || strings.HasSuffix(rel, ".tf") }
		for _, f := range scanDir(t, ws.dir, neverInState, skip) {
			t.Errorf("%s: LEAK in working directory: %s", step, f)
		}
	}

	// Step 1: create everything.
	out := w.mustRun(all, "apply", "-auto-approve", "-input=false", "-no-color")
	check("apply", w, out)
	for _, want := range []string{"ds_ok = true", "list_ok = true"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply: output lacks %q: the data sources did not read back what was written", want)
		}
	}
	// The provider's own code logged too (DEBUG, from Configure), not only
	// the SDK around it: the provider's log calls are inside the scan.
	if !strings.Contains(out, "configured llmsecret store") {
		t.Errorf("apply: the provider's own \"configured llmsecret store\" log line is missing")
	}
	// Proof the writes happened, with the exact bytes (quote and backslash
	// included): read the file back with the provider's own dotenv codec.
	for name, want := range map[string]secret{
		"LEAK_WO": wo, "LEAK_PLAIN": plain, "LEAK_DS": ds, "LEAK_LIST": list, "LEAK_EPH_COPY": eph,
	} {
		if got, ok := storedValue(t, envFile, name); !ok || got != want.value {
			t.Errorf("after apply, %s in the dotenv file is not the %s value (present: %v)", name, want.label, ok)
		}
	}
	primaryStore := aws.Open(t, true, &backends.StoreOptions{Settings: backends.Settings{AccessMode: backends.ReadAndWrite, PrimarySecretName: "LEAK_PRIMARY"}})
	if got, err := primaryStore.ReadStored(t.Context(), "LEAK_PRIMARY_FIELD"); err != nil || string(got.Value) != primary.value {
		t.Errorf("after apply, field LEAK_PRIMARY_FIELD of primary secret LEAK_PRIMARY is not the primary_field value (err: %v)", err)
	}
	// Proof the state scan can fail: value (sensitive) is in state by design,
	// and the scanner must see it there.
	if len(newSecretSet(plain).finds(w.read("terraform.tfstate"))) == 0 {
		t.Errorf("the value attribute's value is not found in terraform.tfstate; the state scan is not looking at the right thing")
	}

	// Step 2: refresh. Every Read runs against a store holding every value.
	out, err := w.run("apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color")
	check("refresh", w, out)
	if err != nil && isOpenTofu() && strings.Contains(out, "Invalid refresh-only plan") {
		// OpenTofu 1.11.0-1.11.5 reject every refresh-only plan of a
		// configuration with an ephemeral block, whatever the provider
		// (opentofu/opentofu#3774, fixed by #3777 on the v1.11 branch). The
		// legacy `refresh` command skips that check and runs the same Reads,
		// so the refresh path is still covered; if a fixed OpenTofu is used,
		// the apply above simply succeeds and this is not reached.
		t.Log("OpenTofu rejected apply -refresh-only (opentofu/opentofu#3774); refreshing with `tofu refresh` instead")
		out, err = w.run("refresh", "-input=false", "-no-color")
		check("refresh (tofu refresh)", w, out)
	}
	if err != nil {
		t.Fatalf("refresh: %v\n%s", err, tail(all.redact(out), 60))
	}

	// Step 3: plan. Nothing changed, so the plan must be empty: a perpetual
	// diff here would be a bug in itself (exit code 2 with -detailed-exitcode).
	out, err = w.run("plan", "-detailed-exitcode", "-input=false", "-no-color")
	check("plan", w, out)
	if code := exitCode(err); code != 0 {
		t.Errorf("plan after apply: exit code %d, want 0 (no changes)\n%s", code, tail(all.redact(out), 40))
	}

	// Step 4: an error path: a missing secret fails the plan, after the
	// provider has read (and logged around) every other value.
	w.write("missing.tf", missingConfig)
	out, err = w.run("plan", "-input=false", "-no-color")
	check("plan with a missing secret", w, out)
	if err == nil || !strings.Contains(out, "LEAK_MISSING") {
		t.Errorf("plan with a missing secret: want a failure naming LEAK_MISSING, got err=%v\n%s", err, tail(all.redact(out), 40))
	}
	if err := os.Remove(w.path("missing.tf")); err != nil {
		t.Fatal(err)
	}

	// Step 5: destroy.
	out = w.mustRun(all, "destroy", "-auto-approve", "-input=false", "-no-color")
	check("destroy", w, out)
	for _, name := range []string{"LEAK_WO", "LEAK_PLAIN", "LEAK_DS", "LEAK_LIST", "LEAK_EPH_COPY"} {
		if _, ok := storedValue(t, envFile, name); ok {
			t.Errorf("after destroy, %s is still in the dotenv file", name)
		}
	}

	// Step 6: an error path inside the dotenv parser: a syntax error on a
	// line holding a value must be reported without the line's content.
	bw := newWorkspace(t)
	bw.env = traceEnv
	bw.write(".env", fmt.Sprintf("LEAK_OK=%s\nLEAK_BROKEN=\"sk-leak-%s\n", broken.core, broken.core))
	bw.write("main.tf", requiredProviders+fmt.Sprintf(`
provider "llmsecret" {
  local = {
    env_file = %q
  }
}

data "llmsecret_secret" "ok" {
  name = "LEAK_OK"
}
`, bw.path(".env")))
	out, err = bw.run("plan", "-input=false", "-no-color")
	check("plan on a broken dotenv file", bw, out)
	if err == nil || !strings.Contains(out, "not a valid dotenv file") {
		t.Errorf("plan on a broken dotenv file: want a failure saying so, got err=%v\n%s", err, tail(all.redact(out), 40))
	}

	// Step 7: an error path on write: value_wo is known to the provider, but
	// the store refuses the write (env_file in a directory that does not
	// exist). The error must not carry the value, and nothing may be stored.
	fw := newWorkspace(t)
	fw.env = append([]string{"TF_VAR_wo_value=" + failedWrite.value}, traceEnv...)
	fw.write("main.tf", requiredProviders+fmt.Sprintf(`
variable "wo_value" {
  type      = string
  sensitive = true
}

provider "llmsecret" {
  key_management_settings = {
    access_mode = "read_and_write"
  }
  local = {
    env_file = %q
  }
}

resource "llmsecret_secret" "fails" {
  name             = "LEAK_FAILS"
  value_wo         = var.wo_value
  value_wo_version = 1
}
`, fw.path("no-such-dir/.env")))
	out, err = fw.run("apply", "-auto-approve", "-input=false", "-no-color")
	check("apply that fails to write", fw, out)
	if err == nil || !strings.Contains(out, "does not exist") {
		t.Errorf("apply into a missing directory: want a failure saying the directory does not exist, got err=%v\n%s", err, tail(all.redact(out), 40))
	}
}
