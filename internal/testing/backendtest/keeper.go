package backendtest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// The Keeper conformance suite: what every KMS store (a backends.Keeper,
// wrapped by *backends.Keyring as provider code holds it) must show, in one
// line per store and server:
//
//	func TestKeeperConformance(t *testing.T) {
//		backendtest.RunKeeperConformance(t, newKeeperHarness, backendtest.KeeperBehaviour{...})
//	}
//
// Subtests go through *backends.Keyring, assert error codes, and check that
// no error the suite sees carries a plaintext.

// KeeperHarness makes Keepers for the suite, on one server holding two keys.
type KeeperHarness interface {
	// MakeKeeper returns a Keeper that encrypts with the harness's key
	// number key (0 or 1: two different keys on the same server). The suite
	// closes it.
	MakeKeeper(ctx context.Context, t *testing.T, key int) (backends.Keeper, error)
	// ServerCalls returns how many requests have reached the server so far
	// (every operation): the suite checks that refused input costs none.
	ServerCalls() int
	// Close releases what the harness holds.
	Close()
}

// KeeperHarnessMaker makes a harness for one subtest.
type KeeperHarnessMaker func(ctx context.Context, t *testing.T) (KeeperHarness, error)

// KeeperBehaviour is a store's documented answer where KMS stores differ.
type KeeperBehaviour struct {
	// EmptyValue: an empty plaintext round-trips (true), or Encrypt refuses
	// it with InvalidArgument before any call (false: aws_kms, whose
	// Encrypt takes 1 to 4096 bytes).
	EmptyValue bool
	// Binary: a plaintext that is not UTF-8 round-trips (true), or is
	// refused with InvalidArgument by Encrypt or Decrypt (false: LiteLLM
	// decodes the plaintext as UTF-8, so such bytes never reach the gateway
	// as the secret).
	Binary bool
	// OtherKeyCodes are the codes a ciphertext made under another key may be
	// refused with; empty means InvalidArgument (as AWS's
	// IncorrectKeyException and Google's INVALID_ARGUMENT).
	OtherKeyCodes []backends.Code
}

// keeperPlaintext is the suite's distinctive plaintext: no error may quote it.
const keeperPlaintext = "sk-keeper-conformance-PLAINTEXT-7f3a9c"

// RunKeeperConformance runs the Keeper suite against the store newHarness
// makes.
func RunKeeperConformance(t *testing.T, newHarness KeeperHarnessMaker, want KeeperBehaviour) {
	tests := []struct {
		name string
		fn   func(*keeperFixture, KeeperBehaviour)
	}{
		{"RoundTrip", testKeeperRoundTrip},
		{"EmptyValue", testKeeperEmpty},
		{"BinaryValue", testKeeperBinary},
		{"FromEnvironment", testKeeperFromEnv},
		{"BadBase64", testKeeperBadBase64},
		{"OtherKey", testKeeperOtherKey},
		{"ReadOnlyRefusesEncrypt", testKeeperReadOnly},
		{"PrimarySecretRefused", testKeeperPrimaryRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newKeeperFixture(t, newHarness)
			defer f.Close()
			tc.fn(f, want)
		})
	}
}

// keeperFixture is one subtest's harness, the keyrings it made, and every
// error it saw (checked for plaintexts at Close).
type keeperFixture struct {
	t    *testing.T
	ctx  context.Context
	h    KeeperHarness
	uniq string

	mu       sync.Mutex
	keyrings []*backends.Keyring
	errs     []error
	secrets  []string
}

func newKeeperFixture(t *testing.T, newHarness KeeperHarnessMaker) *keeperFixture {
	t.Helper()
	ctx := context.Background()
	h, err := newHarness(ctx, t)
	if err != nil {
		t.Fatalf("making harness: %v", err)
	}
	return &keeperFixture{t: t, ctx: ctx, h: h, uniq: fmt.Sprintf("KT%08X", rand.Uint32()), secrets: []string{keeperPlaintext}}
}

