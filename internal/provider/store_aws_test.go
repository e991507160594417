package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig/awstest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awskms"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awssm"
)

// Acceptance tests of the aws_secret_manager and aws_kms stores, against moto
// in server mode (installed by scripts/moto.sh, started per test on a free
// loopback port), through the endpoint attribute.

// startMoto starts moto for an acceptance test. Without TF_ACC the test is
// skipped first, as resource.Test would skip it, so unit runs start no server.
func startMoto(t *testing.T) string {
	t.Helper()
	if os.Getenv(resource.EnvTfAcc) == "" {
		t.Skipf("acceptance tests skipped unless env '%s' set", resource.EnvTfAcc)
	}
	return awstest.StartMoto(t)
}

// awsVersion matches the store's version ids: the ClientRequestToken the
// store derived, which Secrets Manager keeps as VersionId.
var awsVersion = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// awsSMConfig is a provider block on Secrets Manager at endpoint; extra goes
// into the aws_secret_manager block.
func awsSMConfig(endpoint, settings, extra string) string {
	return fmt.Sprintf(`
provider "llmsecret" {
  key_management_system = "aws_secret_manager"
  key_management_settings = {
    %[2]s
  }
  aws_secret_manager = {
    region     = %[3]q
    endpoint   = %[1]q
    access_key = %[4]q
    secret_key = %[5]q
    %[6]s
  }
}
`, endpoint, settings, awstest.Region, awstest.AccessKey, awstest.SecretKey, extra)
}

func awsSMSecretConfig(endpoint, name, value string, version int, description, tags, policy string) string {
	return awsSMConfig(endpoint, readWrite, "") + fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name             = %[1]q
  value_wo         = %[2]q
  value_wo_version = %[3]d
  description      = %[4]q
  tags             = %[5]s
  deletion_policy  = %[6]q
}

