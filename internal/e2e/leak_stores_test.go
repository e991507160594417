package e2e

// DESIGN.md, Secrets never leak, on every store: TestLeak_traceLogs covers the local store
// in depth; this test runs the same lifecycle at TF_LOG=TRACE against each
// store's test server (started in this process on loopback, reached by the
// provider process through the endpoint override of its block, with the
// fault proxy in front): apply, refresh, an empty plan, destroy, and a
// write the store refuses. Every byte the CLI and the plugin print, every
// file left in the working directory (state, backups, crash logs) and every
// error is searched for each value, in every encoding secretSet knows.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/faultproxy"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/reliability"
)

// leakStoreConfig uses, on one store: value_wo (wo), value (plain), the data
// source reading plain back (a data source keeps its value in state, as
// value does), the ephemeral resource reading a seeded secret and writing it
// again as value_wo (eph_copy). On KMS stores the reads decrypt the
// ciphertexts (plain's, and a seeded one).
func leakStoreConfig(tg *reliability.Target) string {
	read := `name       = llmsecret_secret.plain.name
  depends_on = [llmsecret_secret.plain]`
	eph := `name = "LEAK-EPH-SRC"`
	if tg.KMS {
		read = `name       = llmsecret_secret.plain.name
  ciphertext = llmsecret_secret.plain.ciphertext`
		eph = `name       = "LEAK-EPH-SRC"
  ciphertext = var.eph_ciphertext`
	}
	return requiredProviders + fmt.Sprintf(`
variable "wo_value" {
  type      = string
  sensitive = true
}

variable "plain_value" {
  type      = string
  sensitive = true
}

variable "eph_ciphertext" {
  type    = string
  default = null
}

provider "llmsecret" {
  %[1]s
  key_management_settings = {
    access_mode = "read_and_write"
  }
}

resource "llmsecret_secret" "wo" {
  name             = "LEAK-WO"
  value_wo         = var.wo_value
  value_wo_version = 1
}

resource "llmsecret_secret" "plain" {
  name  = "LEAK-PLAIN"
  value = var.plain_value
}

data "llmsecret_secret" "ds" {
  %[2]s
}

ephemeral "llmsecret_secret" "eph" {
  %[3]s
}

resource "llmsecret_secret" "eph_copy" {
  name             = "LEAK-EPH-COPY"
  value_wo         = ephemeral.llmsecret_secret.eph.value
  value_wo_version = 1
}

output "ds_ok" {
  value = nonsensitive(data.llmsecret_secret.ds.value == var.plain_value)
}
`, tg.Block, read, eph)
}

// leakFailConfig writes one secret the store refuses.
func leakFailConfig(tg *reliability.Target) string {
	return requiredProviders + fmt.Sprintf(`
variable "wo_value" {
  type      = string
  sensitive = true
}

provider "llmsecret" {
  %s
  key_management_settings = {
    access_mode = "read_and_write"
  }
  timeouts = {
    max_attempts = 2
  }
}

resource "llmsecret_secret" "fails" {
  name             = "LEAK-FAILS"
  value_wo         = var.wo_value
  value_wo_version = 1
}
`, tg.Block)
}

