package interop

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/interop/litellmtest"
)

// The local store: python-dotenv, which LiteLLM loads .env files with, reads
// back exactly what llmsecret_secret wrote.

// localHostile are names and values that python-dotenv would misread if they
// were written naively: interpolation (python-dotenv expands ${...} in every
// value, quoted or not), trailing backslashes, quotes, comments, line breaks,
// control characters, Unicode.
var localHostile = map[string]string{
	"LOCAL_PLAIN":        "sk-proj-abc123",
	"LOCAL_HOME":         "${HOME}",
	"LOCAL_ENV_REF":      "x${LOCAL_SET}y",
	"LOCAL_FILE_REF":     "${LOCAL_PLAIN}",
	"LOCAL_DEFAULT_REF":  "${UNSET_VAR:-fallback}",
	"LOCAL_DOLLARS":      "$HOME $${x} a${ }${ $",
	"LOCAL_OWN_TOKEN":    "${'=:-$}${'=:-}",
	"LOCAL_TRAIL_BS":     `C:\dir\`,
	"LOCAL_TRAIL_BS_SP":  `a b\`,
	"LOCAL_TRAIL_BS_Q":   `'\`,
	"LOCAL_TRAIL_BS_DQ":  `"\`,
	"LOCAL_BS_ONLY":      `\`,
	"LOCAL_BS_PAIR":      `a\\`,
	"LOCAL_ESCAPES":      `\n \t \x41 \u0041 \' \"`,
	"LOCAL_QUOTES":       `it's "double" 'single'`,
	"LOCAL_HASH":         "#not a comment # at all",
	"LOCAL_SPACES":       "  lead and trail  ",
	"LOCAL_MULTILINE":    "-----BEGIN KEY-----\nMIIE\n-----END KEY-----\n",
	"LOCAL_CRLF":         "l1\r\nl2\rl3\n",
	"LOCAL_CR_BS":        "cr\r\\",
	"LOCAL_CONTROLS":     "\x01\x1b\x7f\a\b\f\v\ttab",
	"LOCAL_UNICODE_SEPS": "\u0085 \u2028 \u2029 \u00a0",
	"LOCAL_UNICODE":      "é€😀 ключ 鍵",
	"LOCAL_BOM":          "\ufeffbom",
	"LOCAL_JSON":         `{"k": "v", "n": [1, 2]}`,
	"LOCAL_EXPORT":       "export X=1",
	"LOCAL a b":          "space in the name",
	"LOCAL: colon":       "colon in the name",
	"LOCAL/ключ/🔑":       "non-ASCII name",
	"LOCAL#hash":         "hash in the name",
}

func localProvider(envFile string) string {
	return fmt.Sprintf(`
provider "llmsecret" {
  key_management_system   = "local"
  key_management_settings = { access_mode = "read_and_write" }
  local                   = { env_file = %q }
}
`, envFile)
}

// secretsConfig writes var.values[i] under var.names[i] (count, not
// for_each: the legacy Check functions do not support string indexes) and
// reads them all back with the llmsecrets data source.
const secretsConfig = `
variable "names"  { type = list(string) }
variable "values" { type = list(string) }

resource "llmsecret_secret" "s" {
  count            = length(var.names)
  name             = var.names[count.index]
  value_wo         = var.values[count.index]
  value_wo_version = 1
}

data "llmsecret_secrets" "all" {
  names      = var.names
  depends_on = [llmsecret_secret.s]
}
`

