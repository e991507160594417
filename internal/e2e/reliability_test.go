package e2e

// Faults between the provider and the store, through the real CLI: every
// store runs on loopback behind a fault injector (internal/testing/reliability),
// and the provider process reaches it through its endpoint override.
//
//  1. transient faults on some writes (503, 429 with Retry-After, a reset
//     in the middle of the answer, a hang past per_call): the apply
//     succeeds, every value is in the store, state lists every secret;
//  2. a permanent fault (403) on one new secret while another is created:
//     the apply fails naming the store, the secret and the cause, and what
//     state lists is exactly what the store holds: no orphan secret state
//     does not know, no state entry for a secret never written;
//  3. the fault gone, the next apply creates only the missing secret;
//  4. destroy empties the store (stores that delete).

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/faultproxy"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/reliability"
)

// relStores are the stores of the CLI fault test: every store with remote
// objects (the KMS stores keep nothing to orphan; their calls are covered
// by internal/testing/reliability).
var relStores = []string{reliability.Local, reliability.Vault, reliability.AWSSM, reliability.Azure, reliability.CyberArk, reliability.Custom, reliability.GoogleSM}

// relConfig is the configuration of the CLI fault test: one secret per key
// of var.values, on the target's store; brokenEnv, when set, adds for the
// local store a secret written through a second provider whose env_file is
// brokenEnv, in a directory that does not exist until the test makes it
// (the local store's permanent fault).
func relConfig(tg *reliability.Target, brokenEnv string) string {
	var b strings.Builder
	b.WriteString(requiredProviders)
	fmt.Fprintf(&b, `
variable "values" {
  type = map(string)
}

provider "llmsecret" {
  %s
  key_management_settings = {
    access_mode = "read_and_write"
  }
  # per_call ends the hang fault; the attempts leave room for healthy calls
  # that a loaded 2-core CI machine slows past per_call (seen: 4 were too few).
  timeouts = {
    per_call     = "2s"
    max_attempts = 8
  }
}

resource "llmsecret_secret" "s" {
  for_each         = var.values
  name             = each.key
  value_wo         = each.value
  value_wo_version = 1
}
`, tg.Block)
	if brokenEnv != "" {
		fmt.Fprintf(&b, `
provider "llmsecret" {
  alias = "broken"
  key_management_settings = {
    access_mode = "read_and_write"
  }
  local = {
    env_file = %q
  }
}

resource "llmsecret_secret" "broken" {
  provider         = llmsecret.broken
  name             = "REL-6"
  value_wo         = "sk-rel-broken-6"
  value_wo_version = 1
}
`, brokenEnv)
	}
	return b.String()
}

