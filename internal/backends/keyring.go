package backends

import (
	"context"
	"fmt"
	"iter"
	"strings"
)

// Keyring is what provider code holds for a KMS store: a Keeper plus the
// behaviour every store gets for free (settings, name rules, retries,
// per-call timeouts; the call machinery is *Store's, calls.go). It holds no
// secrets: a resource's write encrypts (Encrypt), a read decrypts (Decrypt,
// ReadAsGateway). It is safe for concurrent use.
type Keyring struct {
	k        Keeper
	settings Settings
	opts     StoreOptions
	*caller
}

// NewKeyring wraps k. It validates opts.Settings and fills defaults, as
// NewStore does; a primary secret is refused: a KMS store holds none.
func NewKeyring(k Keeper, opts *StoreOptions) (*Keyring, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if o.Settings.PrimarySecretName != "" {
		return nil, Errorf(InvalidArgument, "key_management_settings.primary_secret_name: the %s store holds no secrets, so it has no primary secret", k.Kind())
	}
	kr := &Keyring{k: k, settings: o.Settings, opts: o}
	kr.caller = newCaller(k.Kind(), k.ErrorCode, &kr.opts)
	return kr, nil
}

// Kind returns the store's key_management_system value.
func (kr *Keyring) Kind() string { return kr.k.Kind() }

// Settings returns the key_management_settings in force.
func (kr *Keyring) Settings() *Settings { return &kr.settings }

// ValidateName applies the shared name rules (a KMS store has none of its
// own: the name only labels the ciphertext).
func (kr *Keyring) ValidateName(fullName string) error { return ValidateName(fullName) }

// FullName is Store.FullName with the shared name rules.
func (kr *Keyring) FullName(name string, prefix *string, virtualKey bool) (string, error) {
	return fullNameWith(&kr.settings, name, prefix, virtualKey, kr.ValidateName)
}

// CheckWritable returns an error naming the setting to change when resources
// may not encrypt through this store.
func (kr *Keyring) CheckWritable() error { return kr.settings.checkWritable() }

// keyringNoList is why a KMS store lists nothing.
const keyringNoList = "a KMS store holds no secrets, only keys: there is nothing to list; the ciphertexts live wherever the proxy's environment is configured"

// CanList reports that a KMS store has nothing to list, and why.
func (kr *Keyring) CanList() (bool, string) { return false, keyringNoList }

// List yields the refusal of CanList, with Unsupported, as Store.List does
// for a store that cannot list.
func (kr *Keyring) List(context.Context, string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		yield("", Errorf(Unsupported, "listing secrets in %s: %s", kr.Kind(), keyringNoList))
	}
}

// Health checks the key.
func (kr *Keyring) Health(ctx context.Context) error {
	return kr.call(ctx, "checking", "store health", kr.k.Health)
}

// CheckCredentials runs the store's credential check, where it has one
// (CredentialChecker), as Store.CheckCredentials does.
func (kr *Keyring) CheckCredentials(ctx context.Context) error { return kr.checkCredentials(ctx, kr.k) }

// Close releases the Keeper. Calls after Close fail with FailedPrecondition.
func (kr *Keyring) Close() error { return kr.closeOnce(kr.k.Close) }

// EnvCiphertexter is implemented by KMS stores whose gateway finds a
// ciphertext in more variables than the one called name (aws_kms:
// LITELLM_SECRET_AWS_KMS_<name>). Without it, the ciphertext is the variable
// called name.
type EnvCiphertexter interface {
	// CiphertextFromEnv returns the ciphertext LiteLLM would decrypt for
	// name, read with lookup, and the variable it came from; NotFound when
	// no variable holds one. It may add warnings (Warn) about how LiteLLM
	// would read it.
	CiphertextFromEnv(ctx context.Context, name string, lookup func(string) (string, bool)) (ciphertext, variable string, err error)
}

// Encrypt encrypts a resource's value with the KMS store and returns the
// ciphertext users put in the gateway's environment.
func (kr *Keyring) Encrypt(ctx context.Context, fullName string, plaintext []byte) (string, error) {
	if err := kr.CheckWritable(); err != nil {
		return "", err
	}
	if err := ValidateName(fullName); err != nil {
		return "", err
	}
	var ct string
	err := kr.call(ctx, "encrypting", fullName, func(ctx context.Context) error {
		var err error
		ct, err = kr.k.Encrypt(ctx, fullName, plaintext)
		return err
	})
	return ct, err
}

