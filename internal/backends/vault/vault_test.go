package vault_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault/vaulttest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/backendtest"
)

// harness makes backends with options from opts.
type harness struct {
	opts func() *vault.Options
}

func (h *harness) MakeBackend(ctx context.Context, _ *testing.T) (backends.Backend, error) {
	return vault.New(ctx, h.opts())
}

func (h *harness) Close() {}

// newHarness: token auth (the root token) over plain HTTP.
func newHarness(_ context.Context, t *testing.T) (backendtest.Harness, error) {
	s := plainServer(t)
	return &harness{opts: func() *vault.Options { return tokenOptions(s) }}, nil
}

// The AppRole and certificate roles are made once per shared server.
var (
	appRoleOnce        sync.Once
	appRoleID, appRSID string
	certOnce           sync.Once
	certLogin          vaulttest.CertLogin
)

// newAppRoleHarness: AppRole login with a KV policy, over plain HTTP.
func newAppRoleHarness(_ context.Context, t *testing.T) (backendtest.Harness, error) {
	s := plainServer(t)
	appRoleOnce.Do(func() {
		s.WritePolicy(t, "kv-rw", kvPolicy)
		appRoleID, appRSID = s.EnableAppRole(t, "kv-rw")
	})
	if appRoleID == "" {
		t.Fatal("the AppRole role could not be created (see the first test that tried)")
	}
	return &harness{opts: func() *vault.Options {
		return &vault.Options{Address: s.Addr, AppRole: vault.AppRoleOptions{RoleID: appRoleID, SecretID: appRSID}, LookupEnv: noEnv}
	}}, nil
}

// newCertHarness: TLS certificate login with a KV policy, over HTTPS.
func newCertHarness(_ context.Context, t *testing.T) (backendtest.Harness, error) {
	s := tlsServer(t)
	certOnce.Do(func() {
		s.WritePolicy(t, "kv-rw", kvPolicy)
		certLogin = s.EnableCert(t, "kv-rw")
	})
	if certLogin.Role == "" {
		t.Fatal("the cert auth role could not be created (see the first test that tried)")
	}
	return &harness{opts: func() *vault.Options {
		return &vault.Options{Address: s.Addr, TLS: vault.TLSOptions{
			CACertFile: s.CACertFile, ClientCertFile: certLogin.CertFile, ClientKeyFile: certLogin.KeyFile, CertRole: certLogin.Role,
		}, LookupEnv: noEnv}
	}}, nil
}

func TestConformance(t *testing.T) { backendtest.RunConformanceTests(t, newHarness) }

func TestConformanceAppRole(t *testing.T) { backendtest.RunConformanceTests(t, newAppRoleHarness) }

func TestConformanceCert(t *testing.T) { backendtest.RunConformanceTests(t, newCertHarness) }

// Vault-specific tests.

func TestKindCaps(t *testing.T) {
	b := newBackend(t, &vault.Options{Token: "t"})
	if got := b.Kind(); got != "hashicorp_vault" {
		t.Errorf("Kind: got %q, want %q", got, "hashicorp_vault")
	}
	want := backends.Caps{Write: true, Delete: true, SoftDelete: true, Metadata: true, ImmediateDelete: true}
	if got := b.Caps(); got != want {
		t.Errorf("Caps: got %+v, want %+v", got, want)
	}
	if _, ok := b.(backends.MetadataUpdater); !ok {
		t.Errorf("the backend does not implement backends.MetadataUpdater")
	}
}

func TestNewMakesNoRequest(t *testing.T) {
	rec := &recorder{}
	b := newBackend(t, &vault.Options{Address: "http://127.0.0.1:1", AppRole: vault.AppRoleOptions{RoleID: "r", SecretID: "s"}, WrapTransport: rec.wrap})
	if err := b.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if got := rec.paths(); len(got) != 0 {
		t.Errorf("requests by New and Close before any use: got %v, want none (logins are lazy)", got)
	}
}

