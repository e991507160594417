package e2e

// Every example shipped in examples/ (they end up in the registry docs via
// tfplugindocs, and quickstart is what a new user runs first) must work with
// the real CLI, not just parse. The test walks examples/ so a new example is
// picked up automatically, and fails on a directory it does not know how to
// run rather than silently skipping it.

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// examplesRoot is examples/ seen from the package directory.
const examplesRoot = "../../examples"

// Snippet directories of the tfplugindocs layout, by the block keyword their
// type is declared with.
var snippetKinds = map[string]string{
	"resources":           "resource",
	"data-sources":        "data",
	"ephemeral-resources": "ephemeral",
}

// seededNames are the secrets the snippets read without writing them first;
// the test puts random values under these names in the dotenv file.
var seededNames = []string{"ANTHROPIC_API_KEY", "OPENAI_API_KEY"}

var (
	variableRE          = regexp.MustCompile(`(?m)^\s*variable\s+"([^"]+)"`)
	providerBlockRE     = regexp.MustCompile(`(?m)^\s*provider\s+"llmsecret"`)
	requiredProvidersRE = regexp.MustCompile(`(?m)^\s*required_providers\s*{`)
	blockRE             = regexp.MustCompile(`(?m)^\s*(resource|data|ephemeral)\s+"([^"]+)"\s+"([^"]+)"`)
	aliasRE             = regexp.MustCompile(`(?m)^\s*alias\s*=\s*"([^"]+)"`)
)

func TestExamples(t *testing.T) {
	cliPath(t) // skip or fail before walking anything

	dirs := exampleDirs(t)
	if len(dirs) == 0 {
		t.Fatalf("no example directories found under %s", examplesRoot)
	}
	for _, rel := range dirs {
		t.Run(rel, func(t *testing.T) {
			// Each example has its own working directory and dotenv file, so
			// they can run at once: the whole suite takes about as long as
			// its slowest example.
			t.Parallel()
			src := filepath.Join(examplesRoot, rel)
			parts := strings.Split(rel, "/")
			switch {
			case rel == "quickstart":
				checkFiles(t, src, nil)
				testQuickstart(t, src)
			case rel == "provider":
				checkFiles(t, src, nil)
				testSnippet(t, src, rel)
			case len(parts) == 2 && snippetKinds[parts[0]] != "":
				var extra []string
				if parts[0] == "resources" {
					extra = []string{"import.sh"} // tfplugindocs' import example
				}
				checkFiles(t, src, extra)
				// tfplugindocs files a snippet under its type's name; a snippet
				// that declares another type documents the wrong page.
				if !regexp.MustCompile(`(?m)^\s*` + snippetKinds[parts[0]] + `\s+"` + regexp.QuoteMeta(parts[1]) + `"`).MatchString(readTF(t, src)) {
					t.Errorf("examples/%s declares no %s %q block", rel, snippetKinds[parts[0]], parts[1])
				}
				testSnippet(t, src, rel)
				if parts[0] == "resources" {
					if _, err := os.Stat(filepath.Join(src, "import.sh")); err == nil {
						testImport(t, src)
					}
				}
			case len(parts) == 2 && parts[0] == "list-resources":
				testListExample(t, src, parts[1])
			case len(parts) == 2 && parts[0] == "custom-stores":
				// Reference custom stores are programs, not configurations:
				// internal/backends/custom runs the conformance suite against
				// each and TestAccCustomSecret_* applies through them. Fail
				// if a new one is not wired into that harness.
				harness, err := os.ReadFile(filepath.Join(examplesRoot, "..", "internal", "backends", "custom", "customtest", "customtest.go"))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(harness), `"custom-stores", "`+parts[1]+`"`) {
					t.Errorf("examples/%s is not used by internal/backends/custom/customtest, so no test runs it", rel)
				}
			default:
				t.Fatalf("examples/%s: internal/e2e does not know how to test this example directory; teach TestExamples (examples_test.go) how to run it", rel)
			}
		})
	}
}

