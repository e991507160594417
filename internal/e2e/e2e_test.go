package e2e

// Shared plumbing of the end-to-end tests: building the provider once,
// running the CLI in a fresh working directory with a controlled environment,
// and looking for secret values (in any encoding we can think of) in text.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/local"
)

// providerSources are the addresses the CLIs resolve `source =
// "llmsecret/llmsecret"` to: Terraform's default registry host and OpenTofu's.
// The dev_overrides block names both so one CLI config serves either binary.
var providerSources = []string{
	"registry.terraform.io/llmsecret/llmsecret",
	"registry.opentofu.org/llmsecret/llmsecret",
}

// requiredProviders is the terraform block every generated configuration
// gets. With dev_overrides no `init` is needed (or wanted: init would try the
// registry), so the tests go straight to validate/plan/apply.
const requiredProviders = `terraform {
  required_providers {
    llmsecret = {
      source = "llmsecret/llmsecret"
    }
  }
}
`

// cliConfigFile is the TF_CLI_CONFIG_FILE of every CLI run, written by
// TestMain. Empty when the tests are going to skip or fail their precheck.
var cliConfigFile string

// TestMain builds the provider once per `go test` run, so every CLI
// invocation of every test exercises the same binary, built from the working
// tree (not whatever is installed), and writes a CLI config pointing both
// registry addresses at it.
func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	// Build only when the tests will actually run: a plain `go test ./...`
	// (make unit) must stay fast and must not need anything but Go.
	if os.Getenv("TF_ACC") != "1" || os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "llmsecret-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir := filepath.Join(dir, "bin")
	// The package directory is internal/e2e, so the module root (main.go) is
	// two levels up.
	build := exec.Command("go", "build", "-o", filepath.Join(binDir, "terraform-provider-llmsecret"), "../..")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building the provider: %v\n%s", err, out)
		return 1
	}
	var cfg strings.Builder
	cfg.WriteString("provider_installation {\n  dev_overrides {\n")
	for _, src := range providerSources {
		fmt.Fprintf(&cfg, "    %q = %q\n", src, binDir)
	}
	// direct {} keeps every other provider installable as usual; the tests
	// use none, so nothing is ever downloaded.
	cfg.WriteString("  }\n  direct {}\n}\n")
	cliConfigFile = filepath.Join(dir, "cli.tfrc")
	if err := os.WriteFile(cliConfigFile, []byte(cfg.String()), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	return m.Run()
}

// cliPath returns the CLI under test, skipping like resource.Test does when
// TF_ACC is unset and failing when TF_ACC is set but the CLI is not: an
// acceptance run that silently tests nothing would be worse than a red one.
func cliPath(t *testing.T) string {
	t.Helper()
	if os.Getenv("TF_ACC") != "1" {
		t.Skip("end-to-end tests drive the real Terraform/OpenTofu CLI; they run under make testacc (TF_ACC=1)")
	}
	p := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if p == "" {
		t.Fatal("TF_ACC=1 but TF_ACC_TERRAFORM_PATH is not set; it must point at terraform or tofu (make testacc-terraform / make testacc-tofu set it)")
	}
	if cliConfigFile == "" {
		t.Fatal("the provider was not built by TestMain")
	}
	return p
}

// isOpenTofu reports whether the CLI under test is OpenTofu.
func isOpenTofu() bool {
	return strings.Contains(filepath.Base(os.Getenv("TF_ACC_TERRAFORM_PATH")), "tofu")
}

// workspace is one fresh working directory for the CLI.
type workspace struct {
	t   *testing.T
	cli string
	dir string
	// env is added to every run, after the base environment.
	env []string
}

func newWorkspace(t *testing.T) *workspace {
	t.Helper()
	return &workspace{t: t, cli: cliPath(t), dir: t.TempDir()}
}

// path returns the absolute path of name inside the workspace.
func (w *workspace) path(name string) string { return filepath.Join(w.dir, name) }