// Close checks that no error of the subtest carries a plaintext, then closes
// the keyrings and the harness.
func (f *keeperFixture) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, err := range f.errs {
		for _, s := range f.secrets {
			if strings.Contains(err.Error(), s) {
				f.t.Errorf("LEAK: an error carries a plaintext: %q", err)
			}
		}
	}
	for _, kr := range f.keyrings {
		if err := kr.Close(); err != nil {
			f.t.Errorf("closing keyring: %v", err)
		}
	}
	f.h.Close()
}

// keyring returns a *Keyring over the harness's key number key, with
// settings and env (nil: empty).
func (f *keeperFixture) keyring(key int, settings backends.Settings, env map[string]string) *backends.Keyring {
	f.t.Helper()
	k, err := f.h.MakeKeeper(f.ctx, f.t, key)
	if err != nil {
		f.t.Fatalf("making keeper: %v", err)
	}
	kr, err := backends.NewKeyring(k, &backends.StoreOptions{
		Settings:  settings,
		LookupEnv: func(name string) (string, bool) { v, ok := env[name]; return v, ok },
		Retry:     backends.RetryPolicy{MaxAttempts: 3},
		Wait:      noWait,
	})
	if err != nil {
		_ = k.Close()
		f.t.Fatalf("NewKeyring: %v", err)
	}
	f.mu.Lock()
	f.keyrings = append(f.keyrings, kr)
	f.mu.Unlock()
	return kr
}

// saw records an error for the leak check and returns it.
func (f *keeperFixture) saw(err error) error {
	if err != nil {
		f.mu.Lock()
		f.errs = append(f.errs, err)
		f.mu.Unlock()
	}
	return err
}

// secret marks a plaintext no error may carry.
func (f *keeperFixture) secret(s string) string {
	f.mu.Lock()
	f.secrets = append(f.secrets, s)
	f.mu.Unlock()
	return s
}

func (f *keeperFixture) name(s string) string { return f.uniq + "_" + s }

// encrypt encrypts plain with kr, failing the subtest on an error.
func (f *keeperFixture) encrypt(kr *backends.Keyring, name string, plain []byte) string {
	f.t.Helper()
	ct, err := kr.Encrypt(f.ctx, name, plain)
	if f.saw(err) != nil {
		f.t.Fatalf("Encrypt(%s): %v", name, err)
	}
	if ct == "" {
		f.t.Fatalf("Encrypt(%s): empty ciphertext", name)
	}
	if len(plain) > 0 && strings.Contains(ct, string(plain)) {
		f.t.Errorf("Encrypt(%s): the ciphertext holds the plaintext", name)
	}
	return ct
}

// testKeeperRoundTrip: Encrypt then Decrypt gives the plaintext back, and
// two encryptions of one value differ (a fresh nonce each time).
func testKeeperRoundTrip(f *keeperFixture, _ KeeperBehaviour) {
	kr := f.keyring(0, rw(), nil)
	name := f.name("ROUND_TRIP")
	for _, plain := range []string{keeperPlaintext, f.secret("ключ-🔑-鍵-" + f.uniq), f.secret("sk-\"quoted'\\-" + f.uniq)} {
		ct := f.encrypt(kr, name, []byte(plain))
		sec, err := kr.Decrypt(f.ctx, name, ct)
		if f.saw(err) != nil {
			f.t.Errorf("Decrypt(Encrypt(%d bytes)): %v", len(plain), err)
			continue
		}
		if string(sec.Value) != plain {
			f.t.Errorf("Decrypt(Encrypt(x)): got %d bytes, want the %d bytes encrypted", len(sec.Value), len(plain))
		}
		if sec.Name != name {
			f.t.Errorf("Decrypt: got name %q, want %q", sec.Name, name)
		}
		if again := f.encrypt(kr, name, []byte(plain)); again == ct {
			f.t.Errorf("Encrypt twice: got the same ciphertext, want a fresh one each time")
		}
	}
}