// exampleDirs lists, relative to examples/ and with forward slashes, every
// directory that holds at least one file.
func exampleDirs(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir(examplesRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(examplesRoot, filepath.Dir(p))
		if err != nil {
			return err
		}
		seen[filepath.ToSlash(rel)] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return slices.Sorted(maps.Keys(seen))
}

// checkFiles fails on a file the test would not exercise: every file in an
// example directory must be a .tf file or one of extra.
func checkFiles(t *testing.T, dir string, extra []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	tf := 0
	for _, e := range entries {
		switch {
		case e.IsDir():
		case strings.HasSuffix(e.Name(), ".tf"):
			tf++
		case strings.HasSuffix(e.Name(), ".md"): // prose, nothing to run
		case !slices.Contains(extra, e.Name()):
			t.Errorf("%s: file %s is not tested by internal/e2e; teach TestExamples how to run it", dir, e.Name())
		}
	}
	if tf == 0 {
		t.Errorf("%s has no .tf file", dir)
	}
}

// readTF returns the concatenated .tf files of dir.
func readTF(t *testing.T, dir string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
		b.WriteString("\n")
	}
	return b.String()
}

// copyTF copies the .tf files of src into the workspace.
func copyTF(t *testing.T, w *workspace, src string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(src, "*.tf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		w.write(filepath.Base(f), string(data))
	}
}

// prepareSnippet turns a docs snippet into a runnable root module in a fresh
// workspace: the snippet's .tf files, plus (only where the snippet lacks
// them) a required_providers block and a provider block on the local store
// with a dotenv file inside the workspace; the dotenv file seeded with the
// names the snippets read; and a random value for every variable the
// snippet declares. It returns the workspace and every value used, for the
// leak checks.
func prepareSnippet(t *testing.T, src string) (*workspace, *secretSet) {
	t.Helper()
	w := newWorkspace(t)
	copyTF(t, w, src)
	config := readTF(t, src)
	var gen strings.Builder
	gen.WriteString("# Generated by internal/e2e to make the snippet a runnable root module.\n")
	if !requiredProvidersRE.MatchString(config) {
		gen.WriteString(requiredProviders)
	}
	if !providerBlockRE.MatchString(config) {
		gen.WriteString(`
provider "llmsecret" {
  key_management_settings = {
    access_mode = "read_and_write"
  }
  local = {
    env_file = "` + filepath.ToSlash(w.path(".env")) + `"
  }
}
`)
	}
	w.write("e2e_generated.tf", gen.String())

	values := newSecretSet()
	// Snippets with their own provider block (examples/provider) use the
	// default env_file, .env in the working directory: the same file.
	for _, name := range seededNames {
		s := newSecret(t, "seeded "+name)
		seed(t, w.path(".env"), name, s.value)
		values.secrets = append(values.secrets, s)
	}
	for _, m := range variableRE.FindAllStringSubmatch(config, -1) {
		s := newSecret(t, "var."+m[1])
		w.env = append(w.env, "TF_VAR_"+m[1]+"="+s.value)
		values.secrets = append(values.secrets, s)
	}
	return w, values
}

// createsSecret reports whether config declares an llmsecret_secret named
// name.
func createsSecret(config, name string) bool {
	return regexp.MustCompile(`(?s)resource\s+"llmsecret_secret"\s+"[^"]*"\s*\{[^}]*?\bname\s*=\s*"` + regexp.QuoteMeta(name) + `"`).MatchString(config)
}

