package vault_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault"
)

// fakeVault answers like Vault from canned replies keyed by "METHOD path"
// and records what it was sent. It stands in where the dev server cannot:
// namespaces (a Vault Enterprise feature), throttling and malformed answers.
type fakeVault struct {
	t       *testing.T
	mu      sync.Mutex
	replies map[string]fakeReply
	reqs    []recorded
}

type fakeReply struct {
	status int
	body   string
	header map[string]string
}

func newFakeVault(t *testing.T, replies map[string]fakeReply) (*fakeVault, string) {
	f := &fakeVault{t: t, replies: replies}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *fakeVault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	path := strings.TrimPrefix(r.URL.Path, "/v1/")
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{Method: r.Method, Path: path, Namespace: r.Header.Get("X-Vault-Namespace"), HasNamespace: len(r.Header.Values("X-Vault-Namespace")) > 0, Token: r.Header.Get("X-Vault-Token")})
	reply, ok := f.replies[r.Method+" "+path]
	f.mu.Unlock()
	if !ok {
		reply = fakeReply{status: http.StatusNotFound, body: `{"errors":[]}`}
	}
	for k, v := range reply.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(reply.status)
	_, _ = io.WriteString(w, reply.body)
}

func (f *fakeVault) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

const fakeLogin = `{"auth":{"client_token":"hvs.login-token","accessor":"acc","lease_duration":3600,"renewable":true}}`

// TestNamespaceHeaders: login requests carry login_namespace, KV requests
// secret_namespace, sys/health none. Namespaces are a Vault Enterprise
// feature the dev server refuses, so a recording handler checks the headers
// instead of a real server.
func TestNamespaceHeaders(t *testing.T) {
	f, addr := newFakeVault(t, map[string]fakeReply{
		"PUT auth/approle/login":        {200, fakeLogin, nil},
		"GET auth/token/lookup-self":    {200, `{"data":{}}`, nil},
		"GET sys/health":                {200, `{"initialized":true,"sealed":false,"standby":false}`, nil},
		"GET sys/internal/ui/mounts/kv": {200, `{"data":{"type":"kv","path":"kv/","options":{"version":"2"}}}`, nil},
		"GET kv/metadata/app/name":      {404, `{"errors":[]}`, nil},
		"PUT kv/data/app/name":          {200, `{"data":{"version":1}}`, nil},
		"GET kv/data/app/name":          {200, `{"data":{"data":{"key":"v"},"metadata":{"version":1,"deletion_time":"","destroyed":false}}}`, nil},
		"DELETE kv/metadata/app/name":   {204, ``, nil},
		"PUT auth/token/revoke-self":    {204, ``, nil},
	})
	b := newBackend(t, &vault.Options{
		Address:    addr,
		Mount:      "kv",
		PathPrefix: "app",
		AppRole:    vault.AppRoleOptions{RoleID: "r", SecretID: "s"},
		LookupEnv: envOf(map[string]string{
			"HCP_VAULT_NAMESPACE":        "admin",
			"HCP_VAULT_LOGIN_NAMESPACE":  "admin/auth",
			"HCP_VAULT_SECRET_NAMESPACE": "admin/team-a",
		}),
	})
	ctx := context.Background()
	if err := b.Health(ctx); err != nil {
		t.Fatalf("Health: %v", err)
	}
	if _, err := b.Put(ctx, backends.WriteRequest{Name: "name", Value: []byte("v")}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if _, err := b.Get(ctx, "name"); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if err := b.Delete(ctx, "name", backends.DeleteForever); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"GET sys/health":                "",
		"PUT auth/approle/login":        "admin/auth",
		"GET auth/token/lookup-self":    "admin/auth",
		"PUT auth/token/revoke-self":    "admin/auth",
		"GET sys/internal/ui/mounts/kv": "admin/team-a",
		"GET kv/metadata/app/name":      "admin/team-a",
		"PUT kv/data/app/name":          "admin/team-a",
		"GET kv/data/app/name":          "admin/team-a",
		"DELETE kv/metadata/app/name":   "admin/team-a",
	}
	seen := map[string]bool{}
	for _, r := range f.requests() {
		key := r.Method + " " + r.Path
		seen[key] = true
		ns, ok := want[key]
		if !ok {
			t.Errorf("unexpected request %s", key)
			continue
		}
		if r.Namespace != ns {
			t.Errorf("%s: got X-Vault-Namespace %q, want %q", key, r.Namespace, ns)
		}
		switch {
		case key == "PUT auth/approle/login" || key == "GET sys/health":
			if r.Token != "" {
				t.Errorf("%s: sent a token, want none", key)
			}
		case r.Token != "hvs.login-token":
			t.Errorf("%s: got token %q, want the login's", key, r.Token)
		}
	}
	for key := range want {
		if !seen[key] {
			t.Errorf("request %s was not sent", key)
		}
	}
}