// TestNameRules: besides Vault's own KV path rules, names LiteLLM's reader
// cannot address are refused: it puts the name into its request URL
// unescaped, so "?", "#" and "%" change the URL, and it refuses control
// characters and ".." segments itself. White space at either end is refused
// too. Every other name is escaped by this store and lands at the KV path it
// spells.
func TestNameRules(t *testing.T) {
	s := plainServer(t)
	b := newBackend(t, tokenOptions(s))
	store := newStore(t, b, 1)
	nv, ok := b.(backends.NameValidator)
	if !ok {
		t.Fatal("the vault backend is not a backends.NameValidator")
	}
	for name, rule := range map[string]string{
		"/a": "start or end", "a/": "start or end", "/": "start or end", "a//b": "//", "./a": `"."`, "a/./b": `"."`, "a/.": `"."`, ".": `"."`,
		strings.Repeat("n", 513): "at most 512 bytes",
		"a?b=1":                  `"?" starts the URL's query string`,
		"a#frag":                 `"#" starts the URL's fragment`,
		"a%2Fb":                  `"%" starts a percent-escape`,
		"100%":                   `"%"`,
		" OPENAI_API_KEY":        "white space at its start or end",
		"OPENAI_API_KEY ":        "white space at its start or end",
		"OPENAI_API_KEY\u00a0":   "white space at its start or end",
	} {
		// The store's own validator, as the layer calls it at plan.
		err := nv.ValidateName(name)
		what := fmt.Sprintf("ValidateName(%.40q)", name)
		wantCode(t, what, err, backends.InvalidArgument)
		wantContains(t, what, err, "hashicorp_vault", rule)
		if len(name) < 100 {
			wantContains(t, what, err, backends.QuoteName(name))
		}
		wantCode(t, "Store."+what, store.ValidateName(name), backends.InvalidArgument)
	}
	// LiteLLM's raise_if_unsafe_secret_name rules, checked by the store's
	// validator itself.
	for _, name := range []string{"a\x00b", "a\tb", "a\x7fb", "a\u0085b", "a\u2028b", "a\u2029b", "..", "a/../b"} {
		wantCode(t, fmt.Sprintf("ValidateName(%q)", name), nv.ValidateName(name), backends.InvalidArgument)
	}
	base := uniq(t, "n")
	for _, name := range []string{
		base + "-a: b", base + "-a+b;c", base + "/nested/ключ 🔑", base + "-a&b=c", base + "-[x]|^",
		base + "-a..", "..a-" + base, strings.Repeat("x", 512-len(base)-1) + "-" + base,
	} {
		if err := store.ValidateName(name); err != nil {
			t.Errorf("ValidateName(%q): %v", name, err)
			continue
		}
		v, err := store.Write(context.Background(), backends.WriteRequest{Name: name, Value: []byte("value of " + name)})
		if err != nil {
			t.Errorf("Write(%q): %v", name, err)
			continue
		}
		if ver, data := s.KVVersion(t, name); fmt.Sprint(ver) != v || data["key"] != "value of "+name {
			t.Errorf("secret/data/%s read with the root token: got version %d data %v, want version %s and key %q", name, ver, data, v, "value of "+name)
		}
		if err := store.Delete(context.Background(), name, backends.DeleteForever); err != nil {
			t.Errorf("Delete(%q): %v", name, err)
		}
	}
}

// TestWriteKeepsDataFields: a write replaces the value (data_key) and keeps
// every other field of the current version's data, e.g. the description
// LiteLLM's async_write_secret stores there; our description goes to that
// same field (and to custom_metadata). A field we wrote is dropped when the
// description is removed; a foreign one stays.
func TestWriteKeepsDataFields(t *testing.T) {
	s := plainServer(t)
	kv := s.Client(t).KVv2("secret")
	store := newStore(t, newBackend(t, tokenOptions(s)), 1)
	ctx := context.Background()
	name := uniq(t, "fields")
	// As LiteLLM writes: {"key": value, "description": description}, plus a
	// field another tool added.
	if _, err := kv.Put(ctx, name, map[string]any{"key": "litellm-value", "description": "written by LiteLLM", "rotation": map[string]any{"days": 30}}); err != nil {
		t.Fatal(err)
	}
	data := func(wantVersion int) map[string]any {
		t.Helper()
		ver, d := s.KVVersion(t, name)
		if ver != wantVersion {
			t.Fatalf("version: got %d, want %d", ver, wantVersion)
		}
		return d
	}
	if _, err := store.Write(ctx, backends.WriteRequest{Name: name, Value: []byte("ours-1")}); err != nil {
		t.Fatal(err)
	}
	if d := data(2); d["key"] != "ours-1" || d["description"] != "written by LiteLLM" || fmt.Sprint(d["rotation"]) != "map[days:30]" || len(d) != 3 {
		t.Errorf("after a write without description: got data %v, want the new key and LiteLLM's description and rotation kept", d)
	}
	if _, err := store.Write(ctx, backends.WriteRequest{Name: name, Value: []byte("ours-2"), Description: "managed by terraform"}); err != nil {
		t.Fatal(err)
	}
	if d := data(3); d["key"] != "ours-2" || d["description"] != "managed by terraform" || len(d) != 3 {
		t.Errorf("after a write with a description: got data %v, want our description in the data field LiteLLM uses", d)
	}
	if meta, err := kv.GetMetadata(ctx, name); err != nil || meta.CustomMetadata["description"] != "managed by terraform" {
		t.Errorf("custom_metadata: got %v, %v; want our description there too", meta, err)
	}
	if _, err := store.Write(ctx, backends.WriteRequest{Name: name, Value: []byte("ours-3")}); err != nil {
		t.Fatal(err)
	}
	if d := data(4); d["key"] != "ours-3" || d["description"] != nil || len(d) != 2 {
		t.Errorf("after removing our description: got data %v, want it gone and rotation kept", d)
	}
	sec, err := store.ReadStored(ctx, name)
	if err != nil || string(sec.Value) != "ours-3" || sec.Description != "" {
		t.Errorf("Find: got %v, %v; want the value ours-3 and no description", sec, err)
	}
	// A soft-deleted current version has no fields to keep.
	if err := store.Delete(ctx, name, backends.DeleteSoft); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Write(ctx, backends.WriteRequest{Name: name, Value: []byte("fresh")}); err != nil {
		t.Fatal(err)
	}
	if d := data(5); d["key"] != "fresh" || len(d) != 1 {
		t.Errorf("after a write over a deleted version: got data %v, want only the value", d)
	}
}