// testSnippet validates, applies and destroys one tfplugindocs snippet.
func testSnippet(t *testing.T, src, rel string) {
	w, values := prepareSnippet(t, src)
	config := readTF(t, src)
	// A create never adopts a secret that is already there (it says to
	// import it; testImport does): a snippet that creates a seeded name
	// starts without it.
	for _, name := range seededNames {
		if createsSecret(config, name) {
			if err := localStore(t, w.path(".env")).Delete(t.Context(), name, backends.DeleteForever); err != nil {
				t.Fatalf("unseeding %s: %v", name, err)
			}
		}
	}

	out := w.mustRun(values, "validate", "-no-color")
	checkNoLeak(t, "validate", out, values)

	out = w.mustRun(values, "apply", "-auto-approve", "-input=false", "-no-color")
	checkNoLeak(t, "apply", out, values)
	st := readState(t, w.path("terraform.tfstate"))
	// Every managed resource and data source the snippet declares is in
	// state: the apply really did something.
	for _, m := range blockRE.FindAllStringSubmatch(config, -1) {
		mode := map[string]string{"resource": "managed", "data": "data"}[m[1]]
		if mode != "" && !st.has(mode, m[2], m[3]) {
			t.Errorf("after apply, state lacks %s %s.%s", m[1], m[2], m[3])
		}
	}
	st.checkManagedValues(t, "after apply", values)

	switch rel {
	case "resources/llmsecret_secret":
		// The value_wo reached the store.
		want := values.byLabel(t, "var.openai_api_key")
		if got, _ := storedValue(t, w.path(".env"), "OPENAI_API_KEY"); got != want {
			t.Errorf("after apply, OPENAI_API_KEY in the dotenv file is not var.openai_api_key")
		}
	case "provider":
		// The virtual key is stored under the settings' prefix, as LiteLLM
		// stores virtual keys.
		want := values.byLabel(t, "var.team_virtual_key")
		if got, _ := storedValue(t, w.path(".env"), "litellm/team-a"); got != want {
			t.Errorf("after apply, litellm/team-a in the dotenv file is not var.team_virtual_key")
		}
		if _, ok := storedValue(t, w.path(".env"), "team-a"); ok {
			t.Errorf("after apply, the virtual key is also stored bare as team-a")
		}
	case "ephemeral-resources/llmsecret_secret":
		// The ephemeral value went through value_wo into the copy.
		want := values.byLabel(t, "seeded ANTHROPIC_API_KEY")
		if got, _ := storedValue(t, w.path(".env"), "ANTHROPIC_API_KEY_COPY"); got != want {
			t.Errorf("after apply, ANTHROPIC_API_KEY_COPY in the dotenv file is not the seeded ANTHROPIC_API_KEY")
		}
	}

	if providerBlockRE.MatchString(config) {
		probeProviderConfigs(t, w, config, values)
	}

	out = w.mustRun(values, "destroy", "-auto-approve", "-input=false", "-no-color")
	checkNoLeak(t, "destroy", out, values)
	if st := readState(t, w.path("terraform.tfstate")); st.managedCount() != 0 {
		t.Errorf("after destroy, state still holds %d managed resources", st.managedCount())
	}
}

// probeProviderConfigs proves every provider configuration a snippet
// declares works, not just validates: an apply without resources (as
// examples/provider is) never even configures the provider. Through each
// configuration (the default one and every alias) it writes a value with
// value_wo, reads it back with the data source and compares, leaving the
// secrets for the destroy that follows.
func probeProviderConfigs(t *testing.T, w *workspace, config string, values *secretSet) {
	t.Helper()
	aliases := aliasRE.FindAllStringSubmatch(config, -1)
	configs := []string{}
	if len(providerBlockRE.FindAllString(config, -1)) > len(aliases) {
		configs = append(configs, "") // a provider block without alias
	}
	for _, a := range aliases {
		configs = append(configs, a[1])
	}
	var probe strings.Builder
	var wantOut []string
	for i, alias := range configs {
		ref := "llmsecret"
		if alias != "" {
			ref += "." + alias
		}
		s := newSecret(t, "probe via provider "+ref)
		values.secrets = append(values.secrets, s)
		w.env = append(w.env, fmt.Sprintf("TF_VAR_e2e_probe_%d=%s", i, s.value))
		fmt.Fprintf(&probe, `
variable "e2e_probe_%[1]d" {
  type      = string
  sensitive = true
}

resource "llmsecret_secret" "e2e_probe_%[1]d" {
  provider         = %[2]s
  name             = "E2E_PROBE_%[1]d"
  value_wo         = var.e2e_probe_%[1]d
  value_wo_version = 1
}

data "llmsecret_secret" "e2e_probe_%[1]d" {
  provider   = %[2]s
  name       = llmsecret_secret.e2e_probe_%[1]d.name
  depends_on = [llmsecret_secret.e2e_probe_%[1]d]
}

output "e2e_probe_%[1]d_ok" {
  value = nonsensitive(data.llmsecret_secret.e2e_probe_%[1]d.value == var.e2e_probe_%[1]d)
}
`, i, ref)
		wantOut = append(wantOut, fmt.Sprintf("e2e_probe_%d_ok = true", i))
	}
	w.write("e2e_probe.tf", "# Generated by internal/e2e: one write and read-back per provider configuration.\n"+probe.String())
	out := w.mustRun(values, "apply", "-auto-approve", "-input=false", "-no-color")
	checkNoLeak(t, "apply of the provider probes", out, values)
	for i, want := range wantOut {
		if !strings.Contains(out, want) {
			t.Errorf("provider configuration %q did not write and read back its probe value (no %q in the output)", configs[i], want)
		}
	}
	readState(t, w.path("terraform.tfstate")).checkManagedValues(t, "after the provider probes", values)
}

