package backends

import (
	"context"
	"fmt"
	"time"
)

// PrimarySecretKind is the one key_management_system whose LiteLLM reader
// reads a primary secret (Caps.PrimarySecret).
const PrimarySecretKind = "aws_secret_manager"

// Store is what provider code holds: a Backend plus the behaviour every store
// gets for free. It is safe for concurrent use.
type Store struct {
	b        Backend
	caps     Caps
	settings Settings
	opts     StoreOptions
	cache    *readCache
	// caller runs the store's calls (calls.go): timeouts, retries, the
	// closed and "store down" states.
	*caller
}

// NewStore wraps b. It validates opts.Settings and fills defaults.
func NewStore(b Backend, opts *StoreOptions) (*Store, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Store{b: b, caps: b.Caps(), settings: o.Settings, opts: o, cache: newReadCache(o.CacheReads)}
	s.caller = newCaller(b.Kind(), b.ErrorCode, &s.opts)
	if o.Settings.PrimarySecretName != "" && !b.Caps().PrimarySecret {
		return nil, Errorf(InvalidArgument, "key_management_settings.primary_secret_name is set, but LiteLLM reads primary secrets only from AWS Secrets Manager (key_management_system = %q): with the %s store it reads each name on its own, so it would never find secrets stored as fields of %s; remove primary_secret_name", PrimarySecretKind, b.Kind(), quoteName(o.Settings.PrimarySecretName))
	}
	if o.Settings.PrimarySecretName != "" {
		// The primary secret is a name in the store below: its rules apply.
		if err := s.ValidateName(o.Settings.PrimarySecretName); err != nil {
			return nil, fmt.Errorf("key_management_settings.primary_secret_name: %w", err)
		}
		desc, tags := o.Settings.Merge("", nil)
		s.b = NewPrimarySecret(b, o.Settings.PrimarySecretName, PrimarySecretOptions{Description: desc, Tags: tags, Wait: o.Wait, Call: s.caller.call})
		s.caps = s.b.Caps()
	}
	return s, nil
}

// Kind returns the store's key_management_system value.
func (s *Store) Kind() string { return s.b.Kind() }

// Settings returns the key_management_settings in force.
func (s *Store) Settings() *Settings { return &s.settings }

// Caps returns what objects can do on this store.
func (s *Store) Caps() Caps { return s.caps }

// NoDeleteReason says why the store cannot delete secrets, "" when it can or
// does not say (NoDeleteExplainer).
func (s *Store) NoDeleteReason() string {
	if s.Caps().Delete {
		return ""
	}
	if e, ok := s.b.(NoDeleteExplainer); ok {
		return e.NoDeleteReason()
	}
	return ""
}

// FullName returns the stored name of an object's name: the settings' or the
// object's prefix joined with it (Settings.FullName; the settings' prefix only
// for virtual keys). It applies the name rules, so a name the store cannot
// hold fails here, at plan time. Stores never respell a name: LiteLLM reads
// each secret by the name its config gives, so the stored name is that name.
func (s *Store) FullName(name string, prefix *string, virtualKey bool) (string, error) {
	return fullNameWith(&s.settings, name, prefix, virtualKey, s.ValidateName)
}

// Close releases the backend. Calls after Close fail with FailedPrecondition.
func (s *Store) Close() error { return s.closeOnce(s.b.Close) }

// ValidateName applies the shared name rules, then the store's own
// (NameValidator). With a primary secret, names are JSON field names: the
// decorator has no rules of its own, so only the shared rules apply.
func (s *Store) ValidateName(fullName string) error {
	if err := ValidateName(fullName); err != nil {
		return err
	}
	v, ok := s.b.(NameValidator)
	if !ok {
		return nil
	}
	// DESIGN.md, Names: the error names the store and the rule, and a name
	// the store refuses is always InvalidArgument (never retried).
	err := v.ValidateName(fullName)
	if err == nil || isRuleViolation(err) {
		return err
	}
	return Errorf(InvalidArgument, "the %s store does not accept secret name %s: %w", s.Kind(), quoteName(fullName), err)
}