data "llmsecret_secret" "test" {
  name       = llmsecret_secret.test.name
  depends_on = [llmsecret_secret.test]
}
`, name, value, version, description, tags, policy)
}

// smBackend opens Secrets Manager at endpoint directly, as another client
// would, in region.
func smBackend(t *testing.T, endpoint, region string) (backends.Backend, *backends.Store) {
	t.Helper()
	o := awstest.Options(endpoint)
	o.Region = region
	b, err := awssm.New(context.Background(), &awssm.Options{AWS: o})
	if err != nil {
		t.Fatal(err)
	}
	s, err := backends.NewStore(b, &backends.StoreOptions{Settings: backends.Settings{AccessMode: backends.ReadAndWrite}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return b, s
}

// checkSM is a TestCheckFunc asserting what Secrets Manager holds under
// name: the value, and description and tags when wantTags is not nil.
// Messages never quote values.
func checkSM(t *testing.T, endpoint, name, want, wantDesc string, wantTags map[string]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		_, s := smBackend(t, endpoint, awstest.Region)
		sec, err := s.ReadStored(context.Background(), name)
		if err != nil {
			return fmt.Errorf("store: reading %s: %w", name, err)
		}
		if string(sec.Value) != want {
			return fmt.Errorf("store: %s holds a different value than the one configured", name)
		}
		if wantTags != nil && (sec.Description != wantDesc || !maps.Equal(sec.Tags, wantTags)) {
			return fmt.Errorf("store: %s has description %q and tags %v, want %q and %v", name, sec.Description, sec.Tags, wantDesc, wantTags)
		}
		return nil
	}
}

// checkSMState asserts name is gone (scheduled false) or scheduled for
// deletion (scheduled true).
func checkSMState(t *testing.T, endpoint, name string, scheduled bool) resource.TestCheckFunc {
	return func(*terraform.State) error {
		b, _ := smBackend(t, endpoint, awstest.Region)
		sec, err := b.Get(context.Background(), name)
		switch {
		case scheduled && (err != nil || !sec.Deleted):
			return fmt.Errorf("store: %s: got %v, %v; want it scheduled for deletion", name, sec, err)
		case !scheduled && backends.CodeOf(err) != backends.NotFound:
			return fmt.Errorf("store: %s: got %v, %v; want it deleted for good", name, sec, err)
		}
		return nil
	}
}

func TestAccAWSSecretManagerSecret_basic(t *testing.T) {
	endpoint := startMoto(t)
	const name = "litellm/OPENAI_API_KEY"
	const v1, v2, outside = "sk-aws-one-0001", "sk-aws-two-0002", "sk-aws-outside-0003"
	const ds = "data.llmsecret_secret.test"
	var version1 string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   ephemeralVersionChecks,
		Steps: []resource.TestStep{
			// Create: CreateSecret with description and tags; the version is
			// the store's VersionId.
			{
				Config: awsSMSecretConfig(endpoint, name, v1, 1, "OpenAI key", `{ owner = "platform" }`, "delete"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("id"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringRegexp(awsVersion)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("ciphertext"), knownvalue.Null()),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("value"), knownvalue.StringExact(v1)),
					expectNoSecretInState(v1, ds),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkSM(t, endpoint, name, v1, "OpenAI key", map[string]string{"owner": "platform"}),
					resource.TestCheckResourceAttrWith(res, "version", func(v string) error { version1 = v; return nil }),
					resource.TestCheckResourceAttrPair(ds, "version", res, "version"),
				),
			},
			// A new value_wo_version: PutSecretValue, a new version.
			{
				Config: awsSMSecretConfig(endpoint, name, v2, 2, "OpenAI key", `{ owner = "platform" }`, "delete"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("value"), knownvalue.StringExact(v2)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkSM(t, endpoint, name, v2, "OpenAI key", map[string]string{"owner": "platform"}),
					resource.TestCheckResourceAttrWith(res, "version", func(v string) error {
						if v == version1 || !awsVersion.MatchString(v) {
							return fmt.Errorf("version after a new value: got %s (first %s), want a new version id", v, version1)
						}
						return nil
					}),
				),
			},
			// Tags and description alone: TagResource/UntagResource and
			// UpdateSecret, no new version.
			{
				Config: awsSMSecretConfig(endpoint, name, v2, 2, "OpenAI key (prod)", `{ owner = "security", team = "ml" }`, "delete"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkSM(t, endpoint, name, v2, "OpenAI key (prod)", map[string]string{"owner": "security", "team": "ml"}),
					resource.TestCheckResourceAttrPair(ds, "version", res, "version"),
				),
			},
			// Removing a tag removes it from the secret.
			{
				Config: awsSMSecretConfig(endpoint, name, v2, 2, "OpenAI key (prod)", `{ team = "ml" }`, "delete"),
				Check:  checkSM(t, endpoint, name, v2, "OpenAI key (prod)", map[string]string{"team": "ml"}),
			},
			// A value changed outside Terraform: refresh sees the new
			// version, apply writes value_wo again.
			{
				PreConfig: func() {
					_, s := smBackend(t, endpoint, awstest.Region)
					if _, err := s.Write(context.Background(), backends.WriteRequest{Name: name, Value: []byte(outside), Description: "OpenAI key (prod)", Tags: map[string]string{"team": "ml"}}); err != nil {
						t.Fatal(err)
					}
				},
				Config: awsSMSecretConfig(endpoint, name, v2, 2, "OpenAI key (prod)", `{ team = "ml" }`, "delete"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				Check: checkSM(t, endpoint, name, v2, "OpenAI key (prod)", map[string]string{"team": "ml"}),
			},
			// Import by the secret name.
			{
				ResourceName:  res,
				ImportState:   true,
				ImportStateId: name,
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 {
						return fmt.Errorf("imported %d resources, want 1", len(states))
					}
					a := states[0].Attributes
					for k, want := range map[string]string{"full_name": name, "tags.team": "ml", "description": "OpenAI key (prod)"} {
						if a[k] != want {
							return fmt.Errorf("imported %s: got %q, want %q", k, a[k], want)
						}
					}
					if a["value"] != "" || !awsVersion.MatchString(a["version"]) {
						return fmt.Errorf("imported value and version: got %d bytes of value and version %q, want no value in state and a version id", len(a["value"]), a["version"])
					}
					return nil
				},
			},
			// The ephemeral resource reads AWSCURRENT.
			ephemeralStep(resource.TestStep{
				Config: awsSMSecretConfig(endpoint, name, v2, 2, "OpenAI key (prod)", `{ team = "ml" }`, "delete") + `
