package awskms_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/sivchari/kumo"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig/awstest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awskms"
)

// KMS-specific tests (a KMS store holds no secrets, so the secret
// conformance suite has nothing to run on it; the Keeper conformance suite
// runs in keeper_test.go).

// kmsClient is a raw KMS client on an emulator, for creating keys.
func kmsClient(t *testing.T, endpoint string) *kms.Client {
	t.Helper()
	o := awstest.Options(endpoint)
	cfg, err := awsconfig.Load(context.Background(), awskms.Service, &o, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cfg.Close)
	return kms.NewFromConfig(cfg.AWS, func(ko *kms.Options) { ko.BaseEndpoint = cfg.BaseEndpoint() })
}

// createKey makes a symmetric key and returns its id.
func createKey(t *testing.T, endpoint string) string {
	t.Helper()
	out, err := kmsClient(t, endpoint).CreateKey(context.Background(), &kms.CreateKeyInput{Description: aws.String(t.Name())})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return aws.ToString(out.KeyMetadata.KeyId)
}

type fixture struct {
	t     *testing.T
	ctx   context.Context
	proxy *awstest.Proxy
	s     *backends.Keyring
	env   map[string]string
}

// newFixture is a store with key_id keyID behind a recording proxy.
func newFixture(t *testing.T, endpoint, keyID string) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), proxy: awstest.NewProxy(t, endpoint), env: map[string]string{}}
	b, err := awskms.New(f.ctx, &awskms.Options{AWS: awstest.Options(f.proxy.URL), KeyID: keyID})
	if err != nil {
		t.Fatalf("awskms.New: %v", err)
	}
	f.s, err = backends.NewKeyring(b, &backends.StoreOptions{
		Settings:  backends.Settings{AccessMode: backends.ReadAndWrite},
		LookupEnv: func(k string) (string, bool) { v, ok := f.env[k]; return v, ok },
		Wait:      func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.s.Close() })
	return f
}

func (f *fixture) encrypt(name, value string) string {
	f.t.Helper()
	ct, err := f.s.Encrypt(f.ctx, name, []byte(value))
	if err != nil {
		f.t.Fatalf("Encrypt(%s): %v", name, err)
	}
	return ct
}

func wantCode(t *testing.T, what string, err error, want backends.Code) {
	t.Helper()
	if got := backends.CodeOf(err); got != want {
		t.Errorf("%s: got code %v, want %v (err: %v)", what, got, want, err)
	}
}

// TestCaps: the store is a Keeper, wrapped by a *Keyring; it has no
// delete and no metadata by construction (a Keeper has neither).
func TestCaps(t *testing.T) {
	b, err := awskms.New(context.Background(), &awskms.Options{AWS: awstest.Options(moto)})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.(backends.Backend); ok {
		t.Errorf("awskms.New: got a Backend (%T), want a Keeper only: a KMS store holds no secrets", b)
	}
}

