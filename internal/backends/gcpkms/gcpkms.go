// Package gcpkms is the Google Cloud KMS store (key_management_system =
// "google_kms"), on cloud.google.com/go/kms over gRPC. It holds no secrets:
// it is a backends.Keeper (wrapped by *backends.Keyring), as LiteLLM's
// Google KMS support reads them.
//
// It reads the google_kms block: key_name (else GOOGLE_KMS_RESOURCE_NAME,
// LiteLLM's variable), a symmetric crypto key
// projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>, and the
// credentials, access_token and endpoint every Google store shares (package
// gcpconfig).
//
// Encrypt encrypts with the key's primary version and returns the
// ciphertext in standard base64, the form LiteLLM decodes from the
// environment. Decrypt takes the ciphertext exactly as LiteLLM's google_kms
// reader does (secret_manager_handler.py): nothing is trimmed, and input that
// is not canonical standard base64 (LiteLLM's _is_base64: decoding and
// encoding again gives the same text, so no whitespace, no newline, padding
// required) is refused with InvalidArgument before any call, where LiteLLM
// would refuse it and fall back to the variable's text. The plaintext is
// returned as it is (LiteLLM does not strip it); one that is not UTF-8 is
// InvalidArgument (LiteLLM's decode fails). Both send CRC32C checksums and
// check the ones the service returns, as Google recommends.
package gcpkms

import (
	"context"
	"encoding/base64"
	"hash/crc32"
	"regexp"
	"strings"
	"unicode/utf8"

	kms "cloud.google.com/go/kms/apiv1"
	"cloud.google.com/go/kms/apiv1/kmspb"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpconfig"
)

// Kind is this store's key_management_system value.
const Kind = "google_kms"

// EnvKeyName is LiteLLM's variable for the key.
const EnvKeyName = "GOOGLE_KMS_RESOURCE_NAME"

var keyNameRE = regexp.MustCompile(`^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$`)

// Options configures the store: the provider's google_kms block.
type Options struct {
	// KeyName is the crypto key (key_name): GOOGLE_KMS_RESOURCE_NAME.
	// Required.
	KeyName string
	// Credentials, AccessToken and Endpoint are the shared Google
	// attributes (see gcpconfig).
	Credentials string
	AccessToken string
	Endpoint    string
	// LookupEnv reads the environment for the fallbacks; nil means
	// os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// DialOptions are added to the gRPC dial (tests).
	DialOptions []grpc.DialOption
}

// Resolved is Options with every fallback applied.
type Resolved struct {
	KeyName string
	Google  gcpconfig.Resolved
}

// Resolve applies the fallbacks, in one place, and checks the result. It
// calls nothing. Errors are InvalidArgument and name the attribute and the
// variable that could supply it.
func (o *Options) Resolve() (Resolved, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	g := gcpconfig.Options{
		Block: Kind, Credentials: opts.Credentials, AccessToken: opts.AccessToken, Endpoint: opts.Endpoint,
		LookupEnv: opts.LookupEnv, DialOptions: opts.DialOptions,
	}
	google, err := g.Resolve()
	if err != nil {
		return Resolved{}, err
	}
	r := Resolved{Google: google, KeyName: strings.TrimSpace(opts.KeyName)}
	source := Kind + ".key_name"
	if r.KeyName == "" {
		var name string
		r.KeyName, name = g.Lookup(EnvKeyName)
		source = Kind + ".key_name (from " + name + ")"
	}
	switch {
	case r.KeyName == "":
		return Resolved{}, backends.Errorf(backends.InvalidArgument, "%s.key_name is required: set it, or the environment variable %s", Kind, EnvKeyName)
	case strings.Contains(r.KeyName, "/cryptoKeyVersions/"):
		return Resolved{}, backends.Errorf(backends.InvalidArgument, "%s %q names a key version; use the crypto key itself (projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>): encryption uses its primary version and decryption finds the version in the ciphertext", source, r.KeyName)
	case !keyNameRE.MatchString(r.KeyName):
		return Resolved{}, backends.Errorf(backends.InvalidArgument, "%s %q is not a crypto key name; want projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>", source, r.KeyName)
	}
	return r, nil
}

type backend struct {
	r Resolved
	c *kms.KeyManagementClient
}

var _ backends.Keeper = (*backend)(nil)

// New returns the KMS store. It resolves the options and creates the
// client; the connection is made on the first call.
func New(ctx context.Context, opts *Options) (backends.Keeper, error) {
	r, err := opts.Resolve()
	if err != nil {
		return nil, err
	}
	c, err := kms.NewKeyManagementClient(ctx, r.Google.ClientOptions("")...)
	if err != nil {
		return nil, backends.Errorf(backends.InvalidArgument, "creating the Cloud KMS client (%s auth): %w", r.Google.Auth, err)
	}
	// The layer's *Store is the one retry budget: no SDK retries, and no
	// SDK timeouts under the layer's per-call timeout.
	c.CallOptions = &kms.KeyManagementCallOptions{}
	return &backend{r: r, c: c}, nil
}