ephemeral "llmsecret_secret" "test" {
  name = llmsecret_secret.test.name
}

provider "echo" {
  data = ephemeral.llmsecret_secret.test
}

resource "echo" "test" {}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("echo.test", tfjsonpath.New("data").AtMapKey("value"), knownvalue.StringExact(v2)),
					statecheck.ExpectKnownValue("echo.test", tfjsonpath.New("data").AtMapKey("version"), knownvalue.StringRegexp(awsVersion)),
				},
			}),
		},
		// deletion_policy = "delete": ForceDeleteWithoutRecovery.
		CheckDestroy: func(*terraform.State) error { return checkSMState(t, endpoint, name, false)(nil) },
	})
}

// TestAccAWSSecretManagerSecret_softDeleteRecreate: soft_delete schedules the
// deletion (7 days); creating the name again restores it and writes the new
// value, description and tags, with no error.
func TestAccAWSSecretManagerSecret_softDeleteRecreate(t *testing.T) {
	endpoint := startMoto(t)
	const name = "ANTHROPIC_API_KEY"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: awsSMSecretConfig(endpoint, name, "sk-soft-one", 1, "first", `{ owner = "a", gone = "x" }`, "soft_delete"),
				Check:  checkSM(t, endpoint, name, "sk-soft-one", "first", map[string]string{"owner": "a", "gone": "x"}),
			},
			// Destroy: scheduled for deletion, recoverable.
			{
				Config:  awsSMSecretConfig(endpoint, name, "sk-soft-one", 1, "first", `{ owner = "a", gone = "x" }`, "soft_delete"),
				Destroy: true,
				Check:   checkSMState(t, endpoint, name, true),
			},
			// Create again: restored, with the new value, description and tags.
			{
				Config: awsSMSecretConfig(endpoint, name, "sk-soft-two", 1, "second", `{ owner = "b" }`, "soft_delete"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.llmsecret_secret.test", tfjsonpath.New("value"), knownvalue.StringExact("sk-soft-two")),
				},
				Check: checkSM(t, endpoint, name, "sk-soft-two", "second", map[string]string{"owner": "b"}),
			},
		},
		CheckDestroy: func(*terraform.State) error { return checkSMState(t, endpoint, name, true)(nil) },
	})
}