// testImport runs the resource's import.sh with the CLI under test, against
// the resource snippet's configuration and a store that already holds the
// secret.
func testImport(t *testing.T, src string) {
	script, err := os.ReadFile(filepath.Join(src, "import.sh"))
	if err != nil {
		t.Fatal(err)
	}
	w, values := prepareSnippet(t, src)
	n := 0
	for line := range strings.Lines(string(script)) {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		// import.sh is documentation, not a script we execute: accept only
		// `terraform import ADDR ID` and run it with the CLI under test.
		if len(f) != 4 || f[0] != "terraform" || f[1] != "import" {
			t.Fatalf("%s/import.sh: unexpected line %q; want `terraform import ADDRESS ID`", src, strings.TrimSpace(line))
		}
		n++
		addr, id := f[2], f[3]
		out := w.mustRun(values, "import", "-input=false", "-no-color", addr, id)
		checkNoLeak(t, "import", out, values)
		typ, name, ok := strings.Cut(addr, ".")
		if !ok {
			t.Fatalf("import address %q is not TYPE.NAME", addr)
		}
		st := readState(t, w.path("terraform.tfstate"))
		attrs := st.instance("managed", typ, name)
		if attrs == nil {
			t.Fatalf("after import, state lacks %s", addr)
		}
		if attrs["full_name"] != id || attrs["id"] != id {
			t.Errorf("after import, %s has full_name %v and id %v, want %q", addr, attrs["full_name"], attrs["id"], id)
		}
		// Import fills `value` from the store on the first Read (aws parity,
		// see ImportState), so right after import the seeded secret sits in
		// state as `value` even though the configuration uses value_wo;
		// value_wo_version is still null then, so checkManagedValues accepts
		// it. The apply below replaces it with value_wo and clears `value`.
		st.checkManagedValues(t, "after import", values)
		// The imported resource is managed from now on: apply writes the
		// configured value_wo over the imported one.
		out = w.mustRun(values, "apply", "-auto-approve", "-input=false", "-no-color")
		checkNoLeak(t, "apply after import", out, values)
		readState(t, w.path("terraform.tfstate")).checkManagedValues(t, "after apply after import", values)
	}
	if n == 0 {
		t.Errorf("%s/import.sh has no terraform import line", src)
	}
}

// testQuickstart runs examples/quickstart as its comment says a user would,
// with the dotenv file inside the workspace.
func testQuickstart(t *testing.T, src string) {
	w := newWorkspace(t)
	copyTF(t, w, src)
	key := newSecret(t, "var.openai_api_key")
	values := newSecretSet(key)
	w.env = append(w.env, "TF_VAR_openai_api_key="+key.value, "TF_VAR_env_file="+w.path(".env"))

	out := w.mustRun(values, "validate", "-no-color")
	checkNoLeak(t, "validate", out, values)
	out = w.mustRun(values, "apply", "-auto-approve", "-input=false", "-no-color")
	checkNoLeak(t, "apply", out, values)
	if ok := strings.TrimSpace(w.mustRun(values, "output", "-no-color", "-raw", "round_trip_ok")); ok != "true" {
		t.Errorf("output round_trip_ok = %q, want \"true\"", ok)
	}
	if got, _ := storedValue(t, w.path(".env"), "OPENAI_API_KEY"); got != key.value {
		t.Errorf("OPENAI_API_KEY in the dotenv file is not var.openai_api_key")
	}
	// The data source keeps the value in state (sensitive) by design; the
	// resource, which used value_wo, must not.
	readState(t, w.path("terraform.tfstate")).checkManagedValues(t, "after apply", values)
	out = w.mustRun(values, "destroy", "-auto-approve", "-input=false", "-no-color")
	checkNoLeak(t, "destroy", out, values)
	if _, ok := storedValue(t, w.path(".env"), "OPENAI_API_KEY"); ok {
		t.Errorf("OPENAI_API_KEY is still in the dotenv file after destroy")
	}
}

