package custom_test

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

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/custom"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/custom/customtest"
)

// Custom-store-specific tests.

func newStore(t *testing.T, opts custom.Options) *backends.Store {
	t.Helper()
	b, err := custom.New(context.Background(), &opts)
	if err != nil {
		t.Fatalf("custom.New: %v", err)
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

func wantCode(t *testing.T, what string, err error, want backends.Code) {
	t.Helper()
	if got := backends.CodeOf(err); got != want {
		t.Errorf("%s: got code %v, want %v (err: %v)", what, got, want, err)
	}
}

func wantMessage(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: got %v, want a message containing %q", what, err, p)
		}
	}
}

func TestReadOnlyStores(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "secrets.json")
	seed := newStore(t, custom.Options{Command: customtest.ExecCommandFile(file)})
	if _, err := seed.Write(ctx, backends.WriteRequest{Name: "SEEDED", Value: []byte("from-seed")}); err != nil {
		t.Fatal(err)
	}
	stores := map[string]custom.Options{
		"HTTP": {URL: customtest.StartHTTP(t, "-read-only", "-seed", "SEEDED=from-seed")},
		"Exec": {Command: customtest.ExecCommandFile(file, "-read-only")},
	}
	for label, opts := range stores {
		t.Run(label, func(t *testing.T) {
			s := newStore(t, opts)
			if c := s.Caps(); c.Write || c.Delete {
				t.Errorf("Caps of a read-only store: got %+v, want no Write and no Delete", c)
			}
			err := s.CheckWritable()
			wantCode(t, "CheckWritable", err, backends.Unsupported)
			wantMessage(t, "CheckWritable", err, "custom", "does not support writing")
			sec, err := s.ReadStored(ctx, "SEEDED")
			if err != nil || string(sec.Value) != "from-seed" {
				t.Errorf("ReadStored(SEEDED): got %v, %v; want %q", sec, err, "from-seed")
			}
			if err := s.Health(ctx); err != nil {
				t.Errorf("Health: %v", err)
			}
		})
	}
}

