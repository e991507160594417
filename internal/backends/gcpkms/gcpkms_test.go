package gcpkms_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/codes"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpkms"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpkms/gcpkmstest"
)

// Google Cloud KMS-specific tests. A KMS store holds no secrets, so the
// conformance suite (Get, Put, Delete) does not apply; these tests cover the
// Keeper contract through *backends.Keyring, as provider code uses it (and
// keeper_test.go runs the Keeper conformance suite).

const (
	keyA = "projects/test-project/locations/global/keyRings/llm/cryptoKeys/key-a"
	keyB = "projects/test-project/locations/global/keyRings/llm/cryptoKeys/key-b"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// startFake runs a fake holding keyA and keyB.
func startFake(t *testing.T) *gcpkmstest.Server {
	t.Helper()
	srv := gcpkmstest.Start(t)
	for _, k := range []string{keyA, keyB} {
		if err := srv.AddKey(k); err != nil {
			t.Fatal(err)
		}
	}
	return srv
}

func newBackend(t *testing.T, srv *gcpkmstest.Server, key string) backends.Keeper {
	t.Helper()
	b, err := gcpkms.New(context.Background(), &gcpkms.Options{KeyName: key, Endpoint: srv.Endpoint(), LookupEnv: env(nil)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) wait(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.d = append(w.d, d)
	return ctx.Err()
}

func newStore(t *testing.T, b backends.Keeper, environ map[string]string, w *waits) *backends.Keyring {
	t.Helper()
	o := &backends.StoreOptions{Settings: backends.Settings{AccessMode: backends.ReadAndWrite}, LookupEnv: env(environ)}
	if w != nil {
		o.Wait = w.wait
	}
	s, err := backends.NewKeyring(b, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func wantCode(t *testing.T, what string, err error, want backends.Code) {
	t.Helper()
	if got := backends.CodeOf(err); got != want {
		t.Errorf("%s: got code %v, want %v (err: %v)", what, got, want, err)
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		label string
		opts  gcpkms.Options
		env   map[string]string
		want  string
		err   []string
	}{
		{label: "Attribute", opts: gcpkms.Options{KeyName: keyA}, env: map[string]string{gcpkms.EnvKeyName: keyB}, want: keyA},
		{label: "LiteLLMVariable", env: map[string]string{gcpkms.EnvKeyName: " " + keyB + "\n"}, want: keyB},
		{label: "Missing", err: []string{"google_kms.key_name is required", gcpkms.EnvKeyName}},
		{label: "Version", opts: gcpkms.Options{KeyName: keyA + "/cryptoKeyVersions/1"}, err: []string{"google_kms.key_name", "names a key version"}},
		{label: "Malformed", env: map[string]string{gcpkms.EnvKeyName: "projects/p/keyRings/r"}, err: []string{"google_kms.key_name (from GOOGLE_KMS_RESOURCE_NAME)", "not a crypto key name"}},
		{label: "BothCredentials", opts: gcpkms.Options{KeyName: keyA, AccessToken: "t", Credentials: "{}"}, err: []string{"set only one"}},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			tc.opts.LookupEnv = env(tc.env)
			r, err := tc.opts.Resolve()
			if len(tc.err) > 0 {
				wantCode(t, "Resolve", err, backends.InvalidArgument)
				for _, w := range tc.err {
					if err != nil && !strings.Contains(err.Error(), w) {
						t.Errorf("Resolve: got %q, want it to contain %q", err, w)
					}
				}
				return
			}
			if err != nil || r.KeyName != tc.want {
				t.Errorf("Resolve: got %q, %v; want %q", r.KeyName, err, tc.want)
			}
		})
	}
}

func TestEncryptDecrypt(t *testing.T) {
	ctx := context.Background()
	srv := startFake(t)
	s := newStore(t, newBackend(t, srv, keyA), nil, nil)
	for _, value := range []string{"sk-openai-0123456789", "ключ 🔑 \n\t\"'", "\x00\xff\xfe binary", strings.Repeat("x", 64*1024)} {
		ct, err := s.Encrypt(ctx, "OPENAI_API_KEY", []byte(value))
		if err != nil {
			t.Fatalf("Encrypt: %v", err)
		}
		raw, err := base64.StdEncoding.DecodeString(ct)
		if err != nil {
			t.Fatalf("Encrypt: got a ciphertext that is not standard base64: %v", err)
		}
		if bytes.Contains(raw, []byte(value)) {
			t.Errorf("Encrypt: the ciphertext holds the plaintext")
		}
		again, err := s.Encrypt(ctx, "OPENAI_API_KEY", []byte(value))
		if err != nil || again == ct {
			t.Errorf("Encrypt twice: got the same ciphertext or %v, want a fresh nonce each time", err)
		}
		got, err := s.Decrypt(ctx, "OPENAI_API_KEY", ct)
		if !utf8.ValidString(value) {
			// LiteLLM decodes the plaintext as UTF-8: bytes that are not
			// UTF-8 never reach the gateway as the secret.
			wantCode(t, "Decrypt(not UTF-8)", err, backends.InvalidArgument)
			continue
		}
		if err != nil || string(got.Value) != value {
			t.Errorf("Decrypt: got %v, %v; want the plaintext back (untrimmed, as LiteLLM returns it)", got, err)
		}
	}
	// Plaintexts are limited to 64 KiB by the service.
	_, err := s.Encrypt(ctx, "BIG", make([]byte, 64*1024+1))
	wantCode(t, "Encrypt(64 KiB + 1)", err, backends.InvalidArgument)
}

func TestDecryptFromEnvironment(t *testing.T) {
	ctx := context.Background()
	srv := startFake(t)
	b := newBackend(t, srv, keyA)
	ct, err := newStore(t, b, nil, nil).Encrypt(ctx, "ANTHROPIC_API_KEY", []byte("sk-ant"))
	if err != nil {
		t.Fatal(err)
	}
	// LiteLLM checks the variable exactly as set: a ciphertext with
	// surrounding whitespace fails its base64 check, so it is refused here
	// too, before any call.
	padded := newStore(t, b, map[string]string{"ANTHROPIC_API_KEY": "  " + ct + "\n"}, nil)
	before := srv.Calls("Decrypt")
	_, err = padded.ReadAsGateway(ctx, "ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY")
	wantCode(t, "Lookup (ciphertext with whitespace)", err, backends.InvalidArgument)
	if err != nil && !strings.Contains(err.Error(), "LiteLLM") {
		t.Errorf("Lookup (ciphertext with whitespace): got %q, want it to say LiteLLM refuses it", err)
	}
	if n := srv.Calls("Decrypt") - before; n != 0 {
		t.Errorf("Decrypt calls for a whitespace-padded ciphertext: got %d, want 0", n)
	}
	s := newStore(t, b, map[string]string{"ANTHROPIC_API_KEY": ct}, nil)
	sec, err := s.ReadAsGateway(ctx, "ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY")
	if err != nil || string(sec.Value) != "sk-ant" {
		t.Errorf("Lookup (ciphertext from the environment): got %v, %v", sec, err)
	}
	got, err := s.ReadManyAsGateway(ctx, []string{"ANTHROPIC_API_KEY"}, []string{"ANTHROPIC_API_KEY"})
	if err != nil || string(got["ANTHROPIC_API_KEY"].Value) != "sk-ant" {
		t.Errorf("ReadManyAsGateway: got %v, %v", got, err)
	}
	_, err = s.ReadAsGateway(ctx, "UNSET_KEY", "UNSET_KEY")
	wantCode(t, "Lookup of an unset variable", err, backends.NotFound)
	if err != nil && !strings.Contains(err.Error(), "UNSET_KEY") {
		t.Errorf("Lookup of an unset variable: got %q, want it to name the variable", err)
	}
}

func TestDecryptChecksBase64First(t *testing.T) {
	ctx := context.Background()
	srv := startFake(t)
	b := newBackend(t, srv, keyA)
	s := newStore(t, b, nil, nil)
	for label, input := range map[string]string{
		"NotBase64":       "%%% sk-SECRET-plain",
		"Unpadded":        "c2stU0VDUkVUeA",
		"URLSafe":         "c2s-_1NFQ1JFVA==",
		"InnerSpace":      "c2st U0VDUkVU",
		"Plaintext":       "sk-SECRET-plain-text",
		"PaddingInside":   "YQ==YQ==",
		"NonCanonicalEnd": "YR==",
		"TrailingNewline": "c2stU0VDUkVU\n",
		"LeadingSpace":    " c2stU0VDUkVU",
	} {
		_, err := s.Decrypt(ctx, "OPENAI_API_KEY", input)
		wantCode(t, "Decrypt("+label+")", err, backends.InvalidArgument)
		if err != nil && (strings.Contains(err.Error(), "sk-SECRET") || strings.Contains(err.Error(), input)) {
			t.Errorf("Decrypt(%s): the error quotes the input: %q", label, err)
		}
		if err != nil && !strings.Contains(err.Error(), "base64") {
			t.Errorf("Decrypt(%s): got %q, want it to say base64", label, err)
		}
	}
	enc := b
	_, err := enc.Decrypt(ctx, "X", "")
	if err == nil || !strings.Contains(err.Error(), "is empty") || backends.CodeOf(err) != backends.InvalidArgument {
		t.Errorf("Decrypt(empty): got %v, want InvalidArgument saying it is empty", err)
	}
	if n := srv.Calls("Decrypt"); n != 0 {
		t.Errorf("Decrypt calls for malformed ciphertexts: got %d, want 0 (checked before any call)", n)
	}
}

func TestCiphertextOfAnotherKey(t *testing.T) {
	ctx := context.Background()
	srv := startFake(t)
	a := newStore(t, newBackend(t, srv, keyA), nil, nil)
	b := newStore(t, newBackend(t, srv, keyB), nil, nil)
	ct, err := a.Encrypt(ctx, "K", []byte("sk-SECRET-of-a"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Decrypt(ctx, "K", ct)
	wantCode(t, "Decrypt with another key", err, backends.InvalidArgument)
	if err != nil && strings.Contains(err.Error(), "sk-SECRET") {
		t.Errorf("Decrypt with another key: the error leaks the value: %q", err)
	}
	raw, _ := base64.StdEncoding.DecodeString(ct)
	raw[len(raw)-1] ^= 1
	_, err = a.Decrypt(ctx, "K", base64.StdEncoding.EncodeToString(raw))
	wantCode(t, "Decrypt of a tampered ciphertext", err, backends.InvalidArgument)
	if n := srv.Calls("Decrypt"); n != 2 {
		t.Errorf("Decrypt calls: got %d, want 2 (InvalidArgument is not retried)", n)
	}
}

func TestKeyVersions(t *testing.T) {
	ctx := context.Background()
	srv := startFake(t)
	s := newStore(t, newBackend(t, srv, keyA), nil, nil)
	old, err := s.Encrypt(ctx, "K", []byte("before rotation"))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Rotate(keyA); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Decrypt(ctx, "K", old); err != nil || string(got.Value) != "before rotation" {
		t.Errorf("Decrypt of a ciphertext from before a rotation: got %v, %v", got, err)
	}
	if _, err := s.Encrypt(ctx, "K", []byte("after rotation")); err != nil {
		t.Errorf("Encrypt after rotation: %v", err)
	}
	// A disabled version: the ciphertexts it made cannot be decrypted.
	if err := srv.SetVersionState(keyA, 1, gcpkmstest.Disabled); err != nil {
		t.Fatal(err)
	}
	_, err = s.Decrypt(ctx, "K", old)
	wantCode(t, "Decrypt with a disabled version", err, backends.FailedPrecondition)
	if err := srv.SetVersionState(keyA, 2, gcpkmstest.Disabled); err != nil {
		t.Fatal(err)
	}
	_, err = s.Encrypt(ctx, "K", []byte("x"))
	wantCode(t, "Encrypt with a disabled primary version", err, backends.FailedPrecondition)
	wantCode(t, "Health with a disabled primary version", s.Health(ctx), backends.FailedPrecondition)
}

func TestMissingKey(t *testing.T) {
	ctx := context.Background()
	srv := startFake(t)
	const missing = "projects/test-project/locations/global/keyRings/llm/cryptoKeys/missing"
	s := newStore(t, newBackend(t, srv, missing), nil, nil)
	_, err := s.Encrypt(ctx, "K", []byte("x"))
	wantCode(t, "Encrypt with a missing key", err, backends.NotFound)
	if err != nil && !strings.Contains(err.Error(), missing) {
		t.Errorf("Encrypt with a missing key: got %q, want it to name the key", err)
	}
	wantCode(t, "Health with a missing key", s.Health(ctx), backends.NotFound)
	if err := newStore(t, newBackend(t, srv, keyA), nil, nil).Health(ctx); err != nil {
		t.Errorf("Health: %v", err)
	}
}

func TestRetries(t *testing.T) {
	ctx := context.Background()
	srv := startFake(t)
	b := newBackend(t, srv, keyA)
	enc := b
	// The SDK retries Encrypt and Decrypt on UNAVAILABLE by default; it must
	// not: one call reaches the fake.
	srv.FailNext("Encrypt", 1, codes.Unavailable, 0)
	if _, err := enc.Encrypt(ctx, "K", []byte("x")); err == nil || b.ErrorCode(err) != backends.Unavailable {
		t.Errorf("backend Encrypt with one UNAVAILABLE: got %v, want the UNAVAILABLE", err)
	}
	if n := srv.Calls("Encrypt"); n != 1 {
		t.Errorf("Encrypt calls with one UNAVAILABLE: got %d, want 1 (SDK retries must be off)", n)
	}
	// The layer retries, and waits as long as RetryInfo asks.
	w := &waits{}
	s := newStore(t, b, nil, w)
	srv.FailNext("Encrypt", 1, codes.ResourceExhausted, 2*time.Second)
	srv.FailNext("Encrypt", 1, codes.Unavailable, 0)
	ct, err := s.Encrypt(ctx, "K", []byte("retried"))
	if err != nil {
		t.Fatalf("Store.Encrypt after RESOURCE_EXHAUSTED and UNAVAILABLE: %v", err)
	}
	if len(w.d) != 2 || w.d[0] < 2*time.Second {
		t.Errorf("waits: got %v, want two, the first at least 2s (RetryInfo)", w.d)
	}
	srv.FailNext("Decrypt", 2, codes.Unavailable, 0)
	if got, err := s.Decrypt(ctx, "K", ct); err != nil || string(got.Value) != "retried" {
		t.Errorf("Store.Decrypt after two UNAVAILABLE: got %v, %v", got, err)
	}
	srv.FailNext("Decrypt", 1, codes.PermissionDenied, 0)
	calls := srv.Calls("Decrypt")
	_, err = s.Decrypt(ctx, "K", ct)
	wantCode(t, "Decrypt with PERMISSION_DENIED", err, backends.PermissionDenied)
	if n := srv.Calls("Decrypt") - calls; n != 1 {
		t.Errorf("Decrypt calls with PERMISSION_DENIED: got %d, want 1", n)
	}
}

func TestHoldsNoSecrets(t *testing.T) {
	ctx := context.Background()
	srv := startFake(t)
	b := newBackend(t, srv, keyA)
	// A Keeper has no Get, Put or Delete to call: a KMS store is no Backend.
	if _, ok := b.(backends.Backend); ok {
		t.Errorf("gcpkms.New: got a Backend (%T), want a Keeper only", b)
	}
	if n := srv.Calls(""); n != 0 {
		t.Errorf("calls: got %d, want 0", n)
	}
	// A KMS store has no primary secret, and read_only refuses encryption.
	_, err := backends.NewKeyring(b, &backends.StoreOptions{Settings: backends.Settings{PrimarySecretName: "p"}})
	wantCode(t, "NewStore(primary_secret_name)", err, backends.InvalidArgument)
	ro, err := backends.NewKeyring(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ro.Encrypt(ctx, "K", []byte("x"))
	wantCode(t, "Encrypt with access_mode read_only", err, backends.PermissionDenied)
}
