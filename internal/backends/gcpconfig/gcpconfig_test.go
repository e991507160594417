package gcpconfig_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpconfig"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in        string
		addr      string
		plaintext bool
		err       string
	}{
		{in: ""},
		{in: "127.0.0.1:8085", addr: "127.0.0.1:8085", plaintext: true},
		{in: "localhost:8085", addr: "localhost:8085", plaintext: true},
		{in: "[::1]:8085", addr: "[::1]:8085", plaintext: true},
		{in: "127.3.2.1:1", addr: "127.3.2.1:1", plaintext: true},
		{in: "http://emulator:8085", addr: "emulator:8085", plaintext: true},
		{in: "http://emulator", addr: "emulator:80", plaintext: true},
		{in: "https://127.0.0.1:8443", addr: "127.0.0.1:8443"},
		{in: "https://secretmanager.example.p.googleapis.com", addr: "secretmanager.example.p.googleapis.com:443"},
		{in: "secretmanager.us-east1.rep.googleapis.com:443", addr: "secretmanager.us-east1.rep.googleapis.com:443"},
		{in: "private.example.com", addr: "private.example.com:443"},
		{in: " https://x.example.com/ ", addr: "x.example.com:443"},
		{in: "ftp://x", err: "scheme"},
		{in: "https://x.example.com/v1", err: "without path"},
		{in: "https://user@x.example.com", err: "without path, query or user"},
		{in: "x.example.com:0", err: "port"},
		{in: "x.example.com:http", err: "port"},
		{in: "https://", err: "want host:port"},
	}
	for _, tc := range tests {
		addr, plaintext, err := gcpconfig.ParseEndpoint(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseEndpoint(%q): got %v, want an error containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || addr != tc.addr || plaintext != tc.plaintext {
			t.Errorf("ParseEndpoint(%q): got %q, %t, %v; want %q, %t", tc.in, addr, plaintext, err, tc.addr, tc.plaintext)
		}
	}
}

const saDoc = `{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\nSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n","client_email":"a@b.iam.gserviceaccount.com"}`

