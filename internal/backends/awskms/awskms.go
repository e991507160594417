// Package awskms is the AWS KMS store (key_management_system = "aws_kms").
// It holds no secrets (a backends.Keeper, wrapped by *backends.Keyring): a write encrypts the value with a KMS key
// and hands back the ciphertext, base64 encoded, for the gateway's
// environment; a read decrypts such a ciphertext, as LiteLLM's
// AWSKeyManagementService_V2 does at start-up.
//
// # Settings
//
// Options.AWS is the configuration block shared with aws_secret_manager
// (package awsconfig: region with the fallbacks AWS_REGION_NAME, AWS_REGION,
// AWS_DEFAULT_REGION; endpoint, with AWS_ENDPOINT_URL_KMS; profile; static
// keys; role assumption; SDK retries off). This store adds key_id: the key
// (key id, key ARN, alias name or alias ARN) that Encrypt uses. Decrypting
// needs no key_id: a symmetric KMS ciphertext names its key. When key_id is
// set, Decrypt passes it as KeyId, so a ciphertext made under another key is
// refused instead of decrypted with whatever key it names.
//
// # Ciphertexts
//
// Encrypt is KMS Encrypt with no encryption context (LiteLLM decrypts with
// none) and returns standard base64 with padding: the bare form.
//
// LiteLLM reads aws_kms ciphertexts on two paths, and Decrypt follows both:
//
//   - key_management_system: aws_kms (get_secret, secret_manager_handler):
//     the variable called name holds the bare base64. LiteLLM decodes it as
//     it is, with Python's lenient base64.b64decode (characters outside the
//     alphabet skipped, padding required; PythonB64Decode), and does NOT
//     strip "aws_kms/": a prefixed value fails to decrypt there and LiteLLM
//     silently hands over the variable's text itself.
//   - the start-up path (USE_AWS_KMS=True, decrypt_env_var in
//     aws_secret_manager.py): every variable whose name starts with
//     LITELLM_SECRET_AWS_KMS (any case) or whose value starts with
//     "aws_kms/" is decrypted once at start-up, after the "aws_kms/" marker
//     is removed, and stored under its name with LITELLM_SECRET_AWS_KMS_
//     removed (StartupEnvName).
//
// Decrypt accepts the union: a value starting with "aws_kms/" has every
// "aws_kms/" removed (LiteLLM's str.replace), then both forms are decoded
// with PythonB64Decode. CiphertextFromEnv finds the variable and warns when
// the form found works on one path only. An empty blob is InvalidArgument
// before any call. The plaintext is post-processed as LiteLLM does: decoded
// as UTF-8 (InvalidArgument otherwise: LiteLLM's decode fails and it falls
// back to the variable's text) and stripped of surrounding whitespace as
// Python's str.strip does (PythonStrip). KMS's InvalidCiphertextException (a
// damaged ciphertext, or one made with an encryption context) and
// IncorrectKeyException are InvalidArgument with a message that says so.
package awskms

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig"
)

// Kind is this store's key_management_system value.
const Kind = "aws_kms"

// Prefix marks an encrypted value for LiteLLM's start-up path (USE_AWS_KMS);
// only that path strips it.
const Prefix = "aws_kms/"

// StartupVarPrefix is the name prefix of the variables LiteLLM's start-up
// path (USE_AWS_KMS=True) decrypts into the variable named by the rest.
const StartupVarPrefix = "LITELLM_SECRET_AWS_KMS_"

// MaxPlaintext is the most bytes KMS Encrypt takes.
const MaxPlaintext = 4096

// Service is the awsconfig service of this store.
var Service = awsconfig.Service{Block: Kind, EndpointVar: "AWS_ENDPOINT_URL_KMS"}

