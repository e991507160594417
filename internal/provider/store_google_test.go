package provider

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpkms"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpkms/gcpkmstest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpsm"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpsm/gcpsmtest"
)

// Acceptance tests of the google_secret_manager and google_kms stores,
// against the in-process fakes of the services (plain text on a loopback
// port, through the endpoint attribute).

const gsmProject = "acc-project"

// googleSMConfig is a provider block on the Secret Manager fake; project is
// left out when empty, settings is the body of key_management_settings.
func googleSMConfig(srv *gcpsmtest.Server, project, settings string) string {
	projectLine := ""
	if project != "" {
		projectLine = fmt.Sprintf("project_id = %q", project)
	}
	return fmt.Sprintf(`
provider "llmsecret" {
  key_management_system = "google_secret_manager"
  key_management_settings = {
    %[3]s
  }
  google_secret_manager = {
    endpoint = %[1]q
    %[2]s
  }
}
`, srv.Endpoint(), projectLine, settings)
}

func gsmSecretConfig(srv *gcpsmtest.Server, name, value string, version int, tags string) string {
	return googleSMConfig(srv, gsmProject, readWrite) + fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name             = %[1]q
  value_wo         = %[2]q
  value_wo_version = %[3]d
  description      = "OpenAI key for the gateway"
  tags             = %[4]s
}

