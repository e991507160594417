package backends

import (
	"context"
	"fmt"
	"strings"
)

// IsKMS reports whether the store holds no secrets and encrypts instead.
func (s *Store) IsKMS() bool { return s.caps.KMS }

func (s *Store) encrypter() (Encrypter, error) {
	e, ok := s.b.(Encrypter)
	if !ok || !s.caps.KMS {
		return nil, Errorf(Unsupported, "the %s store does not encrypt; only KMS stores do", s.Kind())
	}
	return e, nil
}

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
func (s *Store) Encrypt(ctx context.Context, fullName string, plaintext []byte) (string, error) {
	if err := s.CheckWritable(); err != nil {
		return "", err
	}
	if err := ValidateName(fullName); err != nil {
		return "", err
	}
	e, err := s.encrypter()
	if err != nil {
		return "", err
	}
	var ct string
	err = s.call(ctx, "encrypting", fullName, func(ctx context.Context) error {
		var err error
		ct, err = e.Encrypt(ctx, fullName, plaintext)
		return err
	})
	return ct, err
}

// Decrypt is the read of data sources and ephemeral resources on a KMS store:
// the ciphertext is the given one, else the one the process environment
// holds for name, as LiteLLM reads it (the variable called name, and the
// store's own variables: EnvCiphertexter).
func (s *Store) Decrypt(ctx context.Context, name, ciphertext string) (*Secret, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	e, err := s.encrypter()
	if err != nil {
		return nil, err
	}
	if ciphertext == "" {
		if ec, ok := s.b.(EnvCiphertexter); ok {
			ciphertext, _, err = ec.CiphertextFromEnv(ctx, name, s.opts.LookupEnv)
			if err != nil {
				return nil, err
			}
		} else {
			v, ok := s.opts.LookupEnv(name)
			if !ok {
				return nil, Errorf(NotFound, "decrypting secret (%s) with %s: no ciphertext given and environment variable %s is not set", name, s.Kind(), quoteName(name))
			}
			ciphertext = v
		}
	}
	var plain []byte
	err = s.call(ctx, "decrypting", name, func(ctx context.Context) error {
		var err error
		plain, err = e.Decrypt(ctx, name, ciphertext)
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

// lookupKMS is ReadAsGateway on a KMS store, as LiteLLM's get_secret reads it: under
// access_mode write_only, or for a name outside hosted_keys, LiteLLM never
// asks the KMS and hands over the environment variable as it is.
func (s *Store) lookupKMS(ctx context.Context, name, fullName string) (*Secret, error) {
	switch {
	case s.settings.AccessMode == WriteOnly:
		if err := ValidateName(name); err != nil {
			return nil, err
		}
		return s.fromEnv(name, fmt.Sprintf("key_management_settings.access_mode is %q, so LiteLLM reads the process environment without decrypting", WriteOnly))
	case !s.settings.Hosted(name, fullName):
		if err := ValidateName(name); err != nil {
			return nil, err
		}
		return s.fromEnv(name, "the name is not in key_management_settings.hosted_keys, so LiteLLM reads the process environment without decrypting")
	}
	return s.Decrypt(ctx, name, "")
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