func TestValueMustBeUTF8(t *testing.T) {
	b := newBackend(t, tokenOptions(plainServer(t)))
	_, err := newStore(t, b, 1).Write(context.Background(), backends.WriteRequest{Name: uniq(t, "bin"), Value: []byte("sk-\xff\xfe-SECRET")})
	wantCode(t, "Write of a non-UTF-8 value", err, backends.InvalidArgument)
	wantContains(t, "Write of a non-UTF-8 value", err, "UTF-8")
	noLeak(t, "Write of a non-UTF-8 value", err, "SECRET")
}

// TestCheckAndSet: another writer adds a version between the store's
// metadata read and its write. The write must fail with FailedPrecondition,
// not be retried, and leave the other writer's version in place.
func TestCheckAndSet(t *testing.T) {
	s := plainServer(t)
	root := s.Client(t)
	name := uniq(t, "cas")
	dataPath := "secret/data/" + name
	if _, err := root.KVv2("secret").Put(context.Background(), name, map[string]any{"key": "first"}); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	rec := &recorder{before: func(r *http.Request) {
		if r.Method == http.MethodPut && strings.TrimPrefix(r.URL.Path, "/v1/") == dataPath {
			once.Do(func() {
				if _, err := root.KVv2("secret").Put(context.Background(), name, map[string]any{"key": "other writer"}); err != nil {
					t.Errorf("concurrent write: %v", err)
				}
			})
		}
	}}
	opts := tokenOptions(s)
	opts.WrapTransport = rec.wrap
	store := newStore(t, newBackend(t, opts), 5)

	_, err := store.Write(context.Background(), backends.WriteRequest{Name: name, Value: []byte("sk-SECRET-mine")})
	wantCode(t, "Write racing another writer", err, backends.FailedPrecondition)
	wantContains(t, "Write racing another writer", err, "check-and-set", dataPath)
	noLeak(t, "Write racing another writer", err, "sk-SECRET")
	if n := rec.count(http.MethodPut, dataPath); n != 1 {
		t.Errorf("data writes: got %d, want 1 (a check-and-set conflict is not retried)", n)
	}
	if ver, data := s.KVVersion(t, name); ver != 2 || data["key"] != "other writer" {
		t.Errorf("after the conflict: got version %d data %v, want version 2 with the other writer's value", ver, data)
	}
	// A new write, which reads the current version first, succeeds.
	v, err := store.Write(context.Background(), backends.WriteRequest{Name: name, Value: []byte("mine again")})
	if err != nil || v != "3" {
		t.Errorf("Write after the conflict: got version %q, %v; want version 3", v, err)
	}
}