func TestCapabilitiesDefaultsAndErrors(t *testing.T) {
	ctx := context.Background()
	// No capabilities endpoint: read-only, like LiteLLM's CustomSecretManager.
	noCaps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/secrets/A" {
			_, _ = w.Write([]byte(`{"value":"a"}`))
			return
		}
		http.NotFound(w, r)
	}))
	defer noCaps.Close()
	s := newStore(t, custom.Options{URL: noCaps.URL})
	if c := s.Caps(); c.Write || c.Delete {
		t.Errorf("Caps without a capabilities endpoint: got %+v, want read-only", c)
	}
	sec, err := s.ReadStored(ctx, "A")
	if err != nil || string(sec.Value) != "a" || sec.Version == "" {
		t.Errorf("ReadStored(A): got %v, %v; want value a with a fingerprint version", sec, err)
	}
	if err := s.Health(ctx); err == nil {
		t.Error("Health of a store whose capabilities call is 404: got nil, want an error")
	}

	// Capabilities without get.
	noGet := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"operations":["put"]}`))
	}))
	defer noGet.Close()
	_, err = custom.New(ctx, &custom.Options{URL: noGet.URL})
	wantCode(t, "New of a store without get", err, backends.FailedPrecondition)
	wantMessage(t, "New of a store without get", err, `"get"`)

	// A store with put but no delete cannot delete, and says why.
	noDelete := newStore(t, custom.Options{Command: []string{"sh", "-c", `read -r req; case "$req" in *capabilities*) echo '{"operations":["get","put"]}';; *) echo '{"version":"1"}';; esac`}})
	if c := noDelete.Caps(); !c.Write || c.Delete {
		t.Errorf("Caps of a store with get and put: got %+v, want Write without Delete", c)
	}
	wantMessage(t, "NoDeleteReason", errString(noDelete.NoDeleteReason()), `"delete"`, "get, put")
	wantCode(t, "Delete", noDelete.Delete(ctx, "X", backends.DeleteForever), backends.Unsupported)

	// Unreachable store: configure fails, retried by nobody.
	gone := httptest.NewServer(http.NotFoundHandler())
	url := gone.URL
	gone.Close()
	_, err = custom.New(ctx, &custom.Options{URL: url})
	wantCode(t, "New of an unreachable store", err, backends.Unavailable)

	_, err = custom.New(ctx, &custom.Options{URL: "http://x", Command: []string{"y"}})
	wantCode(t, "New with url and command", err, backends.InvalidArgument)
	_, err = custom.New(ctx, &custom.Options{})
	wantCode(t, "New without url or command", err, backends.InvalidArgument)
}

type errString string

func (e errString) Error() string { return string(e) }

func TestHeaders(t *testing.T) {
	ctx := context.Background()
	url := customtest.StartHTTP(t, "-token", "s3cret-token")
	_, err := custom.New(ctx, &custom.Options{URL: url})
	if err == nil {
		t.Fatal("New without the Authorization header: got nil, want the store's 401")
	}
	wantMessage(t, "New without the header", err, "HTTP 401", "unauthenticated")
	s := newStore(t, custom.Options{URL: url, Headers: map[string]string{"Authorization": "Bearer s3cret-token"}})
	if _, err := s.Write(ctx, backends.WriteRequest{Name: "H", Value: []byte("v")}); err != nil {
		t.Errorf("Write with the header: %v", err)
	}
	_, err = custom.New(ctx, &custom.Options{URL: url, Headers: map[string]string{"Bad Header": "x"}})
	wantCode(t, "New with an invalid header name", err, backends.InvalidArgument)
}

func TestNamesAreOneEncodedSegment(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.Method+" "+r.URL.EscapedPath())
		mu.Unlock()
		switch r.Method {
		case http.MethodGet:
			if r.URL.Path == "/capabilities" {
				_, _ = w.Write([]byte(`{"operations":["get","put","delete","rotate"]}`))
				return
			}
			_, _ = w.Write([]byte(`{"value":"v","version":"7"}`))
		default:
			_, _ = w.Write([]byte(`{"version":"8"}`))
		}
	}))
	defer srv.Close()
	s := newStore(t, custom.Options{URL: srv.URL})
	for _, name := range []string{"team/llm/KEY A", ".", "a?b=1#c"} {
		if _, err := s.Write(ctx, backends.WriteRequest{Name: name, Value: []byte("v")}); err != nil {
			t.Fatalf("Write(%q): %v", name, err)
		}
	}
	if _, err := s.Rotate(ctx, "old/name", backends.WriteRequest{Name: "new/name", Value: []byte("v")}, backends.DeleteForever); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	want := []string{
		"GET /capabilities",
		"PUT /secrets/team%2Fllm%2FKEY%20A",
		"PUT /secrets/%2E",
		"PUT /secrets/a%3Fb=1%23c",
		"GET /secrets/new%2Fname", // the check that the new name is free
		"POST /secrets/old%2Fname/rotate",
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(paths, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\ngot  %q\nwant %q", paths, want)
	}
}

func TestContractErrorCodes(t *testing.T) {
	cases := []struct {
		status int
		body   string
		want   backends.Code
	}{
		{404, `{"error":{"code":"not_found","message":"gone"}}`, backends.NotFound},
		{429, `{"error":{"code":"throttled","message":"slow down"}}`, backends.Throttled},
		{403, `{"error":{"code":"permission_denied","message":"no"}}`, backends.PermissionDenied},
		{400, `{"error":{"code":"invalid_argument","message":"bad"}}`, backends.InvalidArgument},
		{503, ``, backends.Unavailable},
		{500, `<html>oops</html>`, backends.Unavailable},
		{418, `{"error":{"code":"weird","message":"?"}}`, backends.Unknown},
		{200, `sk-SECRET-not-json`, backends.Internal},
		{200, `{"version":"1"}`, backends.Internal}, // no value
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.status)+"/"+tc.body, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/capabilities" {
					_, _ = w.Write([]byte(`{"operations":["get"]}`))
					return
				}
				if tc.status == 429 {
					w.Header().Set("Retry-After", "2")
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			_, err := newStore(t, custom.Options{URL: srv.URL}).ReadStored(context.Background(), "N")
			wantCode(t, "Find", err, tc.want)
			if err != nil && strings.Contains(err.Error(), "sk-SECRET") {
				t.Errorf("Find: error %q quotes the answer body", err)
			}
		})
	}
}

func TestExecFailures(t *testing.T) {
	ctx := context.Background()
	caps := `read -r req; case "$req" in *capabilities*) echo '{"operations":["get","put"]}'; exit 0;; esac; `
	cases := []struct {
		label  string
		script string
		want   backends.Code
		msg    string
	}{
		{"NotJSON", caps + `echo 'sk-SECRET-leaked value'`, backends.Internal, "not the contract's JSON"},
		{"SilentExit0", caps + `exit 0`, backends.Internal, "without a JSON answer"},
		{"ExitWithStderr", caps + `echo 'vault sealed' >&2; exit 3`, backends.Unknown, "status 3: vault sealed"},
		{"ErrorAnswer", caps + `echo '{"error":{"code":"not_found","message":"no such key"}}'; exit 1`, backends.NotFound, "no such key"},
		{"ErrorAnswerExit0", caps + `echo '{"error":{"code":"unavailable","message":"backend down"}}'`, backends.Unavailable, "backend down"},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			_, err := newStore(t, custom.Options{Command: []string{"sh", "-c", tc.script}}).ReadStored(ctx, "N")
			wantCode(t, "Find", err, tc.want)
			wantMessage(t, "Find", err, tc.msg)
			if err != nil && strings.Contains(err.Error(), "sk-SECRET") {
				t.Errorf("Find: error %q quotes stdout", err)
			}
		})
	}

	_, err := custom.New(ctx, &custom.Options{Command: []string{filepath.Join(t.TempDir(), "missing-helper")}})
	wantCode(t, "New with a missing command", err, backends.FailedPrecondition)

	start := time.Now()
	_, err = custom.New(ctx, &custom.Options{Command: []string{"sleep", "30"}, Timeout: 200 * time.Millisecond})
	wantCode(t, "New with a command that hangs", err, backends.DeadlineExceeded)
	wantMessage(t, "New with a command that hangs", err, "custom.timeout")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a hanging command took %s to give up, want about the 200ms timeout", d)
	}
}

func TestValuesMustBeText(t *testing.T) {
	s := newStore(t, custom.Options{Command: customtest.ExecCommand(t)})
	_, err := s.Write(context.Background(), backends.WriteRequest{Name: "BIN", Value: []byte{0xff, 0xfe}})
	wantCode(t, "Write of a non-UTF-8 value", err, backends.InvalidArgument)
}

func TestExecStoreFileMode(t *testing.T) {
	file := filepath.Join(t.TempDir(), "secrets.json")
	s := newStore(t, custom.Options{Command: customtest.ExecCommandFile(file)})
	if _, err := s.Write(context.Background(), backends.WriteRequest{Name: "M", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("store file mode: got %v, want 0600", fi.Mode().Perm())
	}
}

// A password in custom.url's userinfo never shows in an error: not when the
// URL is refused, not when the store cannot be reached, not when it answers
// with an error.
func TestURLUserinfoNeverEchoed(t *testing.T) {
	ctx := context.Background()
	const pw = "pa55-w0rd-in-url"
	server := customtest.StartHTTP(t, "-token", "s3cret-token")
	withUser := strings.Replace(server, "://", "://svc:"+pw+"@", 1)
	for what, raw := range map[string]string{
		"refused URL":      "http://svc:" + pw + "@127.0.0.1:1/?query=1",
		"not a URL":        "ht tp://svc:" + pw + "@host",
		"unreachable":      "http://svc:" + pw + "@127.0.0.1:1",
		"answers with 401": withUser,
	} {
		_, err := custom.New(ctx, &custom.Options{URL: raw, Timeout: 2 * time.Second})
		if err == nil {
			t.Errorf("%s: custom.New succeeded, want an error", what)
			continue
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("%s: the error shows the URL's password: %v", what, err)
		}
		if !strings.Contains(err.Error(), "REDACTED@") && what != "answers with 401" {
			t.Errorf("%s: the error does not name the (redacted) URL: %v", what, err)
		}
	}
}