// Options configures the store (the provider's aws_kms block).
type Options struct {
	// AWS is the shared AWS configuration.
	AWS awsconfig.Options
	// KeyID is the key Encrypt uses (key_id); Decrypt checks it when set.
	KeyID string
	// LookupEnv reads the environment for the fallbacks; nil means
	// os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

type backend struct {
	cfg    *awsconfig.Config
	client *kms.Client
	keyID  string
}

var (
	_ backends.Keeper          = (*backend)(nil)
	_ backends.EnvCiphertexter = (*backend)(nil)
)

// New returns the KMS store. opts nil means the defaults. It reads the
// shared AWS config files but calls no service.
func New(ctx context.Context, opts *Options) (backends.Keeper, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	cfg, err := awsconfig.Load(ctx, Service, &o.AWS, o.LookupEnv)
	if err != nil {
		return nil, err
	}
	b := &backend{cfg: cfg, keyID: strings.TrimSpace(o.KeyID)}
	b.client = kms.NewFromConfig(cfg.AWS, func(ko *kms.Options) {
		ko.BaseEndpoint = cfg.BaseEndpoint()
	})
	return b, nil
}

// Kind implements backends.Keeper.
func (b *backend) Kind() string { return Kind }

// Encrypt implements backends.Keeper.
func (b *backend) Encrypt(ctx context.Context, name string, plaintext []byte) (string, error) {
	if b.keyID == "" {
		return "", backends.Errorf(backends.InvalidArgument, "%s.key_id is not set: the %s store needs a key to encrypt with (decrypting needs none)", Kind, Kind)
	}
	if len(plaintext) == 0 {
		return "", backends.Errorf(backends.InvalidArgument, "KMS Encrypt takes 1 to %d bytes; the value of %s is empty", MaxPlaintext, backends.QuoteName(name))
	}
	if len(plaintext) > MaxPlaintext {
		return "", backends.Errorf(backends.InvalidArgument, "KMS Encrypt takes at most %d bytes; the value of %s is %d bytes", MaxPlaintext, backends.QuoteName(name), len(plaintext))
	}
	out, err := b.client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(b.keyID), Plaintext: plaintext})
	if err != nil {
		return "", b.fail(err)
	}
	return base64.StdEncoding.EncodeToString(out.CiphertextBlob), nil
}

// Decrypt implements backends.Keeper.
func (b *backend) Decrypt(ctx context.Context, name, ciphertext string) ([]byte, error) {
	blob, err := ParseCiphertext(ciphertext)
	if err != nil {
		return nil, backends.Errorf(backends.InvalidArgument, "the ciphertext of %s %w", backends.QuoteName(name), err)
	}
	in := &kms.DecryptInput{CiphertextBlob: blob}
	if b.keyID != "" {
		in.KeyId = aws.String(b.keyID)
	}
	out, err := b.client.Decrypt(ctx, in)
	if err != nil {
		switch b.apiCode(err) {
		case "InvalidCiphertextException":
			return nil, backends.Errorf(backends.InvalidArgument, "KMS cannot decrypt the ciphertext of %s: it is damaged, truncated, or was made with an encryption context (LiteLLM uses none): %w", backends.QuoteName(name), err)
		case "IncorrectKeyException":
			return nil, backends.Errorf(backends.InvalidArgument, "the ciphertext of %s was made with another key than %s.key_id %s (unset key_id to decrypt with the key the ciphertext names): %w", backends.QuoteName(name), Kind, b.keyID, err)
		}
		return nil, b.fail(err)
	}
	return Plaintext(name, out.Plaintext)
}

// Plaintext is LiteLLM's post-processing of a decrypted value (both paths):
// UTF-8 decoded, then Python's str.strip(). Invalid UTF-8 is InvalidArgument:
// LiteLLM's decode raises and it falls back to the undecrypted variable.
func Plaintext(name string, raw []byte) ([]byte, error) {
	if !utf8.Valid(raw) {
		return nil, backends.Errorf(backends.InvalidArgument, "the plaintext of %s is not UTF-8 text: LiteLLM decodes it as UTF-8, fails, and uses the undecrypted variable instead", backends.QuoteName(name))
	}
	return []byte(PythonStrip(string(raw))), nil
}