func TestLeak_everyStore(t *testing.T) {
	cliPath(t)
	for _, kind := range reliability.Kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			tg := reliability.Start(t, kind)
			wo, plain, eph, failed := newSecret(t, "value_wo"), newSecret(t, "value"), newSecret(t, "ephemeral"), newSecret(t, "failed_write")
			all := newSecretSet(wo, plain, eph, failed)
			neverInState := newSecretSet(wo, eph, failed)

			w := newWorkspace(t)
			for k, v := range tg.Env {
				w.env = append(w.env, k+"="+v)
			}
			w.env = append(w.env, "TF_VAR_wo_value="+wo.value, "TF_VAR_plain_value="+plain.value)
			w.env = append(w.env, traceEnv...)
			direct := tg.Open(t, true, nil)
			if tg.KMS {
				ct, err := direct.Encrypt(t.Context(), "LEAK-EPH-SRC", []byte(eph.value))
				if err != nil {
					t.Fatalf("seeding the ephemeral ciphertext: %v", err)
				}
				w.env = append(w.env, "TF_VAR_eph_ciphertext="+ct)
			} else if _, err := direct.Write(t.Context(), backends.WriteRequest{Name: tg.Stored(t, "LEAK-EPH-SRC"), Value: []byte(eph.value)}); err != nil {
				t.Fatalf("seeding LEAK-EPH-SRC: %v", err)
			}
			w.write("main.tf", leakStoreConfig(tg))

			check := func(step string, ws *workspace, out string) {
				t.Helper()
				if !providerTrace.MatchString(out) {
					t.Errorf("%s: no [TRACE] line from the provider plugin; is TF_LOG honoured?\n%s", step, tail(all.redact(out), 20))
				}
				for _, f := range all.finds(out) {
					t.Errorf("%s: LEAK in CLI output: %s", step, f)
				}
				skip := func(rel string) bool { return strings.HasSuffix(rel, ".tf") || strings.HasPrefix(rel, ".env") }
				for _, f := range scanDir(t, ws.dir, neverInState, skip) {
					t.Errorf("%s: LEAK in working directory: %s", step, f)
				}
			}

			out := w.mustRun(all, "apply", "-auto-approve", "-input=false", "-no-color")
			check("apply", w, out)
			// Control: value (sensitive) is in state by design, and the scan
			// must see it there, or it proves nothing.
			if len(newSecretSet(plain).finds(w.read("terraform.tfstate"))) == 0 {
				t.Errorf("the value attribute's value is not found in terraform.tfstate; the state scan is not looking at the right thing")
			}
			if !strings.Contains(out, "ds_ok = true") {
				t.Errorf("apply: the data source did not read back the value written")
			}
			if !tg.KMS {
				for name, want := range map[string]secret{"LEAK-WO": wo, "LEAK-PLAIN": plain, "LEAK-EPH-COPY": eph} {
					sec, err := direct.ReadStored(t.Context(), tg.Stored(t, name))
					if err != nil || string(sec.Value) != want.value {
						t.Errorf("after apply, %s does not hold the %s value (%v)", name, want.label, err)
					}
				}
			}

			out, err := w.run("apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color")
			check("refresh", w, out)
			if err != nil && isOpenTofu() && strings.Contains(out, "Invalid refresh-only plan") {
				// opentofu/opentofu#3774, as in TestLeak_traceLogs.
				out, err = w.run("refresh", "-input=false", "-no-color")
				check("refresh (tofu refresh)", w, out)
			}
			if err != nil {
				t.Fatalf("refresh: %v\n%s", err, tail(all.redact(out), 40))
			}

			out, err = w.run("plan", "-detailed-exitcode", "-input=false", "-no-color")
			check("plan", w, out)
			if code := exitCode(err); code != 0 {
				t.Errorf("plan after apply: exit code %d, want 0 (no changes)\n%s", code, tail(all.redact(out), 30))
			}

			out = w.mustRun(all, "destroy", "-auto-approve", "-input=false", "-no-color")
			check("destroy", w, out)

			// A write the store refuses: the error must not carry the value
			// and nothing may reach state.
			fw := newWorkspace(t)
			for k, v := range tg.Env {
				fw.env = append(fw.env, k+"="+v)
			}
			fw.env = append(fw.env, "TF_VAR_wo_value="+failed.value)
			fw.env = append(fw.env, traceEnv...)
			fw.write("main.tf", leakFailConfig(tg))
			want := "LEAK-FAILS"
			if tg.Kind == reliability.Local {
				// The local store's refusal: a dotenv file it cannot parse.
				fw.write(".env", "BROKEN=\"unterminated\n")
				fw.write("main.tf", strings.Replace(leakFailConfig(tg), tg.EnvFile, fw.path(".env"), 1))
			} else {
				tg.Inject(t, reliability.Write, tg.Stored(t, "LEAK-FAILS"), reliability.Forbidden, 1, faultproxy.Forever, false)
			}
			out, err = fw.run("apply", "-auto-approve", "-input=false", "-no-color")
			check("apply that fails to write", fw, out)
			if err == nil || !strings.Contains(out, want) {
				t.Errorf("apply that fails to write: want a failure naming %s, got err=%v\n%s", want, err, tail(all.redact(out), 30))
			}
			if !t.Failed() {
				t.Logf("%s: apply, refresh, plan, destroy and a refused write at TRACE: no value in the output or the working directory (%s)",
					kind, time.Since(start).Round(100*time.Millisecond))
			}
		})
	}
}
