// Package backends is the layer every provider object goes through. Stores
// that hold secrets implement the small Backend interface in their own
// sub-package, KMS stores the Keeper interface (keyring.go); provider code
// only ever holds a *Store or a *Keyring (both Gateway), which add what every
// store gets for free: the key_management_settings (access mode, hosted keys,
// prefixes, primary secret, default description and tags), name rules, typed
// errors, retries with backoff and a per-call timeout.
package backends

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Secret is what a store holds under one name.
type Secret struct {
	// Name is the full stored name (prefix included).
	Name string
	// Value is the secret payload. Never log or format it.
	Value []byte
	// Version is the store's version id, or a content fingerprint for stores
	// that have none. It changes whenever Value changes.
	Version string
	// Description and Tags are the store's metadata, for stores with
	// Caps.Metadata.
	Description string
	Tags        map[string]string
	// Deleted is true when the secret exists only as deleted but recoverable
	// (scheduled for deletion, soft-deleted). findSecret treats it as missing.
	Deleted bool
}

// String describes the secret without its value.
func (s Secret) String() string {
	return fmt.Sprintf("Secret{Name: %s, Version: %q, Deleted: %t, Value: (redacted)}", quoteName(s.Name), s.Version, s.Deleted)
}

// Format makes every fmt verb (%v, %+v, %#v, %s, %x, %d, ...) print String,
// so formatting a Secret never leaks its value.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// WriteRequest is a write of one secret.
type WriteRequest struct {
	// Name is the full stored name.
	Name        string
	Value       []byte
	Description string
	Tags        map[string]string
}

// String describes the request without its value.
func (r WriteRequest) String() string {
	return fmt.Sprintf("WriteRequest{Name: %s, Value: (redacted)}", quoteName(r.Name))
}

// Format makes every fmt verb print String, so formatting a WriteRequest
// never leaks its value.
func (r WriteRequest) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, r.String()) }

// DeleteMode says how hard a delete is.
type DeleteMode int

const (
	// DeleteForever removes the secret for good where the store allows it.
	DeleteForever DeleteMode = iota
	// DeleteSoft leaves the secret recoverable (recovery window, soft delete,
	// latest-version delete).
	DeleteSoft
	// Abandon forgets the secret and leaves it in the store untouched.
	Abandon
)

// Caps says what a store supports. The provider turns a missing capability into
// a plan-time error, never a silent no-op.
type Caps struct {
	// Write: the store can create and update secrets.
	Write bool
	// Delete: the store can remove secrets.
	Delete bool
	// SoftDelete: the store can delete recoverably, and a write to a
	// soft-deleted name recovers or overwrites it.
	SoftDelete bool
	// Metadata: the store keeps description and tags.
	Metadata bool
	// Binary: values may be any byte string, not only UTF-8 text.
	Binary bool
	// EnvFallback: reads of a name the store lacks fall back to the process
	// environment (the local dotenv store, as LiteLLM does).
	EnvFallback bool
	// ImmediateDelete: a delete is visible to the very next read (the store
	// is read-after-delete consistent), so Store.Delete does not poll for the
	// secret to disappear. Stores whose deletes lag (AWS, Azure) leave it off.
	ImmediateDelete bool
	// PrimarySecret: LiteLLM reads key_management_settings.primary_secret_name
	// from this store (only aws_secret_manager; secret_manager_handler.py
	// passes the primary secret's name to no other reader). NewStore refuses
	// a primary secret elsewhere: LiteLLM would never look there.
	PrimarySecret bool
}

// Backend is implemented by each store package. Provider code uses *Store,
// never a Backend directly.
type Backend interface {
	// Kind returns the store's key_management_system value, e.g. "local".
	Kind() string
	// Caps reports what the store supports.
	Caps() Caps
	// Get returns the current value of name. If the secret is missing the
	// error's code is NotFound. A secret that exists only as deleted but
	// recoverable may be returned with Deleted set, or as NotFound.
	Get(ctx context.Context, name string) (*Secret, error)
	// Put creates or replaces the secret and returns the new version. Writing a
	// soft-deleted name recovers or overwrites it. Put may be called again
	// after a timeout, so an implementation must not create two secrets.
	Put(ctx context.Context, req WriteRequest) (version string, err error)
	// Delete removes name. Deleting a missing secret succeeds.
	Delete(ctx context.Context, name string, mode DeleteMode) error
	// Health checks that the store is reachable with the configured
	// credentials.
	Health(ctx context.Context) error
	// ErrorCode classifies an error returned by the methods above. Errors that
	// are already *Error keep their code without calling it.
	ErrorCode(err error) Code
	// Close releases clients and connections.
	Close() error
}

// Keeper is implemented by each KMS store package (aws_kms, google_kms): a
// store that holds no secrets, only a key, modelled on go-cloud's
// gocloud.dev/secrets/driver.Keeper. A write encrypts and hands back a
// ciphertext for the gateway's environment, a read decrypts one. Provider
// code uses *Keyring, never a Keeper directly. A Keeper may also implement
// EnvCiphertexter and CredentialChecker.
type Keeper interface {
	// Kind returns the store's key_management_system value, e.g. "aws_kms".
	Kind() string
	// Encrypt encrypts plaintext for name and returns the ciphertext as the
	// gateway reads it (base64).
	Encrypt(ctx context.Context, name string, plaintext []byte) (ciphertext string, err error)
	// Decrypt decrypts a ciphertext as found in the gateway's environment.
	// The store strips its own prefixes (aws_kms/) and whitespace where
	// LiteLLM does, and refuses malformed input with InvalidArgument before
	// any call.
	Decrypt(ctx context.Context, name, ciphertext string) ([]byte, error)
	// Health checks that the key is reachable with the configured
	// credentials.
	Health(ctx context.Context) error
	// ErrorCode classifies an error returned by the methods above. Errors that
	// are already *Error keep their code without calling it.
	ErrorCode(err error) Code
	// Close releases clients and connections.
	Close() error
}