func TestSoftDeleteKeepsVersionsAndRecreates(t *testing.T) {
	s := plainServer(t)
	kv := s.Client(t).KVv2("secret")
	store := newStore(t, newBackend(t, tokenOptions(s)), 1)
	ctx := context.Background()
	name := uniq(t, "soft")
	for _, v := range []string{"one", "two"} {
		if _, err := store.Write(ctx, backends.WriteRequest{Name: name, Value: []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Delete(ctx, name, backends.DeleteSoft); err != nil {
		t.Fatalf("Delete(DeleteSoft): %v", err)
	}
	meta, err := kv.GetMetadata(ctx, name)
	if err != nil {
		t.Fatalf("metadata after soft delete: %v", err)
	}
	if meta.CurrentVersion != 2 || meta.Versions["2"].DeletionTime.IsZero() || !meta.Versions["1"].DeletionTime.IsZero() {
		t.Errorf("after soft delete: got current version %d, versions %+v; want version 2 deleted and version 1 kept", meta.CurrentVersion, meta.Versions)
	}
	_, err = store.ReadStored(ctx, name)
	wantCode(t, "Find after soft delete", err, backends.NotFound)
	wantContains(t, "Find after soft delete", err, "deleted", "version (2)")
	// The backend itself reports a deleted latest version as NotFound.
	_, err = newBackend(t, tokenOptions(s)).Get(ctx, name)
	wantCode(t, "Get after soft delete", err, backends.NotFound)

	v, err := store.Write(ctx, backends.WriteRequest{Name: name, Value: []byte("three")})
	if err != nil || v != "3" {
		t.Fatalf("Write of a soft-deleted name: got version %q, %v; want version 3", v, err)
	}
	sec, err := store.ReadStored(ctx, name)
	if err != nil || string(sec.Value) != "three" || sec.Version != "3" {
		t.Errorf("Find after recreate: got %v, %v; want value %q version 3", sec, err, "three")
	}
	// Vault can still undelete version 2 (the soft delete was recoverable).
	if err := kv.Undelete(ctx, name, []int{2}); err != nil {
		t.Errorf("vault kv undelete of version 2: %v", err)
	}
	old, err := kv.GetVersion(ctx, name, 2)
	if err != nil || old.Data["key"] != "two" {
		t.Errorf("version 2 after undelete: got %v, %v; want key %q", old, err, "two")
	}
}

func TestDeleteForeverRemovesAllVersions(t *testing.T) {
	s := plainServer(t)
	kv := s.Client(t).KVv2("secret")
	store := newStore(t, newBackend(t, tokenOptions(s)), 1)
	ctx := context.Background()
	name := uniq(t, "forever")
	for _, v := range []string{"one", "two", "three"} {
		if _, err := store.Write(ctx, backends.WriteRequest{Name: name, Value: []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Delete(ctx, name, backends.DeleteForever); err != nil {
		t.Fatalf("Delete(DeleteForever): %v", err)
	}
	if _, err := kv.GetMetadata(ctx, name); !errors.Is(err, api.ErrSecretNotFound) {
		t.Errorf("metadata after Delete(DeleteForever): got %v, want not found", err)
	}
	for _, mode := range []backends.DeleteMode{backends.DeleteForever, backends.DeleteSoft} {
		if err := store.Delete(ctx, name, mode); err != nil {
			t.Errorf("Delete(%v) of a missing secret: got %v, want nil", mode, err)
		}
	}
	v, err := store.Write(ctx, backends.WriteRequest{Name: name, Value: []byte("fresh")})
	if err != nil || v != "1" {
		t.Errorf("Write after Delete(DeleteForever): got version %q, %v; want version 1 (a new secret)", v, err)
	}
}

func TestCustomMetadata(t *testing.T) {
	s := plainServer(t)
	kv := s.Client(t).KVv2("secret")
	b := newBackend(t, tokenOptions(s))
	store := newStore(t, b, 1)
	ctx := context.Background()
	name := uniq(t, "meta")

	v, err := store.Write(ctx, backends.WriteRequest{Name: name, Value: []byte("v"), Description: "OpenAI key: prod", Tags: map[string]string{"team": "ml", "owner": "platform team"}})
	if err != nil {
		t.Fatal(err)
	}
	meta, err := kv.GetMetadata(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"description": "OpenAI key: prod", "tag:team": "ml", "tag:owner": "platform team"}
	if !maps.Equal(meta.CustomMetadata, want) {
		t.Errorf("custom_metadata: got %v, want %v", meta.CustomMetadata, want)
	}
	// A key someone else set is kept; ours are replaced.
	if err := kv.PatchMetadata(ctx, name, api.KVMetadataPatchInput{CustomMetadata: map[string]any{"ticket": "SEC-1"}}); err != nil {
		t.Fatal(err)
	}
	if err := store.UpdateMetadata(ctx, name, "", map[string]string{"team": "infra"}); err != nil {
		t.Fatalf("UpdateMetadata: %v", err)
	}
	meta, err = kv.GetMetadata(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]any{"tag:team": "infra", "ticket": "SEC-1"}
	if !maps.Equal(meta.CustomMetadata, want) {
		t.Errorf("custom_metadata after UpdateMetadata: got %v, want %v", meta.CustomMetadata, want)
	}
	if meta.CurrentVersion != 1 || v != "1" {
		t.Errorf("version after UpdateMetadata: got %d (written %s), want 1 (no new version)", meta.CurrentVersion, v)
	}
	sec, err := b.Get(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if sec.Description != "" || !maps.Equal(sec.Tags, map[string]string{"team": "infra"}) {
		t.Errorf("Get: got description %q tags %v, want none and {team: infra} (foreign keys are not tags)", sec.Description, sec.Tags)
	}
	// Clearing tags and description clears our keys only.
	if err := store.UpdateMetadata(ctx, name, "", nil); err != nil {
		t.Fatal(err)
	}
	if meta, err = kv.GetMetadata(ctx, name); err != nil || !maps.Equal(meta.CustomMetadata, map[string]any{"ticket": "SEC-1"}) {
		t.Errorf("custom_metadata after clearing: got %v, %v; want only the foreign key", meta.CustomMetadata, err)
	}
	// UpdateMetadata of a missing secret.
	wantCode(t, "UpdateMetadata of a missing secret", store.UpdateMetadata(ctx, uniq(t, "missing"), "d", nil), backends.NotFound)
}

func TestCustomMetadataLimits(t *testing.T) {
	s := plainServer(t)
	store := newStore(t, newBackend(t, tokenOptions(s)), 1)
	ctx := context.Background()
	many := map[string]string{}
	for i := range 64 {
		many[fmt.Sprintf("t%02d", i)] = "v"
	}
	cases := []struct {
		label string
		desc  string
		tags  map[string]string
		want  string
	}{
		{"LongTagName", "", map[string]string{strings.Repeat("k", 125): "v"}, "at most 124"},
		{"LongValue", "", map[string]string{"k": strings.Repeat("v", 513)}, "at most 512 bytes"},
		{"LongDescription", strings.Repeat("d", 513), nil, "at most 512 bytes"},
		{"EmptyTagValue", "", map[string]string{"k": ""}, "must not be empty"},
		{"ControlCharacter", "line\nbreak", nil, "printable"},
		{"TooManyKeys", "d", many, "at most 64"},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			name := uniq(t, "limits")
			_, err := store.Write(ctx, backends.WriteRequest{Name: name, Value: []byte("sk-SECRET"), Description: tc.desc, Tags: tc.tags})
			wantCode(t, "Write", err, backends.InvalidArgument)
			wantContains(t, "Write", err, tc.want)
			noLeak(t, "Write", err, "sk-SECRET")
			if ver, _ := s.KVVersion(t, name); ver != 0 {
				t.Errorf("a write refused for its metadata left version %d, want no secret", ver)
			}
		})
	}
	// 64 keys in all, counting keys the secret already has.
	name := uniq(t, "limits-total")
	kv := s.Client(t).KVv2("secret")
	if _, err := kv.Put(ctx, name, map[string]any{"key": "v"}); err != nil {
		t.Fatal(err)
	}
	if err := kv.PatchMetadata(ctx, name, api.KVMetadataPatchInput{CustomMetadata: map[string]any{"foreign": "x"}}); err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{}
	for i := range 64 {
		tags[fmt.Sprintf("t%02d", i)] = "v"
	}
	_, err := store.Write(ctx, backends.WriteRequest{Name: name, Value: []byte("new"), Tags: tags})
	wantCode(t, "Write with 64 tags on a secret with a foreign key", err, backends.InvalidArgument)
	wantContains(t, "Write with 64 tags on a secret with a foreign key", err, "at most 64", "1 other keys")
	if ver, _ := s.KVVersion(t, name); ver != 1 {
		t.Errorf("version after the refused write: got %d, want 1", ver)
	}
}

// TestCustomMetadataLimitsAtPlan: the limits are the store's WriteValidator,
// so Store.ValidateWrite (what the provider calls at plan) refuses what Vault
// would, before any request, naming the secret, the store and the rule.
func TestCustomMetadataLimitsAtPlan(t *testing.T) {
	rec := &recorder{}
	store := newStore(t, newBackend(t, &vault.Options{Address: "http://127.0.0.1:1", Token: "t", WrapTransport: rec.wrap}), 1)
	many := map[string]string{}
	for i := range 64 {
		many[fmt.Sprintf("t%02d", i)] = "v"
	}
	for _, tc := range []struct {
		label string
		req   backends.WriteRequest
		want  string
	}{
		{"TooManyKeys", backends.WriteRequest{Description: "d", Tags: many}, "at most 64 custom_metadata keys"},
		{"LongTagName", backends.WriteRequest{Tags: map[string]string{strings.Repeat("k", 125): "v"}}, "tag names can have at most 124 bytes"},
		{"LongValue", backends.WriteRequest{Tags: map[string]string{"k": strings.Repeat("v", 513)}}, "values are at most 512 bytes"},
		{"NotUTF8", backends.WriteRequest{Value: []byte("sk-\xff-SECRET")}, "UTF-8"},
	} {
		tc.req.Name = "OPENAI_API_KEY"
		err := store.ValidateWrite(tc.req)
		wantCode(t, tc.label, err, backends.InvalidArgument)
		wantContains(t, tc.label, err, "hashicorp_vault", "OPENAI_API_KEY", tc.want)
		noLeak(t, tc.label, err, "SECRET")
	}
	if err := store.ValidateWrite(backends.WriteRequest{Name: "OPENAI_API_KEY", Description: strings.Repeat("d", 512), Tags: map[string]string{strings.Repeat("k", 124): "v"}}); err != nil {
		t.Errorf("ValidateWrite at the limits: %v", err)
	}
	if got := rec.paths(); len(got) != 0 {
		t.Errorf("requests by ValidateWrite: got %v, want none", got)
	}
}

// TestPermissionDenied: a 403 names the path and the capability.
func TestPermissionDenied(t *testing.T) {
	s := plainServer(t)
	root := s.Client(t)
	s.WritePolicy(t, "kv-read-only", `
path "secret/data/*"     { capabilities = ["read"] }
path "secret/metadata/*" { capabilities = ["read"] }
`)
	tok, err := root.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{"kv-read-only"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	name := uniq(t, "denied")
	if _, err := root.KVv2("secret").Put(ctx, name, map[string]any{"key": "sk-SECRET-seeded"}); err != nil {
		t.Fatal(err)
	}
	opts := tokenOptions(s)
	opts.Token = tok.Auth.ClientToken
	store := newStore(t, newBackend(t, opts), 3)

	sec, err := store.ReadStored(ctx, name)
	if err != nil || string(sec.Value) != "sk-SECRET-seeded" {
		t.Fatalf("Find with a read-only token: got %v, %v", sec, err)
	}
	_, err = store.Write(ctx, backends.WriteRequest{Name: name, Value: []byte("sk-SECRET-new")})
	wantCode(t, "Write with a read-only token", err, backends.PermissionDenied)
	wantContains(t, "Write with a read-only token", err, `Vault denied "update" on secret/data/`+name, "permission denied", "capability create/update")
	noLeak(t, "Write with a read-only token", err, "sk-SECRET", tok.Auth.ClientToken)

	_, err = store.Write(ctx, backends.WriteRequest{Name: uniq(t, "new"), Value: []byte("sk-SECRET-new")})
	wantContains(t, "Write of a new secret with a read-only token", err, `Vault denied "create" on secret/data/`)

	err = store.Delete(ctx, name, backends.DeleteForever)
	wantCode(t, "Delete with a read-only token", err, backends.PermissionDenied)
	wantContains(t, "Delete with a read-only token", err, `Vault denied "delete" on secret/metadata/`+name)

	// A token without read.
	s.WritePolicy(t, "kv-none", `path "secret/data/other/*" { capabilities = ["read"] }`)
	none, err := root.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{"kv-none"}})
	if err != nil {
		t.Fatal(err)
	}
	opts.Token = none.Auth.ClientToken
	_, err = newStore(t, newBackend(t, opts), 3).ReadStored(ctx, name)
	wantCode(t, "Find with a token without read", err, backends.PermissionDenied)
	wantContains(t, "Find with a token without read", err, `Vault denied "read" on secret/data/`+name, "capability read")
}

func TestBadTokenSaysSo(t *testing.T) {
	s := plainServer(t)
	opts := tokenOptions(s)
	opts.Token = "hvs.not-a-real-token"
	b := newBackend(t, opts)
	_, err := newStore(t, b, 3).ReadStored(context.Background(), uniq(t, "x"))
	wantCode(t, "Find with an invalid token", err, backends.PermissionDenied)
	wantContains(t, "Find with an invalid token", err, "invalid, expired or revoked")
	noLeak(t, "Find with an invalid token", err, "hvs.not-a-real-token")
	err = b.Health(context.Background())
	wantCode(t, "Health with an invalid token", err, backends.PermissionDenied)
}

func TestHealth(t *testing.T) {
	s := plainServer(t)
	ctx := context.Background()
	if err := newBackend(t, tokenOptions(s)).Health(ctx); err != nil {
		t.Errorf("Health: %v", err)
	}
	root := s.Client(t)
	kv1 := fmt.Sprintf("kv1-%d", time.Now().UnixNano())
	if err := root.Sys().Mount(kv1, &api.MountInput{Type: "kv", Options: map[string]string{"version": "1"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = root.Sys().Unmount(kv1) })
	opts := tokenOptions(s)
	opts.Mount = kv1
	err := newBackend(t, opts).Health(ctx)
	wantCode(t, "Health on a KV v1 mount", err, backends.FailedPrecondition)
	wantContains(t, "Health on a KV v1 mount", err, "not KV version 2", "kv-v2")

	opts.Mount = "no-such-mount"
	b := newBackend(t, opts)
	err = b.Health(ctx)
	if err == nil {
		t.Errorf("Health on a missing mount: got nil, want an error")
	}
	_, err = b.Get(ctx, "x")
	wantCode(t, "Get on a missing mount", err, backends.FailedPrecondition)
	wantContains(t, "Get on a missing mount", err, `no secrets engine at mount "no-such-mount"`)
	wantContains(t, "Get on a missing mount", err, `vault secrets enable -path=no-such-mount kv-v2`)
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	l.Close()
	b := newBackend(t, &vault.Options{Address: addr, Token: "t"})
	ctx := context.Background()
	err = b.Health(ctx)
	wantCode(t, "Health of a closed port", err, backends.Unavailable)
	wantContains(t, "Health of a closed port", err, "cannot reach Vault at "+addr, "connection refused")
	_, err = newStore(t, b, 2).ReadStored(ctx, "x")
	wantCode(t, "Find on a closed port", err, backends.Unavailable)
	wantContains(t, "Find on a closed port", err, "gave up after 2 attempts", "cannot reach Vault at "+addr)

	// TLS to a plain HTTP server.
	s := plainServer(t)
	httpsAddr := "https://" + strings.TrimPrefix(s.Addr, "http://")
	_, err = newBackend(t, &vault.Options{Address: httpsAddr, Token: s.RootToken}).Get(ctx, "x")
	wantCode(t, "Get over https from a plain server", err, backends.FailedPrecondition)
	// A TLS server whose CA is not trusted.
	ts := tlsServer(t)
	_, err = newBackend(t, &vault.Options{Address: ts.Addr, Token: ts.RootToken}).Get(ctx, "x")
	wantCode(t, "Get from an untrusted TLS server", err, backends.FailedPrecondition)
	wantContains(t, "Get from an untrusted TLS server", err, "tls.ca_cert_file")
	skip := true
	if _, err := newBackend(t, &vault.Options{Address: ts.Addr, Token: ts.RootToken, TLS: vault.TLSOptions{SkipVerify: &skip}}).Get(ctx, uniq(t, "x")); backends.CodeOf(err) != backends.NotFound {
		t.Errorf("Get with tls.skip_verify: got %v, want NotFound", err)
	}
}

func TestSealed(t *testing.T) {
	s := vaulttest.Start(t) // sealing is for good: a server of its own
	b := newBackend(t, tokenOptions(s))
	ctx := context.Background()
	if err := b.Health(ctx); err != nil {
		t.Fatalf("Health before sealing: %v", err)
	}
	s.Seal(t)
	err := b.Health(ctx)
	wantCode(t, "Health of a sealed Vault", err, backends.Unavailable)
	wantContains(t, "Health of a sealed Vault", err, "Vault at "+s.Addr+" is sealed")
	_, err = newStore(t, b, 2).ReadStored(ctx, "x")
	wantCode(t, "Find on a sealed Vault", err, backends.Unavailable)
	wantContains(t, "Find on a sealed Vault", err, "503", "sealed")
}

// TestAuthPriority: AppRole, then certificate, then token, as LiteLLM.
func TestAuthPriority(t *testing.T) {
	s := tlsServer(t)
	s.WritePolicy(t, "kv-rw", kvPolicy)
	roleID, secretID := s.EnableAppRole(t, "kv-rw")
	cert := s.EnableCert(t, "kv-rw")
	ctx := context.Background()
	all := vault.Options{
		Address: s.Addr,
		Token:   s.RootToken,
		AppRole: vault.AppRoleOptions{RoleID: roleID, SecretID: secretID},
		TLS:     vault.TLSOptions{CACertFile: s.CACertFile, ClientCertFile: cert.CertFile, ClientKeyFile: cert.KeyFile, CertRole: cert.Role},
	}
	cases := []struct {
		label     string
		edit      func(o *vault.Options)
		wantLogin string // "" = no login, the token is used as is
	}{
		{"AllThree", func(*vault.Options) {}, "auth/approle/login"},
		{"CertAndToken", func(o *vault.Options) { o.AppRole = vault.AppRoleOptions{} }, "auth/cert/login"},
		{"TokenOnly", func(o *vault.Options) {
			o.AppRole = vault.AppRoleOptions{}
			o.TLS.ClientCertFile, o.TLS.ClientKeyFile, o.TLS.CertRole = "", "", ""
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			opts := all
			tc.edit(&opts)
			rec := &recorder{}
			opts.WrapTransport = rec.wrap
			b := newBackend(t, &opts)
			if _, err := b.Get(ctx, uniq(t, "prio")); backends.CodeOf(err) != backends.NotFound {
				t.Fatalf("Get: got %v, want NotFound", err)
			}
			var logins []string
			for _, r := range rec.all() {
				if strings.HasPrefix(r.Path, "auth/") {
					logins = append(logins, r.Path)
				}
			}
			var want []string
			if tc.wantLogin != "" {
				want = []string{tc.wantLogin}
			}
			if !equalStrings(logins, want) {
				t.Errorf("auth requests: got %v, want %v", logins, want)
			}
			last := rec.all()[len(rec.all())-1]
			if tc.wantLogin == "" && last.Token != s.RootToken {
				t.Errorf("token of the KV read: got another token than the configured one, want it")
			}
			if tc.wantLogin != "" && (last.Token == "" || last.Token == s.RootToken) {
				t.Errorf("token of the KV read: got the configured token or none, want the login's")
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestOneLoginServesTheRun: concurrent first calls share one login.
func TestOneLoginServesTheRun(t *testing.T) {
	s := plainServer(t)
	s.WritePolicy(t, "kv-rw", kvPolicy)
	roleID, secretID := s.EnableAppRole(t, "kv-rw")
	rec := &recorder{}
	b := newBackend(t, &vault.Options{Address: s.Addr, AppRole: vault.AppRoleOptions{RoleID: roleID, SecretID: secretID}, WrapTransport: rec.wrap})
	store := newStore(t, b, 1)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if _, err := store.Write(context.Background(), backends.WriteRequest{Name: uniq(t, fmt.Sprint(i)), Value: []byte("v")}); err != nil {
				t.Errorf("Write #%d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if n := rec.count(http.MethodPut, "auth/approle/login"); n != 1 {
		t.Errorf("logins for 20 concurrent writes: got %d, want 1", n)
	}
	// Close revokes the login token.
	acc := vault.TokenAccessor(b)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client(t).Auth().Token().LookupAccessor(acc); err == nil {
		t.Errorf("the login token after Close: still valid, want it revoked")
	}
}

// TestTokenRenewedBeforeExpiry drives the token's lease with a fake clock: a
// renewable token is renewed, a batch token (not renewable) is replaced by a
// new login. No sleeps: Vault's own clock never gets near the expiry.
func TestTokenRenewedBeforeExpiry(t *testing.T) {
	s := plainServer(t)
	s.WritePolicy(t, "kv-rw", kvPolicy)
	cases := []struct {
		label                    string
		params                   map[string]any
		wantLogins, wantRenewals int
	}{
		{"Renewable", map[string]any{"token_ttl": "1h", "token_max_ttl": "24h"}, 1, 1},
		{"Batch", map[string]any{"token_ttl": "1h", "token_type": "batch"}, 2, 0},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			roleID, secretID := s.AppRole(t, "approle", "kv-rw", tc.params)
			rec := &recorder{}
			b := newBackend(t, &vault.Options{Address: s.Addr, AppRole: vault.AppRoleOptions{RoleID: roleID, SecretID: secretID}, WrapTransport: rec.wrap})
			clock := &fakeClock{now: time.Now()}
			vault.SetClock(b, clock.Now)
			store := newStore(t, b, 1)
			ctx := context.Background()
			name := uniq(t, "ttl")
			if _, err := store.Write(ctx, backends.WriteRequest{Name: name, Value: []byte("v")}); err != nil {
				t.Fatal(err)
			}
			// 55 minutes in, the token is used as it is.
			clock.Advance(55 * time.Minute)
			if _, err := store.ReadStored(ctx, name); err != nil {
				t.Fatal(err)
			}
			if l, r := vault.LoginStats(b); l != 1 || r != 0 {
				t.Errorf("after 55 minutes: got %d logins and %d renewals, want 1 and 0", l, r)
			}
			// 20 seconds before expiry (inside the 30s margin), it is
			// renewed or replaced before the request.
			clock.Advance(4*time.Minute + 40*time.Second)
			if _, err := store.ReadStored(ctx, name); err != nil {
				t.Fatalf("Find near expiry: %v", err)
			}
			if l, r := vault.LoginStats(b); l != tc.wantLogins || r != tc.wantRenewals {
				t.Errorf("near expiry: got %d logins and %d renewals, want %d and %d (requests: %v)", l, r, tc.wantLogins, tc.wantRenewals, rec.paths())
			}
			for _, q := range rec.all() {
				if q.Status == http.StatusForbidden {
					t.Errorf("request %s %s got 403: the token should have been refreshed before it", q.Method, q.Path)
				}
			}
		})
	}
}

// TestReloginAfterRevoke: a login token revoked behind the store's back is
// answered by one new login, and the request succeeds.
func TestReloginAfterRevoke(t *testing.T) {
	s := plainServer(t)
	s.WritePolicy(t, "kv-relogin", `
path "secret/data/TestReloginAfterRevoke-*"     { capabilities = ["create", "read", "update", "delete"] }
path "secret/metadata/TestReloginAfterRevoke-*" { capabilities = ["create", "read", "update", "delete"] }
`)
	roleID, secretID := s.EnableAppRole(t, "kv-relogin")
	b := newBackend(t, &vault.Options{Address: s.Addr, AppRole: vault.AppRoleOptions{RoleID: roleID, SecretID: secretID}})
	store := newStore(t, b, 1) // no layer retry: the backend recovers by itself
	ctx := context.Background()
	name := uniq(t, "revoked")
	if _, err := store.Write(ctx, backends.WriteRequest{Name: name, Value: []byte("v1")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Client(t).Auth().Token().RevokeAccessor(vault.TokenAccessor(b)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Write(ctx, backends.WriteRequest{Name: name, Value: []byte("v2")}); err != nil {
		t.Fatalf("Write after the token was revoked: %v", err)
	}
	if l, _ := vault.LoginStats(b); l != 2 {
		t.Errorf("logins: got %d, want 2", l)
	}
	// A policy denial is not a bad token: no new login.
	_, err := store.Write(ctx, backends.WriteRequest{Name: "outside-" + name, Value: []byte("v")})
	wantCode(t, "Write outside the policy", err, backends.PermissionDenied)
	if l, _ := vault.LoginStats(b); l != 2 {
		t.Errorf("logins after a policy denial: got %d, want still 2", l)
	}
}

func TestLoginRefused(t *testing.T) {
	s := plainServer(t)
	s.WritePolicy(t, "kv-rw", kvPolicy)
	roleID, _ := s.EnableAppRole(t, "kv-rw")
	b := newBackend(t, &vault.Options{Address: s.Addr, AppRole: vault.AppRoleOptions{RoleID: roleID, SecretID: "sk-SECRET-wrong-secret-id"}})
	_, err := newStore(t, b, 5).ReadStored(context.Background(), "x")
	wantCode(t, "Find with a wrong secret_id", err, backends.PermissionDenied)
	wantContains(t, "Find with a wrong secret_id", err, "AppRole", "auth/approle/login", "approle.secret_id")
	noLeak(t, "Find with a wrong secret_id", err, "sk-SECRET")
	if strings.Contains(err.Error(), "attempts") {
		t.Errorf("a refused login was retried: %v", err)
	}
	// A missing auth mount.
	b = newBackend(t, &vault.Options{Address: s.Addr, AppRole: vault.AppRoleOptions{RoleID: roleID, SecretID: "x", MountPath: "no-such-approle"}})
	_, err = b.Get(context.Background(), "x")
	wantContains(t, "Get with a missing AppRole mount", err, "auth/no-such-approle/login")
	if c := backends.CodeOf(err); c != backends.FailedPrecondition && c != backends.PermissionDenied {
		t.Errorf("Get with a missing AppRole mount: got code %v, want FailedPrecondition or PermissionDenied", c)
	}
}

func TestPathPrefixAndDataKey(t *testing.T) {
	s := plainServer(t)
	opts := tokenOptions(s)
	opts.PathPrefix = "/litellm/prod/"
	opts.DataKey = "value"
	store := newStore(t, newBackend(t, opts), 1)
	ctx := context.Background()
	name := uniq(t, "prefixed")
	if _, err := store.Write(ctx, backends.WriteRequest{Name: name, Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if ver, data := s.KVVersion(t, "litellm/prod/"+name); ver != 1 || data["value"] != "v" {
		t.Errorf("secret/data/litellm/prod/%s: got version %d data %v, want version 1 with field value", name, ver, data)
	}
	// A secret without the data key, or with a non-string one.
	kv := s.Client(t).KVv2("secret")
	if _, err := kv.Put(ctx, "litellm/prod/"+name, map[string]any{"other": "sk-SECRET-1", "n": 1}); err != nil {
		t.Fatal(err)
	}
	_, err := store.ReadStored(ctx, name)
	wantCode(t, "Find of a secret without data_key", err, backends.FailedPrecondition)
	wantContains(t, "Find of a secret without data_key", err, `no field "value"`, `"n", "other"`)
	noLeak(t, "Find of a secret without data_key", err, "sk-SECRET")
	if _, err := kv.Put(ctx, "litellm/prod/"+name, map[string]any{"value": map[string]any{"nested": "sk-SECRET-2"}}); err != nil {
		t.Fatal(err)
	}
	_, err = store.ReadStored(ctx, name)
	wantCode(t, "Find of a non-string data_key", err, backends.FailedPrecondition)
	wantContains(t, "Find of a non-string data_key", err, "JSON object, not a string")
	noLeak(t, "Find of a non-string data_key", err, "sk-SECRET")
}