// diagRE matches the parts, in order, in a diagnostic the CLI may have
// wrapped across lines.
func diagRE(parts ...string) *regexp.Regexp {
	quoted := make([]string, len(parts))
	for i, p := range parts {
		quoted[i] = strings.Join(strings.Fields(regexp.QuoteMeta(p)), `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(quoted, ".*"))
}

// jsonForPython encodes v for a snippet's environment.
func jsonForPython(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// secretsVariables are the names and values of m for secretsConfig, and the
// exact state check of what the data source reads back.
func secretsVariables(m map[string]string) (config.Variables, statecheck.StateCheck) {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	var nv, vv []config.Variable
	want := map[string]knownvalue.Check{}
	for _, n := range names {
		nv = append(nv, config.StringVariable(n))
		vv = append(vv, config.StringVariable(m[n]))
		want[n] = knownvalue.StringExact(m[n])
	}
	return config.Variables{"names": config.ListVariable(nv...), "values": config.ListVariable(vv...)},
		statecheck.ExpectKnownValue("data.llmsecret_secrets.all", tfjsonpath.New("values"), knownvalue.MapExact(want))
}

// pythonDotenvReads reads envFile with python-dotenv as LiteLLM does:
// dotenv_values with its defaults (interpolation on), and load_dotenv
// (override=False, interpolation on) into os.environ, then LiteLLM's own
// get_secret, which reads os.environ when no key management system is set.
// LOCAL_SET is in the environment so that an interpolated reference would
// show.
const pythonDotenvReads = `
import dotenv
from litellm.secret_managers.main import get_secret
path = os.environ["ENV_FILE"]
names = json.loads(os.environ["NAMES"])
values = dotenv.dotenv_values(path)
dotenv.load_dotenv(path)
emit({
    "dotenv_values": {n: values.get(n) for n in names},
    "environ": {n: os.environ.get(n) for n in names},
    "get_secret": {n: get_secret(n) for n in names},
})
`

func checkPythonDotenv(t *testing.T, envFile string, want map[string]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		names := make([]string, 0, len(want))
		for n := range want {
			names = append(names, n)
		}
		sort.Strings(names)
		namesJSON := jsonForPython(t, names)
		var got map[string]map[string]*string
		litellmtest.Run(t, map[string]string{"ENV_FILE": envFile, "NAMES": namesJSON, "LOCAL_SET": "FROM-ENV"}, pythonDotenvReads, &got)
		var errs []error
		for _, reader := range []string{"dotenv_values", "environ", "get_secret"} {
			for _, n := range names {
				switch v := got[reader][n]; {
				case v == nil:
					errs = append(errs, fmt.Errorf("%s: %q is not set", reader, n))
				case *v != want[n]:
					// The values are test data, not secrets: show them.
					errs = append(errs, fmt.Errorf("%s: %q reads %q, want %q", reader, n, *v, want[n]))
				}
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("python-dotenv does not read back what llmsecret_secret wrote: %v", errs)
		}
		return nil
	}
}

// TestInteropLocal_hostileValues: every hostile value written by
// llmsecret_secret (through the CLI) is read back exactly by python-dotenv,
// as dotenv_values and load_dotenv (LiteLLM's call) return it and as
// LiteLLM's get_secret then finds it, and by the provider's own data source.
func TestInteropLocal_hostileValues(t *testing.T) {
	acc(t)
	envFile := filepath.Join(t.TempDir(), ".env")
	vars, readBack := secretsVariables(localHostile)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{{
			Config:            localProvider(envFile) + secretsConfig,
			ConfigVariables:   vars,
			Check:             checkPythonDotenv(t, envFile, localHostile),
			ConfigStateChecks: []statecheck.StateCheck{readBack},
		}},
	})
}

// TestInteropLocal_refused: what python-dotenv cannot hand to LiteLLM is
// refused at plan, naming the character: a NUL in a value (os.environ
// refuses it, so load_dotenv would fail for the whole file), given as value
// or as value_wo, and a name with "=" or "'". The file is left as it was.
// (Invalid UTF-8 cannot be written in a Terraform string; the local store's
// tests cover it.)
func TestInteropLocal_refused(t *testing.T) {
	acc(t)
	envFile := filepath.Join(t.TempDir(), ".env")
	one := func(attr string) string {
		return localProvider(envFile) + fmt.Sprintf(`
variable "name"  { type = string }
variable "value" { type = string }
resource "llmsecret_secret" "s" {
  name = var.name
  %s
}
`, attr)
	}
	vars := func(name, value string) config.Variables {
		return config.Variables{"name": config.StringVariable(name), "value": config.StringVariable(value)}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{
			{
				Config: one(`value = var.value`), ConfigVariables: vars("LOCAL_NUL", "sk-\x00-x"),
				PlanOnly: true, ExpectError: diagRE("value not accepted by the local store", "contains the NUL character (U+0000)"),
			},
			{
				Config: one("value_wo = var.value\n  value_wo_version = 1"), ConfigVariables: vars("LOCAL_NUL_WO", "sk-\x00-x"),
				PlanOnly: true, ExpectError: diagRE("value not accepted by the local store", "contains the NUL character (U+0000)"),
			},
			{
				Config: one("value_wo = var.value\n  value_wo_version = 1"), ConfigVariables: vars("LOCAL_A=B", "v"),
				PlanOnly: true, ExpectError: diagRE(`contains "=", which no environment variable name can hold`),
			},
			{
				Config: one("value_wo = var.value\n  value_wo_version = 1"), ConfigVariables: vars("LOCAL_IT'S", "v"),
				PlanOnly: true, ExpectError: diagRE("contains a single quote (U+0027)"),
			},
		},
	})
	if _, err := os.Stat(envFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("env_file after refused plans: %v, want it never created", err)
	}
}