data "llmsecret_secret" "test" {
  name       = llmsecret_secret.test.name
  depends_on = [llmsecret_secret.test]
}
`, name, value, version, tags)
}

func gsmName(project, id string) string { return "projects/" + project + "/secrets/" + id }

// checkGSM is a TestCheckFunc asserting the fake's secret: its latest
// version holds want in state wantState, with the labels wantLabels (nil:
// not checked). Messages never quote values.
func checkGSM(srv *gcpsmtest.Server, name, want, wantState string, wantLabels map[string]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		info, ok := srv.Secret(name)
		if !ok {
			return fmt.Errorf("store: no secret %s (the fake holds %v)", name, srv.SecretNames())
		}
		latest := info.Latest()
		if latest.State != wantState {
			return fmt.Errorf("store: the latest version of %s is %s, want %s", name, latest.State, wantState)
		}
		if wantState != gcpsmtest.Destroyed && string(latest.Data) != want {
			return fmt.Errorf("store: the latest version of %s holds a different value than the one configured", name)
		}
		if wantLabels != nil && !maps.Equal(info.Labels, wantLabels) {
			return fmt.Errorf("store: %s has labels %v, want %v", name, info.Labels, wantLabels)
		}
		return nil
	}
}

func TestAccGoogleSecretManagerSecret_basic(t *testing.T) {
	srv := gcpsmtest.Start(t)
	const id = "OPENAI_API_KEY"
	const v1, v2 = "sk-gsm-one-0001", "sk-gsm-two-0002"
	name := gsmName(gsmProject, id)
	const ds = "data.llmsecret_secret.test"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   ephemeralVersionChecks,
		Steps: []resource.TestStep{
			// Create: a secret with automatic replication, labels and the
			// description annotation, then version 1.
			{
				Config: gsmSecretConfig(srv, id, v1, 1, `{ owner = "platform" }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("id"), knownvalue.StringExact(id)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringExact("1")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("ciphertext"), knownvalue.Null()),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("value"), knownvalue.StringExact(v1)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("version"), knownvalue.StringExact("1")),
					expectNoSecretInState(v1, ds),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkGSM(srv, name, v1, gcpsmtest.Enabled, map[string]string{"owner": "platform"}),
					func(*terraform.State) error {
						info, _ := srv.Secret(name)
						if !info.Replicated || info.Annotations["description"] != "OpenAI key for the gateway" {
							return fmt.Errorf("store: %s: replicated %t, annotations %v; want automatic replication and the description", name, info.Replicated, info.Annotations)
						}
						return nil
					},
				),
			},
			// A new value_wo_version adds version 2.
			{
				Config: gsmSecretConfig(srv, id, v2, 2, `{ owner = "platform" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringExact("2")),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("value"), knownvalue.StringExact(v2)),
				},
				Check: checkGSM(srv, name, v2, gcpsmtest.Enabled, nil),
			},
			// Tags alone change the labels, without a new version.
			{
				Config: gsmSecretConfig(srv, id, v2, 2, `{ owner = "security", team = "ml" }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringExact("2")),
				},
				Check: checkGSM(srv, name, v2, gcpsmtest.Enabled, map[string]string{"owner": "security", "team": "ml"}),
			},
			// Import by the secret ID.
			{
				ResourceName:  res,
				ImportState:   true,
				ImportStateId: id,
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 {
						return fmt.Errorf("imported %d resources, want 1", len(states))
					}
					a := states[0].Attributes
					for k, want := range map[string]string{"full_name": id, "version": "2", "tags.owner": "security", "description": "OpenAI key for the gateway"} {
						if a[k] != want {
							return fmt.Errorf("imported %s: got %q, want %q", k, a[k], want)
						}
					}
					return nil
				},
			},
			// The ephemeral resource reads the latest version.
			ephemeralStep(resource.TestStep{
				Config: gsmSecretConfig(srv, id, v2, 2, `{ owner = "security", team = "ml" }`) + `
ephemeral "llmsecret_secret" "test" {
  name       = llmsecret_secret.test.name
}

provider "echo" {
  data = ephemeral.llmsecret_secret.test
}

resource "echo" "test" {}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("echo.test", tfjsonpath.New("data").AtMapKey("value"), knownvalue.StringExact(v2)),
					statecheck.ExpectKnownValue("echo.test", tfjsonpath.New("data").AtMapKey("version"), knownvalue.StringExact("2")),
				},
			}),
		},
		// deletion_policy defaults to soft_delete on Secret Manager: destroy
		// disables the latest version and keeps the secret.
		CheckDestroy: func(*terraform.State) error { return checkGSM(srv, name, v2, gcpsmtest.Disabled, nil)(nil) },
	})
}

// TestAccGoogleSecretManagerSecret_softDelete: soft_delete disables the
// latest version and keeps the secret; applying again recreates it with a
// new enabled version.
func TestAccGoogleSecretManagerSecret_softDelete(t *testing.T) {
	srv := gcpsmtest.Start(t)
	const id = "SOFT_KEY"
	name := gsmName(gsmProject, id)
	config := func(value string) string {
		return googleSMConfig(srv, gsmProject, readWrite) + fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name            = %[1]q
  value           = %[2]q
  deletion_policy = "soft_delete"
}
`, id, value)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config("sk-soft-one"), Check: checkGSM(srv, name, "sk-soft-one", gcpsmtest.Enabled, nil)},
			// Destroy: the secret stays, its latest version disabled.
			{Config: config("sk-soft-one"), Destroy: true, Check: checkGSM(srv, name, "sk-soft-one", gcpsmtest.Disabled, nil)},
			// Create again: a new enabled version.
			{
				Config: config("sk-soft-two"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringExact("2")),
				},
				Check: checkGSM(srv, name, "sk-soft-two", gcpsmtest.Enabled, nil),
			},
		},
		CheckDestroy: func(*terraform.State) error { return checkGSM(srv, name, "sk-soft-two", gcpsmtest.Disabled, nil)(nil) },
	})
}

// TestAccGoogleSecretManagerSecret_drift: changes made with other clients
// are seen by refresh.
func TestAccGoogleSecretManagerSecret_drift(t *testing.T) {
	srv := gcpsmtest.Start(t)
	const id = "DRIFT_KEY"
	name := gsmName(gsmProject, id)
	config := gsmSecretConfig(srv, id, "sk-configured", 1, "null")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config, Check: checkGSM(srv, name, "sk-configured", gcpsmtest.Enabled, nil)},
			// A new version added outside Terraform: value_wo is written again.
			{
				PreConfig: func() {
					if err := srv.AddVersion(name, []byte("sk-changed-outside")); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.StringExact("3")),
				},
				Check: checkGSM(srv, name, "sk-configured", gcpsmtest.Enabled, nil),
			},
			// The latest version disabled outside Terraform: the secret reads
			// as deleted, and apply creates it again.
			{
				PreConfig: func() {
					if err := srv.SetLatestState(name, gcpsmtest.Disabled); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionCreate)},
				},
				Check: checkGSM(srv, name, "sk-configured", gcpsmtest.Enabled, nil),
			},
		},
	})
}

