package cyberark_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/cyberark"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/cyberark/conjurtest"
)

// CyberArk-specific tests.

func newStore(t *testing.T, opts *cyberark.Options) *backends.Store {
	t.Helper()
	b, err := cyberark.New(opts)
	if err != nil {
		t.Fatalf("cyberark.New: %v", err)
	}
	s, err := backends.NewStore(b, &backends.StoreOptions{
		Settings: backends.Settings{AccessMode: backends.ReadAndWrite},
		Retry:    backends.RetryPolicy{MaxAttempts: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func mustWrite(t *testing.T, s *backends.Store, name, value string) string {
	t.Helper()
	v, err := s.Write(context.Background(), backends.WriteRequest{Name: name, Value: []byte(value)})
	if err != nil {
		t.Fatalf("Write(%s): %v", name, err)
	}
	return v
}

func wantValue(t *testing.T, s *backends.Store, name, want string) *backends.Secret {
	t.Helper()
	sec, err := s.ReadStored(context.Background(), name)
	if err != nil {
		t.Fatalf("ReadStored(%s): got %v, want %q", name, err, want)
	}
	if string(sec.Value) != want {
		t.Errorf("ReadStored(%s): got %q, want %q", name, sec.Value, want)
	}
	return sec
}

func wantCode(t *testing.T, what string, err error, want backends.Code) {
	t.Helper()
	if got := backends.CodeOf(err); got != want {
		t.Errorf("%s: got code %v, want %v (err: %v)", what, got, want, err)
	}
}

func TestEnvironmentFallbacks(t *testing.T) {
	fake := conjurtest.New(t, conjurtest.Options{Account: "acme"})
	fake.AddRole("host/gw", "gw-key", conjurtest.All)
	ctx := context.Background()

	t.Run("LiteLLMVariablesAlone", func(t *testing.T) {
		s := newStore(t, &cyberark.Options{LookupEnv: envMap(map[string]string{
			"CYBERARK_API_BASE": fake.URL, "CYBERARK_ACCOUNT": "acme",
			"CYBERARK_USERNAME": "host/gw", "CYBERARK_API_KEY": "gw-key",
			"CYBERARK_SSL_VERIFY": "false",
		})})
		mustWrite(t, s, "FROM_LITELLM_ENV", "v1")
		wantValue(t, s, "FROM_LITELLM_ENV", "v1")
	})
	t.Run("ConjurVariablesAlone", func(t *testing.T) {
		s := newStore(t, &cyberark.Options{LookupEnv: envMap(map[string]string{
			"CONJUR_APPLIANCE_URL": fake.URL, "CONJUR_ACCOUNT": "acme",
			"CONJUR_AUTHN_LOGIN": "host/gw", "CONJUR_AUTHN_API_KEY": "gw-key",
		})})
		wantValue(t, s, "FROM_LITELLM_ENV", "v1")
	})
	t.Run("AttributesWinOverLiteLLMOverConjur", func(t *testing.T) {
		s := newStore(t, &cyberark.Options{
			Account: "acme",
			LookupEnv: envMap(map[string]string{
				"CYBERARK_API_BASE": fake.URL, "CONJUR_APPLIANCE_URL": "http://127.0.0.1:1",
				"CYBERARK_ACCOUNT": "wrong", "CYBERARK_USERNAME": "host/gw", "CONJUR_AUTHN_LOGIN": "nobody",
				"CYBERARK_API_KEY": "gw-key", "CONJUR_AUTHN_API_KEY": "wrong",
			}),
		})
		if err := s.Health(ctx); err != nil {
			t.Errorf("Health: %v", err)
		}
	})
}

func TestConfigurationErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := false
	cases := []struct {
		label string
		opts  cyberark.Options
		want  []string
	}{
		{"NoURL", cyberark.Options{Login: "a", APIKey: "k"}, []string{"cyberark.url", "CYBERARK_API_BASE", "CONJUR_APPLIANCE_URL"}},
		{"BadURL", cyberark.Options{URL: "conjur.example.com", Login: "a", APIKey: "k"}, []string{"cyberark.url", "https://"}},
		{"NoLogin", cyberark.Options{URL: "https://c", APIKey: "k"}, []string{"cyberark.login", "CYBERARK_USERNAME"}},
		{"NoAPIKey", cyberark.Options{URL: "https://c", Login: "a"}, []string{"cyberark.api_key", "CYBERARK_API_KEY", "authn_jwt"}},
		{"JWTWithoutToken", cyberark.Options{URL: "https://c", JWTServiceID: "gitlab"}, []string{"authn_jwt.token", "CONJUR_AUTHN_JWT_TOKEN"}},
		{"CertWithoutKey", cyberark.Options{URL: "https://c", Login: "a", APIKey: "k", ClientCert: notPEM}, []string{"client_cert", "client_key", "together"}},
		{"CANotPEM", cyberark.Options{URL: "https://c", Login: "a", APIKey: "k", CACert: notPEM, SSLVerify: &f}, []string{"ca_cert", "no PEM"}},
		{"CAMissingFile", cyberark.Options{URL: "https://c", Login: "a", APIKey: "k", CACert: filepath.Join(dir, "missing.pem")}, []string{"ca_cert", "neither PEM text nor a readable file"}},
		{"PolicyBranchDots", cyberark.Options{URL: "https://c", Login: "a", APIKey: "k", PolicyBranch: "apps/../root"}, []string{"policy_branch"}},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			tc.opts.LookupEnv = noEnv
			_, err := cyberark.New(&tc.opts)
			wantCode(t, "New", err, backends.InvalidArgument)
			for _, w := range tc.want {
				if err != nil && !strings.Contains(err.Error(), w) {
					t.Errorf("New: got %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

// TestSSLVerifyVariableAsLiteLLM: CYBERARK_SSL_VERIFY is read as LiteLLM's
// str_to_bool reads it: only "false" (any case, blanks around) turns TLS
// verification off; every value LiteLLM reads as "verify" (true, empty, and
// values str_to_bool does not recognise such as 0, no, off) keeps it on here
// too, so an untrusted certificate is refused.
func TestSSLVerifyVariableAsLiteLLM(t *testing.T) {
	ctx := context.Background()
	fake := conjurtest.New(t, conjurtest.Options{TLS: true})
	cases := []struct {
		value  string
		verify bool
	}{
		{"false", false}, {"False", false}, {"FALSE", false}, {" false\t", false},
		{"true", true}, {"", true}, {"0", true}, {"no", true}, {"off", true}, {"n", true}, {"f", true}, {"maybe", true}, {"falsey", true},
	}
	for _, tc := range cases {
		if got := cyberark.SSLVerifyFromEnv(tc.value); got != tc.verify {
			t.Errorf("SSLVerifyFromEnv(%q): got %t, want %t", tc.value, got, tc.verify)
		}
		opts := adminOptions(fake)
		opts.LookupEnv = envMap(map[string]string{"CYBERARK_SSL_VERIFY": tc.value})
		b, err := cyberark.New(opts)
		if err != nil {
			t.Errorf("New with CYBERARK_SSL_VERIFY=%q: got %v, want it accepted as LiteLLM accepts it", tc.value, err)
			continue
		}
		err = b.Health(ctx)
		_ = b.Close()
		switch {
		case tc.verify && err == nil:
			t.Errorf("CYBERARK_SSL_VERIFY=%q: Health trusted a self-signed certificate; LiteLLM verifies with this value", tc.value)
		case !tc.verify && err != nil:
			t.Errorf("CYBERARK_SSL_VERIFY=%q: Health: %v; LiteLLM turns verification off with this value", tc.value, err)
		}
	}
}

// TestClientCertificateAlone: with client_cert and client_key and no API
// key, the store logs in as LiteLLM does: POST
// /authn/{account}/{login}/authenticate over mutual TLS with an empty body.
func TestClientCertificateAlone(t *testing.T) {
	fake := conjurtest.New(t, conjurtest.Options{ClientCerts: true})
	fake.AddCertRole("host/llm-gateway", conjurtest.All)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	if err := os.WriteFile(certFile, []byte(fake.ClientCertPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte(fake.ClientKeyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, &cyberark.Options{URL: fake.URL, CACert: fake.CACertPEM, LookupEnv: envMap(map[string]string{
		"CYBERARK_USERNAME": "host/llm-gateway", "CYBERARK_CLIENT_CERT": certFile, "CYBERARK_CLIENT_KEY": keyFile,
	})})
	mustWrite(t, s, "CERT_ONLY", "v-cert")
	wantValue(t, s, "CERT_ONLY", "v-cert")
	var authn []string
	for _, r := range fake.Requests() {
		if strings.HasPrefix(r.EscapedPath, "/authn") {
			authn = append(authn, r.Method+" "+r.EscapedPath)
		}
	}
	if want := "POST /authn/default/host%2Fllm-gateway/authenticate"; len(authn) != 1 || authn[0] != want {
		t.Errorf("logins: got %q, want one %q", authn, want)
	}

	// Without the certificate and without an API key, New says what to set.
	_, err := cyberark.New(&cyberark.Options{URL: fake.URL, Login: "host/llm-gateway", ClientCert: certFile, LookupEnv: noEnv})
	wantCode(t, "New with client_cert but no client_key", err, backends.InvalidArgument)
	_, err = cyberark.New(&cyberark.Options{URL: fake.URL, Login: "host/llm-gateway", LookupEnv: noEnv})
	wantCode(t, "New without api_key or certificate", err, backends.InvalidArgument)
	if err != nil && !strings.Contains(err.Error(), "CYBERARK_CLIENT_CERT") {
		t.Errorf("New without credentials: got %q, want it to name CYBERARK_CLIENT_CERT as an alternative", err)
	}
}

// TestPathEncodingAsLiteLLM: ids are encoded like Python's
// urllib.parse.quote(id, safe=""): only ASCII letters, digits and "_.-~"
// stay, everything else is %XX in upper case.
func TestPathEncodingAsLiteLLM(t *testing.T) {
	fake := conjurtest.New(t, conjurtest.Options{})
	s := newStore(t, adminOptions(fake))
	cases := map[string]string{
		"OPENAI_API_KEY":        "OPENAI_API_KEY",
		"a.b-c~d":               "a.b-c~d",
		"team/llm/OPENAI KEY":   "team%2Fllm%2FOPENAI%20KEY",
		"a:b@c$d&e+f,g;h=i!j'k": "a%3Ab%40c%24d%26e%2Bf%2Cg%3Bh%3Di%21j%27k",
		"ключ/🔑":                "%D0%BA%D0%BB%D1%8E%D1%87%2F%F0%9F%94%91",
		"x?y#z%":                "x%3Fy%23z%25",
	}
	for name, want := range cases {
		mustWrite(t, s, name, "v")
		found := false
		for _, r := range fake.Requests() {
			if r.EscapedPath == "/secrets/default/variable/"+want {
				found = true
			}
		}
		if !found {
			t.Errorf("name %q: no request to /secrets/default/variable/%s", name, want)
		}
	}
}

func TestNameWithSlashIsOneEncodedSegment(t *testing.T) {
	fake := conjurtest.New(t, conjurtest.Options{})
	s := newStore(t, adminOptions(fake))
	const name = "team/llm/OPENAI API KEY"
	v := mustWrite(t, s, name, "sk-slash")
	if v != "1" {
		t.Errorf("version of the first value: got %q, want %q", v, "1")
	}
	if !fake.Declared(name) {
		t.Fatalf("variable %q not declared in the fake", name)
	}
	wantValue(t, s, name, "sk-slash")
	var sawSecret bool
	for _, r := range fake.Requests() {
		if strings.HasPrefix(r.EscapedPath, "/secrets/") {
			sawSecret = true
			if want := "/secrets/default/variable/team%2Fllm%2FOPENAI%20API%20KEY"; r.EscapedPath != want {
				t.Errorf("secrets path: got %s, want %s", r.EscapedPath, want)
			}
		}
	}
	if !sawSecret {
		t.Error("no request to /secrets/ seen")
	}
	// The name "." is a dot segment: it must be encoded, not collapsed.
	mustWrite(t, s, ".", "dot")
	wantValue(t, s, ".", "dot")
}

// hostileNames would change a policy document if they were not quoted.
var hostileNames = []string{
	`a: b`, `#comment`, `- item`, `!tag`, `&anchor`, `*alias`, `{flow}`, `[seq]`, `|block`, `>folded`,
	`'single'`, `"double"`, `back\slash`, `%directive`, `@at`, "`tick`", `key: value # c`, `yes`, `null`, `123`,
	`ключ/鍵/🔑`, `trailing space `, ` leading`, `x?y=1&z`, "\u00a0nbsp", "bom\ufeff",
}

func TestVariablePolicyQuoting(t *testing.T) {
	for _, name := range hostileNames {
		var doc []yaml.Node
		if err := yaml.Unmarshal([]byte(cyberark.VariablePolicy(name)), &doc); err != nil {
			t.Errorf("VariablePolicy(%q) is not YAML: %v", name, err)
			continue
		}
		if len(doc) != 1 || doc[0].Tag != "!variable" || doc[0].Kind != yaml.ScalarNode || doc[0].Value != name {
			t.Errorf("VariablePolicy(%q): parsed as %d records, first %+v; want one !variable with the exact id", name, len(doc), doc)
		}
	}
	fake := conjurtest.New(t, conjurtest.Options{})
	s := newStore(t, adminOptions(fake))
	for _, name := range hostileNames {
		if backends.ValidateName(name) != nil {
			continue // an invisible difference: refused before any policy is built
		}
		mustWrite(t, s, name, "v-"+name)
		if !fake.Declared(name) {
			t.Errorf("variable %q not declared by the policy %q", name, fake.Policies())
		}
		wantValue(t, s, name, "v-"+name)
	}
}

func TestDeclaresOnlyNewVariables(t *testing.T) {
	fake := conjurtest.New(t, conjurtest.Options{})
	s := newStore(t, adminOptions(fake))
	mustWrite(t, s, "ONCE", "one")
	mustWrite(t, s, "ONCE", "two")
	mustWrite(t, s, "ONCE", "three")
	if got := fake.Stats().PolicyLoads; got != 1 {
		t.Errorf("policy loads for three writes of one name: got %d, want 1", got)
	}
	if got, want := fake.Policies(), []string{"- !variable \"ONCE\"\n"}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("policies: got %q, want %q", got, want)
	}

	// A login that may update the variable but not load policy can still
	// change its value.
	fake.AddRole("host/updater", "upd", conjurtest.Perms{Read: true, Execute: true, Update: true})
	upd := newStore(t, &cyberark.Options{URL: fake.URL, Login: "host/updater", APIKey: "upd", LookupEnv: noEnv})
	mustWrite(t, upd, "ONCE", "four")
	wantValue(t, s, "ONCE", "four")
	_, err := upd.Write(context.Background(), backends.WriteRequest{Name: "NEW_NAME", Value: []byte("v")})
	wantCode(t, "Write of a new name without the policy privilege", err, backends.PermissionDenied)
	if err != nil && !strings.Contains(err.Error(), "privilege") {
		t.Errorf("Write without the policy privilege: got %q, want it to explain the privilege", err)
	}
}

func TestPolicyBranch(t *testing.T) {
	fake := conjurtest.New(t, conjurtest.Options{})
	fake.AddPolicyBranch("apps/llm")
	opts := adminOptions(fake)
	opts.PolicyBranch = "apps/llm"
	s := newStore(t, opts)
	mustWrite(t, s, "OPENAI_API_KEY", "sk-branch")
	if !fake.Declared("apps/llm/OPENAI_API_KEY") {
		t.Errorf("variable apps/llm/OPENAI_API_KEY not declared (policies %q)", fake.Policies())
	}
	wantValue(t, s, "OPENAI_API_KEY", "sk-branch")
	var sawPolicy bool
	for _, r := range fake.Requests() {
		if strings.HasPrefix(r.EscapedPath, "/policies/") {
			sawPolicy = true
			if want := "/policies/default/policy/apps%2Fllm"; r.EscapedPath != want {
				t.Errorf("policy path: got %s, want %s", r.EscapedPath, want)
			}
		}
	}
	if !sawPolicy {
		t.Error("no policy load seen")
	}

	opts.PolicyBranch = "apps/missing"
	_, err := newStore(t, opts).Write(context.Background(), backends.WriteRequest{Name: "X", Value: []byte("v")})
	wantCode(t, "Write into a missing policy branch", err, backends.FailedPrecondition)
	if err != nil && !strings.Contains(err.Error(), "policy_branch") {
		t.Errorf("Write into a missing branch: got %q, want it to name policy_branch", err)
	}
}

func TestPolicyConflictRetried(t *testing.T) {
	fake := conjurtest.New(t, conjurtest.Options{})
	opts := adminOptions(fake)
	opts.PolicyConflictDelay = time.Millisecond
	s := newStore(t, opts)
	fake.InjectPolicyConflicts(3)
	mustWrite(t, s, "AFTER_CONFLICTS", "v")
	wantValue(t, s, "AFTER_CONFLICTS", "v")

	opts.PolicyConflictRetries = 2
	s = newStore(t, opts)
	fake.InjectPolicyConflicts(100)
	_, err := s.Write(context.Background(), backends.WriteRequest{Name: "LOCKED", Value: []byte("v")})
	wantCode(t, "Write while the branch stays locked", err, backends.FailedPrecondition)
	if err != nil && !strings.Contains(err.Error(), "after 3 attempts") {
		t.Errorf("Write while locked: got %q, want it to say how often it tried", err)
	}
}

// clock is a settable time source for the token cache.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestTokenCache(t *testing.T) {
	fake := conjurtest.New(t, conjurtest.Options{})
	clk := &clock{t: time.Now()}
	opts := adminOptions(fake)
	opts.Now = clk.Now
	s := newStore(t, opts)
	mustWrite(t, s, "TOKEN", "v")
	for range 5 {
		wantValue(t, s, "TOKEN", "v")
	}
	if got := fake.Stats().Authentications; got != 1 {
		t.Errorf("logins for several calls within a token's life: got %d, want 1", got)
	}

	// Before expiry: 7 of the 8 minutes passed on both clocks, so the store
	// logs in again on its own and Conjur never answers 401.
	clk.Advance(7 * time.Minute)
	fake.Advance(7 * time.Minute)
	wantValue(t, s, "TOKEN", "v")
	if st := fake.Stats(); st.Authentications != 2 || st.Unauthorized != 0 {
		t.Errorf("after 7 minutes: got %d logins and %d 401s, want 2 and 0", st.Authentications, st.Unauthorized)
	}

	// Conjur's clock runs ahead: the token expired there first. The 401 makes
	// the store log in again and resend.
	fake.Advance(9 * time.Minute)
	wantValue(t, s, "TOKEN", "v")
	if st := fake.Stats(); st.Authentications != 3 || st.Unauthorized != 1 {
		t.Errorf("after an expired token: got %d logins and %d 401s, want 3 and 1", st.Authentications, st.Unauthorized)
	}
}

func TestTokenCacheConcurrent(t *testing.T) {
	fake := conjurtest.New(t, conjurtest.Options{})
	s := newStore(t, adminOptions(fake))
	mustWrite(t, s, "CONC", "v")
	fake.Advance(time.Hour) // every cached token is now refused
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := s.ReadStored(context.Background(), "CONC"); err != nil {
				t.Errorf("Find: %v", err)
			}
		})
	}
	wg.Wait()
	if st := fake.Stats(); st.Authentications > 3 {
		t.Errorf("logins for 20 concurrent reads after expiry: got %d, want at most 3", st.Authentications)
	}
}

func TestAuthenticationRefused(t *testing.T) {
	fake := conjurtest.New(t, conjurtest.Options{})
	const badKey = "sk-WRONG-api-key-value"
	s := newStore(t, &cyberark.Options{URL: fake.URL, Login: "admin", APIKey: badKey, LookupEnv: noEnv})
	err := s.Health(context.Background())
	wantCode(t, "Health with a wrong API key", err, backends.PermissionDenied)
	if err != nil {
		if strings.Contains(err.Error(), badKey) {
			t.Errorf("error %q contains the API key", err)
		}
		if !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), `"admin"`) {
			t.Errorf("error %q: want it to name the login and Conjur's 401", err)
		}
	}
}

func TestPrivileges(t *testing.T) {
	fake := conjurtest.New(t, conjurtest.Options{})
	admin := newStore(t, adminOptions(fake))
	v := mustWrite(t, admin, "PRIV", "value")

	// Execute without read: the value is readable, its version is a
	// fingerprint of the value.
	fake.AddRole("host/exec", "ek", conjurtest.Perms{Execute: true})
	exec := newStore(t, &cyberark.Options{URL: fake.URL, Login: "host/exec", APIKey: "ek", LookupEnv: noEnv})
	sec := wantValue(t, exec, "PRIV", "value")
	if sec.Version == v || sec.Version == "" {
		t.Errorf("version without read: got %q, want a fingerprint (not Conjur's %q)", sec.Version, v)
	}

	// Read without execute: 403.
	fake.AddRole("host/read", "rk", conjurtest.Perms{Read: true})
	_, err := newStore(t, &cyberark.Options{URL: fake.URL, Login: "host/read", APIKey: "rk", LookupEnv: noEnv}).ReadStored(context.Background(), "PRIV")
	wantCode(t, "Find without execute", err, backends.PermissionDenied)
}

func TestVersions(t *testing.T) {
	fake := conjurtest.New(t, conjurtest.Options{})
	s := newStore(t, adminOptions(fake))
	for i, want := range []string{"1", "2", "3"} {
		if got := mustWrite(t, s, "VERSIONED", "value-"+want); got != want {
			t.Errorf("write %d: got version %q, want %q", i+1, got, want)
		}
	}
	// A value set outside the provider is a new version.
	n := fake.SetValue("VERSIONED", []byte("outside"))
	sec := wantValue(t, s, "VERSIONED", "outside")
	if sec.Version != "4" || n != 4 {
		t.Errorf("version after a value set outside: got %q (fake %d), want 4", sec.Version, n)
	}
	// Declared without a value: missing.
	fake.SetValue("x", []byte("y")) // declare something else so the fake is not empty
	_, err := s.ReadStored(context.Background(), "NEVER_SET")
	wantCode(t, "Find of an undeclared variable", err, backends.NotFound)
}

func TestEmptyValueRefused(t *testing.T) {
	fake := conjurtest.New(t, conjurtest.Options{})
	_, err := newStore(t, adminOptions(fake)).Write(context.Background(), backends.WriteRequest{Name: "EMPTY", Value: nil})
	wantCode(t, "Write of an empty value", err, backends.InvalidArgument)
}

func TestCannotDelete(t *testing.T) {
	fake := conjurtest.New(t, conjurtest.Options{})
	s := newStore(t, adminOptions(fake))
	mustWrite(t, s, "KEPT", "v")
	wantCode(t, "Delete", s.Delete(context.Background(), "KEPT", backends.DeleteForever), backends.Unsupported)
	if why := s.NoDeleteReason(); !strings.Contains(why, "Conjur") || !strings.Contains(why, "policy") {
		t.Errorf("NoDeleteReason: got %q, want it to explain Conjur removes variables only through policy", why)
	}
	if err := s.Delete(context.Background(), "KEPT", backends.Abandon); err != nil {
		t.Errorf("Delete(Abandon): %v", err)
	}
	wantValue(t, s, "KEPT", "v")
}

func TestAuthnJWT(t *testing.T) {
	fake := conjurtest.New(t, conjurtest.Options{})
	fake.AddRole("host/ci/runner", "", conjurtest.All)
	fake.AddJWT("gitlab", "header.payload.sig", "host/ci/runner")
	s := newStore(t, &cyberark.Options{URL: fake.URL, JWTServiceID: "gitlab", JWTToken: "header.payload.sig", LookupEnv: noEnv})
	mustWrite(t, s, "JWT_WRITTEN", "v")
	wantValue(t, s, "JWT_WRITTEN", "v")

	// With login, it is the host id in the URL.
	withHost := newStore(t, &cyberark.Options{LookupEnv: envMap(map[string]string{
		"CONJUR_APPLIANCE_URL": fake.URL, "CONJUR_AUTHN_JWT_SERVICE_ID": "gitlab",
		"CONJUR_AUTHN_JWT_TOKEN": "header.payload.sig", "CYBERARK_USERNAME": "host/ci/runner",
	})})
	wantValue(t, withHost, "JWT_WRITTEN", "v")
	found := false
	for _, r := range fake.Requests() {
		found = found || r.EscapedPath == "/authn-jwt/gitlab/default/host%2Fci%2Frunner/authenticate"
	}
	if !found {
		t.Error("no authn-jwt request with the host id as one encoded segment")
	}

	bad := newStore(t, &cyberark.Options{URL: fake.URL, JWTServiceID: "gitlab", JWTToken: "forged", LookupEnv: noEnv})
	wantCode(t, "Health with a forged JWT", bad.Health(context.Background()), backends.PermissionDenied)
}

func TestTLS(t *testing.T) {
	ctx := context.Background()
	fake := conjurtest.New(t, conjurtest.Options{TLS: true})
	opts := adminOptions(fake)

	// Without the CA: the certificate is not trusted.
	err := newStore(t, opts).Health(ctx)
	wantCode(t, "Health without ca_cert", err, backends.FailedPrecondition)

	// With the CA as PEM text, and as a file.
	opts.CACert = fake.CACertPEM
	if err := newStore(t, opts).Health(ctx); err != nil {
		t.Errorf("Health with ca_cert PEM: %v", err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, []byte(fake.CACertPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	opts.CACert = caFile
	if err := newStore(t, opts).Health(ctx); err != nil {
		t.Errorf("Health with ca_cert file: %v", err)
	}
	// ssl_verify = false, through CYBERARK_SSL_VERIFY.
	opts.CACert = ""
	opts.LookupEnv = envMap(map[string]string{"CYBERARK_SSL_VERIFY": "false"})
	if err := newStore(t, opts).Health(ctx); err != nil {
		t.Errorf("Health with CYBERARK_SSL_VERIFY=false: %v", err)
	}
}

func TestMutualTLS(t *testing.T) {
	ctx := context.Background()
	fake := conjurtest.New(t, conjurtest.Options{ClientCerts: true})
	opts := adminOptions(fake)
	opts.CACert = fake.CACertPEM
	if err := newStore(t, opts).Health(ctx); err == nil {
		t.Error("Health without a client certificate: got nil, want the TLS handshake refused")
	}

	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	if err := os.WriteFile(certFile, []byte(fake.ClientCertPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte(fake.ClientKeyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	opts.LookupEnv = envMap(map[string]string{"CYBERARK_CLIENT_CERT": certFile, "CYBERARK_CLIENT_KEY": keyFile})
	s := newStore(t, opts)
	mustWrite(t, s, "MTLS", "v")
	wantValue(t, s, "MTLS", "v")
}

func TestErrorCodes(t *testing.T) {
	cases := []struct {
		status     int
		retryAfter string
		want       backends.Code
	}{
		{http.StatusTooManyRequests, "3", backends.Throttled},
		{http.StatusServiceUnavailable, "", backends.Unavailable},
		{http.StatusBadGateway, "", backends.Unavailable},
		{http.StatusInternalServerError, "", backends.Unavailable},
		{http.StatusUnprocessableEntity, "", backends.InvalidArgument},
		{http.StatusForbidden, "", backends.PermissionDenied},
		{http.StatusNotFound, "", backends.NotFound},
		{http.StatusTeapot, "", backends.Unknown},
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.URL.Path, "/authn/") {
					_, _ = w.Write([]byte(`{"protected":"e30=","payload":"e30=","signature":"s"}`))
					return
				}
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(`{"error":{"code":"x","message":"what Conjur said"}}`))
			}))
			defer srv.Close()
			_, err := newStore(t, &cyberark.Options{URL: srv.URL, Login: "a", APIKey: "k", LookupEnv: noEnv}).ReadStored(context.Background(), "N")
			wantCode(t, "Find", err, tc.want)
			if err != nil && !strings.Contains(err.Error(), "what Conjur said") {
				t.Errorf("Find: got %q, want Conjur's message in it", err)
			}
		})
	}
	// Nothing listens: Unavailable (retried by the layer).
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := newStore(t, &cyberark.Options{URL: url, Login: "a", APIKey: "k", LookupEnv: noEnv}).ReadStored(context.Background(), "N")
	wantCode(t, "Find with nothing listening", err, backends.Unavailable)
}