// TestAccAWSSecretManagerSecrets_batch45: llmsecret_secrets reads 45 names
// with BatchGetSecretValue, 20 names a call: 3 calls per read, and no
// single reads.
func TestAccAWSSecretManagerSecrets_batch45(t *testing.T) {
	endpoint := startMoto(t)
	proxy := awstest.NewProxy(t, endpoint)
	_, s := smBackend(t, endpoint, awstest.Region)
	names := make([]string, 45)
	want := map[string]knownvalue.Check{}
	for i := range names {
		names[i] = fmt.Sprintf("GATEWAY_KEY_%02d", i)
		if _, err := s.Write(context.Background(), backends.WriteRequest{Name: names[i], Value: []byte("sk-" + names[i])}); err != nil {
			t.Fatal(err)
		}
		want[names[i]] = knownvalue.StringExact("sk-" + names[i])
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: awsSMConfig(proxy.URL, "", "") + fmt.Sprintf(`
data "llmsecret_secrets" "test" {
  names = [%s]
}
`, `"`+strings.Join(names, `", "`)+`"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.llmsecret_secrets.test", tfjsonpath.New("values"), knownvalue.MapExact(want)),
					expectNoSecretInState("sk-GATEWAY_KEY_07", "data.llmsecret_secrets.test"),
				},
			},
			// A missing name fails, naming it and the store.
			{
				Config: awsSMConfig(proxy.URL, "", "") + `
data "llmsecret_secrets" "missing" {
  names = ["GATEWAY_KEY_00", "NOT_THERE"]
}
`,
				ExpectError: regexp.MustCompile(`(?s)NOT_THERE.*aws_secret_manager`),
			},
		},
	})
	// Each read of the 45 names is 3 calls of 20, 20 and 5 names.
	sizes := map[int]int{}
	for _, r := range proxy.Requests("BatchGetSecretValue") {
		var body struct{ SecretIdList []string }
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(body.SecretIdList, "NOT_THERE") {
			continue
		}
		sizes[len(body.SecretIdList)]++
	}
	reads := sizes[5]
	if reads == 0 || len(sizes) != 2 || sizes[20] != 2*reads {
		t.Errorf("BatchGetSecretValue calls by number of names: got %v, want 2 of 20 and 1 of 5 per read of 45 names", sizes)
	}
	// Only the missing name is read alone (DescribeSecret says it is missing).
	if n, d := proxy.Calls("GetSecretValue"), proxy.Calls("DescribeSecret"); n != 0 || d == 0 {
		t.Errorf("single reads: got %d GetSecretValue and %d DescribeSecret, want none and the missing name's", n, d)
	}
	t.Logf("reads of 45 names: %d, BatchGetSecretValue calls by size: %v", reads, sizes)
}

// TestAccAWSSecretManagerSecrets_primarySecret: with primary_secret_name,
// names are fields of one JSON secret, read with one GetSecretValue per run.
func TestAccAWSSecretManagerSecrets_primarySecret(t *testing.T) {
	endpoint := startMoto(t)
	proxy := awstest.NewProxy(t, endpoint)
	_, s := smBackend(t, endpoint, awstest.Region)
	if _, err := s.Write(context.Background(), backends.WriteRequest{Name: testPrimarySecret,
		Value: []byte(`{"OPENAI_API_KEY":"sk-primary-openai","ANTHROPIC_API_KEY":"sk-primary-ant"}`)}); err != nil {
		t.Fatal(err)
	}
	settings := fmt.Sprintf("primary_secret_name = %q", testPrimarySecret)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: awsSMConfig(proxy.URL, settings, "") + `
data "llmsecret_secret" "openai" {
  name = "OPENAI_API_KEY"
}

data "llmsecret_secrets" "all" {
  names = ["OPENAI_API_KEY", "ANTHROPIC_API_KEY"]
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.llmsecret_secret.openai", tfjsonpath.New("value"), knownvalue.StringExact("sk-primary-openai")),
					statecheck.ExpectKnownValue("data.llmsecret_secrets.all", tfjsonpath.New("values"), knownvalue.MapExact(map[string]knownvalue.Check{
						"OPENAI_API_KEY":    knownvalue.StringExact("sk-primary-openai"),
						"ANTHROPIC_API_KEY": knownvalue.StringExact("sk-primary-ant"),
					})),
				},
			},
		},
	})
	// Every request names the primary secret, never a field.
	for _, r := range proxy.Requests("") {
		if !strings.Contains(string(r.Body), testPrimarySecret) {
			t.Errorf("%s did not read the primary secret: %s", r.Op, r.Body)
		}
	}
	if n := proxy.Calls("BatchGetSecretValue"); n != 0 {
		t.Errorf("BatchGetSecretValue calls with a primary secret: got %d, want 0", n)
	}
}

// TestAccAWSSecretManager_regionFromEnv: LiteLLM's AWS_REGION_NAME alone sets
// the region (credentials from the SDK's standard variables).
func TestAccAWSSecretManager_regionFromEnv(t *testing.T) {
	endpoint := startMoto(t)
	isolateAWSEnv(t)
	t.Setenv("AWS_REGION_NAME", "eu-west-3")
	t.Setenv("AWS_ACCESS_KEY_ID", awstest.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", awstest.SecretKey)
	const name = "REGION_KEY"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: fmt.Sprintf(`
provider "llmsecret" {
  key_management_system   = "aws_secret_manager"
  key_management_settings = { access_mode = "read_and_write" }
  aws_secret_manager      = { endpoint = %[1]q }
}

resource "llmsecret_secret" "test" {
  name  = %[2]q
  value = "sk-region"
}
`, endpoint, name),
				Check: func(*terraform.State) error {
					for region, wantThere := range map[string]bool{"eu-west-3": true, awstest.Region: false} {
						b, _ := smBackend(t, endpoint, region)
						_, err := b.Get(context.Background(), name)
						if (err == nil) != wantThere {
							return fmt.Errorf("store: %s in %s: got %v, want present %t", name, region, err, wantThere)
						}
					}
					return nil
				},
			},
		},
	})
}