func TestResolveAuth(t *testing.T) {
	dir := t.TempDir()
	saFile := filepath.Join(dir, "sa.json")
	if err := os.WriteFile(saFile, []byte(saDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		label    string
		opts     gcpconfig.Options
		env      map[string]string
		auth     gcpconfig.AuthMethod
		source   string
		credType string
	}{
		{label: "ADC", auth: gcpconfig.AuthADC},
		{label: "TokenAttribute", opts: gcpconfig.Options{AccessToken: "ya29.a"}, env: map[string]string{"GOOGLE_CREDENTIALS": saFile},
			auth: gcpconfig.AuthAccessToken, source: "google_kms.access_token"},
		{label: "CredentialsContent", opts: gcpconfig.Options{Credentials: saDoc}, env: map[string]string{"GOOGLE_OAUTH_ACCESS_TOKEN": "ya29.env"},
			auth: gcpconfig.AuthCredentials, source: "google_kms.credentials", credType: "service_account"},
		{label: "CredentialsFile", opts: gcpconfig.Options{Credentials: saFile}, auth: gcpconfig.AuthCredentials, source: "google_kms.credentials", credType: "service_account"},
		{label: "TokenVariable", env: map[string]string{"GOOGLE_OAUTH_ACCESS_TOKEN": "ya29.env", "GOOGLE_CREDENTIALS": saFile},
			auth: gcpconfig.AuthAccessToken, source: "GOOGLE_OAUTH_ACCESS_TOKEN"},
		{label: "CredentialsVariable", env: map[string]string{"GOOGLE_CREDENTIALS": saDoc}, auth: gcpconfig.AuthCredentials, source: "GOOGLE_CREDENTIALS", credType: "service_account"},
		{label: "AuthorizedUser", opts: gcpconfig.Options{Credentials: `{"type":"authorized_user","client_id":"x"}`}, auth: gcpconfig.AuthCredentials, credType: "authorized_user", source: "google_kms.credentials"},
		{label: "PlaintextIgnoresCredentials", opts: gcpconfig.Options{Endpoint: "127.0.0.1:1", AccessToken: "ya29.a"}, auth: gcpconfig.AuthNone},
		{label: "PlaintextIgnoresBadCredentials", opts: gcpconfig.Options{Endpoint: "http://emulator:1"}, env: map[string]string{"GOOGLE_CREDENTIALS": "{not json"}, auth: gcpconfig.AuthNone},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			tc.opts.Block = "google_kms"
			tc.opts.LookupEnv = env(tc.env)
			r, err := tc.opts.Resolve()
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if r.Auth != tc.auth || r.Source != tc.source || r.CredentialsType() != tc.credType {
				t.Errorf("Resolve: got auth %s source %q type %q, want %s %q %q", r.Auth, r.Source, r.CredentialsType(), tc.auth, tc.source, tc.credType)
			}
			if len(r.ClientOptions("")) == 0 {
				t.Errorf("ClientOptions: got none")
			}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
				if out := fmt.Sprintf(verb, r); strings.Contains(out, "ya29") || strings.Contains(out, "SECRETKEYMATERIAL") {
					t.Errorf("Sprintf(%s, Resolved) leaks a credential: %s", verb, out)
				}
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		label string
		opts  gcpconfig.Options
		env   map[string]string
		want  []string
	}{
		{label: "Both", opts: gcpconfig.Options{AccessToken: "ya29.a", Credentials: saDoc}, want: []string{"set only one of google_kms.access_token and google_kms.credentials"}},
		{label: "MissingFile", opts: gcpconfig.Options{Credentials: "/nonexistent/sa.json"}, want: []string{"google_kms.credentials", "not a JSON document, and not a readable file"}},
		{label: "BadJSON", opts: gcpconfig.Options{Credentials: `{"type":"service_account","private_key":"SECRETKEYMATERIAL"`}, want: []string{"google_kms.credentials", "not valid JSON"}},
		{label: "BadJSONFromVariable", env: map[string]string{"GOOGLE_CREDENTIALS": `{"private_key": SECRETKEYMATERIAL}`}, want: []string{"google_kms.credentials (from GOOGLE_CREDENTIALS)", "not valid JSON"}},
		{label: "UnknownType", opts: gcpconfig.Options{Credentials: `{"type":"api_key","key":"SECRETKEYMATERIAL"}`}, want: []string{`type "api_key"`, "service_account"}},
		{label: "BadEndpoint", opts: gcpconfig.Options{Endpoint: "https://x/y"}, want: []string{"google_kms.endpoint"}},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			tc.opts.Block = "google_kms"
			tc.opts.LookupEnv = env(tc.env)
			_, err := tc.opts.Resolve()
			if got := backends.CodeOf(err); got != backends.InvalidArgument {
				t.Fatalf("Resolve: got code %v, want InvalidArgument (err: %v)", got, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Resolve: got message %q, want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "SECRETKEYMATERIAL") || strings.Contains(err.Error(), "ya29") {
				t.Errorf("Resolve: the error quotes a credential: %q", err)
			}
		})
	}
}

func TestCodeAndRetryInfo(t *testing.T) {
	st, err := status.New(codes.ResourceExhausted, "quota").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(7e9)})
	if err != nil {
		t.Fatal(err)
	}
	wrapped := gcpconfig.Wrap(st.Err())
	var be *backends.Error
	if got := backends.CodeOf(wrapped); got != backends.Throttled {
		t.Errorf("Wrap(RESOURCE_EXHAUSTED with RetryInfo): got code %v, want Throttled", got)
	}
	if !errors.As(wrapped, &be) || be.RetryAfter.Seconds() != 7 {
		t.Errorf("Wrap(RESOURCE_EXHAUSTED with RetryInfo 7s): got %v, want RetryAfter 7s", wrapped)
	}
	plain := status.Error(codes.Unavailable, "down")
	if got := gcpconfig.Wrap(plain); got != plain {
		t.Errorf("Wrap(UNAVAILABLE without RetryInfo): got %v, want the error unchanged", got)
	}
	if got := gcpconfig.Code(plain); got != backends.Unavailable {
		t.Errorf("Code(UNAVAILABLE): got %v", got)
	}
	if gcpconfig.Wrap(nil) != nil || gcpconfig.Code(nil) != backends.OK {
		t.Errorf("Wrap(nil)/Code(nil): want nil and OK")
	}
}