func (w *workspace) write(name, content string) {
	w.t.Helper()
	if err := os.WriteFile(w.path(name), []byte(content), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

func (w *workspace) read(name string) string {
	w.t.Helper()
	b, err := os.ReadFile(w.path(name))
	if err != nil {
		w.t.Fatal(err)
	}
	return string(b)
}

// baseEnv is the process environment minus everything that could change what
// the CLI or the provider does behind the test's back: every TF_*/TOFU_*
// variable (this machine sets TF_CLI_CONFIG_FILE to a missing file; a
// developer may have TF_LOG or TF_VAR_* set) and the names the provider would
// fall back to reading from the environment when the dotenv file lacks them.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "TF_"), strings.HasPrefix(name, "TOFU_"),
			strings.HasSuffix(name, "_API_KEY"), strings.HasPrefix(name, "LEAK_"):
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"TF_CLI_CONFIG_FILE="+cliConfigFile,
		"TF_IN_AUTOMATION=1",
		"CHECKPOINT_DISABLE=1", // no version check calls home
	)
}

// run runs the CLI in the workspace and returns its combined stdout and
// stderr. Callers pass -no-color/-input=false themselves because not every
// subcommand accepts them.
func (w *workspace) run(args ...string) (string, error) {
	w.t.Helper()
	ctx := w.t.Context()
	if d, ok := w.t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, w.cli, args...)
	cmd.Dir = w.dir
	cmd.Env = append(baseEnv(), w.env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustRun is run that fails the test, showing the output, on a non-zero exit.
// redact hides known secret values from what is shown (nil shows all).
func (w *workspace) mustRun(redact *secretSet, args ...string) string {
	w.t.Helper()
	out, err := w.run(args...)
	if err != nil {
		w.t.Fatalf("%s %s: %v\n%s", filepath.Base(w.cli), strings.Join(args, " "), err, tail(redact.redact(out), 60))
	}
	return out
}

// exitCode is the exit status of a finished command (0 when err is nil).
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// tail keeps the last n lines of s: TRACE output runs to thousands of lines
// and the end is where the error is.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) <= n {
		return s
	}
	return fmt.Sprintf("[... %d lines elided ...]\n%s", len(lines)-n, strings.Join(lines[len(lines)-n:], "\n"))
}

