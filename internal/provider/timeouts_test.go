package provider

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/faultproxy"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/reliability"
)

// Timeouts: the resource's timeouts block (create, read, update, delete)
// and the provider's timeouts attribute (default, per_call, max_attempts).
// A store that does not answer in time fails the operation with an error
// that names it and the limit; nothing is left half-written.

// TestSecretResourceSchema_timeouts: the resource serves a timeouts block
// with the four operations, and the provider a documented timeouts
// attribute.
func TestSecretResourceSchema_timeouts(t *testing.T) {
	var rs resource.SchemaResponse
	NewSecretResource().Schema(context.Background(), resource.SchemaRequest{}, &rs)
	b, ok := rs.Schema.Blocks["timeouts"].(rschema.SingleNestedBlock)
	if !ok {
		t.Fatalf("llmsecret_secret has no timeouts block: %T", rs.Schema.Blocks["timeouts"])
	}
	for _, op := range []string{"create", "read", "update", "delete"} {
		a, ok := b.Attributes[op]
		if !ok || !a.IsOptional() || a.GetDescription() == "" {
			t.Errorf("timeouts.%s: missing, required or undocumented", op)
		}
	}
	var ps provider.SchemaResponse
	New("test")().Schema(context.Background(), provider.SchemaRequest{}, &ps)
	a, ok := ps.Schema.Attributes["timeouts"]
	if !ok || a.GetMarkdownDescription() == "" {
		t.Fatal("the provider has no documented timeouts attribute")
	}
	// The descriptions spell the defaults out.
	if defaultOperationTimeout != 20*time.Minute || backends.DefaultCallTimeout != 60*time.Second || backends.DefaultRetryPolicy.MaxAttempts != 8 {
		t.Error("a timeout default changed: update the descriptions of the provider's timeouts attribute and of the resource's timeouts block")
	}
}

// holdEnvLock takes the local store's cross-process lock (as another writer
// would), so every write waits until release.
func holdEnvLock(t *testing.T, env string) (hold, release func()) {
	l := flock.New(env + ".lock")
	var mu sync.Mutex
	held := false
	hold = func() {
		mu.Lock()
		defer mu.Unlock()
		if err := l.Lock(); err != nil {
			t.Fatal(err)
		}
		held = true
	}
	release = func() {
		mu.Lock()
		defer mu.Unlock()
		if held {
			_ = l.Unlock()
			held = false
		}
	}
	t.Cleanup(release)
	return hold, release
}

// timeoutsConfig is the test's resource, with a create and delete timeout of
// 1s, on the local store with the provider's timeouts attribute.
func timeoutsConfig(env, providerTimeouts, value string, version int) string {
	return fmt.Sprintf(`
provider "llmsecret" {
  key_management_settings = {
    access_mode = "read_and_write"
  }
  local = {
    env_file = %[1]q
  }
  %[2]s
}

resource "llmsecret_secret" "test" {
  name             = "OPENAI_API_KEY"
  value_wo         = %[3]q
  value_wo_version = %[4]d
  timeouts {
    create = "1s"
    delete = "1s"
  }
}
`, env, providerTimeouts, value, version)
}

func TestAccSecretResource_timeouts(t *testing.T) {
	env := envFile(t)
	hold, release := holdEnvLock(t, env)
	const v1, v2 = "sk-timeouts-one-0001", "sk-timeouts-two-0002"
	// per_call far above the deadlines, so the deadline is what runs out.
	const slowCalls = `timeouts = { default = "60s", per_call = "30s", max_attempts = 100 }`
	// Destroy uses the timeouts of the state, so delete is set from the
	// first apply on (timeoutsConfig).
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			// Create while another writer holds the file: the create's own
			// deadline runs out, the error names the operation, the secret
			// and the limit, and nothing is written.
			{
				PreConfig:   hold,
				Config:      timeoutsConfig(env, slowCalls, v1, 1),
				ExpectError: regexp.MustCompile(`creating secret \(OPENAI_API_KEY\) in local: timed out after 1s`),
			},
			// The store holds nothing and state has nothing: once the lock
			// is free the same configuration creates the secret.
			{
				PreConfig: func() {
					release()
					if _, ok := storedOK(t, env, "OPENAI_API_KEY"); ok {
						t.Error("the timed-out create left the secret in the store")
					}
				},
				Config: timeoutsConfig(env, slowCalls, v1, 1),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("timeouts").AtMapKey("create"), knownvalue.StringExact("1s")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("timeouts").AtMapKey("update"), knownvalue.Null()),
				},
				Check: checkStored(t, env, "OPENAI_API_KEY", v1),
			},
			// The provider's timeouts.default bounds an update whose block
			// sets no update timeout.
			{
				PreConfig:   hold,
				Config:      timeoutsConfig(env, `timeouts = { default = "1500ms", per_call = "30s", max_attempts = 100 }`, v2, 2),
				ExpectError: regexp.MustCompile(`updating secret \(OPENAI_API_KEY\) in local: timed out after 1.5s`),
			},
			// max_attempts and per_call bound one store call: two attempts
			// of 200ms, then the error says so, well within the default.
			{
				Config:      timeoutsConfig(env, `timeouts = { per_call = "200ms", max_attempts = 2 }`, v2, 2),
				ExpectError: regexp.MustCompile(`(?s)updating secret \(OPENAI_API_KEY\) in local.*gave up after 2\s+attempts.*per-call\s+timeout\s+of\s+200ms`),
			},
			// Destroy under the lock: the delete's deadline runs out and the
			// secret stays, in the store and in state.
			{
				Config:      timeoutsConfig(env, slowCalls, v1, 1),
				Destroy:     true,
				ExpectError: regexp.MustCompile(`deleting secret \(OPENAI_API_KEY\) in local: timed out after 1s`),
			},
			// With the lock free everything resumes; the value written
			// before is still there and state still tracks it.
			{
				PreConfig: release,
				Config:    timeoutsConfig(env, slowCalls, v1, 1),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionNoop)},
				},
				Check: checkStored(t, env, "OPENAI_API_KEY", v1),
			},
		},
	})
}

// storedOK reads fullName from the dotenv file; ok is false when missing.
func storedOK(t *testing.T, path, fullName string) (string, bool) {
	t.Helper()
	sec, err := localStore(t, path).ReadStored(context.Background(), fullName)
	if err != nil {
		return "", false
	}
	return string(sec.Value), true
}

// TestAccSecretResource_readTimeout: a refresh against a store that hangs
// fails after the resource's read timeout, naming the read.
func TestAccSecretResource_readTimeout(t *testing.T) {
	tg := reliability.Start(t, reliability.Custom)
	cfg := fmt.Sprintf(`
provider "llmsecret" {
  %s
  key_management_settings = {
    access_mode = "read_and_write"
  }
  timeouts = {
    per_call = "30s"
  }
}

resource "llmsecret_secret" "test" {
  name             = "REL_READ"
  value_wo         = "sk-read-timeout-0001"
  value_wo_version = 1
  timeouts {
    read = "1s"
  }
}
`, tg.Block)
	tfresource.Test(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []tfresource.TestStep{
			{Config: cfg},
			// The store stops answering reads of the secret.
			{
				PreConfig:   func() { tg.Inject(t, reliability.Read, "REL_READ", reliability.Hang, 1, faultproxy.Forever, false) },
				Config:      cfg,
				ExpectError: regexp.MustCompile(`reading secret \(REL_READ\) in custom: timed out after 1s`),
			},
			{PreConfig: tg.Clear, Config: cfg},
		},
	})
}