// ValidateWrite checks a write before any store call: the name rules, then
// the store's own rules on description and tags (WriteValidator), with the
// settings' defaults merged in. The provider calls it at plan time, so a tag
// the store would refuse fails the plan; req.Value is not needed. (With a
// primary secret the decorator applies the store's rules to the primary
// secret, which is what is written.)
func (s *Store) ValidateWrite(req WriteRequest) error {
	if err := s.ValidateName(req.Name); err != nil {
		return err
	}
	req.Description, req.Tags = s.settings.Merge(req.Description, req.Tags)
	return s.validateWrite(req)
}

// validateWrite applies the store's WriteValidator to a merged request.
func (s *Store) validateWrite(req WriteRequest) error {
	v, ok := s.b.(WriteValidator)
	if !ok {
		return nil
	}
	err := v.ValidateWrite(req)
	if err == nil || isRuleViolation(err) {
		return err
	}
	return Errorf(InvalidArgument, "the %s store does not accept secret (%s): %w", s.Kind(), req.Name, err)
}

// CheckWritable returns an error naming the setting to change when resources
// may not write through this store.
func (s *Store) CheckWritable() error {
	if err := s.settings.checkWritable(); err != nil {
		return err
	}
	if !s.Caps().Write {
		return Errorf(Unsupported, "the %s store does not support writing secrets", s.Kind())
	}
	return nil
}

// ReadStored reads what the store itself holds: the read of managed resources (refresh, import, read-back after a
// write): from the store, with a deleted-but-recoverable secret treated as
// missing. Concurrent reads of a name share one store call; with
// StoreOptions.CacheReads later reads in the run are served from the run's
// read cache until the run writes, deletes, rotates or updates that name.
func (s *Store) ReadStored(ctx context.Context, fullName string) (*Secret, error) {
	return s.find(ctx, fullName, false)
}

// ReadStoredFresh is ReadStored from the store itself, past the run's read
// caches (the read cache is left as it is; a backend's own copy, the primary
// secret's, may be refreshed by what it reads): the check that a secret has
// not changed since Terraform last read it must see what the store holds now.
func (s *Store) ReadStoredFresh(ctx context.Context, fullName string) (*Secret, error) {
	return s.find(ctx, fullName, true)
}

// find is ReadStored; fresh bypasses the per-run caches (the read cache, and
// a backend's own: FreshGetter). It leaves the read cache as it is; a
// backend's own copy may be refreshed by what it reads.
func (s *Store) find(ctx context.Context, fullName string, fresh bool) (*Secret, error) {
	read := s.b.Get
	if fg, ok := s.b.(FreshGetter); ok && fresh {
		read = fg.GetFresh
	}
	get := func(ctx context.Context) (*Secret, error) {
		var sec *Secret
		err := s.call(ctx, "reading", fullName, func(ctx context.Context) error {
			var err error
			sec, err = read(ctx, fullName)
			return err
		})
		if err == nil && sec == nil {
			err = Errorf(Internal, "reading secret (%s) in %s: store returned no secret and no error", fullName, s.Kind())
		}
		return sec, err
	}
	var (
		sec *Secret
		err error
	)
	if fresh {
		sec, err = get(ctx)
	} else {
		sec, err = s.cache.read(ctx, fullName, get)
	}
	if err != nil {
		return nil, err
	}
	if sec.Deleted {
		return nil, Errorf(NotFound, "reading secret (%s) in %s: secret is deleted (recoverable)", fullName, s.Kind())
	}
	return sec, nil
}

// Write creates or replaces a secret and returns its new version. The object's
// description and tags are merged over the settings' defaults. It does not
// check who wrote what the name holds: resources use Create for a new secret.
func (s *Store) Write(ctx context.Context, req WriteRequest) (string, error) {
	if err := s.checkWrite(req.Name); err != nil {
		return "", err
	}
	return s.put(ctx, req)
}

// checkWrite is what every write checks first, once: that resources may
// write, and the name rules.
func (s *Store) checkWrite(fullName string) error {
	if err := s.CheckWritable(); err != nil {
		return err
	}
	return s.ValidateName(fullName)
}

