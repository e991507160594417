package backends

import (
	"context"
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
// the ciphertext is the given one, else the process environment variable
// called name, as LiteLLM reads it.
func (s *Store) Decrypt(ctx context.Context, name, ciphertext string) (*Secret, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	e, err := s.encrypter()
	if err != nil {
		return nil, err
	}
	if ciphertext == "" {
		v, ok := s.opts.LookupEnv(name)
		if !ok {
			return nil, Errorf(NotFound, "decrypting secret (%s) with %s: no ciphertext given and environment variable %s is not set", name, s.Kind(), quoteName(name))
		}
		ciphertext = v
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
	return &Secret{Name: name, Value: plain}, nil
}