// TestAccGoogleSecretManagerSecret_projectFromEnv: LiteLLM's
// GOOGLE_SECRET_MANAGER_PROJECT_ID alone sets the project.
func TestAccGoogleSecretManagerSecret_projectFromEnv(t *testing.T) {
	srv := gcpsmtest.Start(t)
	unsetEnv(t, "GOOGLE_CLOUD_PROJECT")
	t.Setenv("GOOGLE_SECRET_MANAGER_PROJECT_ID", "litellm-env-project")
	const id = "ENV_PROJECT_KEY"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: googleSMConfig(srv, "", readWrite) + fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name  = %[1]q
  value = "sk-env-project"
}

data "llmsecret_secret" "test" {
  name       = %[1]q
  depends_on = [llmsecret_secret.test]
}
`, id),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.llmsecret_secret.test", tfjsonpath.New("value"), knownvalue.StringExact("sk-env-project")),
				},
				Check: checkGSM(srv, gsmName("litellm-env-project", id), "sk-env-project", gcpsmtest.Enabled, nil),
			},
		},
	})
}

// warningRecorder serves the provider and keeps the warnings it returns
// when the CLI validates the provider configuration (validate, plan, apply):
// terraform-plugin-testing has no assertion on warnings.
type warningRecorder struct {
	tfprotov6.ProviderServer
	mu       sync.Mutex
	warnings []string
}

func (r *warningRecorder) ValidateProviderConfig(ctx context.Context, req *tfprotov6.ValidateProviderConfigRequest) (*tfprotov6.ValidateProviderConfigResponse, error) {
	resp, err := r.ProviderServer.ValidateProviderConfig(ctx, req)
	if resp != nil {
		r.mu.Lock()
		for _, d := range resp.Diagnostics {
			if d.Severity == tfprotov6.DiagnosticSeverityWarning {
				r.warnings = append(r.warnings, d.Summary+": "+d.Detail)
			}
		}
		r.mu.Unlock()
	}
	return resp, err
}

func (r *warningRecorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.warnings)
}

// recordingFactories are testAccProtoV6ProviderFactories with llmsecret's
// configuration warnings recorded in rec.
func recordingFactories(rec *warningRecorder) map[string]func() (tfprotov6.ProviderServer, error) {
	f := maps.Clone(testAccProtoV6ProviderFactories)
	f["llmsecret"] = func() (tfprotov6.ProviderServer, error) {
		srv, err := providerserver.NewProtocol6WithError(New("test")())()
		if err != nil {
			return nil, err
		}
		rec.mu.Lock()
		rec.ProviderServer = srv
		rec.mu.Unlock()
		return rec, nil
	}
	return f
}

// TestAccGoogleSecretManagerSecret_regional: location makes regional
// secrets, without replication, and warns that LiteLLM, which reads only
// global secrets, cannot see them.
func TestAccGoogleSecretManagerSecret_regional(t *testing.T) {
	srv := gcpsmtest.Start(t)
	const id = "REGIONAL_KEY"
	name := "projects/" + gsmProject + "/locations/europe-west1/secrets/" + id
	rec := &warningRecorder{}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: recordingFactories(rec),
		Steps: []resource.TestStep{
			// Global secrets (no location): no warning.
			{
				Config: gsmSecretConfig(srv, "GLOBAL_KEY", "sk-global", 1, "{}"),
				Check: func(*terraform.State) error {
					if w := rec.all(); len(w) != 0 {
						return fmt.Errorf("warnings without location: %q", w)
					}
					return nil
				},
			},
			{
				Config: fmt.Sprintf(`