// Kind implements backends.Keeper.
func (b *backend) Kind() string { return Kind }

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func crc32c(data []byte) int64 { return int64(crc32.Checksum(data, crcTable)) }

// Encrypt implements backends.Keeper.
func (b *backend) Encrypt(ctx context.Context, name string, plaintext []byte) (string, error) {
	resp, err := b.c.Encrypt(ctx, &kmspb.EncryptRequest{
		Name:            b.r.KeyName,
		Plaintext:       plaintext,
		PlaintextCrc32C: wrapperspb.Int64(crc32c(plaintext)),
	})
	if err != nil {
		return "", gcpconfig.Wrap(err)
	}
	if c := resp.GetCiphertextCrc32C(); c != nil && c.GetValue() != crc32c(resp.GetCiphertext()) {
		return "", backends.Errorf(backends.Unavailable, "the ciphertext of %s from %s failed its CRC32C check (corrupted in transit)", name, b.r.KeyName)
	}
	if len(resp.GetCiphertext()) == 0 {
		return "", backends.Errorf(backends.Internal, "%s returned an empty ciphertext for %s", b.r.KeyName, name)
	}
	return base64.StdEncoding.EncodeToString(resp.GetCiphertext()), nil
}

// Decrypt implements backends.Keeper.
func (b *backend) Decrypt(ctx context.Context, name, ciphertext string) ([]byte, error) {
	raw, err := DecodeCiphertext(ciphertext)
	if err != nil {
		return nil, backends.Errorf(backends.InvalidArgument, "the ciphertext of %s %s", name, err)
	}
	resp, err := b.c.Decrypt(ctx, &kmspb.DecryptRequest{
		Name:             b.r.KeyName,
		Ciphertext:       raw,
		CiphertextCrc32C: wrapperspb.Int64(crc32c(raw)),
	})
	if err != nil {
		return nil, gcpconfig.Wrap(err)
	}
	if c := resp.GetPlaintextCrc32C(); c != nil && c.GetValue() != crc32c(resp.GetPlaintext()) {
		return nil, backends.Errorf(backends.Unavailable, "the plaintext of %s from %s failed its CRC32C check (corrupted in transit)", name, b.r.KeyName)
	}
	if !utf8.Valid(resp.GetPlaintext()) {
		return nil, backends.Errorf(backends.InvalidArgument, "the plaintext of %s is not UTF-8 text: LiteLLM decodes it as UTF-8, fails, and uses the undecrypted variable instead", name)
	}
	return resp.GetPlaintext(), nil
}

// DecodeCiphertext checks and decodes a ciphertext as LiteLLM does, with
// nothing trimmed: it must be non-empty, canonical standard base64 (with
// padding, no whitespace). The error says why without quoting the input.
func DecodeCiphertext(s string) ([]byte, error) {
	if s == "" {
		return nil, errEmptyCiphertext
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || base64.StdEncoding.EncodeToString(raw) != s {
		return nil, errNotBase64
	}
	return raw, nil
}

type ciphertextError string

func (e ciphertextError) Error() string { return string(e) }

const (
	errEmptyCiphertext = ciphertextError("is empty")
	errNotBase64       = ciphertextError("is not canonical standard base64, so LiteLLM's google_kms reader refuses it (\"Google KMS requires the encrypted secret to be encoded in base64\") and uses the variable's text undecrypted; it checks the text exactly as set, so no surrounding whitespace or newline: set the resource's ciphertext attribute as it is")
)

// Health implements backends.Keeper: the key exists, is a symmetric
// encryption key, and its primary version is enabled. It needs
// cloudkms.cryptoKeys.get, which the Encrypter/Decrypter role lacks.
func (b *backend) Health(ctx context.Context) error {
	key, err := b.c.GetCryptoKey(ctx, &kmspb.GetCryptoKeyRequest{Name: b.r.KeyName})
	if err != nil {
		return gcpconfig.Wrap(err)
	}
	if p := key.GetPurpose(); p != kmspb.CryptoKey_ENCRYPT_DECRYPT {
		return backends.Errorf(backends.FailedPrecondition, "%s has purpose %s; the %s store needs a symmetric ENCRYPT_DECRYPT key", b.r.KeyName, p, Kind)
	}
	if st := key.GetPrimary().GetState(); st != kmspb.CryptoKeyVersion_ENABLED {
		return backends.Errorf(backends.FailedPrecondition, "the primary version of %s is %s, not ENABLED", b.r.KeyName, st)
	}
	return nil
}

// ErrorCode implements backends.Keeper: the gRPC status code, by table.
func (b *backend) ErrorCode(err error) backends.Code { return gcpconfig.Code(err) }

// Close implements backends.Keeper.
func (b *backend) Close() error { return b.c.Close() }
