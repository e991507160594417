package interop

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig/awstest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/interop/litellmtest"
)

// AWS Secrets Manager and AWS KMS, on moto: LiteLLM's AWSSecretsManagerV2
// and its two aws_kms paths read what the provider wrote, and the provider
// reads what LiteLLM wrote.

// awsProvider is the provider block for store ("aws_secret_manager" or
// "aws_kms") on moto at endpoint, with extra lines in the store's block.
func awsProvider(store, endpoint, settings, extra string) string {
	return fmt.Sprintf(`
provider "llmsecret" {
  key_management_system = %[1]q
  key_management_settings = {
    access_mode = "read_and_write"
    %[3]s
  }
  %[1]s = {
    region     = %[4]q
    endpoint   = %[2]q
    access_key = %[5]q
    secret_key = %[6]q
    %[7]s
  }
}
`, store, endpoint, settings, awstest.Region, awstest.AccessKey, awstest.SecretKey, extra)
}

// litellmAWSEnv is the environment of a LiteLLM process that reaches moto:
// its Secrets Manager client takes the endpoint from
// AWS_BEDROCK_RUNTIME_ENDPOINT (it ignores AWS_ENDPOINT_URL), boto3's KMS
// client from AWS_ENDPOINT_URL; the region from AWS_REGION_NAME.
func litellmAWSEnv(endpoint string, extra map[string]string) map[string]string {
	env := map[string]string{
		"AWS_ACCESS_KEY_ID":            awstest.AccessKey,
		"AWS_SECRET_ACCESS_KEY":        awstest.SecretKey,
		"AWS_REGION_NAME":              awstest.Region,
		"AWS_BEDROCK_RUNTIME_ENDPOINT": endpoint,
		"AWS_ENDPOINT_URL":             endpoint,
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// awsSMValues are hostile but legal values: quotes, backslashes, a newline,
// HTML characters Go's JSON encoder escapes, non-ASCII.
var awsSMValues = map[string]string{
	"OPENAI_API_KEY":      "sk-aws-interop-0001",
	"team/ANTHROPIC_KEY":  "sk-ant \"quoted\" back\\slash\nline2",
	"AZURE_API_KEY":       "<html>&amp;</html> ключ 🔑",
	"litellm/VIRTUAL_KEY": "  spaced  ",
}

// litellmSMRead is the proxy's read: the manager loaded from
// key_management_settings as the proxy loads it, then get_secret(name) for
// each name, and the reader's own call (sync_read_secret, or
// sync_read_secret_from_primary_secret with a primary secret).
const litellmSMRead = `
from litellm.secret_managers.aws_secret_manager_v2 import AWSSecretsManagerV2
from litellm.types.secret_managers.main import KeyManagementSettings
from litellm.secret_managers.main import get_secret
case = json.loads(os.environ["TEST_CASE"])
settings = KeyManagementSettings(**case["settings"])
litellm._key_management_settings = settings
AWSSecretsManagerV2.load_aws_secret_manager(use_aws_secret_manager=True, key_management_settings=settings)
client = litellm.secret_manager_client
out = {"get_secret": {}, "reader": {}}
for n in case["names"]:
    out["get_secret"][n] = get_secret(n)
    if settings.primary_secret_name:
        out["reader"][n] = client.sync_read_secret_from_primary_secret(secret_name=n, primary_secret_name=settings.primary_secret_name)
    else:
        out["reader"][n] = client.sync_read_secret(secret_name=n)
emit(out)
`

// checkLiteLLMReadsSM runs litellmSMRead and compares each name's value.
func checkLiteLLMReadsSM(t *testing.T, endpoint string, settings map[string]any, want map[string]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		names := make([]string, 0, len(want))
		for n := range want {
			names = append(names, n)
		}
		tc, err := json.Marshal(map[string]any{"settings": settings, "names": names})
		if err != nil {
			return err
		}
		var got struct {
			GetSecret map[string]*string `json:"get_secret"`
			Reader    map[string]*string `json:"reader"`
		}
		litellmtest.Run(t, litellmAWSEnv(endpoint, map[string]string{"TEST_CASE": string(tc)}), litellmSMRead, &got)
		var errs []string
		for n, v := range want {
			for path, m := range map[string]map[string]*string{"get_secret": got.GetSecret, "reader": got.Reader} {
				if g := m[n]; g == nil || *g != v {
					errs = append(errs, fmt.Sprintf("LiteLLM %s(%q): got %s, want %q", path, n, show(g), v))
				}
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("%s", strings.Join(errs, "\n"))
		}
		return nil
	}
}

func show(s *string) string {
	if s == nil {
		return "None"
	}
	return fmt.Sprintf("%q", *s)
}

func awsSMResources(values map[string]string) string {
	var b strings.Builder
	i := 0
	for n, v := range values {
		fmt.Fprintf(&b, `
resource "llmsecret_secret" "s%d" {
  name  = %q
  value = %q
}
`, i, n, v)
		i++
	}
	return b.String()
}

// TestInteropAWSSecretManager_litellmReadsOurValues: secrets our resources
// wrote, one per name (names with "/" included), are what LiteLLM's
// AWSSecretsManagerV2 returns, through get_secret as the proxy calls it and
// through sync_read_secret.
func TestInteropAWSSecretManager_litellmReadsOurValues(t *testing.T) {
	acc(t)
	endpoint := awstest.StartMoto(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{{
			Config: awsProvider("aws_secret_manager", endpoint, "", "") + awsSMResources(awsSMValues),
			Check:  checkLiteLLMReadsSM(t, endpoint, map[string]any{}, awsSMValues),
		}},
	})
}

// TestInteropAWSSecretManager_primarySecret: with primary_secret_name, our
// resources write fields of one JSON secret, and LiteLLM's primary-secret
// read (_parse_primary_secret through sync_read_secret_from_primary_secret,
// and get_secret with the same key_management_settings) returns each field.
func TestInteropAWSSecretManager_primarySecret(t *testing.T) {
	acc(t)
	endpoint := awstest.StartMoto(t)
	const primary = "litellm/primary"
	values := map[string]string{}
	for n, v := range awsSMValues {
		values[strings.ReplaceAll(n, "/", "_")] = v
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{{
			Config: awsProvider("aws_secret_manager", endpoint, fmt.Sprintf("primary_secret_name = %q", primary), "") + awsSMResources(values),
			Check:  checkLiteLLMReadsSM(t, endpoint, map[string]any{"primary_secret_name": primary}, values),
		}},
	})
}