provider "llmsecret" {
  key_management_system   = "google_secret_manager"
  key_management_settings = { access_mode = "read_and_write" }
  google_secret_manager = {
    project_id = %[1]q
    location   = "europe-west1"
    endpoint   = %[2]q
  }
}

resource "llmsecret_secret" "test" {
  name  = %[3]q
  value = "sk-regional"
}
`, gsmProject, srv.Endpoint(), id),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkGSM(srv, name, "sk-regional", gcpsmtest.Enabled, nil),
					func(*terraform.State) error {
						if info, _ := srv.Secret(name); info.Replicated {
							return fmt.Errorf("store: regional secret %s has automatic replication", name)
						}
						return nil
					},
					func(*terraform.State) error {
						for _, w := range rec.all() {
							if strings.Contains(w, "LiteLLM cannot read regional secrets") && strings.Contains(w, `location = "europe-west1"`) &&
								strings.Contains(w, "projects/<project>/secrets/<name>/versions/latest") {
								return nil
							}
						}
						return fmt.Errorf("no warning that LiteLLM cannot read regional secrets; warnings: %q", rec.all())
					},
				),
			},
		},
		// deletion_policy defaults to soft_delete on Secret Manager.
		CheckDestroy: func(*terraform.State) error { return checkGSM(srv, name, "sk-regional", gcpsmtest.Disabled, nil)(nil) },
	})
}

// TestAccGoogleSecretManager_refusedAtPlan: a tag that breaks the label rules,
// a name Secret Manager does not accept and a missing project fail before any
// call to the service.
func TestAccGoogleSecretManager_refusedAtPlan(t *testing.T) {
	srv := gcpsmtest.Start(t)
	unsetEnv(t, "GOOGLE_SECRET_MANAGER_PROJECT_ID")
	unsetEnv(t, "GOOGLE_CLOUD_PROJECT")
	secret := func(name, tags string) string {
		return fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name  = %[1]q
  value = "sk-refused"
  tags  = %[2]s
}
`, name, tags)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      googleSMConfig(srv, gsmProject, readWrite) + secret("BAD_LABEL", `{ Team = "ml" }`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)invalid tags.*google_secret_manager.*tag "Team".*lowercase\s+letter`),
			},
			{
				Config:      googleSMConfig(srv, gsmProject, readWrite) + secret("BAD_VALUE", `{ team = "Machine Learning" }`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)tag "team".*label\s+values\s+may\s+contain\s+only\s+lowercase`),
			},
			{
				// A bad default tag fails every secret's plan.
				Config:      googleSMConfig(srv, gsmProject, readWrite+"\n    tags = { CostCenter = \"1\" }") + secret("BAD_DEFAULT", "null"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)tag "CostCenter"`),
			},
			{
				Config:      googleSMConfig(srv, gsmProject, readWrite) + secret("litellm/virtual-key", "null"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)google_secret_manager.*litellm/virtual-key.*letters,\s+digits,\s+"_"\s+and\s+"-"`),
			},
			{
				Config:      googleSMConfig(srv, "", readWrite) + secret("NO_PROJECT", "null"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)project_id\s+is\s+required.*GOOGLE_SECRET_MANAGER_PROJECT_ID`),
			},
		},
	})
	if n := srv.Calls(""); n != 0 {
		t.Errorf("calls to Secret Manager for refused plans: got %d, want 0", n)
	}
}

func TestAccGoogleSecretManagerSecrets_dataSource(t *testing.T) {
	srv := gcpsmtest.Start(t)
	names := []string{"MANY_A", "MANY_B", "MANY_C"}
	for _, n := range names {
		seedGSM(t, srv, n, "sk-"+n)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: googleSMConfig(srv, gsmProject, "") + `
data "llmsecret_secrets" "test" {
  names = ["MANY_A", "MANY_B", "MANY_C"]
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.llmsecret_secrets.test", tfjsonpath.New("values"), knownvalue.MapExact(map[string]knownvalue.Check{
						"MANY_A": knownvalue.StringExact("sk-MANY_A"),
						"MANY_B": knownvalue.StringExact("sk-MANY_B"),
						"MANY_C": knownvalue.StringExact("sk-MANY_C"),
					})),
				},
			},
			{
				Config: googleSMConfig(srv, gsmProject, "") + `
data "llmsecret_secret" "missing" {
  name = "NOT_THERE"
}
`,
				ExpectError: regexp.MustCompile(`(?s)NOT_THERE.*google_secret_manager`),
			},
		},
	})
}

