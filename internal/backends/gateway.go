package backends

// The reads of data sources and ephemeral resources, as LiteLLM's get_secret
// reads (DESIGN.md, Settings): access_mode, hosted_keys, the
// store's environment fallback and the names LiteLLM never asks the store for.

import (
	"context"
	"fmt"
)

// ReadAsGateway reads as the gateway would (LiteLLM's get_secret): the read of
// data sources and ephemeral resources. It honours
// access_mode (write_only reads the environment), hosted_keys, the primary
// secret and the store's environment fallback. name is the object's name as
// written, fullName the stored name.
func (s *Store) ReadAsGateway(ctx context.Context, name, fullName string) (*Secret, error) {
	if err := s.validateLookup(name, fullName); err != nil {
		return nil, err
	}
	switch {
	case s.EnvOnlyName(name) != "":
		return s.fromEnv(name, s.EnvOnlyName(name))
	case s.settings.AccessMode == WriteOnly:
		return s.fromEnv(name, fmt.Sprintf("key_management_settings.access_mode is %q, so reads come from the process environment", WriteOnly))
	case !s.settings.Hosted(name, fullName):
		return s.fromEnv(name, "the name is not in key_management_settings.hosted_keys, so it is read from the process environment")
	}
	sec, err := s.ReadStored(ctx, fullName)
	if CodeOf(err) == NotFound && s.caps.EnvFallback {
		if v, ok := s.opts.LookupEnv(name); ok {
			return &Secret{Name: name, Value: []byte(v)}, nil
		}
	}
	return sec, err
}

// EnvOnlyName says why LiteLLM reads name from the process environment and
// never from this store (EnvOnlyNamer), or "" when it reads the store.
func (s *Store) EnvOnlyName(name string) string {
	if e, ok := s.b.(EnvOnlyNamer); ok {
		return e.EnvOnlyName(name)
	}
	return ""
}

// validateLookup applies the shared name rules, and the store's own only when
// the read goes to the store: a read served by the process environment
// (write_only, a name outside hosted_keys) is not bound by the store's limits.
func (s *Store) validateLookup(name, fullName string) error {
	if s.settings.AccessMode == WriteOnly || !s.settings.Hosted(name, fullName) || s.EnvOnlyName(name) != "" {
		return ValidateName(fullName)
	}
	return s.ValidateName(fullName)
}

func (s *Store) fromEnv(name, why string) (*Secret, error) {
	return envSecret(s.opts.LookupEnv, name, why)
}

// ReadManyAsGateway reads several names for llmsecret_secrets: one read of the
// primary secret, the store's batch call, or bounded concurrent reads. names
// and fullNames are parallel slices. The result is keyed by name.
func (s *Store) ReadManyAsGateway(ctx context.Context, names, fullNames []string) (map[string]*Secret, error) {
	if len(names) != len(fullNames) {
		return nil, Errorf(InvalidArgument, "reading secrets in %s: %d names but %d full names", s.Kind(), len(names), len(fullNames))
	}
	out := make(map[string]*Secret, len(names))
	for i := range names {
		if err := s.validateLookup(names[i], fullNames[i]); err != nil {
			return nil, err
		}
	}
	// Names that go to the store in one batch; the rest one at a time.
	var batchNames, batchFull []string
	if bg, ok := s.b.(BatchGetter); ok && s.settings.AccessMode != WriteOnly {
		for i := range names {
			if s.settings.Hosted(names[i], fullNames[i]) && s.EnvOnlyName(names[i]) == "" {
				batchNames = append(batchNames, names[i])
				batchFull = append(batchFull, fullNames[i])
			}
		}
		if len(batchFull) > 0 {
			var got map[string]*Secret
			err := s.call(ctx, "reading", fmt.Sprintf("%d secrets", len(batchFull)), func(ctx context.Context) error {
				var err error
				got, err = bg.GetBatch(ctx, batchFull)
				return err
			})
			if err != nil {
				return nil, err
			}
			for i, full := range batchFull {
				if sec, ok := got[full]; ok && !sec.Deleted {
					out[batchNames[i]] = sec
				}
			}
		}
	}
	// Decide what is left before any goroutine writes to out.
	var pending []int
	for i, name := range names {
		if _, done := out[name]; !done {
			pending = append(pending, i)
		}
	}
	return readConcurrently(ctx, s.opts.Concurrency, out, names, fullNames, pending, s.ReadAsGateway)
}