// TestInteropAWSSecretManager_weReadLiteLLMWrites: a secret LiteLLM wrote
// (async_write_secret, as it stores virtual keys) is read by our data source,
// by name and, with primary_secret_name, as a field of a primary secret
// shaped as LiteLLM's _parse_primary_secret reads it.
func TestInteropAWSSecretManager_weReadLiteLLMWrites(t *testing.T) {
	acc(t)
	endpoint := awstest.StartMoto(t)
	const name, value = "litellm/sk-virtual-key-0001", "sk-written-by-litellm \"q\" ключ"
	const primary, field, fieldValue = "litellm/primary-by-litellm", "OPENAI_API_KEY", "sk-primary-by-litellm"
	write := func() {
		payload, err := json.Marshal(map[string]any{field: fieldValue, "OTHER": "x"})
		if err != nil {
			t.Fatal(err)
		}
		tc, err := json.Marshal(map[string]string{name: value, primary: string(payload)})
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Written int `json:"written"`
		}
		litellmtest.Run(t, litellmAWSEnv(endpoint, map[string]string{"TEST_CASE": string(tc)}), `
from litellm.secret_managers.aws_secret_manager_v2 import AWSSecretsManagerV2
from litellm.types.secret_managers.main import KeyManagementSettings
AWSSecretsManagerV2.load_aws_secret_manager(use_aws_secret_manager=True, key_management_settings=KeyManagementSettings())
c = litellm.secret_manager_client
n = 0
for k, v in json.loads(os.environ["TEST_CASE"]).items():
    asyncio.run(c.async_write_secret(secret_name=k, secret_value=v, description="written by LiteLLM"))
    n += 1
emit({"written": n})
`, &out)
		if out.Written != 2 {
			t.Fatalf("LiteLLM wrote %d secrets, want 2", out.Written)
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{
			{
				PreConfig: write,
				Config: awsProvider("aws_secret_manager", endpoint, "", "") + fmt.Sprintf(`
data "llmsecret_secret" "litellm" {
  name = %q
}
`, name),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.llmsecret_secret.litellm", tfjsonpath.New("value"), knownvalue.StringExact(value)),
				},
			},
			// The ephemeral resource reads it too.
			ephemeralStep(resource.TestStep{
				Config: awsProvider("aws_secret_manager", endpoint, "", "") + fmt.Sprintf(`
ephemeral "llmsecret_secret" "litellm" {
  name = %q
}

provider "echo" {
  data = ephemeral.llmsecret_secret.litellm.value
}

resource "echo" "litellm" {}
`, name),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("echo.litellm", tfjsonpath.New("data"), knownvalue.StringExact(value)),
				},
			}),
			{
				Config: awsProvider("aws_secret_manager", endpoint, fmt.Sprintf("primary_secret_name = %q", primary), "") + fmt.Sprintf(`
data "llmsecret_secret" "field" {
  name = %q
}
`, field),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.llmsecret_secret.field", tfjsonpath.New("value"), knownvalue.StringExact(fieldValue)),
				},
			},
		},
	})
}