// seedGSM writes a secret into the fake the way another client would.
func seedGSM(t *testing.T, srv *gcpsmtest.Server, id, value string) {
	t.Helper()
	s := gsmStore(t, srv)
	if _, err := s.Write(context.Background(), backends.WriteRequest{Name: id, Value: []byte(value)}); err != nil {
		t.Fatalf("seeding %s: %v", id, err)
	}
}

// gsmStore opens the fake directly, as another client would.
func gsmStore(t *testing.T, srv *gcpsmtest.Server) *backends.Store {
	t.Helper()
	b, err := gcpsm.New(context.Background(), &gcpsm.Options{ProjectID: gsmProject, Endpoint: srv.Endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := backends.NewStore(b, &backends.StoreOptions{Settings: backends.Settings{AccessMode: backends.ReadAndWrite}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Google Cloud KMS.

const kmsKey = "projects/acc-project/locations/global/keyRings/llm/cryptoKeys/gateway"

func startKMS(t *testing.T, keys ...string) *gcpkmstest.Server {
	t.Helper()
	srv := gcpkmstest.Start(t)
	for _, k := range keys {
		if err := srv.AddKey(k); err != nil {
			t.Fatal(err)
		}
	}
	return srv
}

// googleKMSConfig is a provider block on the KMS fake; key is left out when
// empty.
func googleKMSConfig(srv *gcpkmstest.Server, key, settings string) string {
	keyLine := ""
	if key != "" {
		keyLine = fmt.Sprintf("key_name = %q", key)
	}
	return fmt.Sprintf(`
provider "llmsecret" {
  key_management_system = "google_kms"
  key_management_settings = {
    %[3]s
  }
  google_kms = {
    endpoint = %[1]q
    %[2]s
  }
}
`, srv.Endpoint(), keyLine, settings)
}

// kmsEncrypt encrypts value with key on the fake, as a user would have
// done with gcloud kms encrypt | base64.
func kmsEncrypt(t *testing.T, srv *gcpkmstest.Server, key, value string) string {
	t.Helper()
	b, err := gcpkms.New(context.Background(), &gcpkms.Options{KeyName: key, Endpoint: srv.Endpoint()})
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

func TestAccGoogleKMSSecret_basic(t *testing.T) {
	srv := startKMS(t, kmsKey)
	const value, fromEnv, envValue = "sk-kms-0001", "LLMSECRET_TEST_GKMS_FROM_ENV", "sk-kms-env-0002"
	// Exactly as set: LiteLLM's base64 check trims nothing.
	t.Setenv(fromEnv, kmsEncrypt(t, srv, kmsKey, envValue))
	config := googleKMSConfig(srv, kmsKey, readWrite) + fmt.Sprintf(`
resource "llmsecret_secret" "test" {
  name             = "OPENAI_API_KEY"
  value_wo         = %[1]q
  value_wo_version = 1
}

data "llmsecret_secret" "decrypted" {
  name       = "OPENAI_API_KEY"
  ciphertext = llmsecret_secret.test.ciphertext
}

data "llmsecret_secret" "from_env" {
  name = %[2]q
}
`, value, fromEnv)
	const ds = "data.llmsecret_secret.decrypted"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   ephemeralVersionChecks,
		Steps: []resource.TestStep{
			// Encrypt: a base64 ciphertext in state, no version, the
			// plaintext nowhere but in the data source that decrypts it.
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("ciphertext"), knownvalue.StringRegexp(regexp.MustCompile(`^[A-Za-z0-9+/]{40,}={0,2}$`))),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("version"), knownvalue.Null()),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("value"), knownvalue.StringExact(value)),
					statecheck.ExpectKnownValue("data.llmsecret_secret.from_env", tfjsonpath.New("value"), knownvalue.StringExact(envValue)),
					expectNoSecretInState(value, ds),
				},
				Check: resource.TestCheckResourceAttrWith(res, "ciphertext", func(ct string) error {
					raw, err := base64.StdEncoding.DecodeString(ct)
					if err != nil {
						return fmt.Errorf("ciphertext is not standard base64: %w", err)
					}
					if string(raw) == value || len(raw) <= len(value) {
						return fmt.Errorf("ciphertext does not look encrypted (%d bytes)", len(raw))
					}
					return nil
				}),
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
	if n := srv.Calls("Encrypt"); n != 2 { // the seed and the resource: refresh and destroy make none
		t.Errorf("Encrypt calls: got %d, want 2", n)
	}
}

// TestAccGoogleKMSSecret_keyFromEnv: LiteLLM's GOOGLE_KMS_RESOURCE_NAME alone
// sets the key.
func TestAccGoogleKMSSecret_keyFromEnv(t *testing.T) {
	const other = "projects/acc-project/locations/global/keyRings/llm/cryptoKeys/other"
	srv := startKMS(t, kmsKey, other)
	t.Setenv("GOOGLE_KMS_RESOURCE_NAME", other)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: googleKMSConfig(srv, "", readWrite) + `
resource "llmsecret_secret" "test" {
  name  = "ENV_KEY"
  value = "sk-env-key"
}
`,
				Check: resource.TestCheckResourceAttrWith(res, "ciphertext", func(ct string) error {
					// Made with the key from the environment: only it decrypts.
					for key, wantOK := range map[string]bool{other: true, kmsKey: false} {
						b, err := gcpkms.New(context.Background(), &gcpkms.Options{KeyName: key, Endpoint: srv.Endpoint()})
						if err != nil {
							return err
						}
						_, err = b.Decrypt(context.Background(), "ENV_KEY", ct)
						_ = b.Close()
						if (err == nil) != wantOK {
							return fmt.Errorf("decrypting with %s: got %v, want success %t", key, err, wantOK)
						}
					}
					return nil
				}),
			},
		},
	})
}