// TestNamespaceDefault: with only namespace set, both kinds of request carry
// it.
func TestNamespaceDefault(t *testing.T) {
	f, addr := newFakeVault(t, map[string]fakeReply{
		"PUT auth/my-approle/login": {200, fakeLogin, nil},
	})
	b := newBackend(t, &vault.Options{
		Address:   addr,
		Namespace: "admin/",
		AppRole:   vault.AppRoleOptions{RoleID: "r", SecretID: "s", MountPath: "/my-approle/"},
	})
	_, err := b.Get(context.Background(), "x")
	wantCode(t, "Get", err, backends.NotFound)
	reqs := f.requests()
	if len(reqs) != 2 || reqs[0].Path != "auth/my-approle/login" || reqs[0].Namespace != "admin" || reqs[1].Path != "secret/data/x" || reqs[1].Namespace != "admin" {
		t.Errorf("requests: got %+v, want the login and the read, both in namespace admin", reqs)
	}
}

// TestStrayVaultNamespaceIgnored: VAULT_NAMESPACE in the process environment
// (read by the vault api client itself, and once by this store) must not
// send requests to a namespace LiteLLM does not read: LiteLLM reads only
// HCP_VAULT_*. With it set and no namespace configured, no request carries
// an X-Vault-Namespace header; an empty HCP_VAULT_SECRET_NAMESPACE beside
// HCP_VAULT_NAMESPACE sends the KV requests to the root namespace, as
// LiteLLM does, while the login keeps HCP_VAULT_NAMESPACE.
func TestStrayVaultNamespaceIgnored(t *testing.T) {
	t.Setenv("VAULT_NAMESPACE", "stray")
	t.Setenv("VAULT_TOKEN", "")
	for _, tc := range []struct {
		label         string
		env           map[string]string
		login, kv     string
		loginNS, kvNS bool
	}{
		{"NoNamespace", map[string]string{}, "", "", false, false},
		{"EmptySecretNamespace", map[string]string{"HCP_VAULT_NAMESPACE": "admin", "HCP_VAULT_SECRET_NAMESPACE": ""}, "admin", "", true, false},
	} {
		t.Run(tc.label, func(t *testing.T) {
			f, addr := newFakeVault(t, map[string]fakeReply{
				"PUT auth/approle/login":  {200, fakeLogin, nil},
				"GET secret/metadata/app": {404, `{"errors":[]}`, nil},
				"PUT secret/data/app":     {200, `{"data":{"version":1}}`, nil},
			})
			// The process environment (os.LookupEnv), HCP_VAULT_* from env.
			for _, v := range []string{"HCP_VAULT_NAMESPACE", "HCP_VAULT_LOGIN_NAMESPACE", "HCP_VAULT_SECRET_NAMESPACE"} {
				if val, ok := tc.env[v]; ok {
					t.Setenv(v, val)
				} else {
					unsetEnv(t, v)
				}
			}
			b, err := vault.New(context.Background(), &vault.Options{Address: addr, AppRole: vault.AppRoleOptions{RoleID: "r", SecretID: "s"}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			if _, err := b.Put(context.Background(), backends.WriteRequest{Name: "app", Value: []byte("v")}); err != nil {
				t.Fatalf("Put: %v", err)
			}
			reqs := f.requests()
			if len(reqs) != 3 {
				t.Fatalf("requests: got %+v, want the login, the metadata read and the write", reqs)
			}
			for _, r := range reqs {
				wantNS, want := tc.kv, tc.kvNS
				if r.Path == "auth/approle/login" {
					wantNS, want = tc.login, tc.loginNS
				}
				if r.HasNamespace != want || r.Namespace != wantNS {
					t.Errorf("%s %s: got X-Vault-Namespace %q (sent: %t), want %q (sent: %t); VAULT_NAMESPACE=stray must not count", r.Method, r.Path, r.Namespace, r.HasNamespace, wantNS, want)
				}
			}
		})
	}
}

// unsetEnv unsets v for the test and restores it after.
func unsetEnv(t *testing.T, v string) {
	t.Helper()
	t.Setenv(v, "") // registers the restore
	if err := os.Unsetenv(v); err != nil {
		t.Fatal(err)
	}
}

func TestThrottledRetryAfter(t *testing.T) {
	_, addr := newFakeVault(t, map[string]fakeReply{
		"GET secret/data/x": {429, `{"errors":["request path \"secret/data/x\": rate limit quota exceeded"]}`, map[string]string{"Retry-After": "3"}},
	})
	b := newBackend(t, &vault.Options{Address: addr, Token: "t"})
	var delays []time.Duration
	s, err := backends.NewStore(b, &backends.StoreOptions{
		Settings:  backends.Settings{AccessMode: backends.ReadAndWrite},
		Retry:     backends.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Minute},
		LookupEnv: noEnv,
		Wait: func(_ context.Context, d time.Duration) error {
			delays = append(delays, d)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.ReadStored(context.Background(), "x")
	wantCode(t, "Find when throttled", err, backends.Throttled)
	wantContains(t, "Find when throttled", err, "429", "rate limit quota exceeded")
	if len(delays) != 1 || delays[0] < 3*time.Second {
		t.Errorf("retry delays: got %v, want one of at least the 3s of Retry-After", delays)
	}
	var e *backends.Error
	if _, err := b.Get(context.Background(), "x"); !errors.As(err, &e) || e.RetryAfter != 3*time.Second {
		t.Errorf("Get: got %v, want a *backends.Error with RetryAfter 3s", err)
	}
}

// TestSurprisingAnswers: wrong-typed or malformed payloads are coded errors
// that quote no value, never panics.
func TestSurprisingAnswers(t *testing.T) {
	const secret = "sk-SECRET-in-payload"
	cases := []struct {
		label string
		reply fakeReply
		want  backends.Code
	}{
		{"NotJSON", fakeReply{200, secret, nil}, backends.Internal},
		{"TruncatedJSON", fakeReply{200, `{"data":{"data":{"key":"` + secret, nil}, backends.Internal},
		{"DataNotObject", fakeReply{200, `{"data":"` + secret + `"}`, nil}, backends.Internal},
		{"NoMetadata", fakeReply{200, `{"data":{"data":{"key":"` + secret + `"}}}`, nil}, backends.FailedPrecondition},
		{"VersionNotNumber", fakeReply{200, `{"data":{"data":{"key":"x"},"metadata":{"version":"` + secret + `"}}}`, nil}, backends.Internal},
		{"NoVersion", fakeReply{200, `{"data":{"data":{"key":"x"},"metadata":{}}}`, nil}, backends.Internal},
		{"ValueNumber", fakeReply{200, `{"data":{"data":{"key":98765432109876543210},"metadata":{"version":1}}}`, nil}, backends.FailedPrecondition},
		{"ValueArray", fakeReply{200, `{"data":{"data":{"key":["` + secret + `"]},"metadata":{"version":1}}}`, nil}, backends.FailedPrecondition},
		{"CustomMetadataNotStrings", fakeReply{200, `{"data":{"data":{"key":"x"},"metadata":{"version":1,"custom_metadata":{"a":{"b":"` + secret + `"}}}}}`, nil}, backends.Internal},
		{"ScheduledDeletionStillReadable", fakeReply{200, `{"data":{"data":{"key":"x"},"metadata":{"version":3,"deletion_time":"2999-01-01T00:00:00Z"}}}`, nil}, backends.OK},
		{"DataNull", fakeReply{200, `{"data":{"data":null,"metadata":{"version":4}}}`, nil}, backends.NotFound},
		{"Deleted404", fakeReply{404, `{"data":{"data":null,"metadata":{"version":2,"deletion_time":"2024-01-01T00:00:00Z","destroyed":false}}}`, nil}, backends.NotFound},
		{"Destroyed404", fakeReply{404, `{"data":{"data":null,"metadata":{"version":2,"deletion_time":"","destroyed":true}}}`, nil}, backends.NotFound},
		{"Proxy502", fakeReply{502, `<html>bad gateway</html>`, nil}, backends.Unavailable},
		{"Standby503", fakeReply{503, `{"errors":["Vault is sealed"]}`, nil}, backends.Unavailable},
		{"Internal500", fakeReply{500, `{"errors":["internal error"]}`, nil}, backends.Unavailable},
		{"Timeout504", fakeReply{504, ``, nil}, backends.Unavailable},
		{"Precondition412", fakeReply{412, `{"errors":["required index state not present"]}`, nil}, backends.FailedPrecondition},
		{"BadRequest400", fakeReply{400, `{"errors":["invalid path"]}`, nil}, backends.InvalidArgument},
		{"ErrorsNotStrings", fakeReply{400, `{"errors":[{"x":"` + secret + `"}]}`, nil}, backends.InvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			_, addr := newFakeVault(t, map[string]fakeReply{"GET secret/data/x": tc.reply})
			_, err := newBackend(t, &vault.Options{Address: addr, Token: "t"}).Get(context.Background(), "x")
			wantCode(t, "Get", err, tc.want)
			noLeak(t, "Get", err, secret, "98765432109876543210")
		})
	}
	t.Run("PutWithoutVersion", func(t *testing.T) {
		_, addr := newFakeVault(t, map[string]fakeReply{"PUT secret/data/x": {204, ``, nil}})
		_, err := newBackend(t, &vault.Options{Address: addr, Token: "t"}).Put(context.Background(), backends.WriteRequest{Name: "x", Value: []byte(secret)})
		wantCode(t, "Put answered without a version (a KV v1 mount)", err, backends.FailedPrecondition)
		wantContains(t, "Put answered without a version", err, "KV version 2")
		noLeak(t, "Put answered without a version", err, secret)
	})
	t.Run("LargeAnswerReadWhole", func(t *testing.T) {
		// A body larger than the transport's buffers is still being read
		// after the request returns; nothing may cancel it meanwhile.
		pad := strings.Repeat("p", 4<<20)
		_, addr := newFakeVault(t, map[string]fakeReply{
			"PUT secret/data/x": {200, `{"data":{"version":7},"padding":"` + pad + `"}`, nil},
			"GET secret/data/x": {200, `{"data":{"data":{"key":"v"},"metadata":{"version":7}},"padding":"` + pad + `"}`, nil},
		})
		b := newBackend(t, &vault.Options{Address: addr, Token: "t"})
		if v, err := b.Put(context.Background(), backends.WriteRequest{Name: "x", Value: []byte("v")}); err != nil || v != "7" {
			t.Errorf("Put with a large answer: got %q, %v; want version 7", v, err)
		}
		if sec, err := b.Get(context.Background(), "x"); err != nil || sec.Version != "7" {
			t.Errorf("Get with a large answer: got %v, %v; want version 7", sec, err)
		}
	})
	t.Run("LoginWithoutToken", func(t *testing.T) {
		_, addr := newFakeVault(t, map[string]fakeReply{"PUT auth/approle/login": {200, `{"auth":null}`, nil}})
		_, err := newBackend(t, &vault.Options{Address: addr, AppRole: vault.AppRoleOptions{RoleID: "r", SecretID: "s"}}).Get(context.Background(), "x")
		wantCode(t, "Get after a login without a token", err, backends.Internal)
	})
	t.Run("HealthNotVault", func(t *testing.T) {
		_, addr := newFakeVault(t, map[string]fakeReply{"GET sys/health": {200, `<html/>`, nil}})
		err := newBackend(t, &vault.Options{Address: addr, Token: "t"}).Health(context.Background())
		wantCode(t, "Health of something that is not Vault", err, backends.Unavailable)
		wantContains(t, "Health of something that is not Vault", err, "is this a Vault server")
	})
	t.Run("HealthNotInitialized", func(t *testing.T) {
		_, addr := newFakeVault(t, map[string]fakeReply{"GET sys/health": {501, `{"initialized":false,"sealed":true}`, nil}})
		err := newBackend(t, &vault.Options{Address: addr, Token: "t"}).Health(context.Background())
		wantCode(t, "Health of an uninitialized Vault", err, backends.Unavailable)
		wantContains(t, "Health of an uninitialized Vault", err, "sealed")
	})
}

func TestErrorCode(t *testing.T) {
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	cases := []struct {
		err  error
		want backends.Code
	}{
		{nil, backends.OK},
		{vault.StatusError(403, "permission denied"), backends.PermissionDenied},
		{vault.StatusError(404), backends.NotFound},
		{vault.StatusError(400, "check-and-set parameter did not match the current version"), backends.FailedPrecondition},
		{vault.StatusError(400, "bad"), backends.InvalidArgument},
		{vault.StatusError(412), backends.FailedPrecondition},
		{vault.StatusError(429), backends.Throttled},
		{vault.StatusError(500), backends.Unavailable},
		{vault.StatusError(502), backends.Unavailable},
		{vault.StatusError(503), backends.Unavailable},
		{vault.StatusError(504), backends.Unavailable},
		{fmt.Errorf("wrapped: %w", opErr), backends.Unavailable},
		{syscall.ECONNRESET, backends.Unavailable},
		{io.EOF, backends.Unavailable},
		{io.ErrUnexpectedEOF, backends.Unavailable},
		{x509.UnknownAuthorityError{}, backends.FailedPrecondition},
		{context.Canceled, backends.Canceled},
		{context.DeadlineExceeded, backends.DeadlineExceeded},
		{errors.New("something else"), backends.Unknown},
	}
	for _, tc := range cases {
		if got := vault.ErrorCodeOf(tc.err); got != tc.want {
			t.Errorf("ErrorCode(%T %v): got %v, want %v", tc.err, tc.err, got, tc.want)
		}
	}
}

// TestRedirectNotFollowed: a Vault (or anything at its address) that answers
// with a redirect does not get the provider to send the token, or a write,
// to the redirect's target: the call fails, naming the redirect.
func TestRedirectNotFollowed(t *testing.T) {
	var elsewhere sync.Mutex
	var got []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" token="+r.Header.Get("X-Vault-Token"))
		elsewhere.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(other.Close)
	f, addr := newFakeVault(t, map[string]fakeReply{
		"PUT secret/data/REDIRECTED": {http.StatusTemporaryRedirect, ``, map[string]string{"Location": other.URL + "/v1/secret/data/REDIRECTED"}},
		"GET secret/data/REDIRECTED": {http.StatusTemporaryRedirect, ``, map[string]string{"Location": other.URL + "/v1/secret/data/REDIRECTED"}},
	})
	b, err := vault.New(context.Background(), &vault.Options{Address: addr, Token: "hvs.the-token"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := backends.NewStore(b, &backends.StoreOptions{Settings: backends.Settings{AccessMode: backends.ReadAndWrite}, Retry: backends.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	_, err = s.Write(context.Background(), backends.WriteRequest{Name: "REDIRECTED", Value: []byte("v")})
	if err == nil || !strings.Contains(err.Error(), "redirect (HTTP 307)") || !strings.Contains(err.Error(), "does not follow redirects") {
		t.Errorf("write answered with a redirect: got %v, want an error naming the redirect", err)
	}
	if strings.Contains(fmt.Sprint(err), "hvs.the-token") {
		t.Errorf("the error shows the token: %v", err)
	}
	elsewhere.Lock()
	defer elsewhere.Unlock()
	if len(got) > 0 {
		t.Errorf("the redirect's target was sent %v, want nothing", got)
	}
	if len(f.requests()) == 0 {
		t.Error("the fake Vault saw no request")
	}
}
