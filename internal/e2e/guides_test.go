package e2e

// Every example a user copies from the docs must run as written in a fresh
// directory. TestGuides_examplesApply reads the generated pages (docs/index.md,
// docs/guides/*.md) and README.md, and runs every ```terraform block that is
// a complete configuration.
//
// The convention the docs follow (and this test enforces):
//
//   - A complete configuration has a `required_providers` block. It declares
//     every variable it uses, reads a secret only after something wrote it
//     (depends_on, or a reference to the resource), and takes store
//     addresses and credentials from the environment LiteLLM reads, or from
//     variables. The test applies it, then plans again and wants no changes.
//   - Any other block is a fragment and must say so on its first line
//     (`# Fragment: ...`); fragments are not run.
//   - Every guide and the index have at least one complete configuration.
//
// Stores: local runs in the workspace; hashicorp_vault against a real Vault
// dev server (HCP_VAULT_ADDR/HCP_VAULT_TOKEN); aws_secret_manager and aws_kms
// against moto (AWS_ENDPOINT_URL, AWS_REGION_NAME and static credentials);
// azure_key_vault against the Key Vault double (AZURE_KEY_VAULT_URI and the
// client-secret variables, its CA in SSL_CERT_FILE); cyberark against the
// Conjur double (account acme, role host/llm-gateway); custom against the
// reference HTTP store. Google Secret Manager and Google Cloud KMS are only
// validated (`terraform validate`): their doubles are gRPC servers the
// provider reaches only through the `endpoint` attribute, which no user
// example sets.
//
// Variables get random values through TF_VAR_*, except those the store
// setup provides (a KMS key id, a store URL).

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig/awstest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/azurekv/kvfake"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/custom/customtest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/cyberark/conjurtest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault/vaulttest"
)

// docExample is one ```terraform block of a page.
type docExample struct {
	page  string // relative to the module root
	line  int    // of the opening fence
	body  string
	other bool // fenced as hcl or tf, not terraform
}

var (
	kmsRE      = regexp.MustCompile(`(?m)^\s*key_management_system\s*=\s*"([^"]+)"`)
	varBlockRE = regexp.MustCompile(`(?ms)^variable\s+"([^"]+)"\s*{(.*?)^}`)
	defaultRE  = regexp.MustCompile(`(?m)^\s*default\s*=`)
)

// docPages are the pages whose examples are checked.
func docPages(t *testing.T) []string {
	t.Helper()
	guides, err := filepath.Glob("../../docs/guides/*.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(guides) == 0 {
		t.Fatal("no docs/guides/*.md: run make docs")
	}
	return append([]string{"../../docs/index.md", "../../README.md"}, guides...)
}

// terraformBlocks returns the ```terraform blocks of a Markdown page.
func terraformBlocks(t *testing.T, page string) []docExample {
	t.Helper()
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	rel := strings.TrimPrefix(page, "../../")
	var out []docExample
	var cur *docExample
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && trimmed == "```terraform":
			cur = &docExample{page: rel, line: i + 1}
		case cur == nil && (trimmed == "```hcl" || trimmed == "```tf"):
			// HCL that is not Terraform (a Vault policy) is fine; a
			// Terraform example under another fence would go untested.
			cur = &docExample{page: rel, line: i + 1, other: true}
		case cur != nil && trimmed == "```":
			if !cur.other {
				out = append(out, *cur)
			} else if strings.Contains(cur.body, `"llmsecret`) {
				t.Errorf("%s:%d: fence a Terraform example as ```terraform so that it is tested", rel, cur.line)
			}
			cur = nil
		case cur != nil:
			cur.body += line + "\n"
		}
	}
	return out
}

func isComplete(body string) bool { return requiredProvidersRE.MatchString(body) }

func isFragment(body string) bool {
	first, _, _ := strings.Cut(strings.TrimSpace(body), "\n")
	return strings.HasPrefix(strings.ToLower(first), "# fragment")
}

func TestGuides_examplesApply(t *testing.T) {
	cliPath(t)
	for _, page := range docPages(t) {
		blocks := terraformBlocks(t, page)
		complete := 0
		for _, ex := range blocks {
			switch {
			case isComplete(ex.body):
				complete++
				t.Run(strings.ReplaceAll(ex.page, "/", "_")+"_line"+strconv.Itoa(ex.line), func(t *testing.T) {
					t.Parallel()
					runDocExample(t, ex)
				})
			case !isFragment(ex.body):
				t.Errorf("%s:%d: a ```terraform block is neither a complete configuration (required_providers) nor marked `# Fragment` on its first line", ex.page, ex.line)
			}
		}
		if complete == 0 && (len(blocks) > 0 || !strings.Contains(page, "/guides/")) {
			t.Errorf("%s has no complete example (a ```terraform block with required_providers)", page)
		}
	}
}