// isolateAWSEnv clears the variables the AWS SDK would read from the
// developer's environment and points its shared files at nothing.
func isolateAWSEnv(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", dir+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/credentials")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, v := range append(slices.Clone(awsconfig.RegionVars), "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_KMS", "AWS_ENDPOINT_URL_STS") {
		unsetEnv(t, v)
	}
}

// TestAccAWSSecretManager_refused: names Secrets Manager refuses fail at plan
// naming the store and the rule, and a bad recovery window fails validation;
// nothing reaches the store.
func TestAccAWSSecretManager_refused(t *testing.T) {
	endpoint := startMoto(t)
	proxy := awstest.NewProxy(t, endpoint)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: awsSMConfig(proxy.URL, readWrite, "") + `
resource "llmsecret_secret" "test" {
  name  = "a?b=1"
  value = "v"
}
`,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)aws_secret_manager.*'\?'.*letters,\s+digits`),
			},
			{
				Config: awsSMConfig(proxy.URL, readWrite, "") + `
resource "llmsecret_secret" "test" {
  name  = "a: b"
  value = "v"
}
`,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)aws_secret_manager.*':'.*letters,\s+digits`),
			},
			{
				Config: awsSMConfig(proxy.URL, readWrite, "recovery_window_in_days = 3") + `
data "llmsecret_secret" "test" {
  name = "X"
}
`,
				ExpectError: regexp.MustCompile(`(?s)recovery_window_in_days.*between\s+7\s+and\s+30`),
			},
		},
	})
	if ops := proxy.Ops(); len(ops) != 0 {
		t.Errorf("Secrets Manager calls for refused configurations: %v, want none", ops)
	}
}

// TestAccAWS_wrongCredentialsFailPlan: credentials AWS refuses fail plan,
// when the provider is configured, with an error naming the store, AWS's
// reason and the settings and variables to fix, and no store call. moto,
// checking credentials here, refuses the test keys as AWS refuses a wrong
// key. STS is asked at sts_endpoint, or at AWS_ENDPOINT_URL_STS.
func TestAccAWS_wrongCredentialsFailPlan(t *testing.T) {
	if os.Getenv(resource.EnvTfAcc) == "" {
		t.Skipf("acceptance tests skipped unless env '%s' set", resource.EnvTfAcc)
	}
	isolateAWSEnv(t)
	proxy := awstest.NewProxy(t, awstest.StartMotoRefusingCredentials(t))
	t.Setenv("AWS_ENDPOINT_URL_STS", proxy.URL)
	secret := `
resource "llmsecret_secret" "test" {
  name  = "OPENAI_API_KEY"
  value = "sk-never-written-0001"
}
`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      awsSMConfig(proxy.URL, readWrite, fmt.Sprintf("sts_endpoint = %q", proxy.URL)) + secret,
				PlanOnly:    true,
				ExpectError: phrase("configuring the aws_secret_manager store", "AWS refused the credentials", "InvalidClientTokenId", "aws_secret_manager.access_key", "AWS_ACCESS_KEY_ID"),
			},
			{
				Config:      awsKMSConfig(proxy.URL, "alias/never-used", readWrite) + secret,
				PlanOnly:    true,
				ExpectError: phrase("configuring the aws_kms store", "AWS refused the credentials", "InvalidClientTokenId", "aws_kms.access_key", "AWS_ACCESS_KEY_ID"),
			},
		},
	})
	ops := proxy.Ops()
	if len(ops) < 2 {
		t.Errorf("calls: got %v, want a credential check per configure", ops)
	}
	for _, op := range ops {
		if op != "GetCallerIdentity" {
			t.Errorf("calls: got %v, want only credential checks", ops)
			break
		}
	}
}

// AWS KMS.