// Decrypt is the read of data sources and ephemeral resources on a KMS store:
// the ciphertext is the given one, else the one the process environment
// holds for name, as LiteLLM reads it (the variable called name, and the
// store's own variables: EnvCiphertexter).
func (kr *Keyring) Decrypt(ctx context.Context, name, ciphertext string) (*Secret, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if ciphertext == "" {
		if ec, ok := kr.k.(EnvCiphertexter); ok {
			var err error
			ciphertext, _, err = ec.CiphertextFromEnv(ctx, name, kr.opts.LookupEnv)
			if err != nil {
				return nil, err
			}
		} else {
			v, ok := kr.opts.LookupEnv(name)
			if !ok {
				return nil, Errorf(NotFound, "decrypting secret (%s) with %s: no ciphertext given and environment variable %s is not set", name, kr.Kind(), quoteName(name))
			}
			ciphertext = v
		}
	}
	var plain []byte
	err := kr.call(ctx, "decrypting", name, func(ctx context.Context) error {
		var err error
		plain, err = kr.k.Decrypt(ctx, name, ciphertext)
		return err
	})
	if err != nil {
		return nil, err
	}
	if PythonBoolLiteral(string(plain)) {
		Warn(ctx, fmt.Sprintf("the plaintext of %s is a Python boolean literal (True or False): LiteLLM's get_secret returns a boolean for it, not a string, so get_secret_str (API keys) reads it as unset", quoteName(name)))
	}
	return &Secret{Name: name, Value: plain}, nil
}

// ReadAsGateway reads as LiteLLM's get_secret reads a KMS store: under
// access_mode write_only, or for a name outside hosted_keys, LiteLLM never
// asks the KMS and hands over the environment variable as it is; otherwise
// it decrypts the ciphertext the environment holds for name (Decrypt).
func (kr *Keyring) ReadAsGateway(ctx context.Context, name, fullName string) (*Secret, error) {
	switch {
	case kr.settings.AccessMode == WriteOnly:
		if err := ValidateName(name); err != nil {
			return nil, err
		}
		return envSecret(kr.opts.LookupEnv, name, fmt.Sprintf("key_management_settings.access_mode is %q, so LiteLLM reads the process environment without decrypting", WriteOnly))
	case !kr.settings.Hosted(name, fullName):
		if err := ValidateName(name); err != nil {
			return nil, err
		}
		return envSecret(kr.opts.LookupEnv, name, "the name is not in key_management_settings.hosted_keys, so LiteLLM reads the process environment without decrypting")
	}
	return kr.Decrypt(ctx, name, "")
}

// ReadManyAsGateway reads several names for llmsecret_secrets: bounded
// concurrent ReadAsGateway. names and fullNames are parallel slices. The
// result is keyed by name.
func (kr *Keyring) ReadManyAsGateway(ctx context.Context, names, fullNames []string) (map[string]*Secret, error) {
	if len(names) != len(fullNames) {
		return nil, Errorf(InvalidArgument, "reading secrets in %s: %d names but %d full names", kr.Kind(), len(names), len(fullNames))
	}
	pending := make([]int, len(names))
	for i := range names {
		if err := ValidateName(fullNames[i]); err != nil {
			return nil, err
		}
		pending[i] = i
	}
	return readConcurrently(ctx, kr.opts.Concurrency, make(map[string]*Secret, len(names)), names, fullNames, pending, kr.ReadAsGateway)
}

// PythonBoolLiteral reports whether LiteLLM's get_secret turns s into a
// boolean: ast.literal_eval(s) is True or False. It covers the forms
// literal_eval accepts for them: leading spaces and tabs, trailing
// whitespace, and enclosing parentheses.
func PythonBoolLiteral(s string) bool {
	s = strings.TrimLeft(s, " \t")
	s = strings.TrimRight(s, " \t\r\n\f\v")
	for strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		s = strings.Trim(s[1:len(s)-1], " \t\r\n\f\v")
	}
	return s == "True" || s == "False"
}