// randomHex returns n random bytes as hex.
func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// localStore opens a dotenv file with the provider's own local backend, to
// seed values the way the provider would write them and to check what the
// CLI runs left there.
func localStore(t *testing.T, envFile string) *backends.Store {
	t.Helper()
	b, err := local.New(&local.Options{EnvFile: envFile})
	if err != nil {
		t.Fatal(err)
	}
	s, err := backends.NewStore(b, &backends.StoreOptions{Settings: backends.Settings{
		AccessMode: backends.ReadAndWrite,
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// seed writes name=value into the dotenv file through the provider's encoder,
// so any byte string is stored correctly.
func seed(t *testing.T, envFile, name, value string) {
	t.Helper()
	s := localStore(t, envFile)
	if _, err := s.Write(t.Context(), backends.WriteRequest{Name: name, Value: []byte(value)}); err != nil {
		t.Fatalf("seeding %s: %v", name, err)
	}
}

// storedValue reads name back from the dotenv file; ok is false if missing.
func storedValue(t *testing.T, envFile, name string) (string, bool) {
	t.Helper()
	sec, err := localStore(t, envFile).ReadStored(t.Context(), name)
	if backends.CodeOf(err) == backends.NotFound {
		return "", false
	}
	if err != nil {
		t.Fatalf("reading %s back from %s: %v", name, envFile, err)
	}
	return string(sec.Value), true
}

// secret is a test secret value. core is its random part: any form of the
// value that keeps the core intact (raw, JSON/Go/dotenv-escaped, a prefix
// cut off or a suffix truncated) contains it.
type secret struct {
	label string
	value string
	core  string
}

// newSecret returns a distinct random value. The tail has a double quote and
// a backslash so that the raw, JSON-escaped and Go-quoted forms all differ,
// and so the values exercise the escaping of HCL, the plugin protocol and the
// dotenv encoder rather than only easy ASCII.
func newSecret(t *testing.T, label string) secret {
	core := randomHex(t, 16)
	return secret{label: label, core: core, value: "sk-leak-" + core + `-q"b\s`}
}

// forms returns every encoding of the secret we look for, keyed by a label
// for reports.
func (s secret) forms() map[string]string {
	f := map[string]string{
		"raw":         s.value,
		"random core": s.core,
		"hex":         hex.EncodeToString([]byte(s.value)),
	}
	j, _ := json.Marshal(s.value)
	f["JSON-escaped"] = string(j[1 : len(j)-1])
	f["Go-quoted"] = strings.Trim(strconv.Quote(s.value), `"`)
	// base64 depends on where the value sits in the encoded blob modulo 3.
	// Dropping 0, 1 or 2 leading bytes puts it on a group boundary for one of
	// the three alignments; only the complete 4-character groups are fixed by
	// the value alone, so the needle is cut to those.
	for skip := range 3 {
		v := []byte(s.value[skip:])
		n := len(v) / 3 * 4
		for _, enc := range []struct {
			name string
			e    *base64.Encoding
		}{{"base64", base64.StdEncoding}, {"base64url", base64.URLEncoding}} {
			f[fmt.Sprintf("%s@%d", enc.name, skip)] = enc.e.EncodeToString(v)[:n]
		}
	}
	return f
}

// secretSet is the values a check looks for.
type secretSet struct{ secrets []secret }

func newSecretSet(s ...secret) *secretSet { return &secretSet{secrets: s} }

// finds reports each secret found in text: which of its forms occur, and
// the first line holding one, with every known value redacted so a failure
// report never prints a value (harmless for random test values, but it keeps
// reports honest and short).
func (ss *secretSet) finds(text string) []string {
	if ss == nil {
		return nil
	}
	var found []string
	lines := strings.Split(text, "\n")
	for _, s := range ss.secrets {
		forms := s.forms()
		var hit []string
		first := -1
		for _, form := range slices.Sorted(maps.Keys(forms)) {
			needle := forms[form]
			if !strings.Contains(text, needle) {
				continue
			}
			hit = append(hit, form)
			for i, line := range lines {
				if strings.Contains(line, needle) {
					if first < 0 || i < first {
						first = i
					}
					break
				}
			}
		}
		if len(hit) == 0 {
			continue
		}
		l := ss.redact(lines[first])
		if len(l) > 400 {
			l = l[:400] + "..."
		}
		found = append(found, fmt.Sprintf("%s value (as %s) on line %d: %s", s.label, strings.Join(hit, ", "), first+1, l))
	}
	return found
}

// redact replaces every form of every secret with a marker.
func (ss *secretSet) redact(text string) string {
	if ss == nil {
		return text
	}
	for _, s := range ss.secrets {
		forms := s.forms()
		// Longest first, so the raw value is replaced before its core.
		for _, name := range []string{"hex", "raw", "JSON-escaped", "Go-quoted"} {
			text = strings.ReplaceAll(text, forms[name], "<"+s.label+":"+name+">")
		}
		for name, f := range forms {
			text = strings.ReplaceAll(text, f, "<"+s.label+":"+name+">")
		}
	}
	return text
}

// scanDir reports secret forms found in any file under dir except those skip
// accepts. It reads every file (state, its backups, .terraform, lock files)
// rather than a list of names, so a new file the CLI starts writing is
// covered too.
func scanDir(t *testing.T, dir string, ss *secretSet, skip func(rel string) bool) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if skip != nil && skip(rel) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, f := range ss.finds(string(b)) {
			found = append(found, rel+": "+f)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