// checkNoLeak fails the test if out holds any of the values.
func checkNoLeak(t *testing.T, step, out string, values *secretSet) {
	t.Helper()
	for _, f := range values.finds(out) {
		t.Errorf("%s: LEAK in CLI output: %s", step, f)
	}
}

func (ss *secretSet) byLabel(t *testing.T, label string) string {
	t.Helper()
	for _, s := range ss.secrets {
		if s.label == label {
			return s.value
		}
	}
	t.Fatalf("no test value labelled %q", label)
	return ""
}

// tfState is the part of the state file format (version 4, shared by both
// CLIs) the checks read.
type tfState struct {
	Resources []struct {
		Mode      string `json:"mode"`
		Type      string `json:"type"`
		Name      string `json:"name"`
		Instances []struct {
			Attributes map[string]any `json:"attributes"`
		} `json:"instances"`
	} `json:"resources"`
}

func readState(t *testing.T, path string) *tfState {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading state: %v", err)
	}
	var st tfState
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	return &st
}

func (st *tfState) has(mode, typ, name string) bool { return st.instance(mode, typ, name) != nil }

// instance returns the attributes of the first instance of a resource.
func (st *tfState) instance(mode, typ, name string) map[string]any {
	for _, r := range st.Resources {
		if r.Mode == mode && r.Type == typ && r.Name == name && len(r.Instances) > 0 {
			return r.Instances[0].Attributes
		}
	}
	return nil
}

func (st *tfState) managedCount() int {
	n := 0
	for _, r := range st.Resources {
		if r.Mode == "managed" {
			n += len(r.Instances)
		}
	}
	return n
}

// checkManagedValues enforces where a managed resource may hold a secret:
// only in `value` (the sensitive attribute a user chose over value_wo), never
// in any other attribute, and not even there when the resource is managed
// with value_wo. Data sources hold values by design and are not checked.
func (st *tfState) checkManagedValues(t *testing.T, step string, values *secretSet) {
	t.Helper()
	for _, r := range st.Resources {
		if r.Mode != "managed" {
			continue
		}
		for _, inst := range r.Instances {
			rest := map[string]any{}
			for k, v := range inst.Attributes {
				if k != "value" {
					rest[k] = v
				}
			}
			data, err := json.Marshal(rest)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range values.finds(string(data)) {
				t.Errorf("%s: LEAK in state, %s.%s outside `value`: %s", step, r.Type, r.Name, f)
			}
			if inst.Attributes["value_wo_version"] != nil && inst.Attributes["value"] != nil {
				t.Errorf("%s: %s.%s is managed with value_wo but state holds its value", step, r.Type, r.Name)
			}
		}
	}
}

// testListExample runs a list resource's .tfquery.hcl examples with
// terraform query against the seeded local store: each must find a seeded
// secret and print no value.
func testListExample(t *testing.T, src, typ string) {
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	var queries []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".tfquery.hcl") {
			t.Errorf("%s: file %s is not tested by internal/e2e; teach TestExamples how to run it", src, e.Name())
			continue
		}
		queries = append(queries, e.Name())
	}
	if len(queries) == 0 {
		t.Fatalf("%s has no .tfquery.hcl example", src)
	}
	if isOpenTofu() {
		t.Skip("terraform query (list resources) needs Terraform 1.14+; OpenTofu 1.11 has no query command")
	}
	w, values := prepareSnippet(t, src)
	for _, q := range queries {
		body, err := os.ReadFile(filepath.Join(src, q))
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`(?m)^list\s+"` + regexp.QuoteMeta(typ) + `"`).Match(body) {
			t.Errorf("%s/%s declares no list %q block", src, q, typ)
		}
		w.write(q, string(body))
	}
	out := w.mustRun(values, "query", "-no-color")
	checkNoLeak(t, "query", out, values)
	if !strings.Contains(out, "OPENAI_API_KEY") {
		t.Errorf("terraform query of %s does not find the seeded OPENAI_API_KEY:\n%s", src, tail(values.redact(out), 20))
	}
}
