package backends_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// fakeKMS "encrypts" with base64 of the reversed bytes: enough to prove the
// layer routes KMS stores through Encrypt/Decrypt (a Keeper has nothing
// else to call).
type fakeKMS struct{ calls []string }

func (f *fakeKMS) Kind() string                  { return "fake_kms" }
func (f *fakeKMS) Health(context.Context) error  { return nil }
func (f *fakeKMS) ErrorCode(error) backends.Code { return backends.Unknown }
func (f *fakeKMS) Close() error                  { return nil }
func reverse(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[len(b)-1-i] = c
	}
	return out
}
func (f *fakeKMS) Encrypt(_ context.Context, _ string, p []byte) (string, error) {
	f.calls = append(f.calls, "Encrypt")
	return base64.StdEncoding.EncodeToString(reverse(p)), nil
}
func (f *fakeKMS) Decrypt(_ context.Context, _ string, ct string) ([]byte, error) {
	f.calls = append(f.calls, "Decrypt")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(ct))
	if err != nil {
		return nil, backends.Errorf(backends.InvalidArgument, "ciphertext is not valid base64")
	}
	return reverse(raw), nil
}

func TestKMSStore(t *testing.T) {
	ctx := context.Background()
	env := map[string]string{}
	kms := &fakeKMS{}
	s, err := backends.NewKeyring(kms, &backends.StoreOptions{
		Settings:  backends.Settings{AccessMode: backends.ReadAndWrite},
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	if err != nil {
		t.Fatal(err)
	}
	ct, err := s.Encrypt(ctx, "OPENAI_API_KEY", []byte("sk-kms"))
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	if strings.Contains(ct, "sk-kms") {
		t.Errorf("Encrypt: the ciphertext holds the plaintext")
	}
	got, err := s.Decrypt(ctx, "OPENAI_API_KEY", ct)
	if err != nil || string(got.Value) != "sk-kms" {
		t.Errorf("Decrypt(attribute): got %v, %v; want sk-kms", got, err)
	}
	// Without a ciphertext, the environment variable called name holds it.
	_, err = s.ReadAsGateway(ctx, "OPENAI_API_KEY", "OPENAI_API_KEY")
	if backends.CodeOf(err) != backends.NotFound || !strings.Contains(err.Error(), "OPENAI_API_KEY") {
		t.Errorf("Lookup without env: got %v, want NotFound naming the variable", err)
	}
	env["OPENAI_API_KEY"] = ct + "\n"
	got, err = s.ReadAsGateway(ctx, "OPENAI_API_KEY", "OPENAI_API_KEY")
	if err != nil || string(got.Value) != "sk-kms" {
		t.Errorf("ReadAsGateway(env): got %v, %v; want sk-kms", got, err)
	}
	_, err = s.Decrypt(ctx, "X", "%%% not base64")
	if backends.CodeOf(err) != backends.InvalidArgument {
		t.Errorf("Decrypt(malformed): got %v, want InvalidArgument", err)
	}
	for _, c := range kms.calls {
		if c == "Get" || c == "Put" || c == "Delete" {
			t.Errorf("the layer called %s on a KMS store", c)
		}
	}
	// A KMS store has no primary secret.
	_, err = backends.NewKeyring(&fakeKMS{}, &backends.StoreOptions{Settings: backends.Settings{PrimarySecretName: "p"}})
	if backends.CodeOf(err) != backends.InvalidArgument {
		t.Errorf("NewStore(KMS, primary_secret_name): got %v, want InvalidArgument", err)
	}
	// read_only refuses encryption, as it refuses writes.
	ro, err := backends.NewKeyring(&fakeKMS{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Encrypt(ctx, "A", []byte("x")); backends.CodeOf(err) != backends.PermissionDenied {
		t.Errorf("Encrypt under read_only: got %v, want PermissionDenied", err)
	}
}