// testKeeperEmpty: an empty value round-trips, or is refused with
// InvalidArgument before any call, as the store documents.
func testKeeperEmpty(f *keeperFixture, want KeeperBehaviour) {
	kr := f.keyring(0, rw(), nil)
	name := f.name("EMPTY")
	if want.EmptyValue {
		sec, err := kr.Decrypt(f.ctx, name, f.encrypt(kr, name, nil))
		if f.saw(err) != nil || len(sec.Value) != 0 {
			f.t.Errorf("Decrypt(Encrypt(empty)): got %v, %v; want an empty value", sec, err)
		}
		return
	}
	before := f.h.ServerCalls()
	_, err := kr.Encrypt(f.ctx, name, nil)
	wantCode(f.t, "Encrypt(empty)", f.saw(err), backends.InvalidArgument)
	if n := f.h.ServerCalls() - before; n != 0 {
		f.t.Errorf("Encrypt(empty): %d calls reached the server, want the refusal before any", n)
	}
}

// testKeeperBinary: a plaintext that is not UTF-8 round-trips, or is
// refused with InvalidArgument, as the store documents.
func testKeeperBinary(f *keeperFixture, want KeeperBehaviour) {
	kr := f.keyring(0, rw(), nil)
	name := f.name("BINARY")
	plain := []byte("\x00\xff\xfe" + keeperPlaintext + "\xc3")
	if utf8.Valid(plain) {
		f.t.Fatal("the suite's binary value is UTF-8")
	}
	ct, err := kr.Encrypt(f.ctx, name, plain)
	if f.saw(err) == nil {
		var sec *backends.Secret
		sec, err = kr.Decrypt(f.ctx, name, ct)
		if f.saw(err) == nil && !bytes.Equal(sec.Value, plain) {
			f.t.Errorf("Decrypt(Encrypt(binary)): got other bytes than encrypted")
		}
	}
	if want.Binary {
		if err != nil {
			f.t.Errorf("binary round trip: %v", err)
		}
		return
	}
	wantCode(f.t, "binary value (refused: LiteLLM decodes the plaintext as UTF-8)", err, backends.InvalidArgument)
	if err != nil && !strings.Contains(err.Error(), "UTF-8") {
		f.t.Errorf("binary value: got %q, want the error to say UTF-8", err)
	}
}

// testKeeperFromEnv: without a ciphertext, the read decrypts the variable
// called name, as LiteLLM's get_secret does; a name outside hosted_keys is
// the variable's text, undecrypted; a variable that is not set is NotFound.
func testKeeperFromEnv(f *keeperFixture, _ KeeperBehaviour) {
	name, other := f.name("FROM_ENV"), f.name("NOT_HOSTED")
	ct := f.encrypt(f.keyring(0, rw(), nil), name, []byte(keeperPlaintext))
	env := map[string]string{name: ct, other: ct}
	settings := rw()
	settings.HostedKeys = []string{name}
	kr := f.keyring(0, settings, env)
	sec, err := kr.ReadAsGateway(f.ctx, name, name)
	if f.saw(err) != nil || string(sec.Value) != keeperPlaintext {
		f.t.Errorf("ReadAsGateway(variable holding a ciphertext): got %v, %v; want the plaintext", sec, err)
	}
	sec, err = kr.ReadAsGateway(f.ctx, other, other)
	if f.saw(err) != nil || string(sec.Value) != ct {
		f.t.Errorf("ReadAsGateway(not in hosted_keys): got %v, %v; want the variable undecrypted", sec, err)
	}
	got, err := kr.ReadManyAsGateway(f.ctx, []string{name, other}, []string{name, other})
	if f.saw(err) != nil || got[name] == nil || string(got[name].Value) != keeperPlaintext || got[other] == nil || string(got[other].Value) != ct {
		f.t.Errorf("ReadManyAsGateway: got %v, %v; want the plaintext and the undecrypted variable", got, err)
	}
	settings.HostedKeys = nil
	_, err = f.keyring(0, settings, nil).ReadAsGateway(f.ctx, name, name)
	wantCode(f.t, "ReadAsGateway(variable not set)", f.saw(err), backends.NotFound)
}