func awsKMSConfig(endpoint, keyID, settings string) string {
	keyLine := ""
	if keyID != "" {
		keyLine = fmt.Sprintf("key_id = %q", keyID)
	}
	return fmt.Sprintf(`
provider "llmsecret" {
  key_management_system = "aws_kms"
  key_management_settings = {
    %[3]s
  }
  aws_kms = {
    region     = %[4]q
    endpoint   = %[1]q
    access_key = %[5]q
    secret_key = %[6]q
    %[2]s
  }
}
`, endpoint, keyLine, settings, awstest.Region, awstest.AccessKey, awstest.SecretKey)
}

// awsKMSEncrypt encrypts value with key, as a user would have done with
// aws kms encrypt | base64.
func awsKMSEncrypt(t *testing.T, endpoint, key, value string) string {
	t.Helper()
	b, err := awskms.New(context.Background(), &awskms.Options{AWS: awstest.Options(endpoint), KeyID: key})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ct, err := b.Encrypt(context.Background(), "seed", []byte(value))
	if err != nil {
		t.Fatal(err)
	}
	return ct
}

func TestAccAWSKMSSecret_basic(t *testing.T) {
	endpoint := startMoto(t)
	proxy := awstest.NewProxy(t, endpoint)
	key := awstest.CreateKMSKey(t, endpoint)
	const value, fromEnv, envValue = "sk-awskms-0001", "LLMSECRET_TEST_AWSKMS_FROM_ENV", "sk-awskms-env-0002"
	const fromStartup, startupValue = "LLMSECRET_TEST_AWSKMS_STARTUP", "sk-awskms-startup-0003"
	// key_management_system: aws_kms reads the bare base64 from the variable
	// called name; LiteLLM decodes it leniently (a trailing newline is
	// skipped).
	t.Setenv(fromEnv, awsKMSEncrypt(t, endpoint, key, envValue)+"\n")
	// The USE_AWS_KMS start-up path: LITELLM_SECRET_AWS_KMS_<name>, prefixed.
	unsetEnv(t, fromStartup)
	t.Setenv("LITELLM_SECRET_AWS_KMS_"+fromStartup, "aws_kms/"+awsKMSEncrypt(t, endpoint, key, " "+startupValue+"\n"))
	config := awsKMSConfig(proxy.URL, key, readWrite) + fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name             = "OPENAI_API_KEY"
  value_wo         = %[1]q
  value_wo_version = 1
}

data "llmsecret_secret" "decrypted" {
  name       = "OPENAI_API_KEY"
  ciphertext = llmsecret_secret.test.ciphertext
}

data "llmsecret_secret" "decrypted_startup_form" {
  name       = "OPENAI_API_KEY"
  ciphertext = llmsecret_secret.test.use_aws_kms_env_value
}

data "llmsecret_secret" "from_env" {
  name = %[2]q
}

data "llmsecret_secret" "from_startup_env" {
  name = %[3]q
}
`, value, fromEnv, fromStartup)
	const ds = "data.llmsecret_secret.decrypted"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   ephemeralVersionChecks,
		Steps: []resource.TestStep{
			// Encrypt: a base64 ciphertext in state, no version; decrypted
			// from the attribute and from the environment variable.
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("ciphertext"), knownvalue.StringRegexp(regexp.MustCompile(`^[A-Za-z0-9+/]{40,}={0,2}$`))),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.Null()),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("value"), knownvalue.StringExact(value)),
					statecheck.ExpectKnownValue("data.llmsecret_secret.from_env", tfjsonpath.New("value"), knownvalue.StringExact(envValue)),
					statecheck.ExpectKnownValue("data.llmsecret_secret.decrypted_startup_form", tfjsonpath.New("value"), knownvalue.StringExact(value)),
					// Stripped as LiteLLM strips the plaintext.
					statecheck.ExpectKnownValue("data.llmsecret_secret.from_startup_env", tfjsonpath.New("value"), knownvalue.StringExact(startupValue)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("use_aws_kms_env_name"), knownvalue.StringExact("LITELLM_SECRET_AWS_KMS_OPENAI_API_KEY")),
					expectNoSecretInState(value, ds, "data.llmsecret_secret.decrypted_startup_form"),
					expectNoSecretInState(envValue, "data.llmsecret_secret.from_env"),
				},
				Check: resource.ComposeAggregateTestCheckFunc(resource.TestCheckResourceAttrWith(res, "use_aws_kms_env_value", func(v string) error {
					// aws_kms/ followed by the bare ciphertext.
					ct, ok := strings.CutPrefix(v, "aws_kms/")
					if !ok || !regexp.MustCompile(`^[A-Za-z0-9+/]{40,}={0,2}$`).MatchString(ct) {
						return fmt.Errorf("use_aws_kms_env_value is not aws_kms/ followed by a base64 ciphertext")
					}
					return nil
				}), resource.TestCheckResourceAttrWith(res, "ciphertext", func(ct string) error {
					raw, err := base64.StdEncoding.DecodeString(ct)
					if err != nil {
						return fmt.Errorf("ciphertext is not standard base64: %w", err)
					}
					if strings.Contains(string(raw), value) || len(raw) <= len(value) {
						return fmt.Errorf("ciphertext does not look encrypted (%d bytes)", len(raw))
					}
					return nil
				})),
			},
			// The ephemeral resource decrypts too.
			ephemeralStep(resource.TestStep{
				Config: config + `