// PythonStrip is Python's str.strip() with no argument: it removes the
// characters str.isspace() accepts, which are Go's unicode.IsSpace plus the
// separators U+001C to U+001F.
func PythonStrip(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f })
}

// CiphertextFromEnv implements backends.EnvCiphertexter: the variable called
// name (either path), else LITELLM_SECRET_AWS_KMS_<name> (the start-up path).
// It warns when the form found is read on one path only.
func (b *backend) CiphertextFromEnv(ctx context.Context, name string, lookup func(string) (string, bool)) (string, string, error) {
	startup, startupOK := StartupEnvName(name)
	var sv string
	var sset bool
	if startupOK {
		sv, sset = lookup(startup)
	}
	if v, ok := lookup(name); ok {
		if strings.HasPrefix(v, Prefix) {
			backends.Warn(ctx, fmt.Sprintf("environment variable %s holds an %q-prefixed ciphertext: LiteLLM decrypts it only at start-up with USE_AWS_KMS=True; with key_management_system: aws_kms alone it does not strip the prefix, fails to decrypt, and hands the ciphertext itself to the model provider (put the bare base64, the resource's ciphertext, in %s for that path)", backends.QuoteName(name), Prefix, backends.QuoteName(name)))
		}
		if sset {
			backends.Warn(ctx, fmt.Sprintf("both %s and %s are set; this read uses %s, but with USE_AWS_KMS=True LiteLLM replaces %s at start-up with the decryption of %s", backends.QuoteName(name), startup, backends.QuoteName(name), backends.QuoteName(name), startup))
		}
		return v, name, nil
	}
	if sset {
		return sv, startup, nil
	}
	also := ""
	if startupOK {
		also = " nor " + startup + " (LiteLLM's USE_AWS_KMS start-up variable)"
	}
	return "", "", backends.Errorf(backends.NotFound, "decrypting secret (%s) with %s: no ciphertext given and neither environment variable %s%s is set", name, Kind, backends.QuoteName(name), also)
}

// StartupEnvName is the variable LiteLLM's start-up path (USE_AWS_KMS=True)
// decrypts into the variable name: LITELLM_SECRET_AWS_KMS_<name>. ok is false
// when LiteLLM would not give back name from it (it removes every
// "litellm_secret_aws_kms_", in any case, from the variable's name) or when
// it is no environment variable name (an "=" in it).
func StartupEnvName(name string) (string, bool) {
	if name == "" || strings.Contains(name, "=") || strings.Contains(strings.ToLower(name), strings.ToLower(StartupVarPrefix)) {
		return "", false
	}
	return StartupVarPrefix + name, true
}

// StartupEnvValue is the value of StartupEnvName for a bare ciphertext:
// "aws_kms/" followed by it, the marker LiteLLM's start-up path strips.
func StartupEnvValue(ciphertext string) string { return Prefix + ciphertext }

// ParseCiphertext turns a ciphertext as LiteLLM's environment holds it into
// the KMS blob: when it starts with "aws_kms/", every "aws_kms/" is removed
// (the start-up path's str.replace); then Python's base64.b64decode
// (PythonB64Decode). Its error completes "the ciphertext of X".
func ParseCiphertext(s string) ([]byte, error) {
	if strings.HasPrefix(s, Prefix) {
		s = strings.ReplaceAll(s, Prefix, "")
	}
	blob, err := PythonB64Decode(s)
	if err != nil {
		// The error names a count, never the text.
		return nil, fmt.Errorf("is not valid base64 as LiteLLM decodes it (%v); want the base64 KMS ciphertext (the resource's ciphertext)", err)
	}
	if len(blob) == 0 {
		return nil, fmt.Errorf("decodes to nothing; want the base64 KMS ciphertext (the resource's ciphertext)")
	}
	return blob, nil
}