// testKeeperBadBase64: a ciphertext that is not base64 is InvalidArgument,
// refused before any call to the server, and the error does not quote it.
func testKeeperBadBase64(f *keeperFixture, _ KeeperBehaviour) {
	kr := f.keyring(0, rw(), nil)
	for label, ct := range map[string]string{
		"not base64":      "%%%" + keeperPlaintext + "%%%",
		"bad characters":  "****",
		"missing padding": "YWJj=ZA",
	} {
		before := f.h.ServerCalls()
		_, err := kr.Decrypt(f.ctx, f.name("BAD"), ct)
		wantCode(f.t, "Decrypt("+label+")", f.saw(err), backends.InvalidArgument)
		if n := f.h.ServerCalls() - before; n != 0 {
			f.t.Errorf("Decrypt(%s): %d calls reached the server, want the refusal before any", label, n)
		}
	}
}

// testKeeperOtherKey: a ciphertext made under another key is refused (never
// decrypted with whatever key it names), with a code that is no retry.
func testKeeperOtherKey(f *keeperFixture, want KeeperBehaviour) {
	name := f.name("OTHER_KEY")
	ct := f.encrypt(f.keyring(0, rw(), nil), name, []byte(keeperPlaintext))
	sec, err := f.keyring(1, rw(), nil).Decrypt(f.ctx, name, ct)
	if f.saw(err) == nil {
		f.t.Fatalf("Decrypt with another key: got %d bytes, want a refusal", len(sec.Value))
	}
	codes := want.OtherKeyCodes
	if len(codes) == 0 {
		codes = []backends.Code{backends.InvalidArgument}
	}
	if got := backends.CodeOf(err); !slices.Contains(codes, got) {
		f.t.Errorf("Decrypt with another key: got code %v, want one of %v (err: %v)", got, codes, err)
	}
}

// testKeeperReadOnly: access_mode read_only refuses Encrypt with
// PermissionDenied before any call, naming the setting.
func testKeeperReadOnly(f *keeperFixture, _ KeeperBehaviour) {
	kr := f.keyring(0, backends.Settings{}, nil)
	before := f.h.ServerCalls()
	_, err := kr.Encrypt(f.ctx, f.name("READ_ONLY"), []byte(keeperPlaintext))
	wantCode(f.t, "Encrypt under read_only", f.saw(err), backends.PermissionDenied)
	if err != nil && !strings.Contains(err.Error(), "access_mode") {
		f.t.Errorf("Encrypt under read_only: got %q, want it to name access_mode", err)
	}
	if n := f.h.ServerCalls() - before; n != 0 {
		f.t.Errorf("Encrypt under read_only: %d calls reached the server, want none", n)
	}
	if err := kr.CheckWritable(); backends.CodeOf(err) != backends.PermissionDenied {
		f.t.Errorf("CheckWritable under read_only: got %v, want PermissionDenied", err)
	}
}

// testKeeperPrimaryRefused: a KMS store holds no secrets, so NewKeyring
// refuses primary_secret_name.
func testKeeperPrimaryRefused(f *keeperFixture, _ KeeperBehaviour) {
	k, err := f.h.MakeKeeper(f.ctx, f.t, 0)
	if err != nil {
		f.t.Fatalf("making keeper: %v", err)
	}
	defer func() { _ = k.Close() }()
	_, err = backends.NewKeyring(k, &backends.StoreOptions{Settings: backends.Settings{AccessMode: backends.ReadAndWrite, PrimarySecretName: "p"}})
	wantCode(f.t, "NewKeyring with primary_secret_name", f.saw(err), backends.InvalidArgument)
	if err != nil && !strings.Contains(err.Error(), "holds no secrets, so it has no primary secret") {
		f.t.Errorf("NewKeyring with primary_secret_name: got %q", err)
	}
}