// Gateway is what data sources, the ephemeral resource, the list resource
// and llmsecret_litellm_config need of any store: *Store (a store that holds
// secrets) and *Keyring (a KMS store) both implement it. It reads as the
// gateway reads (LiteLLM's get_secret).
type Gateway interface {
	// Kind returns the store's key_management_system value.
	Kind() string
	// Settings returns the key_management_settings in force.
	Settings() *Settings
	// FullName joins an object's name with its prefix and applies the name
	// rules.
	FullName(name string, prefix *string, virtualKey bool) (string, error)
	// ValidateName applies the name rules to a full name.
	ValidateName(fullName string) error
	// CheckWritable says why resources may not write, nil when they may.
	CheckWritable() error
	// CanList reports whether the store can enumerate its secrets, and why
	// not.
	CanList() (bool, string)
	// ReadAsGateway and ReadManyAsGateway read as LiteLLM's get_secret.
	ReadAsGateway(ctx context.Context, name, fullName string) (*Secret, error)
	ReadManyAsGateway(ctx context.Context, names, fullNames []string) (map[string]*Secret, error)
	// CheckCredentials and Health check the store; Close releases it.
	CheckCredentials(ctx context.Context) error
	Health(ctx context.Context) error
	Close() error
}

var (
	_ Gateway = (*Store)(nil)
	_ Gateway = (*Keyring)(nil)
)

// NameValidator is implemented by stores with their own name limits (length,
// charset). A refusal is a RuleViolation, whose message says the store and
// the rule; *Store wraps any other error with the store and the name.
type NameValidator interface {
	ValidateName(name string) error
}

// WriteValidator is implemented by stores with limits on what a write
// carries beyond the name: label rules for tags, a size limit on the
// description. *Store calls it before every write and metadata update, after
// merging the settings' defaults, and the provider calls it at plan time
// through Store.ValidateWrite, when Value may still be nil. A refusal is a
// RuleViolation naming the offending tag or attribute, the store and the
// rule; *Store wraps any other error with the store and the name.
type WriteValidator interface {
	ValidateWrite(req WriteRequest) error
}

// MetadataUpdater is implemented by stores that can change description and
// tags without writing a new version.
type MetadataUpdater interface {
	UpdateMetadata(ctx context.Context, name, description string, tags map[string]string) error
}

// NoDeleteExplainer is implemented by stores without Caps.Delete that can say
// why, so the plan-time refusal of deletion_policy = "delete" explains it.
type NoDeleteExplainer interface {
	NoDeleteReason() string
}

// EnvOnlyNamer is implemented by stores whose LiteLLM reader never asks the
// store for some names and returns the process environment variable instead
// (AWS Secrets Manager: the variables its own requests are signed and sent
// with). EnvOnlyName returns why, or "" for a name read from the store.
type EnvOnlyNamer interface {
	EnvOnlyName(name string) string
}

// FreshGetter is implemented by backends that keep what they read for the
// run (the primary-secret decorator keeps the whole object). GetFresh reads
// past that copy: Store uses it where a read must see what the store holds
// now (the check that a name is free, the second-writer check, a rotation's
// read-back).
type FreshGetter interface {
	GetFresh(ctx context.Context, name string) (*Secret, error)
}

// Composite is implemented by backends built on another Backend (the
// primary-secret decorator), whose operations are several calls of the
// store below. Each of those calls gets the layer's per-call timeout and
// retries (PrimarySecretOptions.Call); *Store runs the composite's own
// methods once, so that a wait for another writer's commit is not counted
// against one call's timeout and a retry repeats one call, not the whole
// operation.
type Composite interface {
	Backend
	// Inner returns the Backend the composite is built on.
	Inner() Backend
}

// NoListExplainer is implemented by backends that cannot enumerate what
// they hold although their store could, to say why (a primary secret's
// fields).
type NoListExplainer interface {
	NoListReason() string
}

// Locator is implemented by backends that keep a name somewhere other than
// under that name in the store. Locate says where, for errors about a name
// that is taken ("as a field of primary secret (litellm)").
type Locator interface {
	Locate(name string) string
}

// BatchGetter is implemented by stores with a batch read. Missing names are
// absent from the result, not an error.
type BatchGetter interface {
	GetBatch(ctx context.Context, names []string) (map[string]*Secret, error)
}

// Rotator is implemented by stores with a native rotation (a custom store's
// rotate endpoint). Without it, *Store rotates LiteLLM's way: write the new
// name, read it back and compare, then delete the old name.
type Rotator interface {
	Rotate(ctx context.Context, oldName string, req WriteRequest) (version string, err error)
}

// RetryPolicy bounds the layer's retries of Throttled and Unavailable errors.
// It is the only retry budget: stores turn their SDK's own retries off.
type RetryPolicy struct {
	// MaxAttempts counts the first try; 1 means no retry.
	MaxAttempts int
	// BaseDelay is the first backoff; each retry doubles it, up to MaxDelay,
	// with full jitter. A store's Retry-After replaces it when larger.
	BaseDelay time.Duration
	MaxDelay  time.Duration
}

// DefaultRetryPolicy survives a throttling burst of a few seconds.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 8, BaseDelay: 200 * time.Millisecond, MaxDelay: 10 * time.Second}

// DefaultCallTimeout bounds one store call (one attempt).
const DefaultCallTimeout = 60 * time.Second