// TestInteropAWSKMS_litellmDecrypts: LiteLLM decrypts our aws_kms
// ciphertext on each of its paths, as the aws_kms guide documents them:
//   - key_management_system: aws_kms (load_aws_kms, then get_secret): the
//     variable full_name holds ciphertext, the bare base64. The prefixed
//     form is NOT decrypted there: get_secret hands the text itself over.
//   - the start-up path (USE_AWS_KMS=True, decrypt_env_var as proxy_cli
//     calls it): use_aws_kms_env_name holds use_aws_kms_env_value and
//     becomes the variable full_name, decrypted and stripped.
func TestInteropAWSKMS_litellmDecrypts(t *testing.T) {
	acc(t)
	endpoint := awstest.StartMoto(t)
	key := awstest.CreateKMSKey(t, endpoint)
	const name, value = "OPENAI_API_KEY", "sk-kms-interop-0001"
	const res = "llmsecret_secret.kms"
	check := func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[res]
		if !ok {
			return fmt.Errorf("%s is not in state", res)
		}
		a := rs.Primary.Attributes
		ct, envName, envValue := a["ciphertext"], a["use_aws_kms_env_name"], a["use_aws_kms_env_value"]
		if envName != "LITELLM_SECRET_AWS_KMS_"+name || envValue != "aws_kms/"+ct {
			return fmt.Errorf("use_aws_kms_env_name/value: got %q and a value of %d characters, want LITELLM_SECRET_AWS_KMS_%s and aws_kms/<ciphertext>", envName, len(envValue), name)
		}

		// key_management_system: aws_kms, as the proxy loads it.
		var got struct {
			Bare     *string `json:"bare"`
			Prefixed *string `json:"prefixed"`
		}
		litellmtest.Run(t, litellmAWSEnv(endpoint, map[string]string{name: ct, "PREFIXED_KEY": envValue}), `
from litellm.secret_managers.aws_secret_manager import load_aws_kms
from litellm.types.secret_managers.main import KeyManagementSettings
from litellm.secret_managers.main import get_secret
litellm._key_management_settings = KeyManagementSettings()
load_aws_kms(use_aws_kms=True)
emit({"bare": get_secret("`+name+`"), "prefixed": get_secret("PREFIXED_KEY")})
`, &got)
		if got.Bare == nil || *got.Bare != value {
			return fmt.Errorf("key_management_system aws_kms: LiteLLM's get_secret(%s) of the bare ciphertext: got %s, want the plaintext", name, show(got.Bare))
		}
		if got.Prefixed == nil || *got.Prefixed != envValue {
			return fmt.Errorf("key_management_system aws_kms: get_secret of the aws_kms/-prefixed form: got a value of %d characters, want the undecrypted text itself (LiteLLM does not strip the prefix on this path)", len(show(got.Prefixed)))
		}

		// The start-up path, as proxy_cli runs it.
		var startup struct {
			Value *string `json:"value"`
		}
		litellmtest.Run(t, litellmAWSEnv(endpoint, map[string]string{
			envName: envValue, "USE_AWS_KMS": "True",
			// The start-up path is an enterprise feature: it checks only that
			// a licence variable is set.
			"LITELLM_LICENSE": "interop-test-presence-only",
		}), `
from litellm.secret_managers.aws_secret_manager import decrypt_env_var
if os.getenv("USE_AWS_KMS", None) is not None and os.getenv("USE_AWS_KMS") == "True":
    for k, v in decrypt_env_var().items():
        os.environ[k] = v
emit({"value": os.environ.get("`+name+`")})
`, &startup)
		if startup.Value == nil || *startup.Value != value {
			return fmt.Errorf("USE_AWS_KMS start-up path: %s after decrypt_env_var: got %s, want the plaintext", name, show(startup.Value))
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{{
			Config: awsProvider("aws_kms", endpoint, "", fmt.Sprintf("key_id = %q", key)) + fmt.Sprintf(`
resource "llmsecret_secret" "kms" {
  name  = %q
  value = %q
}
`, name, " "+value+"\n"),
			// LiteLLM strips the plaintext on both paths: the value is
			// written with surrounding whitespace to prove it.
			Check: check,
		}},
	})
}