// PythonB64Decode is Python's base64.b64decode(s) with validate=False, the
// call LiteLLM decodes ciphertexts with (CPython's binascii.a2b_base64, not
// strict): the text must be ASCII; characters outside the standard alphabet
// are skipped; a pad sequence after two or three data characters of a quad
// ends the input; a quad left incomplete is an error.
func PythonB64Decode(s string) ([]byte, error) {
	out := make([]byte, 0, len(s)*3/4)
	quad, pads := 0, 0
	var left byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return nil, fmt.Errorf("it has non-ASCII characters")
		}
		if c == '=' {
			if quad >= 2 {
				pads++
				if quad+pads >= 4 {
					return out, nil
				}
			}
			continue
		}
		v, ok := b64Value(c)
		if !ok {
			continue
		}
		pads = 0
		switch quad {
		case 0:
			left = v
		case 1:
			out = append(out, left<<2|v>>4)
			left = v & 0x0f
		case 2:
			out = append(out, left<<4|v>>2)
			left = v & 0x03
		case 3:
			out = append(out, left<<6|v)
		}
		quad = (quad + 1) % 4
	}
	switch quad {
	case 0:
		return out, nil
	case 1:
		return nil, fmt.Errorf("the number of base64 characters is one more than a multiple of 4")
	}
	return nil, fmt.Errorf("incorrect padding")
}

func b64Value(c byte) (byte, bool) {
	switch {
	case c >= 'A' && c <= 'Z':
		return c - 'A', true
	case c >= 'a' && c <= 'z':
		return c - 'a' + 26, true
	case c >= '0' && c <= '9':
		return c - '0' + 52, true
	case c == '+':
		return 62, true
	case c == '/':
		return 63, true
	}
	return 0, false
}

// Health implements backends.Keeper: DescribeKey of key_id, else ListKeys.
func (b *backend) Health(ctx context.Context) error {
	if b.keyID != "" {
		_, err := b.client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(b.keyID)})
		return b.fail(err)
	}
	_, err := b.client.ListKeys(ctx, &kms.ListKeysInput{Limit: aws.Int32(1)})
	return b.fail(err)
}

// errorCodes maps KMS error codes; awsconfig.CommonCodes covers throttling,
// 5xx, credentials and validation codes every service shares.
var errorCodes = map[string]backends.Code{
	"NotFoundException":             backends.NotFound, // the key does not exist
	"InvalidCiphertextException":    backends.InvalidArgument,
	"IncorrectKeyException":         backends.InvalidArgument,
	"InvalidKeyUsageException":      backends.InvalidArgument,
	"InvalidArnException":           backends.InvalidArgument,
	"InvalidGrantTokenException":    backends.InvalidArgument,
	"DisabledException":             backends.FailedPrecondition,
	"KMSInvalidStateException":      backends.FailedPrecondition,
	"LimitExceededException":        backends.FailedPrecondition, // a quota, not a rate
	"UnsupportedOperationException": backends.Unsupported,
	"KeyUnavailableException":       backends.Unavailable,
	"DependencyTimeoutException":    backends.Unavailable,
	"KMSInternalException":          backends.Unavailable,
	"AccessDeniedException":         backends.PermissionDenied,
	"ThrottlingException":           backends.Throttled,
}

// ErrorCode implements backends.Keeper.
func (b *backend) ErrorCode(err error) backends.Code { return awsconfig.ErrorCode(err, errorCodes) }

// Close implements backends.Keeper.
func (b *backend) Close() error {
	b.cfg.Close()
	return nil
}

func (b *backend) fail(err error) error {
	if err == nil {
		return nil
	}
	return awsconfig.Annotate(err, b.ErrorCode(err))
}

func (b *backend) apiCode(err error) string { return awsconfig.APIErrorCode(err) }