ephemeral "llmsecret_secret" "test" {
  name       = "OPENAI_API_KEY"
  ciphertext = llmsecret_secret.test.ciphertext
}

provider "echo" {
  data = ephemeral.llmsecret_secret.test
}

resource "echo" "test" {}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("echo.test", tfjsonpath.New("data").AtMapKey("value"), knownvalue.StringExact(value)),
				},
			}),
		},
	})
	if n := proxy.Calls("Encrypt"); n != 1 { // refresh and destroy make none
		t.Errorf("Encrypt calls: got %d, want 1", n)
	}
}

// TestAccAWSKMS_refused: a ciphertext that is not base64 fails before any
// call, a damaged one or one from another key fails at KMS with a message
// that says so.
func TestAccAWSKMS_refused(t *testing.T) {
	endpoint := startMoto(t)
	proxy := awstest.NewProxy(t, endpoint)
	key, other := awstest.CreateKMSKey(t, endpoint), awstest.CreateKMSKey(t, endpoint)
	foreign := awsKMSEncrypt(t, endpoint, other, "sk-foreign-0001")
	raw, err := base64.StdEncoding.DecodeString(awsKMSEncrypt(t, endpoint, key, "sk-tampered-0001"))
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 0xff
	tampered := base64.StdEncoding.EncodeToString(raw)
	ds := func(ciphertext string) string {
		return fmt.Sprintf(`
data "llmsecret_secret" "test" {
  name       = "OPENAI_API_KEY"
  ciphertext = %[1]q
}
`, ciphertext)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      awsKMSConfig(proxy.URL, key, "") + ds("aws_kms/sk-not encrypted at all"),
				ExpectError: regexp.MustCompile(`(?s)OPENAI_API_KEY.*is\s+not\s+valid\s+base64`),
			},
			{
				Config:      awsKMSConfig(proxy.URL, key, "") + ds(tampered),
				ExpectError: regexp.MustCompile(`(?s)KMS\s+cannot\s+decrypt.*OPENAI_API_KEY.*InvalidCiphertextException`),
			},
			{
				Config:      awsKMSConfig(proxy.URL, key, "") + ds(foreign),
				ExpectError: regexp.MustCompile(`(?s)OPENAI_API_KEY.*aws_kms.*(AccessDeniedException|IncorrectKeyException)`),
			},
			{
				Config: awsKMSConfig(proxy.URL, "", readWrite) + `
resource "llmsecret_secret" "test" {
  name  = "NO_KEY"
  value = "sk-no-key"
}
`,
				ExpectError: regexp.MustCompile(`(?s)aws_kms.key_id\s+is\s+not\s+set`),
			},
		},
	})
	if n := proxy.Calls("Decrypt"); n != 2 {
		t.Errorf("Decrypt calls: got %d, want 2 (the tampered ciphertext and the one of another key)", n)
	}
	if n := proxy.Calls("Encrypt"); n != 0 {
		t.Errorf("Encrypt calls without key_id: got %d, want 0", n)
	}
}