// TestAccGoogleKMS_refused: a ciphertext that is not base64 fails before any
// call, one from another key fails at the service, and a missing key_name
// fails at configure.
func TestAccGoogleKMS_refused(t *testing.T) {
	const other = "projects/acc-project/locations/global/keyRings/llm/cryptoKeys/other"
	srv := startKMS(t, kmsKey, other)
	unsetEnv(t, "GOOGLE_KMS_RESOURCE_NAME")
	foreign := kmsEncrypt(t, srv, other, "sk-foreign-0001")
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
				Config:      googleKMSConfig(srv, kmsKey, "") + ds("sk-not-encrypted at all"),
				ExpectError: regexp.MustCompile(`(?s)OPENAI_API_KEY.*is\s+not\s+canonical\s+standard\s+base64`),
			},
			// A trailing newline: LiteLLM's _is_base64 refuses it (it trims
			// nothing), so the read does too, before any call.
			{
				Config:      googleKMSConfig(srv, kmsKey, "") + ds(foreign+"\n"),
				ExpectError: regexp.MustCompile(`(?s)OPENAI_API_KEY.*is\s+not\s+canonical\s+standard\s+base64.*LiteLLM`),
			},
			{
				Config:      googleKMSConfig(srv, kmsKey, "") + ds(foreign),
				ExpectError: regexp.MustCompile(`(?s)OPENAI_API_KEY.*google_kms.*Decryption\s+failed`),
			},
			{
				Config:      googleKMSConfig(srv, "", "") + ds(foreign),
				ExpectError: regexp.MustCompile(`(?s)google_kms.key_name\s+is\s+required.*GOOGLE_KMS_RESOURCE_NAME`),
			},
		},
	})
	if n := srv.Calls("Decrypt"); n != 1 {
		t.Errorf("Decrypt calls: got %d, want 1 (only the well-formed ciphertext of another key)", n)
	}
}
