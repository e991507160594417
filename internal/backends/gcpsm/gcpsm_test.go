package gcpsm_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpconfig"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpconfig/grpcfake"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpsm"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpsm/gcpsmtest"
)

// Google Secret Manager-specific tests.

const project = "test-project"

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// newBackend returns a store on srv, closed at the end of the test.
func newBackend(t *testing.T, srv *gcpsmtest.Server, opts gcpsm.Options) backends.Backend {
	t.Helper()
	if opts.ProjectID == "" {
		opts.ProjectID = project
	}
	if opts.Endpoint == "" {
		opts.Endpoint = srv.Endpoint()
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = noEnv
	}
	b, err := gcpsm.New(context.Background(), &opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// waits records the layer's waits between retries instead of sleeping.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) wait(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func newStore(t *testing.T, b backends.Backend, settings backends.Settings, w *waits) *backends.Store {
	t.Helper()
	if settings.AccessMode == "" {
		settings.AccessMode = backends.ReadAndWrite
	}
	o := &backends.StoreOptions{Settings: settings, LookupEnv: noEnv}
	if w != nil {
		o.Wait = w.wait
	}
	s, err := backends.NewStore(b, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sdkClient is a Secret Manager client on srv, for changes behind the
// store's back.
func sdkClient(t *testing.T, srv *gcpsmtest.Server) *secretmanager.Client {
	t.Helper()
	c, err := secretmanager.NewClient(context.Background(), option.WithEndpoint(srv.Endpoint()), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func wantCode(t *testing.T, what string, err error, want backends.Code) {
	t.Helper()
	if got := backends.CodeOf(err); got != want {
		t.Errorf("%s: got code %v, want %v (err: %v)", what, got, want, err)
	}
}

func mustWrite(t *testing.T, s *backends.Store, req backends.WriteRequest) string {
	t.Helper()
	v, err := s.Write(context.Background(), req)
	if err != nil {
		t.Fatalf("Write(%s): %v", req.Name, err)
	}
	return v
}

func secretInfo(t *testing.T, srv *gcpsmtest.Server, name string) gcpsmtest.SecretInfo {
	t.Helper()
	info, ok := srv.Secret(name)
	if !ok {
		t.Fatalf("the fake holds no secret %s (it holds %v)", name, srv.SecretNames())
	}
	return info
}

func TestResolve(t *testing.T) {
	tests := []struct {
		label        string
		opts         gcpsm.Options
		env          map[string]string
		wantParent   string
		wantEndpoint string
		wantErr      []string
	}{
		{label: "Attribute", opts: gcpsm.Options{ProjectID: "attr-project"}, env: map[string]string{gcpsm.EnvProjectID: "env-project"},
			wantParent: "projects/attr-project"},
		{label: "LiteLLMVariable", env: map[string]string{gcpsm.EnvProjectID: "litellm-project", gcpsm.EnvCloudProjectID: "cloud-project"},
			wantParent: "projects/litellm-project"},
		{label: "CloudVariable", env: map[string]string{gcpsm.EnvCloudProjectID: "cloud-project"}, wantParent: "projects/cloud-project"},
		{label: "ProjectNumber", opts: gcpsm.Options{ProjectID: "123456789012"}, wantParent: "projects/123456789012"},
		{label: "DomainScoped", opts: gcpsm.Options{ProjectID: "example.com:my-project"}, wantParent: "projects/example.com:my-project"},
		{label: "Missing", wantErr: []string{"google_secret_manager.project_id is required", gcpsm.EnvProjectID, gcpsm.EnvCloudProjectID}},
		{label: "EmptyVariable", env: map[string]string{gcpsm.EnvProjectID: " "}, wantErr: []string{"project_id is required"}},
		{label: "BadProject", opts: gcpsm.Options{ProjectID: "projects/x"}, wantErr: []string{"google_secret_manager.project_id", "not a Google Cloud project"}},
		{label: "BadProjectFromVariable", env: map[string]string{gcpsm.EnvProjectID: "Bad Project"}, wantErr: []string{"from GOOGLE_SECRET_MANAGER_PROJECT_ID"}},
		{label: "Regional", opts: gcpsm.Options{ProjectID: "p1", Location: "europe-west1"},
			wantParent: "projects/p1/locations/europe-west1", wantEndpoint: "secretmanager.europe-west1.rep.googleapis.com:443"},
		{label: "RegionalWithEndpoint", opts: gcpsm.Options{ProjectID: "p1", Location: "us-east1", Endpoint: "127.0.0.1:9999"},
			wantParent: "projects/p1/locations/us-east1", wantEndpoint: "127.0.0.1:9999"},
		{label: "BadLocation", opts: gcpsm.Options{ProjectID: "p1", Location: "US East"}, wantErr: []string{"google_secret_manager.location"}},
		{label: "BadEndpoint", opts: gcpsm.Options{ProjectID: "p1", Endpoint: "ftp://x"}, wantErr: []string{"google_secret_manager.endpoint"}},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			tc.opts.LookupEnv = env(tc.env)
			r, err := tc.opts.Resolve()
			if len(tc.wantErr) > 0 {
				wantCode(t, "Resolve", err, backends.InvalidArgument)
				for _, w := range tc.wantErr {
					if err != nil && !strings.Contains(err.Error(), w) {
						t.Errorf("Resolve: got message %q, want it to contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if r.Parent != tc.wantParent || r.Endpoint != tc.wantEndpoint {
				t.Errorf("Resolve: got parent %q endpoint %q, want %q %q", r.Parent, r.Endpoint, tc.wantParent, tc.wantEndpoint)
			}
		})
	}
}

// Credentials precedence: the block, then GOOGLE_OAUTH_ACCESS_TOKEN, then
// GOOGLE_CREDENTIALS, then LiteLLM's GCS_PATH_SERVICE_ACCOUNT, then
// Application Default Credentials.
func TestCredentialsPrecedence(t *testing.T) {
	doc, _ := serviceAccountJSON(t)
	path := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "missing.json")
	for _, tc := range []struct {
		label  string
		opts   gcpsm.Options
		env    map[string]string
		source string
	}{
		{"Block", gcpsm.Options{Credentials: path}, map[string]string{"GCS_PATH_SERVICE_ACCOUNT": bad}, "google_secret_manager.credentials"},
		{"BlockToken", gcpsm.Options{AccessToken: "ya29.block"}, map[string]string{"GCS_PATH_SERVICE_ACCOUNT": bad}, "google_secret_manager.access_token"},
		{"TokenVariable", gcpsm.Options{}, map[string]string{"GOOGLE_OAUTH_ACCESS_TOKEN": "ya29.env", "GCS_PATH_SERVICE_ACCOUNT": bad}, "GOOGLE_OAUTH_ACCESS_TOKEN"},
		{"GoogleCredentials", gcpsm.Options{}, map[string]string{"GOOGLE_CREDENTIALS": path, "GCS_PATH_SERVICE_ACCOUNT": bad}, "GOOGLE_CREDENTIALS"},
		{"LiteLLMVariable", gcpsm.Options{}, map[string]string{"GCS_PATH_SERVICE_ACCOUNT": path}, "GCS_PATH_SERVICE_ACCOUNT"},
		{"ADC", gcpsm.Options{}, map[string]string{"GCS_PATH_SERVICE_ACCOUNT": " "}, ""},
	} {
		t.Run(tc.label, func(t *testing.T) {
			tc.opts.ProjectID = project
			tc.opts.LookupEnv = env(tc.env)
			r, err := tc.opts.Resolve()
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if r.Google.Source != tc.source {
				t.Errorf("credentials from %q, want %q (%v)", r.Google.Source, tc.source, r.Google)
			}
			if tc.source == "" && r.Google.Auth != gcpconfig.AuthADC {
				t.Errorf("auth %s, want Application Default Credentials", r.Google.Auth)
			}
		})
	}
	// A broken file named by LiteLLM's variable is an error naming it.
	_, err := (&gcpsm.Options{ProjectID: project, LookupEnv: env(map[string]string{"GCS_PATH_SERVICE_ACCOUNT": bad})}).Resolve()
	if backends.CodeOf(err) != backends.InvalidArgument || !strings.Contains(err.Error(), "from GCS_PATH_SERVICE_ACCOUNT") {
		t.Errorf("Resolve with a missing GCS_PATH_SERVICE_ACCOUNT file: got %v, want InvalidArgument naming the variable", err)
	}
}

func TestValidateName(t *testing.T) {
	b := newBackend(t, gcpsmtest.Start(t), gcpsm.Options{})
	v, ok := b.(backends.NameValidator)
	if !ok {
		t.Fatal("the store does not implement NameValidator")
	}
	for _, name := range []string{"OPENAI_API_KEY", "a", "sk-1_2", strings.Repeat("x", 255)} {
		if err := v.ValidateName(name); err != nil {
			t.Errorf("ValidateName(%q): got %v, want nil", name, err)
		}
	}
	for name, bad := range map[string]string{
		"litellm/key": "/", "a?b=1": "?", "a: b": ":", "a b": " ", "a.b": ".", "ключ": "к", "a=b": "=",
	} {
		err := v.ValidateName(name)
		wantCode(t, fmt.Sprintf("ValidateName(%q)", name), err, backends.InvalidArgument)
		for _, w := range []string{"google_secret_manager", `letters, digits, "_" and "-"`, fmt.Sprintf("%q", bad)} {
			if err != nil && !strings.Contains(err.Error(), w) {
				t.Errorf("ValidateName(%q): got message %q, want it to contain %s", name, err, w)
			}
		}
	}
	err := v.ValidateName(strings.Repeat("x", 256))
	wantCode(t, "ValidateName(256 characters)", err, backends.InvalidArgument)
	if err != nil && !strings.Contains(err.Error(), "at most 255") {
		t.Errorf("ValidateName(256 characters): got %q, want it to name the limit", err)
	}
}

func TestLabelRules(t *testing.T) {
	srv := gcpsmtest.Start(t)
	s := newStore(t, newBackend(t, srv, gcpsm.Options{}), backends.Settings{}, nil)
	ctx := context.Background()
	good := map[string]string{"team": "ml", "owner": "platform-1", "cost_center": "", "é": "ü", strings.Repeat("k", 63): strings.Repeat("v", 63)}
	if err := s.ValidateWrite(backends.WriteRequest{Name: "GOOD", Tags: good}); err != nil {
		t.Errorf("ValidateWrite(good tags): %v", err)
	}
	tooMany := map[string]string{}
	for i := range 65 {
		tooMany[fmt.Sprintf("k%d", i)] = "v"
	}
	bad := []struct {
		label string
		tags  map[string]string
		want  []string
	}{
		{"UppercaseKey", map[string]string{"Team": "ml"}, []string{`tag "Team"`, "start with a lowercase letter"}},
		{"DigitFirst", map[string]string{"1team": "ml"}, []string{`tag "1team"`, "start with a lowercase letter"}},
		{"UppercaseValue", map[string]string{"team": "ML"}, []string{`tag "team"`, "label values", `"M"`}},
		{"Dot", map[string]string{"app.kubernetes.io": "x"}, []string{`tag "app.kubernetes.io"`, "label keys", `"."`}},
		{"Space", map[string]string{"owner": "the team"}, []string{`tag "owner"`, `" "`}},
		{"LongKey", map[string]string{strings.Repeat("k", 64): "v"}, []string{"at most 63 characters"}},
		{"LongValue", map[string]string{"k": strings.Repeat("v", 64)}, []string{`tag "k"`, "at most 63 characters"}},
		{"TooMany", tooMany, []string{"at most 64", "65 tags"}},
	}
	for _, tc := range bad {
		t.Run(tc.label, func(t *testing.T) {
			calls := srv.Calls("")
			req := backends.WriteRequest{Name: "BAD_" + strings.ToUpper(tc.label), Value: []byte("v"), Tags: tc.tags}
			for what, err := range map[string]error{
				"ValidateWrite":  s.ValidateWrite(req),
				"Write":          func() error { _, err := s.Write(ctx, req); return err }(),
				"UpdateMetadata": s.UpdateMetadata(ctx, req.Name, "", tc.tags),
			} {
				wantCode(t, what, err, backends.InvalidArgument)
				for _, w := range append([]string{"google_secret_manager", "labels"}, tc.want...) {
					if err != nil && !strings.Contains(err.Error(), w) {
						t.Errorf("%s: got message %q, want it to contain %q", what, err, w)
					}
				}
			}
			if n := srv.Calls("") - calls; n != 0 {
				t.Errorf("store calls for a write with bad tags: got %d, want 0", n)
			}
		})
	}
	// A bad default tag (key_management_settings.tags) fails every write.
	withDefault := newStore(t, newBackend(t, srv, gcpsm.Options{}), backends.Settings{Tags: map[string]string{"Team": "ml"}}, nil)
	err := withDefault.ValidateWrite(backends.WriteRequest{Name: "ANY"})
	wantCode(t, "ValidateWrite with a bad default tag", err, backends.InvalidArgument)
	// LiteLLM reads no primary secret from Google Secret Manager: refused.
	_, err = backends.NewStore(newBackend(t, srv, gcpsm.Options{}), &backends.StoreOptions{Settings: backends.Settings{PrimarySecretName: "litellm-keys"}, LookupEnv: noEnv})
	wantCode(t, "NewStore(primary_secret_name) on google_secret_manager", err, backends.InvalidArgument)
	// Long descriptions do not fit in an annotation.
	err = s.ValidateWrite(backends.WriteRequest{Name: "D", Description: strings.Repeat("d", 16*1024)})
	wantCode(t, "ValidateWrite(17 KiB description)", err, backends.InvalidArgument)
}

func TestWriteCreatesThenAddsVersions(t *testing.T) {
	ctx := context.Background()
	srv := gcpsmtest.Start(t)
	s := newStore(t, newBackend(t, srv, gcpsm.Options{}), backends.Settings{}, nil)
	const name = "projects/" + project + "/secrets/OPENAI_API_KEY"

	v1 := mustWrite(t, s, backends.WriteRequest{Name: "OPENAI_API_KEY", Value: []byte("sk-one"), Description: "first", Tags: map[string]string{"owner": "platform"}})
	if v1 != "1" {
		t.Errorf("first Write: got version %q, want %q", v1, "1")
	}
	info := secretInfo(t, srv, name)
	if !info.Replicated {
		t.Errorf("a global secret: got no automatic replication")
	}
	if want := map[string]string{"owner": "platform"}; !maps.Equal(info.Labels, want) {
		t.Errorf("labels: got %v, want %v", info.Labels, want)
	}
	if want := map[string]string{"description": "first"}; !maps.Equal(info.Annotations, want) {
		t.Errorf("annotations: got %v, want %v", info.Annotations, want)
	}

	// An annotation set by someone else survives metadata updates.
	c := sdkClient(t, srv)
	cur, err := c.GetSecret(ctx, &secretmanagerpb.GetSecretRequest{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	cur.Annotations["other.example.com/keep"] = "yes"
	if _, err := c.UpdateSecret(ctx, &secretmanagerpb.UpdateSecretRequest{Secret: cur, UpdateMask: fieldMask("annotations")}); err != nil {
		t.Fatal(err)
	}

	v2 := mustWrite(t, s, backends.WriteRequest{Name: "OPENAI_API_KEY", Value: []byte("sk-two"), Tags: map[string]string{"owner": "security", "team": "ml"}})
	if v2 != "2" {
		t.Errorf("second Write: got version %q, want %q", v2, "2")
	}
	info = secretInfo(t, srv, name)
	if len(info.Versions) != 2 || info.Latest().State != gcpsmtest.Enabled || string(info.Latest().Data) != "sk-two" {
		t.Errorf("versions after two writes: got %+v, want 2 with the latest ENABLED", info.Versions)
	}
	if want := map[string]string{"owner": "security", "team": "ml"}; !maps.Equal(info.Labels, want) {
		t.Errorf("labels after the second write: got %v, want %v", info.Labels, want)
	}
	if want := map[string]string{"other.example.com/keep": "yes"}; !maps.Equal(info.Annotations, want) {
		t.Errorf("annotations after a write without description: got %v, want %v", info.Annotations, want)
	}
	sec, err := s.ReadStored(ctx, "OPENAI_API_KEY")
	if err != nil {
		t.Fatal(err)
	}
	if string(sec.Value) != "sk-two" || sec.Version != "2" || sec.Tags["team"] != "ml" || sec.Description != "" {
		t.Errorf("Find: got %v tags %v description %q, want sk-two at version 2", sec, sec.Tags, sec.Description)
	}
}

func TestUpdateMetadata(t *testing.T) {
	ctx := context.Background()
	srv := gcpsmtest.Start(t)
	s := newStore(t, newBackend(t, srv, gcpsm.Options{}), backends.Settings{}, nil)
	const name = "projects/" + project + "/secrets/META"
	mustWrite(t, s, backends.WriteRequest{Name: "META", Value: []byte("v"), Description: "d1", Tags: map[string]string{"a": "1"}})

	if err := s.UpdateMetadata(ctx, "META", "d2", map[string]string{"b": "2"}); err != nil {
		t.Fatalf("UpdateMetadata: %v", err)
	}
	info := secretInfo(t, srv, name)
	if !maps.Equal(info.Labels, map[string]string{"b": "2"}) || info.Annotations["description"] != "d2" || len(info.Versions) != 1 {
		t.Errorf("after UpdateMetadata: got labels %v annotations %v versions %d, want b=2, d2, 1 version", info.Labels, info.Annotations, len(info.Versions))
	}
	updates := srv.Calls("UpdateSecret")
	if err := s.UpdateMetadata(ctx, "META", "d2", map[string]string{"b": "2"}); err != nil {
		t.Fatalf("UpdateMetadata (no change): %v", err)
	}
	if n := srv.Calls("UpdateSecret") - updates; n != 0 {
		t.Errorf("UpdateSecret calls for unchanged metadata: got %d, want 0", n)
	}
	err := s.UpdateMetadata(ctx, "MISSING", "d", nil)
	wantCode(t, "UpdateMetadata(missing)", err, backends.NotFound)
}

func TestRegionalSecrets(t *testing.T) {
	ctx := context.Background()
	srv := gcpsmtest.Start(t)
	s := newStore(t, newBackend(t, srv, gcpsm.Options{Location: "us-east1"}), backends.Settings{}, nil)
	mustWrite(t, s, backends.WriteRequest{Name: "REGIONAL", Value: []byte("sk-regional")})
	info := secretInfo(t, srv, "projects/"+project+"/locations/us-east1/secrets/REGIONAL")
	if info.Replicated {
		t.Errorf("a regional secret: got automatic replication, want none")
	}
	sec, err := s.ReadStored(ctx, "REGIONAL")
	if err != nil || string(sec.Value) != "sk-regional" {
		t.Errorf("ReadStored(REGIONAL): got %v, %v", sec, err)
	}
	// A global store does not see it.
	_, err = newStore(t, newBackend(t, srv, gcpsm.Options{}), backends.Settings{}, nil).ReadStored(ctx, "REGIONAL")
	wantCode(t, "Find of a regional secret from a global store", err, backends.NotFound)
}

func TestSoftDeleteDisablesLatest(t *testing.T) {
	ctx := context.Background()
	srv := gcpsmtest.Start(t)
	b := newBackend(t, srv, gcpsm.Options{})
	s := newStore(t, b, backends.Settings{}, nil)
	const name = "projects/" + project + "/secrets/SOFT"
	mustWrite(t, s, backends.WriteRequest{Name: "SOFT", Value: []byte("v1")})
	mustWrite(t, s, backends.WriteRequest{Name: "SOFT", Value: []byte("v2")})

	if err := s.Delete(ctx, "SOFT", backends.DeleteSoft); err != nil {
		t.Fatalf("Delete(DeleteSoft): %v", err)
	}
	info := secretInfo(t, srv, name)
	if got := []string{info.Versions[0].State, info.Versions[1].State}; got[0] != gcpsmtest.Enabled || got[1] != gcpsmtest.Disabled {
		t.Errorf("version states after soft delete: got %v, want [ENABLED DISABLED]", got)
	}
	sec, err := b.Get(ctx, "SOFT")
	if err != nil || !sec.Deleted {
		t.Errorf("backend Get after soft delete: got %v, %v; want Deleted", sec, err)
	}
	_, err = s.ReadStored(ctx, "SOFT")
	wantCode(t, "Find after soft delete", err, backends.NotFound)
	// Soft-deleting again changes nothing.
	if err := b.Delete(ctx, "SOFT", backends.DeleteSoft); err != nil {
		t.Errorf("second soft delete: %v", err)
	}
	// A write recreates it: a new enabled version.
	if v := mustWrite(t, s, backends.WriteRequest{Name: "SOFT", Value: []byte("v3")}); v != "3" {
		t.Errorf("Write after soft delete: got version %q, want 3", v)
	}
	sec, err = s.ReadStored(ctx, "SOFT")
	if err != nil || string(sec.Value) != "v3" {
		t.Errorf("Find after recreate: got %v, %v", sec, err)
	}
	if err := s.Delete(ctx, "SOFT", backends.DeleteForever); err != nil {
		t.Fatalf("Delete(DeleteForever): %v", err)
	}
	if _, ok := srv.Secret(name); ok {
		t.Errorf("the secret is still in the fake after DeleteForever")
	}
}

func TestUnreadableLatest(t *testing.T) {
	ctx := context.Background()
	srv := gcpsmtest.Start(t)
	b := newBackend(t, srv, gcpsm.Options{})
	s := newStore(t, b, backends.Settings{}, nil)
	const name = "projects/" + project + "/secrets/GONE"
	mustWrite(t, s, backends.WriteRequest{Name: "GONE", Value: []byte("v1")})
	if err := srv.SetLatestState(name, gcpsmtest.Destroyed); err != nil {
		t.Fatal(err)
	}
	_, err := b.Get(ctx, "GONE")
	wantCode(t, "Get of a secret whose latest version is destroyed", err, backends.NotFound)
	if err != nil && !strings.Contains(err.Error(), "destroyed") {
		t.Errorf("Get of a destroyed latest version: got %q, want it to say destroyed", err)
	}
	// A secret without versions (created by someone else) is missing.
	c := sdkClient(t, srv)
	_, err = c.CreateSecret(ctx, &secretmanagerpb.CreateSecretRequest{Parent: "projects/" + project, SecretId: "EMPTY",
		Secret: &secretmanagerpb.Secret{Replication: &secretmanagerpb.Replication{Replication: &secretmanagerpb.Replication_Automatic_{Automatic: &secretmanagerpb.Replication_Automatic{}}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.ReadAsGateway(ctx, "EMPTY", "EMPTY")
	wantCode(t, "Lookup of a secret without versions", err, backends.NotFound)
	if err != nil && !strings.Contains(err.Error(), "EMPTY") {
		t.Errorf("Lookup of a secret without versions: got %q, want it to name the secret", err)
	}
	// Writing it adds version 1.
	if v := mustWrite(t, s, backends.WriteRequest{Name: "EMPTY", Value: []byte("now")}); v != "1" {
		t.Errorf("Write to a secret without versions: got version %q, want 1", v)
	}
}

func TestGetWithoutMetadataPermission(t *testing.T) {
	srv := gcpsmtest.Start(t)
	b := newBackend(t, srv, gcpsm.Options{})
	mustWrite(t, newStore(t, b, backends.Settings{}, nil), backends.WriteRequest{Name: "ACCESSOR", Value: []byte("v"), Tags: map[string]string{"a": "b"}})
	// The Secret Accessor role can access versions but not get the secret.
	srv.FailNext("GetSecret", 1, codes.PermissionDenied, 0)
	sec, err := b.Get(context.Background(), "ACCESSOR")
	if err != nil || string(sec.Value) != "v" {
		t.Errorf("Get without secretmanager.secrets.get: got %v, %v; want the value", sec, err)
	}
}

func TestErrorCodes(t *testing.T) {
	srv := gcpsmtest.Start(t)
	b := newBackend(t, srv, gcpsm.Options{})
	for gc, want := range map[codes.Code]backends.Code{
		codes.NotFound:           backends.NotFound,
		codes.AlreadyExists:      backends.AlreadyExists,
		codes.PermissionDenied:   backends.PermissionDenied,
		codes.Unauthenticated:    backends.PermissionDenied,
		codes.ResourceExhausted:  backends.Throttled,
		codes.Unavailable:        backends.Unavailable,
		codes.Aborted:            backends.Unavailable,
		codes.FailedPrecondition: backends.FailedPrecondition,
		codes.InvalidArgument:    backends.InvalidArgument,
		codes.OutOfRange:         backends.InvalidArgument,
		codes.DeadlineExceeded:   backends.DeadlineExceeded,
		codes.Canceled:           backends.Canceled,
		codes.Unimplemented:      backends.Unsupported,
		codes.Internal:           backends.Internal,
		codes.DataLoss:           backends.Internal,
		codes.Unknown:            backends.Unknown,
	} {
		// Health is one call, and the SDK's retries are off: exactly one
		// call reaches the fake, whatever the code.
		calls := srv.Calls("ListSecrets")
		srv.FailNext("ListSecrets", 1, gc, 0)
		err := b.Health(context.Background())
		if got := b.ErrorCode(err); got != want {
			t.Errorf("ErrorCode(%v): got %v, want %v (err: %v)", gc, got, want, err)
		}
		if n := srv.Calls("ListSecrets") - calls; n != 1 {
			t.Errorf("calls for one Health with %v: got %d, want 1 (SDK retries must be off)", gc, n)
		}
	}
	if got := b.ErrorCode(errors.New("credentials: could not find default credentials")); got != backends.Unknown {
		t.Errorf("ErrorCode(non-gRPC error): got %v, want Unknown", got)
	}
}

func TestSDKRetriesOff(t *testing.T) {
	srv := gcpsmtest.Start(t)
	b := newBackend(t, srv, gcpsm.Options{})
	mustWrite(t, newStore(t, b, backends.Settings{}, nil), backends.WriteRequest{Name: "NORETRY", Value: []byte("v")})
	// AccessSecretVersion is the one method the SDK retries by default.
	for _, gc := range []codes.Code{codes.Unavailable, codes.ResourceExhausted} {
		calls := srv.Calls("AccessSecretVersion")
		srv.FailNext("AccessSecretVersion", 1, gc, 0)
		_, err := b.Get(context.Background(), "NORETRY")
		if err == nil {
			t.Errorf("Get with one %v: got nil error, want the %v (the layer retries, not the SDK)", gc, gc)
		}
		if n := srv.Calls("AccessSecretVersion") - calls; n != 1 {
			t.Errorf("AccessSecretVersion calls with one %v: got %d, want 1", gc, n)
		}
	}
}

func TestLayerRetries(t *testing.T) {
	ctx := context.Background()
	srv := gcpsmtest.Start(t)
	w := &waits{}
	s := newStore(t, newBackend(t, srv, gcpsm.Options{}), backends.Settings{}, w)

	// Throttled with a RetryInfo delay: the layer waits at least that long.
	srv.FailNext("", 2, codes.ResourceExhausted, 3*time.Second)
	if _, err := s.Write(ctx, backends.WriteRequest{Name: "RETRIED", Value: []byte("v")}); err != nil {
		t.Fatalf("Write after two RESOURCE_EXHAUSTED: %v", err)
	}
	if len(w.d) != 2 || w.d[0] < 3*time.Second || w.d[1] < 3*time.Second {
		t.Errorf("waits for two RESOURCE_EXHAUSTED with RetryInfo 3s: got %v, want two of at least 3s", w.d)
	}
	if n := srv.Calls("CreateSecret"); n != 3 {
		t.Errorf("CreateSecret calls: got %d, want 3 (two refused, one applied)", n)
	}
	// Unavailable in the middle of a write (after the create): retried, and
	// the secret ends up with one value, under one name.
	srv.FailNext("AddSecretVersion", 1, codes.Unavailable, 0)
	v, err := s.Write(ctx, backends.WriteRequest{Name: "RETRIED", Value: []byte("v2")})
	if err != nil {
		t.Fatalf("Write after UNAVAILABLE: %v", err)
	}
	sec, err := s.ReadStored(ctx, "RETRIED")
	if err != nil || string(sec.Value) != "v2" || sec.Version != v {
		t.Errorf("Find after a retried write: got %v, %v; want v2 at version %s", sec, err, v)
	}
	// Lookups are retried too.
	srv.FailNext("AccessSecretVersion", 3, codes.Unavailable, 0)
	if _, err := s.ReadAsGateway(ctx, "RETRIED", "RETRIED"); err != nil {
		t.Errorf("Lookup after three UNAVAILABLE: %v", err)
	}
	// Errors that are not transient are not retried.
	calls := srv.Calls("AccessSecretVersion")
	srv.FailNext("AccessSecretVersion", 1, codes.PermissionDenied, 0)
	_, err = s.ReadAsGateway(ctx, "RETRIED", "RETRIED")
	wantCode(t, "Lookup with PERMISSION_DENIED", err, backends.PermissionDenied)
	if n := srv.Calls("AccessSecretVersion") - calls; n != 1 {
		t.Errorf("calls for a PERMISSION_DENIED read: got %d, want 1", n)
	}
	// A payload over 64 KiB is refused by the service, once.
	calls = srv.Calls("AddSecretVersion")
	_, err = s.Write(ctx, backends.WriteRequest{Name: "BIG", Value: make([]byte, 64*1024+1)})
	wantCode(t, "Write of 64 KiB + 1", err, backends.InvalidArgument)
	if n := srv.Calls("AddSecretVersion") - calls; n != 1 {
		t.Errorf("AddSecretVersion calls for a payload too large: got %d, want 1", n)
	}
}

func TestLookupManyConcurrent(t *testing.T) {
	ctx := context.Background()
	srv := gcpsmtest.Start(t)
	s := newStore(t, newBackend(t, srv, gcpsm.Options{}), backends.Settings{}, nil)
	var names []string
	for i := range 40 {
		n := fmt.Sprintf("MANY_%02d", i)
		names = append(names, n)
		mustWrite(t, s, backends.WriteRequest{Name: n, Value: []byte("value-" + n)})
	}
	got, err := s.ReadManyAsGateway(ctx, names, names)
	if err != nil {
		t.Fatalf("ReadManyAsGateway: %v", err)
	}
	for _, n := range names {
		if sec, ok := got[n]; !ok || string(sec.Value) != "value-"+n {
			t.Errorf("ReadManyAsGateway[%s]: got %v", n, sec)
		}
	}
}

func TestHealth(t *testing.T) {
	srv := gcpsmtest.Start(t)
	b := newBackend(t, srv, gcpsm.Options{})
	if err := b.Health(context.Background()); err != nil {
		t.Errorf("Health: %v", err)
	}
	if err := newBackend(t, srv, gcpsm.Options{Location: "us-east1"}).Health(context.Background()); err != nil {
		t.Errorf("Health of a regional store: %v", err)
	}
}

// TestAccessTokenOverTLS exercises the path real users take: TLS and an
// OAuth2 access token on every call.
func TestAccessTokenOverTLS(t *testing.T) {
	ctx := context.Background()
	creds, pool := grpcfake.SelfSignedTLS(t)
	srv := gcpsmtest.Start(t, grpc.Creds(creds))
	srv.RequireAuth(func(got string) error {
		if got != "Bearer ya29.test-token" {
			return errors.New("wrong token")
		}
		return nil
	})
	tlsDial := grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	b := newBackend(t, srv, gcpsm.Options{Endpoint: "https://" + srv.Endpoint(), AccessToken: "ya29.test-token", DialOptions: []grpc.DialOption{tlsDial}})
	s := newStore(t, b, backends.Settings{}, nil)
	mustWrite(t, s, backends.WriteRequest{Name: "TLS_KEY", Value: []byte("over-tls")})
	sec, err := s.ReadStored(ctx, "TLS_KEY")
	if err != nil || string(sec.Value) != "over-tls" {
		t.Errorf("Find over TLS: got %v, %v", sec, err)
	}
	// The token comes from GOOGLE_OAUTH_ACCESS_TOKEN when the block has none.
	b = newBackend(t, srv, gcpsm.Options{Endpoint: "https://" + srv.Endpoint(), DialOptions: []grpc.DialOption{tlsDial},
		LookupEnv: env(map[string]string{"GOOGLE_OAUTH_ACCESS_TOKEN": "ya29.test-token"})})
	if err := b.Health(ctx); err != nil {
		t.Errorf("Health with GOOGLE_OAUTH_ACCESS_TOKEN: %v", err)
	}
	// A wrong token is refused, and not retried.
	b = newBackend(t, srv, gcpsm.Options{Endpoint: "https://" + srv.Endpoint(), AccessToken: "ya29.wrong", DialOptions: []grpc.DialOption{tlsDial}})
	_, err = newStore(t, b, backends.Settings{}, nil).ReadStored(ctx, "TLS_KEY")
	wantCode(t, "Find with a wrong token", err, backends.PermissionDenied)
	if err != nil && strings.Contains(err.Error(), "ya29.wrong") {
		t.Errorf("Find with a wrong token: the error quotes the token: %q", err)
	}
}

func fieldMask(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }

// serviceAccountJSON returns a service account key document for a fresh RSA
// key, whose token_uri is on the loopback interface so nothing can leave the
// machine, and a check of the self-signed JWT the SDK sends with it.
func serviceAccountJSON(t *testing.T) (string, func(authorization string) error) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	const email = "llmsecret-test@test-project.iam.gserviceaccount.com"
	doc, err := json.Marshal(map[string]string{
		"type": "service_account", "project_id": project, "private_key_id": "key-1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": email, "client_id": "1", "token_uri": "https://127.0.0.1:1/token",
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(authorization string) error {
		jwt, ok := strings.CutPrefix(authorization, "Bearer ")
		parts := strings.Split(jwt, ".")
		if !ok || len(parts) != 3 {
			return errors.New("not a bearer JWT")
		}
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil {
			return err
		}
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
			return fmt.Errorf("JWT signature: %w", err)
		}
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			return err
		}
		var claims struct {
			Iss string `json:"iss"`
		}
		if err := json.Unmarshal(payload, &claims); err != nil || claims.Iss != email {
			return fmt.Errorf("JWT issuer: got %q, want %q", claims.Iss, email)
		}
		return nil
	}
	return string(doc), check
}

// TestServiceAccountCredentials signs calls with a service account key given
// as content or as a file path (self-signed JWTs: no token exchange).
func TestServiceAccountCredentials(t *testing.T) {
	ctx := context.Background()
	creds, pool := grpcfake.SelfSignedTLS(t)
	srv := gcpsmtest.Start(t, grpc.Creds(creds))
	doc, check := serviceAccountJSON(t)
	srv.RequireAuth(check)
	tlsDial := grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	path := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	for label, opts := range map[string]gcpsm.Options{
		"Content":            {Credentials: doc},
		"FilePath":           {Credentials: path},
		"GOOGLE_CREDENTIALS": {LookupEnv: env(map[string]string{"GOOGLE_CREDENTIALS": path})},
		// LiteLLM's variable: the path of a service account JSON file.
		"GCS_PATH_SERVICE_ACCOUNT": {LookupEnv: env(map[string]string{"GCS_PATH_SERVICE_ACCOUNT": path})},
	} {
		t.Run(label, func(t *testing.T) {
			// A loopback host:port would be plain text: https:// forces TLS.
			opts.Endpoint = "https://" + srv.Endpoint()
			opts.DialOptions = []grpc.DialOption{tlsDial}
			s := newStore(t, newBackend(t, srv, opts), backends.Settings{}, nil)
			mustWrite(t, s, backends.WriteRequest{Name: "SA_" + strings.ToUpper(strings.ReplaceAll(label, "_", "")), Value: []byte("signed")})
		})
	}
	// Without credentials the fake refuses the call.
	srv.RequireAuth(func(string) error { return errors.New("no") })
	b := newBackend(t, srv, gcpsm.Options{Endpoint: "https://" + srv.Endpoint(), Credentials: doc, DialOptions: []grpc.DialOption{tlsDial}})
	if got := b.ErrorCode(b.Health(ctx)); got != backends.PermissionDenied {
		t.Errorf("Health refused by the server: got code %v, want PermissionDenied", got)
	}
}

// TestSDKNeverLogs: with the SDK's own logging turned on, nothing reaches
// stderr, so no value can leak through it.
func TestSDKNeverLogs(t *testing.T) {
	t.Setenv("GOOGLE_SDK_GO_LOGGING_LEVEL", "debug")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	srv := gcpsmtest.Start(t)
	b, err := gcpsm.New(context.Background(), &gcpsm.Options{ProjectID: project, Endpoint: srv.Endpoint(), LookupEnv: noEnv})
	if err == nil {
		s := newStore(t, b, backends.Settings{}, nil)
		mustWrite(t, s, backends.WriteRequest{Name: "LOGGED", Value: []byte("sk-SECRET-never-logged")})
		_, err = s.ReadStored(context.Background(), "LOGGED")
		_ = b.Close()
	}
	os.Stderr = stderr
	_ = w.Close()
	out, _ := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) > 0 {
		t.Errorf("the SDK wrote %d bytes to stderr with GOOGLE_SDK_GO_LOGGING_LEVEL=debug (value present: %t)", len(out), bytes.Contains(out, []byte("sk-SECRET")))
	}
}

// A write whose first version fails leaves no empty secret: the secret the
// write created is removed again. A secret that existed before the write
// (ours with versions, or someone else's without any) is never removed.
func TestFailedFirstVersionLeavesNoEmptySecret(t *testing.T) {
	ctx := context.Background()
	srv := gcpsmtest.Start(t)
	b := newBackend(t, srv, gcpsm.Options{})
	full := func(id string) string { return "projects/" + project + "/secrets/" + id }

	// Created by this write, first version refused: removed.
	srv.FailNext("AddSecretVersion", 1, codes.PermissionDenied, 0)
	_, err := b.Put(ctx, backends.WriteRequest{Name: "NEW_KEY", Value: []byte("sk-new")})
	if gcpconfig.Code(err) != backends.PermissionDenied {
		t.Fatalf("Put with AddSecretVersion refused: got %v, want PERMISSION_DENIED", err)
	}
	if _, ok := srv.Secret(full("NEW_KEY")); ok {
		t.Errorf("after a failed first version the store holds an empty secret NEW_KEY; want none")
	}

	// A payload the service refuses (over 64 KiB): nothing left either.
	_, err = b.Put(ctx, backends.WriteRequest{Name: "BIG", Value: make([]byte, 64*1024+1)})
	if gcpconfig.Code(err) != backends.InvalidArgument {
		t.Fatalf("Put of 64 KiB + 1: got %v, want INVALID_ARGUMENT", err)
	}
	if _, ok := srv.Secret(full("BIG")); ok {
		t.Errorf("after a refused payload the store holds an empty secret BIG; want none")
	}

	// Ours already, with a version: a failed second version keeps it.
	if _, err := b.Put(ctx, backends.WriteRequest{Name: "KEPT", Value: []byte("sk-one")}); err != nil {
		t.Fatal(err)
	}
	srv.FailNext("AddSecretVersion", 1, codes.PermissionDenied, 0)
	if _, err := b.Put(ctx, backends.WriteRequest{Name: "KEPT", Value: []byte("sk-two")}); err == nil {
		t.Fatal("Put with AddSecretVersion refused: got no error")
	}
	if info := secretInfo(t, srv, full("KEPT")); len(info.Versions) != 1 || string(info.Latest().Data) != "sk-one" {
		t.Errorf("KEPT after a failed second version: got %+v, want its one version sk-one", info.Versions)
	}

	// Someone else's, created without a version: never removed by us.
	c := sdkClient(t, srv)
	if _, err := c.CreateSecret(ctx, &secretmanagerpb.CreateSecretRequest{
		Parent: "projects/" + project, SecretId: "FOREIGN",
		Secret: &secretmanagerpb.Secret{Replication: &secretmanagerpb.Replication{
			Replication: &secretmanagerpb.Replication_Automatic_{Automatic: &secretmanagerpb.Replication_Automatic{}}}},
	}); err != nil {
		t.Fatal(err)
	}
	srv.FailNext("AddSecretVersion", 1, codes.PermissionDenied, 0)
	if _, err := b.Put(ctx, backends.WriteRequest{Name: "FOREIGN", Value: []byte("sk-x")}); err == nil {
		t.Fatal("Put with AddSecretVersion refused: got no error")
	}
	secretInfo(t, srv, full("FOREIGN"))

	// Through the layer: a transient failure of the first version is
	// retried, and the retry leaves one secret with one version.
	s := newStore(t, b, backends.Settings{}, &waits{})
	srv.FailNext("AddSecretVersion", 1, codes.Unavailable, 0)
	v := mustWrite(t, s, backends.WriteRequest{Name: "RETRIED_FIRST", Value: []byte("sk-r")})
	if info := secretInfo(t, srv, full("RETRIED_FIRST")); len(info.Versions) != 1 || string(info.Latest().Data) != "sk-r" || v != "1" {
		t.Errorf("after a retried first version: got version %q, versions %+v; want one version sk-r", v, info.Versions)
	}
}
