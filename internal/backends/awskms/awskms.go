// Package awskms is the AWS KMS store (key_management_system = "aws_kms").
// It holds no secrets (Caps.KMS): a write encrypts the value with a KMS key
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
// none) and returns standard base64 with padding. Decrypt takes what the
// gateway's environment holds: surrounding whitespace is trimmed and an
// "aws_kms/" prefix (LiteLLM's marker of encrypted variables) is stripped.
// What remains must be standard base64 of a non-empty blob; anything else is
// InvalidArgument before any call. KMS's InvalidCiphertextException (a
// damaged ciphertext, or one made with an encryption context) and
// IncorrectKeyException are InvalidArgument with a message that says so.
package awskms

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig"
)

// Kind is this store's key_management_system value.
const Kind = "aws_kms"

// Prefix marks an encrypted value in LiteLLM's environment; Decrypt strips it.
const Prefix = "aws_kms/"

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
	_ backends.Backend   = (*backend)(nil)
	_ backends.Encrypter = (*backend)(nil)
)

// New returns the KMS store. opts nil means the defaults. It reads the
// shared AWS config files but calls no service.
func New(ctx context.Context, opts *Options) (backends.Backend, error) {
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

// Kind implements backends.Backend.
func (b *backend) Kind() string { return Kind }

// Caps implements backends.Backend.
func (b *backend) Caps() backends.Caps { return backends.Caps{Write: true, KMS: true} }

func (b *backend) noSecrets() error {
	return backends.Errorf(backends.Unsupported, "the %s store holds no secrets; it encrypts and decrypts", Kind)
}

// Get implements backends.Backend; a KMS store is never asked (Caps.KMS).
func (b *backend) Get(context.Context, string) (*backends.Secret, error) { return nil, b.noSecrets() }

// Put implements backends.Backend; a KMS store is never asked (Caps.KMS).
func (b *backend) Put(context.Context, backends.WriteRequest) (string, error) {
	return "", b.noSecrets()
}

// Delete implements backends.Backend; a KMS store is never asked (Caps.KMS).
func (b *backend) Delete(context.Context, string, backends.DeleteMode) error { return b.noSecrets() }

// Encrypt implements backends.Encrypter.
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

// Decrypt implements backends.Encrypter.
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
	return out.Plaintext, nil
}

// ParseCiphertext turns a ciphertext as the gateway's environment holds it
// into the KMS blob: surrounding whitespace trimmed, an "aws_kms/" prefix
// stripped, then standard base64. Its error completes "the ciphertext of X".
func ParseCiphertext(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimPrefix(s, Prefix))
	if s == "" {
		return nil, fmt.Errorf("is empty; want the base64 KMS ciphertext, optionally prefixed with %q", Prefix)
	}
	blob, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		// The error names an offset, never the text.
		return nil, fmt.Errorf("is not valid base64 (%v); want the base64 KMS ciphertext, optionally prefixed with %q", err, Prefix)
	}
	if len(blob) == 0 {
		return nil, fmt.Errorf("decodes to nothing; want the base64 KMS ciphertext")
	}
	return blob, nil
}

// Health implements backends.Backend: DescribeKey of key_id, else ListKeys.
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

// ErrorCode implements backends.Backend.
func (b *backend) ErrorCode(err error) backends.Code { return awsconfig.ErrorCode(err, errorCodes) }

// Close implements backends.Backend.
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