// runDocExample applies ex against the store it selects, then plans again
// and wants no changes.
func runDocExample(t *testing.T, ex docExample) {
	w := newWorkspace(t)
	w.write("main.tf", ex.body)
	store := "local"
	if m := kmsRE.FindStringSubmatch(ex.body); m != nil {
		store = m[1]
	}
	vars := map[string]string{}
	validateOnly := false
	switch store {
	case "local":
	case "hashicorp_vault":
		srv := vaulttest.Start(t)
		w.env = append(w.env, "HCP_VAULT_ADDR="+srv.Addr, "HCP_VAULT_TOKEN="+srv.RootToken)
	case "aws_secret_manager", "aws_kms":
		endpoint := awstest.StartMoto(t)
		w.env = append(w.env,
			"AWS_ENDPOINT_URL="+endpoint,
			"AWS_REGION_NAME="+awstest.Region,
			"AWS_ACCESS_KEY_ID="+awstest.AccessKey,
			"AWS_SECRET_ACCESS_KEY="+awstest.SecretKey,
			"AWS_EC2_METADATA_DISABLED=true",
			"AWS_CONFIG_FILE="+w.path("aws-config"),
			"AWS_SHARED_CREDENTIALS_FILE="+w.path("aws-credentials"),
		)
		if store == "aws_kms" {
			vars["kms_key_id"] = awstest.CreateKMSKey(t, endpoint)
		}
	case "azure_key_vault":
		fake := kvfake.New(t, nil)
		ca, err := fake.CAFile(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		fo := fake.Options()
		w.env = append(w.env,
			"AZURE_KEY_VAULT_URI="+fake.VaultURL(),
			"AZURE_TENANT_ID="+fo.TenantID,
			"AZURE_CLIENT_ID="+fo.ClientID,
			"AZURE_CLIENT_SECRET="+fo.ClientSecret,
			"AZURE_AUTHORITY_HOST="+fake.AuthorityHost(),
			"SSL_CERT_FILE="+ca,
		)
	case "cyberark":
		fake := conjurtest.New(t, conjurtest.Options{Account: "acme"})
		fake.AddRole("host/llm-gateway", "gateway-api-key", conjurtest.All)
		vars["conjur_url"] = fake.URL
		vars["conjur_api_key"] = "gateway-api-key"
	case "custom":
		token := "tok-" + randomHex(t, 8)
		vars["store_url"] = customtest.StartHTTP(t, "-token", token)
		vars["store_token"] = token
	case "google_secret_manager", "google_kms":
		validateOnly = true
	default:
		t.Fatalf("%s:%d: example selects store %q, which this test does not know how to run", ex.page, ex.line, store)
	}

	values := newSecretSet()
	for _, m := range varBlockRE.FindAllStringSubmatch(ex.body, -1) {
		name, body := m[1], m[2]
		if v, ok := vars[name]; ok {
			w.env = append(w.env, "TF_VAR_"+name+"="+v)
			continue
		}
		if defaultRE.MatchString(body) {
			continue
		}
		s := newSecret(t, "var."+name)
		values.secrets = append(values.secrets, s)
		w.env = append(w.env, "TF_VAR_"+name+"="+s.value)
	}

	if validateOnly {
		out := w.mustRun(values, "validate", "-no-color")
		checkNoLeak(t, "validate", out, values)
		return
	}
	out := w.mustRun(values, "apply", "-auto-approve", "-input=false", "-no-color")
	checkNoLeak(t, ex.page+" apply", out, values)
	out, err := w.run("plan", "-detailed-exitcode", "-input=false", "-no-color")
	if code := exitCode(err); code != 0 {
		t.Errorf("%s:%d: plan after apply exited %d, want 0 (no changes):\n%s", ex.page, ex.line, code, tail(values.redact(out), 40))
	}
	st := readState(t, w.path("terraform.tfstate"))
	if st.managedCount() == 0 {
		t.Errorf("%s:%d: apply created no resource", ex.page, ex.line)
	}
	st.checkManagedValues(t, "after apply", values)
}