func TestRoundTrip(t *testing.T) {
	f := newFixture(t, moto, createKey(t, moto))
	for label, value := range map[string]string{
		"Simple":  "sk-test-0123456789abcdef",
		"Unicode": "ключ-🔑-鍵",
		"Spaces":  "  padded  ",
		"Max":     strings.Repeat("k", awskms.MaxPlaintext),
	} {
		t.Run(label, func(t *testing.T) {
			ct := f.encrypt("OPENAI_API_KEY", value)
			blob, err := base64.StdEncoding.DecodeString(ct)
			if err != nil || len(blob) == 0 {
				t.Fatalf("ciphertext %q is not standard base64: %v", ct, err)
			}
			if strings.Contains(ct, value) {
				t.Fatalf("ciphertext contains the value")
			}
			sec, err := f.s.Decrypt(f.ctx, "OPENAI_API_KEY", ct)
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			// LiteLLM strips the plaintext (str.strip), and so does the read.
			if want := strings.TrimSpace(value); string(sec.Value) != want {
				t.Errorf("Decrypt: got %q, want %q", sec.Value, want)
			}
		})
	}
	// LiteLLM decrypts with no encryption context: Encrypt sends none.
	var body map[string]any
	reqs := f.proxy.Requests("Encrypt")
	if err := json.Unmarshal(reqs[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if _, ok := body["EncryptionContext"]; ok || body["KeyId"] == nil {
		t.Errorf("Encrypt request: got %v, want KeyId and no EncryptionContext", body)
	}
}

// TestLiteLLMForms: what each of LiteLLM's paths accepts decrypts: the bare
// base64 (key_management_system: aws_kms, decoded leniently as Python does),
// and the "aws_kms/"-prefixed form of the USE_AWS_KMS start-up path. The
// plaintext is stripped as LiteLLM strips it.
func TestLiteLLMForms(t *testing.T) {
	f := newFixture(t, moto, createKey(t, moto))
	ct := f.encrypt("ANTHROPIC_API_KEY", "sk-ant-123")
	for label, in := range map[string]string{
		"Bare":             ct,
		"Prefix":           "aws_kms/" + ct,
		"Whitespace":       "  \t" + ct + "\n",
		"PrefixAndNewline": "aws_kms/" + ct + "\r\n",
		"SpaceAfterPrefix": "aws_kms/ " + ct,
		"InnerNewline":     ct[:8] + "\n" + ct[8:],
	} {
		sec, err := f.s.Decrypt(f.ctx, "ANTHROPIC_API_KEY", in)
		if err != nil {
			t.Errorf("Decrypt(%s): %v", label, err)
			continue
		}
		if string(sec.Value) != "sk-ant-123" {
			t.Errorf("Decrypt(%s): got %q", label, sec.Value)
		}
	}
	padded := f.encrypt("PADDED", " \tsk-padded\n\x1f")
	if sec, err := f.s.Decrypt(f.ctx, "PADDED", padded); err != nil || string(sec.Value) != "sk-padded" {
		t.Errorf("Decrypt(padded plaintext): got %v, %v; want it stripped as LiteLLM strips it", sec, err)
	}
	// From the environment: the variable called name, else LiteLLM's
	// start-up variable LITELLM_SECRET_AWS_KMS_<name>.
	f.env["ANTHROPIC_API_KEY"] = ct
	sec, err := f.s.ReadAsGateway(f.ctx, "ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY")
	if err != nil || string(sec.Value) != "sk-ant-123" {
		t.Errorf("Lookup from the environment: got %v, %v", sec, err)
	}
	f.env["LITELLM_SECRET_AWS_KMS_STARTUP_KEY"] = "aws_kms/" + ct
	sec, err = f.s.ReadAsGateway(f.ctx, "STARTUP_KEY", "STARTUP_KEY")
	if err != nil || string(sec.Value) != "sk-ant-123" {
		t.Errorf("Lookup from LITELLM_SECRET_AWS_KMS_STARTUP_KEY: got %v, %v", sec, err)
	}
	_, err = f.s.Decrypt(f.ctx, "UNSET_KEY", "")
	wantCode(t, "Decrypt of an unset variable", err, backends.NotFound)
	if err != nil && (!strings.Contains(err.Error(), "UNSET_KEY") || !strings.Contains(err.Error(), "LITELLM_SECRET_AWS_KMS_UNSET_KEY")) {
		t.Errorf("Decrypt of an unset variable: message %q does not name both variables", err)
	}
}

// TestHostedKeysAndWriteOnly: LiteLLM decrypts only names it asks the KMS
// for; under write_only or for a name outside hosted_keys it hands over the
// variable as it is, and so does the read.
func TestHostedKeysAndWriteOnly(t *testing.T) {
	for label, settings := range map[string]backends.Settings{
		"WriteOnly": {AccessMode: backends.WriteOnly},
		"NotHosted": {AccessMode: backends.ReadOnly, HostedKeys: []string{"OTHER"}},
	} {
		env := map[string]string{"PLAIN_KEY": "sk-plain"}
		b, err := awskms.New(context.Background(), &awskms.Options{AWS: awstest.Options(moto)})
		if err != nil {
			t.Fatal(err)
		}
		s, err := backends.NewKeyring(b, &backends.StoreOptions{Settings: settings, LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
		if err != nil {
			t.Fatal(err)
		}
		sec, err := s.ReadAsGateway(context.Background(), "PLAIN_KEY", "PLAIN_KEY")
		if err != nil || string(sec.Value) != "sk-plain" {
			t.Errorf("%s: got %v, %v; want the variable undecrypted", label, sec, err)
		}
		_ = s.Close()
	}
}

func TestMalformedBeforeAnyCall(t *testing.T) {
	f := newFixture(t, moto, createKey(t, moto))
	for label, in := range map[string]string{
		"NotBase64":   "this is not base64!",
		"URLAlphabet": "YWJj-_8=",
		"Unpadded":    "YWJjZA",
		"OnlyPrefix":  "aws_kms/",
		"OnlySpaces":  "   ",
		"Padding":     "====",
		"NonASCII":    "YWJjéZGVm",
	} {
		_, err := f.s.Decrypt(f.ctx, "BAD_KEY", in)
		wantCode(t, "Decrypt("+label+")", err, backends.InvalidArgument)
		if err != nil && (!strings.Contains(err.Error(), "BAD_KEY") || !strings.Contains(err.Error(), "ciphertext")) {
			t.Errorf("Decrypt(%s): message %q does not name the secret and the ciphertext", label, err)
		}
	}
	if ops := f.proxy.Ops(); len(ops) != 0 {
		t.Errorf("KMS calls for malformed ciphertexts: got %v, want none", ops)
	}
	// Valid base64 that is no good KMS ciphertext: KMS says so, clearly.
	ct := f.encrypt("BAD_KEY", "v")
	for label, in := range damaged(t, ct) {
		f.proxy.Reset()
		_, err := f.s.Decrypt(f.ctx, "BAD_KEY", in)
		wantCode(t, "Decrypt("+label+")", err, backends.InvalidArgument)
		for _, want := range []string{"InvalidCiphertextException", "KMS cannot decrypt the ciphertext of \"BAD_KEY\""} {
			if err != nil && !strings.Contains(err.Error(), want) {
				t.Errorf("Decrypt(%s): message %q lacks %q", label, err, want)
			}
		}
		if n := f.proxy.Calls("Decrypt"); n != 1 {
			t.Errorf("Decrypt calls for a %s ciphertext: got %d, want 1 (not retried)", label, n)
		}
	}
}

// damaged returns broken versions of a good ciphertext.
func damaged(t *testing.T, ct string) map[string]string {
	t.Helper()
	blob, err := base64.StdEncoding.DecodeString(ct)
	if err != nil {
		t.Fatal(err)
	}
	tampered := append([]byte(nil), blob...)
	tampered[len(tampered)-1] ^= 0xff
	return map[string]string{
		"tampered":  base64.StdEncoding.EncodeToString(tampered),
		"truncated": base64.StdEncoding.EncodeToString(blob[:12]),
	}
}

func TestCiphertextFromAnotherKey(t *testing.T) {
	keyA, keyB := createKey(t, moto), createKey(t, moto)
	ct := newFixture(t, moto, keyA).encrypt("K", "secret-a")
	f := newFixture(t, moto, keyB)
	_, err := f.s.Decrypt(f.ctx, "K", ct)
	if err == nil {
		t.Fatal("Decrypt of a ciphertext from another key than key_id: got nil error")
	}
	// AWS answers IncorrectKeyException (InvalidArgument); moto answers
	// AccessDeniedException (PermissionDenied). Neither is retried.
	if c := backends.CodeOf(err); c != backends.InvalidArgument && c != backends.PermissionDenied {
		t.Errorf("Decrypt with another key: got code %v (%v), want InvalidArgument or PermissionDenied", c, err)
	}
	if n := f.proxy.Calls("Decrypt"); n != 1 {
		t.Errorf("Decrypt calls: got %d, want 1", n)
	}
	// Without key_id, the key the ciphertext names decrypts it, as LiteLLM does.
	sec, err := newFixture(t, moto, "").s.Decrypt(context.Background(), "K", ct)
	if err != nil || string(sec.Value) != "secret-a" {
		t.Errorf("Decrypt without key_id: got %v, %v", sec, err)
	}
}

func TestEncryptRefusals(t *testing.T) {
	f := newFixture(t, moto, "")
	_, err := f.s.Encrypt(f.ctx, "K", []byte("v"))
	wantCode(t, "Encrypt without key_id", err, backends.InvalidArgument)
	if err != nil && !strings.Contains(err.Error(), "aws_kms.key_id") {
		t.Errorf("Encrypt without key_id: message %q does not name the attribute", err)
	}
	f = newFixture(t, moto, createKey(t, moto))
	_, err = f.s.Encrypt(f.ctx, "K", make([]byte, awskms.MaxPlaintext+1))
	wantCode(t, "Encrypt of 4097 bytes", err, backends.InvalidArgument)
	_, err = f.s.Encrypt(f.ctx, "K", nil)
	wantCode(t, "Encrypt of nothing", err, backends.InvalidArgument)
	if ops := f.proxy.Ops(); len(ops) != 0 {
		t.Errorf("KMS calls for refused encryptions: got %v, want none", ops)
	}
	_, err = newFixture(t, moto, "alias/does-not-exist").s.Encrypt(f.ctx, "K", []byte("v"))
	wantCode(t, "Encrypt with a key that does not exist", err, backends.NotFound)
}

func TestAlias(t *testing.T) {
	key := createKey(t, moto)
	alias := fmt.Sprintf("alias/llmsecret-%d", time.Now().UnixNano())
	if _, err := kmsClient(t, moto).CreateAlias(context.Background(), &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, moto, alias)
	sec, err := f.s.Decrypt(f.ctx, "K", f.encrypt("K", "via-alias"))
	if err != nil || string(sec.Value) != "via-alias" {
		t.Errorf("round trip with key_id = %s: got %v, %v", alias, sec, err)
	}
	if err := f.s.Health(f.ctx); err != nil {
		t.Errorf("Health: %v", err)
	}
}

func TestRetries(t *testing.T) {
	f := newFixture(t, moto, createKey(t, moto))
	f.proxy.Inject(awstest.Throttle("Encrypt", 2))
	ct := f.encrypt("K", "v")
	if n := f.proxy.Calls("Encrypt"); n != 3 {
		t.Errorf("Encrypt calls with two throttled answers: got %d, want 3", n)
	}
	f.proxy.Inject(awstest.Fault{Op: "Decrypt", Times: 1, Status: 500, Code: "KMSInternalException", Message: "injected"})
	if _, err := f.s.Decrypt(f.ctx, "K", ct); err != nil {
		t.Errorf("Decrypt after a 500: %v", err)
	}
	f.proxy.Inject(awstest.Throttle("Decrypt", -1))
	_, err := f.s.Decrypt(f.ctx, "K", ct)
	wantCode(t, "Decrypt with permanent throttling", err, backends.Throttled)
	if err != nil && !strings.Contains(err.Error(), "gave up after 8 attempts") {
		t.Errorf("permanent throttling: message %q", err)
	}
}

// TestServersAgree runs the store on moto and on kumo (in process) and
// compares what a user sees.
func TestServersAgree(t *testing.T) {
	srv := kumo.NewServer()
	t.Cleanup(srv.Close)
	type outcome struct{ roundTrip, tampered, truncated, otherKey string }
	run := func(endpoint string) outcome {
		keyA, keyB := createKey(t, endpoint), createKey(t, endpoint)
		f := newFixture(t, endpoint, keyA)
		var o outcome
		ct := f.encrypt("K", "agree")
		if sec, err := f.s.Decrypt(f.ctx, "K", "aws_kms/"+ct+"\n"); err != nil {
			o.roundTrip = "error " + backends.CodeOf(err).String()
		} else {
			o.roundTrip = string(sec.Value)
		}
		broken := damaged(t, ct)
		_, err := f.s.Decrypt(f.ctx, "K", broken["tampered"])
		o.tampered = backends.CodeOf(err).String() + " " + awsconfig.APIErrorCode(err)
		_, err = f.s.Decrypt(f.ctx, "K", broken["truncated"])
		o.truncated = backends.CodeOf(err).String() + " " + awsconfig.APIErrorCode(err)
		_, err = newFixture(t, endpoint, keyB).s.Decrypt(f.ctx, "K", ct)
		o.otherKey = backends.CodeOf(err).String() + " " + awsconfig.APIErrorCode(err)
		return o
	}
	m, k := run(moto), run(srv.URL)
	if m.roundTrip != "agree" || k.roundTrip != "agree" {
		t.Errorf("round trip: moto %q, kumo %q, want \"agree\"", m.roundTrip, k.roundTrip)
	}
	if m.tampered != k.tampered || m.truncated != k.truncated {
		t.Errorf("damaged ciphertexts: moto %q and %q, kumo %q and %q", m.tampered, m.truncated, k.tampered, k.truncated)
	}
	// Known: kumo matches AWS (IncorrectKeyException); moto answers
	// AccessDeniedException.
	if m.otherKey != "PermissionDenied AccessDeniedException" || k.otherKey != "InvalidArgument IncorrectKeyException" {
		t.Errorf("ciphertext from another key: moto %q, kumo %q; want the known PermissionDenied AccessDeniedException (moto) and InvalidArgument IncorrectKeyException (kumo, as AWS)", m.otherKey, k.otherKey)
	}
	t.Logf("moto: %+v", m)
	t.Logf("kumo: %+v", k)
}