// stateNames returns the full_name of every llmsecret_secret in the
// workspace's state.
func stateNames(t *testing.T, w *workspace) []string {
	t.Helper()
	data, err := os.ReadFile(w.path("terraform.tfstate"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Resources []struct {
			Mode, Type string
			Instances  []struct {
				Attributes map[string]any `json:"attributes"`
			}
		}
	}
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("terraform.tfstate is not JSON: %v", err)
	}
	var out []string
	for _, r := range st.Resources {
		if r.Mode != "managed" || r.Type != "llmsecret_secret" {
			continue
		}
		for _, in := range r.Instances {
			if n, ok := in.Attributes["full_name"].(string); ok {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out
}

// held returns the candidates the store holds with a readable value, read
// straight from the server (primary: through primary_secret_name).
func held(t *testing.T, tg *reliability.Target, primary string, candidates []string) []string {
	t.Helper()
	s := tg.Open(t, true, &backends.StoreOptions{Settings: backends.Settings{AccessMode: backends.ReadAndWrite, PrimarySecretName: primary}})
	var out []string
	for _, c := range candidates {
		_, err := s.ReadStored(t.Context(), c)
		switch backends.CodeOf(err) {
		case backends.OK:
			out = append(out, c)
		case backends.NotFound:
		default:
			if primary == "" {
				t.Fatalf("reading %s back: %v", c, err)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestReliability_faultsThroughCLI(t *testing.T) {
	cliPath(t)
	for _, kind := range relStores {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			tg := reliability.Start(t, kind)
			w := newWorkspace(t)
			for k, v := range tg.Env {
				w.env = append(w.env, k+"="+v)
			}
			values := map[string]string{}
			setValues := func() {
				j, _ := json.Marshal(values)
				w.env = append(w.env, "TF_VAR_values="+string(j))
			}
			stored := map[string]string{} // name -> stored spelling
			for i := 1; i <= 6; i++ {
				n := fmt.Sprintf("REL-%d", i)
				stored[n] = tg.Stored(t, n)
			}
			storedOf := func(names ...string) []string {
				var out []string
				for _, n := range names {
					out = append(out, stored[n])
				}
				slices.Sort(out)
				return out
			}
			apply := func(broken string) (string, error) {
				w.write("main.tf", relConfig(tg, broken))
				return w.run("apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=4")
			}

			// 1. Transient faults on four writes: the apply rides them out.
			for i := 1; i <= 4; i++ {
				values[fmt.Sprintf("REL-%d", i)] = fmt.Sprintf("sk-rel-%d-%s", i, randomHex(t, 6))
			}
			setValues()
			faults := []reliability.Fault{reliability.Error503, reliability.ThrottleRetryAfter, reliability.ResetMidBody, reliability.Hang}
			if kind != reliability.Local {
				for i, f := range faults {
					tg.Inject(t, reliability.Write, stored[fmt.Sprintf("REL-%d", i+1)], f, max(tg.LandingWrite, 1), 1, false)
				}
			}
			out, err := apply("")
			if err != nil {
				t.Fatalf("apply with transient faults: %v\n%s", err, tail(out, 40))
			}
			if kind != reliability.Local {
				st := tg.Injected()
				if st.Injected != len(faults) {
					t.Errorf("injected %d faults, want %d (%v)", st.Injected, len(faults), st.ByFault)
				}
				for i := 1; i <= 4; i++ {
					// The retry shows as a second write, or as the reads of
					// a store that checks what the lost answer did (AWS).
					n := stored[fmt.Sprintf("REL-%d", i)]
					if w, all := tg.Requests(reliability.Write, n), tg.Touches(n); w < 2 && all-w < 2 {
						t.Errorf("REL-%d: %d write and %d other requests, want a retry after its fault", i, w, all-w)
					}
				}
			}
			checkHeld(t, tg, "", values, stored)
			if got, want := stateNames(t, w), storedOf("REL-1", "REL-2", "REL-3", "REL-4"); !slices.Equal(got, want) {
				t.Errorf("after the apply with transient faults, state lists %v, want %v", got, want)
			}

			// 2. A permanent fault on REL-6 while REL-5 is created.
			values["REL-5"] = "sk-rel-5-" + randomHex(t, 6)
			broken := ""
			if kind == reliability.Local {
				// The local store's permanent fault: an env_file in a
				// directory that does not exist.
				broken = w.path("broken-dir/.env")
			} else {
				values["REL-6"] = "sk-rel-6-" + randomHex(t, 6)
				tg.Inject(t, reliability.Write, stored["REL-6"], reliability.Forbidden, 1, faultproxy.Forever, false)
			}
			setValues()
			out, err = apply(broken)
			if err == nil {
				t.Fatalf("apply with a permanent fault on REL-6 succeeded\n%s", tail(out, 30))
			}
			want := []string{"creating secret (" + stored["REL-6"] + ") in " + kind, "injected 403"}
			switch kind {
			case reliability.GoogleSM:
				want[1] = "injected PermissionDenied"
			case reliability.Local:
				want = []string{"creating secret (REL-6) in local", "does not exist"}
			}
			flat := strings.Join(strings.Fields(out), " ")
			for _, s := range want {
				if !strings.Contains(flat, s) {
					t.Errorf("the failed apply does not say %q:\n%s", s, tail(out, 30))
				}
			}
			candidates := storedOf("REL-1", "REL-2", "REL-3", "REL-4", "REL-5", "REL-6")
			gotState, gotStore := stateNames(t, w), held(t, tg, "", candidates)
			if !slices.Equal(gotState, gotStore) {
				t.Errorf("after the failed apply state lists %v but the store holds %v", gotState, gotStore)
			}
			if wantState := storedOf("REL-1", "REL-2", "REL-3", "REL-4", "REL-5"); !slices.Equal(gotState, wantState) {
				t.Errorf("after the failed apply state lists %v, want %v", gotState, wantState)
			}
			shells := ""
			if objs := tg.Objects(); slices.Contains(objs, stored["REL-6"]) {
				shells = fmt.Sprintf("; the store keeps an empty %s without a value (not readable, adopted by the next create)", stored["REL-6"])
			}

			// 3. The fault gone, the next apply creates REL-6 only.
			tg.Clear()
			if kind == reliability.Local {
				if err := os.Mkdir(w.path("broken-dir"), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			out, err = apply(broken)
			if err != nil {
				t.Fatalf("apply after the fault cleared: %v\n%s", err, tail(out, 40))
			}
			if !strings.Contains(out, "1 added, 0 changed, 0 destroyed") {
				t.Errorf("apply after the fault cleared: want exactly REL-6 added\n%s", tail(out, 20))
			}
			if kind == reliability.Local {
				if got, ok := storedValue(t, broken, "REL-6"); !ok || got != "sk-rel-broken-6" {
					t.Errorf("REL-6 is not in %s after the fault cleared", broken)
				}
			} else {
				checkHeld(t, tg, "", values, stored)
			}

			// 4. Destroy.
			out, err = w.run("destroy", "-auto-approve", "-input=false", "-no-color")
			if err != nil {
				t.Fatalf("destroy: %v\n%s", err, tail(out, 40))
			}
			if names := stateNames(t, w); len(names) != 0 {
				t.Errorf("after destroy state still lists %v", names)
			}
			if tg.Open(t, true, nil).Caps().Delete {
				if left := held(t, tg, "", candidates); len(left) != 0 {
					t.Errorf("after destroy the store still holds %v", left)
				}
			}
			st := tg.Injected()
			t.Logf("%s: %d faults injected, %d requests through the injector; failed apply: state == store == %v%s; %s",
				kind, st.Injected, st.Requests, gotState, shells, time.Since(start).Round(100*time.Millisecond))
		})
	}
}

// checkHeld asserts the store holds every value, read straight from the
// server.
func checkHeld(t *testing.T, tg *reliability.Target, primary string, values, stored map[string]string) {
	t.Helper()
	s := tg.Open(t, true, &backends.StoreOptions{Settings: backends.Settings{AccessMode: backends.ReadAndWrite, PrimarySecretName: primary}})
	for _, n := range slices.Sorted(maps.Keys(values)) {
		sec, err := s.ReadStored(t.Context(), stored[n])
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if string(sec.Value) != values[n] {
			t.Errorf("%s holds a different value than the one applied", n)
		}
	}
}
