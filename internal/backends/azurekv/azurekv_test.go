package azurekv_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/azurekv"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/azurekv/kvfake"
)

// Azure Key Vault-specific tests.

func store(t *testing.T, b backends.Backend, settings *backends.Settings) *backends.Store {
	t.Helper()
	s := backends.Settings{AccessMode: backends.ReadAndWrite}
	if settings != nil {
		s = *settings
	}
	st, err := backends.NewStore(b, &backends.StoreOptions{Settings: s, Wait: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func mustBackend(t *testing.T, fake *kvfake.Server, edit func(*azurekv.Options)) backends.Backend {
	t.Helper()
	b, err := newBackend(t, fake, edit)
	if err != nil {
		t.Fatalf("azurekv.New: %v", err)
	}
	return b
}

// Names are stored exactly as written, as LiteLLM reads them; a name Key
// Vault or LiteLLM cannot use is refused with the rule and the Key Vault
// spelling to use instead.
func TestNames(t *testing.T) {
	for _, ok := range []string{"OPENAI-API-KEY", "abc123XYZ", "-leading", "a", strings.Repeat("a", 127)} {
		if err := azurekv.CheckName(ok); err != nil {
			t.Errorf("CheckName(%q): got %v, want nil", ok, err)
		}
	}
	for in, sug := range map[string]string{
		"OPENAI_API_KEY":         "OPENAI-API-KEY",
		"litellm/virtual-key-x":  "litellm-virtual-key-x",
		"a.b":                    "a-b",
		"a: b":                   "a--b",
		"ключ":                   "----",
		strings.Repeat("_", 127): strings.Repeat("-", 127),
		strings.Repeat("a", 128): "",
		"":                       "",
	} {
		err := azurekv.CheckName(in)
		if backends.CodeOf(err) != backends.InvalidArgument {
			t.Fatalf("CheckName(%q): got %v, want InvalidArgument", in, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, "azure_key_vault") || !strings.Contains(msg, "letter, a digit or '-'") {
			t.Errorf("CheckName(%q): %q does not name the store and the rule", in, msg)
		}
		if sug != "" && !strings.Contains(msg, `Key Vault spelling "`+sug+`"`) || sug != "" && !strings.Contains(msg, "os.environ/"+sug) {
			t.Errorf("CheckName(%q): %q does not suggest %q and os.environ/%s", in, msg, sug, sug)
		}
		if got := azurekv.SuggestName(in); got != sug {
			t.Errorf("SuggestName(%q): got %q, want %q", in, got, sug)
		}
	}
}

// The layer refuses OPENAI_API_KEY at plan (FullName) instead of storing it
// under another spelling, and stores OPENAI-API-KEY under that very name,
// which is the name LiteLLM's SecretClient.get_secret asks for.
func TestFullNameIsTheName(t *testing.T) {
	fake := kvfake.New(t, nil)
	s := store(t, mustBackend(t, fake, nil), nil)
	ctx := context.Background()
	_, err := s.FullName("OPENAI_API_KEY", nil, false)
	if backends.CodeOf(err) != backends.InvalidArgument || !strings.Contains(err.Error(), `"OPENAI_API_KEY"`) || !strings.Contains(err.Error(), "os.environ/OPENAI-API-KEY") {
		t.Fatalf("FullName(OPENAI_API_KEY): got %v, want InvalidArgument naming it and suggesting OPENAI-API-KEY", err)
	}
	prefix := "team/"
	if _, err := s.FullName("KEY", &prefix, false); backends.CodeOf(err) != backends.InvalidArgument || !strings.Contains(err.Error(), `"team/KEY"`) {
		t.Errorf("FullName(KEY, prefix team/): got %v, want InvalidArgument naming team/KEY", err)
	}
	full, err := s.FullName("OPENAI-API-KEY", nil, false)
	if err != nil || full != "OPENAI-API-KEY" {
		t.Fatalf("FullName(OPENAI-API-KEY): got %q, %v", full, err)
	}
	if _, err := s.Write(ctx, backends.WriteRequest{Name: full, Value: []byte("v1")}); err != nil {
		t.Fatal(err)
	}
	if v, ok := fake.Value("OPENAI-API-KEY"); !ok || v != "v1" {
		t.Errorf("vault holds %q (present %t) under OPENAI-API-KEY, want v1", v, ok)
	}
	// A store call with a name that bypassed the plan is refused before any
	// request.
	before := fake.Count("set", "OPENAI_API_KEY")
	if _, err := s.Write(ctx, backends.WriteRequest{Name: "OPENAI_API_KEY", Value: []byte("v")}); backends.CodeOf(err) != backends.InvalidArgument {
		t.Errorf("Write(OPENAI_API_KEY): got %v, want InvalidArgument", err)
	}
	if fake.Count("set", "OPENAI_API_KEY") != before {
		t.Errorf("Write(OPENAI_API_KEY) reached the vault")
	}
}

func TestTagLimits(t *testing.T) {
	fake := kvfake.New(t, nil)
	s := store(t, mustBackend(t, fake, nil), &backends.Settings{AccessMode: backends.ReadAndWrite, Tags: map[string]string{"team": "ml", "env": "prod"}})
	ctx := context.Background()
	tags := map[string]string{}
	for i := range 13 {
		tags[string(rune('a'+i))] = "v"
	}
	if _, err := s.Write(ctx, backends.WriteRequest{Name: "FIFTEEN", Value: []byte("v"), Tags: tags}); err != nil {
		t.Fatalf("Write with 13 own + 2 default tags: %v", err)
	}
	tags["n"] = "v"
	_, err := s.Write(ctx, backends.WriteRequest{Name: "SIXTEEN", Value: []byte("v"), Tags: tags})
	if backends.CodeOf(err) != backends.InvalidArgument || !strings.Contains(err.Error(), "at most 15 tags") || !strings.Contains(err.Error(), "16") {
		t.Errorf("Write with 16 merged tags: got %v, want InvalidArgument saying 15 and 16", err)
	}
	err = s.UpdateMetadata(ctx, "FIFTEEN", "", tags)
	if backends.CodeOf(err) != backends.InvalidArgument {
		t.Errorf("UpdateMetadata with 16 merged tags: got %v, want InvalidArgument", err)
	}
	_, err = s.Write(ctx, backends.WriteRequest{Name: "LONGTAG", Value: []byte("v"), Tags: map[string]string{"k": strings.Repeat("x", 257)}})
	if backends.CodeOf(err) != backends.InvalidArgument {
		t.Errorf("Write with a 257-character tag value: got %v, want InvalidArgument", err)
	}
	_, err = s.Write(ctx, backends.WriteRequest{Name: "BINARY", Value: []byte{0xff, 0xfe}})
	if backends.CodeOf(err) != backends.InvalidArgument {
		t.Errorf("Write of a non-UTF-8 value: got %v, want InvalidArgument", err)
	}
	if n := fake.Count("set", "SIXTEEN") + fake.Count("set", "LONGTAG") + fake.Count("set", "BINARY") + fake.Count("update", ""); n != 0 {
		t.Errorf("refused writes reached the vault %d times, want 0", n)
	}
}

// Description is the content type; metadata updates keep the version and
// the value; the SDK sees every operation the store uses, and versions read
// back by id.
func TestMetadataAndVersions(t *testing.T) {
	fake := kvfake.New(t, nil)
	s := store(t, mustBackend(t, fake, nil), nil)
	ctx := context.Background()
	v1, err := s.Write(ctx, backends.WriteRequest{Name: "META-KEY", Value: []byte("one"), Description: "first", Tags: map[string]string{"a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateMetadata(ctx, "META-KEY", "second", nil); err != nil {
		t.Fatal(err)
	}
	ct, tags, _ := fake.Props("META-KEY")
	if ct != "second" || len(tags) != 0 {
		t.Errorf("after UpdateMetadata: content type %q, tags %v; want %q and no tags", ct, tags, "second")
	}
	sec, err := s.ReadStored(ctx, "META-KEY")
	if err != nil || sec.Version != v1 || string(sec.Value) != "one" || sec.Description != "second" {
		t.Errorf("Find after UpdateMetadata: %v, %v; want version %s, value one, description second", sec, err, v1)
	}
	v2, err := s.Write(ctx, backends.WriteRequest{Name: "META-KEY", Value: []byte("two")})
	if err != nil {
		t.Fatal(err)
	}

	// The same vault through the SDK: both versions by id, list, versions.
	client, err := azsecrets.NewClient(fake.VaultURL(), fakeCredential(t, fake), &azsecrets.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: fake.Client()}})
	if err != nil {
		t.Fatal(err)
	}
	for ver, want := range map[string]string{v1: "one", v2: "two"} {
		got, err := client.GetSecret(ctx, "META-KEY", ver, nil)
		if err != nil || got.Value == nil || *got.Value != want {
			t.Errorf("GetSecret(META-KEY, %s): %v; want %q", ver, err, want)
		}
	}
	n := 0
	for pager := client.NewListSecretPropertiesVersionsPager("META-KEY", nil); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Value)
	}
	if n != 2 {
		t.Errorf("versions of META-KEY: got %d, want 2", n)
	}
}

func fakeCredential(t *testing.T, fake *kvfake.Server) azcore.TokenCredential {
	t.Helper()
	fo := fake.Options()
	cred, err := azidentity.NewClientSecretCredential(fo.TenantID, fo.ClientID, fo.ClientSecret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            azcore.ClientOptions{Transport: fake.Client(), Cloud: cloudOf(fake)},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// Creating a soft-deleted name recovers it, waits until it reads, then
// writes; a recovery that never completes ends in a clear timeout.
func TestRecoverOnCreate(t *testing.T) {
	fake := kvfake.New(t, &kvfake.Options{RecoverLag: 4})
	s := store(t, mustBackend(t, fake, nil), nil)
	ctx := context.Background()
	if _, err := s.Write(ctx, backends.WriteRequest{Name: "RECOVER-ME", Value: []byte("old")}); err != nil {
		t.Fatal(err)
	}
	fake.SoftDelete("RECOVER-ME")
	if _, err := s.ReadStored(ctx, "RECOVER-ME"); backends.CodeOf(err) != backends.NotFound {
		t.Errorf("Find of a soft-deleted secret: got %v, want NotFound", err)
	}
	v, err := s.Write(ctx, backends.WriteRequest{Name: "RECOVER-ME", Value: []byte("new")})
	if err != nil {
		t.Fatalf("Write of a soft-deleted name: %v", err)
	}
	if got, _ := fake.Value("RECOVER-ME"); got != "new" || fake.Count("recover", "RECOVER-ME") != 1 || fake.Versions("RECOVER-ME") != 2 {
		t.Errorf("after recover-on-create: value %q, %d recovers, %d versions; want new, 1, 2", got, fake.Count("recover", "RECOVER-ME"), fake.Versions("RECOVER-ME"))
	}
	if sec, _ := s.ReadStored(ctx, "RECOVER-ME"); sec == nil || sec.Version != v {
		t.Errorf("Find after recover-on-create: got %v, want version %s", sec, v)
	}

	// A recovery that does not complete within the bound.
	fake.SetLags(0, 1000, 0)
	slow := store(t, mustBackend(t, fake, func(o *azurekv.Options) { o.PollTimeout = 300 * time.Millisecond }), nil)
	fake.SoftDelete("RECOVER-ME")
	_, err = slow.Write(ctx, backends.WriteRequest{Name: "RECOVER-ME", Value: []byte("newer")})
	if backends.CodeOf(err) != backends.DeadlineExceeded || !strings.Contains(err.Error(), "recover") || !strings.Contains(err.Error(), "gave up after 300ms") {
		t.Errorf("Write while a recovery never completes: got %v, want DeadlineExceeded saying recovery and the bound", err)
	}
}

// delete = delete, wait for the deletion, purge; with purge protection the
// secret stays soft-deleted and a warning says why; soft_delete only deletes.
func TestDeletePolicies(t *testing.T) {
	ctx := context.Background()
	t.Run("Purge", func(t *testing.T) {
		fake := kvfake.New(t, &kvfake.Options{DeleteLag: 3})
		s := store(t, mustBackend(t, fake, nil), nil)
		if _, err := s.Write(ctx, backends.WriteRequest{Name: "GONE-KEY", Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "GONE-KEY", backends.DeleteForever); err != nil {
			t.Fatal(err)
		}
		if st := fake.State("GONE-KEY"); st != "absent" || fake.Count("purge", "GONE-KEY") != 1 {
			t.Errorf("after delete: state %s, %d purges; want absent, 1", st, fake.Count("purge", "GONE-KEY"))
		}
	})
	t.Run("PurgeProtection", func(t *testing.T) {
		fake := kvfake.New(t, &kvfake.Options{PurgeProtection: true})
		s := store(t, mustBackend(t, fake, nil), nil)
		if _, err := s.Write(ctx, backends.WriteRequest{Name: "KEPT-KEY", Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
		wctx, w := backends.WithWarnings(ctx)
		if err := s.Delete(wctx, "KEPT-KEY", backends.DeleteForever); err != nil {
			t.Fatalf("Delete in a vault with purge protection: got %v, want nil and a warning", err)
		}
		if st := fake.State("KEPT-KEY"); st != "deleted" {
			t.Errorf("state after delete with purge protection: %s, want deleted", st)
		}
		if warnings := w.Messages(); len(warnings) != 1 || !strings.Contains(warnings[0], "purge protection") || !strings.Contains(warnings[0], fake.VaultURL()) {
			t.Errorf("warnings: got %q, want one naming purge protection and the vault", w.Messages())
		}
	})
	t.Run("PurgeRefused", func(t *testing.T) {
		// The vault's recovery level says purgeable, but the purge is
		// refused for purge protection (the policy changed meanwhile).
		fake := kvfake.New(t, nil)
		s := store(t, mustBackend(t, fake, nil), nil)
		if _, err := s.Write(ctx, backends.WriteRequest{Name: "RACE-KEY", Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
		fake.Fail(kvfake.Fault{Op: "purge", Status: http.StatusForbidden, Code: "Forbidden",
			Message: `Operation "purge" is not allowed because purge protection is enabled for this vault.`})
		if err := s.Delete(ctx, "RACE-KEY", backends.DeleteForever); err != nil {
			t.Errorf("Delete when the purge is refused for purge protection: got %v, want nil", err)
		}
		if st := fake.State("RACE-KEY"); st != "deleted" {
			t.Errorf("state: %s, want deleted", st)
		}
	})
	t.Run("SoftDelete", func(t *testing.T) {
		fake := kvfake.New(t, nil)
		s := store(t, mustBackend(t, fake, nil), nil)
		if _, err := s.Write(ctx, backends.WriteRequest{Name: "SOFT-KEY", Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "SOFT-KEY", backends.DeleteSoft); err != nil {
			t.Fatal(err)
		}
		if st := fake.State("SOFT-KEY"); st != "deleted" || fake.Count("purge", "") != 0 {
			t.Errorf("after soft delete: state %s, %d purges; want deleted, 0", st, fake.Count("purge", ""))
		}
	})
	t.Run("PurgeDenied", func(t *testing.T) {
		fake := kvfake.New(t, nil)
		s := store(t, mustBackend(t, fake, nil), nil)
		if _, err := s.Write(ctx, backends.WriteRequest{Name: "NOPURGE", Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
		fake.Deny("purge")
		err := s.Delete(ctx, "NOPURGE", backends.DeleteForever)
		if backends.CodeOf(err) != backends.PermissionDenied || !strings.Contains(err.Error(), `permission "purge"`) {
			t.Errorf("Delete without the purge permission: got %v, want PermissionDenied naming purge", err)
		}
	})
}

// 401 and 403 name the vault and what is missing; 429 carries Retry-After
// to the layer, which retries.
func TestErrors(t *testing.T) {
	ctx := context.Background()
	fake := kvfake.New(t, nil)
	s := store(t, mustBackend(t, fake, nil), nil)

	fake.Deny("get")
	_, err := s.ReadStored(ctx, "ANY-KEY")
	if backends.CodeOf(err) != backends.PermissionDenied || !strings.Contains(err.Error(), fake.VaultURL()) || !strings.Contains(err.Error(), `permission "get"`) {
		t.Errorf("Find without get: got %v, want PermissionDenied naming the vault and get", err)
	}
	fake.Deny("")

	wrong := store(t, mustBackend(t, fake, func(o *azurekv.Options) { o.ClientSecret = "wrong" }), nil)
	_, err = wrong.ReadStored(ctx, "ANY-KEY")
	if backends.CodeOf(err) != backends.PermissionDenied || !strings.Contains(err.Error(), "ClientSecretCredential") || !strings.Contains(err.Error(), fake.VaultURL()) {
		t.Errorf("Find with a wrong client secret: got %v, want PermissionDenied naming the credential and the vault", err)
	}
	if strings.Contains(err.Error(), "wrong") && strings.Contains(err.Error(), "client_secret=wrong") {
		t.Errorf("the error quotes the client secret: %v", err)
	}

	fake.Fail(kvfake.Fault{Op: "set", Status: http.StatusTooManyRequests, Code: "Throttled", Message: "slow down", Header: http.Header{"Retry-After": {"7"}}, Times: 2})
	var delays []time.Duration
	st, err := backends.NewStore(mustBackend(t, fake, nil), &backends.StoreOptions{
		Settings: backends.Settings{AccessMode: backends.ReadAndWrite},
		Wait:     func(_ context.Context, d time.Duration) error { delays = append(delays, d); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Write(ctx, backends.WriteRequest{Name: "THROTTLED", Value: []byte("v")}); err != nil {
		t.Fatalf("Write through two 429s: %v", err)
	}
	if len(delays) != 2 || delays[0] < 7*time.Second || delays[1] < 7*time.Second {
		t.Errorf("retry delays: got %v, want two of at least the 7s Retry-After", delays)
	}

	fake.Fail(kvfake.Fault{Op: "get", Status: http.StatusServiceUnavailable, Code: "ServiceUnavailable", Message: "try later"})
	if _, err := st.ReadStored(ctx, "THROTTLED"); err != nil {
		t.Errorf("Find through one 503: got %v, want a retry that succeeds", err)
	}
}

func TestErrorCode(t *testing.T) {
	fake := kvfake.New(t, nil)
	b := mustBackend(t, fake, nil)
	resp := func(status int, body string) error {
		return &azcore.ResponseError{StatusCode: status, RawResponse: &http.Response{StatusCode: status, Header: http.Header{},
			Body: http.NoBody, Request: &http.Request{}}, ErrorCode: body}
	}
	for _, tc := range []struct {
		err  error
		want backends.Code
	}{
		{resp(404, "SecretNotFound"), backends.NotFound},
		{resp(400, "BadParameter"), backends.InvalidArgument},
		{resp(401, "Unauthorized"), backends.PermissionDenied},
		{resp(403, "Forbidden"), backends.PermissionDenied},
		{resp(403, "SecretDisabled"), backends.FailedPrecondition},
		{resp(409, "Conflict"), backends.FailedPrecondition},
		{resp(429, "Throttled"), backends.Throttled},
		{resp(500, "InternalError"), backends.Unavailable},
		{resp(503, ""), backends.Unavailable},
		{&azidentity.AuthenticationFailedError{}, backends.PermissionDenied},
		{errors.New("DefaultAzureCredential: failed to acquire a token."), backends.PermissionDenied},
		{errors.New("something else"), backends.Unknown},
	} {
		if got := b.ErrorCode(tc.err); got != tc.want {
			t.Errorf("ErrorCode(%v): got %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestOptionsResolve(t *testing.T) {
	env := map[string]string{
		"AZURE_KEY_VAULT_URI": "https://myvault.vault.azure.net", "AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	o := azurekv.Options{LookupEnv: lookup}
	if err := o.Resolve(); err != nil {
		t.Fatal(err)
	}
	if o.VaultURL != "https://myvault.vault.azure.net/" || o.TenantID != "t" || o.ClientID != "c" || o.ClientSecret != "s" || o.CredentialName() != "ClientSecretCredential" {
		t.Errorf("Resolve from the environment: got %s tenant %q client %q", o.String(), o.TenantID, o.ClientID)
	}
	if strings.Contains(o.String(), "s ") || strings.Contains(o.String(), "=s") {
		t.Errorf("Options.String leaks the client secret: %s", o.String())
	}
	block := azurekv.Options{VaultURL: "https://block.vault.azure.net/", UseCLI: true, LookupEnv: lookup}
	if err := block.Resolve(); err != nil || block.VaultURL != "https://block.vault.azure.net/" || block.CredentialName() != "AzureCLICredential" {
		t.Errorf("the block wins over the environment and use_cli over the client secret: %v %s", err, block.String())
	}
	for _, bad := range []azurekv.Options{
		{LookupEnv: func(string) (string, bool) { return "", false }},
		{VaultURL: "http://myvault.vault.azure.net/", LookupEnv: lookup},
		{VaultURL: "https://myvault.vault.azure.net/secrets/x", LookupEnv: lookup},
		{VaultURL: "https://v.vault.azure.net/", UseCLI: true, UseManagedIdentity: true, LookupEnv: lookup},
	} {
		if err := bad.Resolve(); backends.CodeOf(err) != backends.InvalidArgument {
			t.Errorf("Resolve(%s): got %v, want InvalidArgument", bad.String(), err)
		}
	}
	if err := (&azurekv.Options{LookupEnv: func(string) (string, bool) { return "", false }}).Resolve(); err == nil ||
		!strings.Contains(err.Error(), "vault_url") || !strings.Contains(err.Error(), "AZURE_KEY_VAULT_URI") {
		t.Errorf("missing vault URL: got %v, want a message naming vault_url and AZURE_KEY_VAULT_URI", err)
	}
	_, err := azurekv.New(&azurekv.Options{VaultURL: "https://v.vault.azure.net/", ClientSecret: "s", LookupEnv: func(string) (string, bool) { return "", false }})
	if err == nil || !strings.Contains(err.Error(), "tenant_id") || !strings.Contains(err.Error(), "AZURE_TENANT_ID") {
		t.Errorf("client secret without tenant and client: got %v, want a message naming what is missing", err)
	}
}

// Managed identity: the token comes from the identity endpoint (App Service
// style, which Lowkey Vault also serves).
func TestManagedIdentity(t *testing.T) {
	fake := kvfake.New(t, nil)
	t.Setenv("IDENTITY_ENDPOINT", fake.IdentityEndpoint())
	t.Setenv("IDENTITY_HEADER", fake.Options().IdentityHeader)
	b := mustBackend(t, fake, func(o *azurekv.Options) { o.ClientSecret, o.UseManagedIdentity = "", true })
	if err := store(t, b, nil).Health(context.Background()); err != nil {
		t.Fatalf("Health with managed identity: %v", err)
	}
	if fake.Count("mi-token", "") == 0 {
		t.Errorf("no managed identity token was requested")
	}
}

func cloudOf(fake *kvfake.Server) cloud.Configuration {
	return cloud.Configuration{ActiveDirectoryAuthorityHost: fake.AuthorityHost(), Services: map[cloud.ServiceName]cloud.ServiceConfiguration{}}
}

var _ policy.Transporter = (*http.Client)(nil)