// put is Write after checkWrite: the settings' defaults merged in, the
// store's write rules, one store call.
func (s *Store) put(ctx context.Context, req WriteRequest) (string, error) {
	req.Description, req.Tags = s.settings.Merge(req.Description, req.Tags)
	if err := s.validateWrite(req); err != nil {
		return "", err
	}
	s.cache.invalidate(req.Name)
	defer s.cache.invalidate(req.Name)
	var version string
	err := s.call(ctx, "writing", req.Name, func(ctx context.Context) error {
		var err error
		version, err = s.b.Put(ctx, req)
		return err
	})
	return version, err
}

// UpdateMetadata changes description and tags without a new value, where the
// store keeps metadata and can change it alone. It returns Unsupported when
// the caller must write the value again instead, and does nothing for stores
// without metadata.
func (s *Store) UpdateMetadata(ctx context.Context, fullName, description string, tags map[string]string) error {
	if err := s.CheckWritable(); err != nil {
		return err
	}
	if !s.Caps().Metadata {
		return nil
	}
	mu, ok := s.b.(MetadataUpdater)
	if !ok {
		return Errorf(Unsupported, "the %s store cannot change metadata without a new version", s.Kind())
	}
	description, tags = s.settings.Merge(description, tags)
	if err := s.validateWrite(WriteRequest{Name: fullName, Description: description, Tags: tags}); err != nil {
		return err
	}
	s.cache.invalidate(fullName)
	defer s.cache.invalidate(fullName)
	return s.call(ctx, "updating", fullName, func(ctx context.Context) error {
		return mu.UpdateMetadata(ctx, fullName, description, tags)
	})
}

// Delete removes a secret. It waits until the store no longer returns it only
// where deletes are eventually consistent (Caps.ImmediateDelete false, see
// waitGone); an immediate delete returns at once. A missing secret is not an
// error.
func (s *Store) Delete(ctx context.Context, fullName string, mode DeleteMode) error {
	if mode == Abandon {
		return nil
	}
	if err := s.CheckWritable(); err != nil {
		return err
	}
	caps := s.Caps()
	if !caps.Delete {
		return Errorf(Unsupported, "the %s store does not support deleting secrets", s.Kind())
	}
	if mode == DeleteSoft && !caps.SoftDelete {
		return Errorf(Unsupported, "the %s store has no soft delete", s.Kind())
	}
	s.cache.invalidate(fullName)
	defer s.cache.invalidate(fullName)
	err := s.call(ctx, "deleting", fullName, func(ctx context.Context) error {
		return s.b.Delete(ctx, fullName, mode)
	})
	if CodeOf(err) == NotFound {
		err = nil
	}
	if err != nil || caps.ImmediateDelete {
		return err
	}
	return s.waitGone(ctx, fullName)
}

// waitGone polls the finder until the secret reads as missing, for stores
// whose deletes are eventually consistent. It does not sleep blindly: each
// poll is a read of the store (never of the read cache), with backoff between
// them, bounded by the call timeout.
func (s *Store) waitGone(ctx context.Context, fullName string) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
	defer cancel()
	delay := 50 * time.Millisecond
	for {
		_, err := s.find(ctx, fullName, true)
		switch code := CodeOf(err); {
		case code == NotFound:
			return nil
		case code == PermissionDenied && s.settings.AccessMode == WriteOnly:
			// The credential may only write: the store acknowledged the
			// delete, and that is all it can know.
			return nil
		case code == OK:
		default:
			return fmt.Errorf("waiting for secret (%s) in %s to be deleted: %w", fullName, s.Kind(), err)
		}
		if err := s.opts.Wait(ctx, delay); err != nil {
			return Errorf(DeadlineExceeded, "waiting for secret (%s) in %s to be deleted: still readable after %s", fullName, s.Kind(), s.opts.CallTimeout)
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// Health checks the store.
func (s *Store) Health(ctx context.Context) error {
	// One store call, also through a Composite (which adds nothing to it).
	return s.caller.call(ctx, "checking", "store health", s.b.Health)
}

// call runs one operation of the backend: one store call with the caller's
// per-call timeout and retries, or, for a Composite backend, its method once,
// since each of its own store calls goes through the caller.
func (s *Store) call(ctx context.Context, op, name string, fn func(context.Context) error) error {
	if _, ok := s.b.(Composite); ok {
		return s.callOnce(ctx, op, name, fn)
	}
	return s.caller.call(ctx, op, name, fn)
}
