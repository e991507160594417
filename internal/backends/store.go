package backends

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// StoreOptions configures a *Store. The zero value gives the defaults.
type StoreOptions struct {
	Settings Settings
	// AddressHint says where the store's address is set (settings and
	// variables, as the provider names them), for errors of a store that
	// cannot be reached at all. Empty adds nothing.
	AddressHint string
	// Retry bounds retries of Throttled and Unavailable errors; zero means
	// DefaultRetryPolicy.
	Retry RetryPolicy
	// CallTimeout bounds one attempt of one store call; zero means
	// DefaultCallTimeout.
	CallTimeout time.Duration
	// LookupEnv reads the process environment; nil means os.LookupEnv. Tests
	// inject their own.
	LookupEnv func(string) (string, bool)
	// OnRetry, when set, is told about each retry (for logging). It never sees
	// a secret value.
	OnRetry func(ctx context.Context, op, name string, attempt int, delay time.Duration, err error)
	// Wait waits between retries; nil means a timer under ctx. Tests inject one
	// that records delays instead of waiting.
	Wait func(ctx context.Context, d time.Duration) error
	// Concurrency bounds parallel reads in ReadManyAsGateway; zero means 16.
	Concurrency int
	// CacheReads keeps what ReadStored reads for the life of the *Store (one run of
	// the CLI: the provider configures a new one per command), until the run
	// writes, deletes, rotates or updates that name. Without it only
	// identical concurrent reads share a store call.
	CacheReads bool
}

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
	closed   atomic.Bool
	// down is the first error of a call that found the store unreachable
	// (refused, unresolvable, no TLS) after spending its retries. Later calls
	// of the run fail at once with it, instead of each spending the whole
	// retry budget on a store that is not there.
	down atomic.Pointer[error]
}

// NewStore wraps b. It validates opts.Settings and fills defaults.
func NewStore(b Backend, opts *StoreOptions) (*Store, error) {
	var o StoreOptions
	if opts != nil {
		o = *opts
	}
	if err := o.Settings.Validate(); err != nil {
		return nil, err
	}
	if o.Retry.MaxAttempts <= 0 {
		o.Retry = DefaultRetryPolicy
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if o.Wait == nil {
		o.Wait = WaitContext
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	s := &Store{b: b, caps: b.Caps(), settings: o.Settings, opts: o, cache: newReadCache(o.CacheReads)}
	if o.Settings.PrimarySecretName != "" && b.Caps().KMS {
		return nil, Errorf(InvalidArgument, "key_management_settings.primary_secret_name: the %s store holds no secrets, so it has no primary secret", b.Kind())
	}
	if o.Settings.PrimarySecretName != "" && !b.Caps().PrimarySecret {
		return nil, Errorf(InvalidArgument, "key_management_settings.primary_secret_name is set, but LiteLLM reads primary secrets only from AWS Secrets Manager (key_management_system = %q): with the %s store it reads each name on its own, so it would never find secrets stored as fields of %s; remove primary_secret_name", PrimarySecretKind, b.Kind(), quoteName(o.Settings.PrimarySecretName))
	}
	if o.Settings.PrimarySecretName != "" {
		if err := s.validateStoreName(o.Settings.PrimarySecretName); err != nil {
			return nil, fmt.Errorf("key_management_settings.primary_secret_name: %w", err)
		}
		desc, tags := o.Settings.Merge("", nil)
		s.b = NewPrimarySecret(b, o.Settings.PrimarySecretName, PrimarySecretOptions{Description: desc, Tags: tags, Wait: o.Wait, Call: s.callStore})
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
	full := s.settings.FullName(name, prefix, virtualKey)
	if err := s.ValidateName(full); err != nil {
		if s.settings.PrefixesVirtualKey(prefix, virtualKey) {
			err = fmt.Errorf("%w (the name is key_management_settings.prefix_for_stored_virtual_keys %q joined with %s as LiteLLM joins it, because virtual_key is true)",
				err, s.settings.VirtualKeyPrefix(), quoteName(name))
		}
		return "", err
	}
	return full, nil
}

// Close releases the backend. Calls after Close fail with FailedPrecondition.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return s.b.Close()
}

// ValidateName applies the shared name rules, then the store's own
// (NameValidator). With a primary secret, names are JSON field names: the
// decorator has no rules of its own, so only the shared rules apply.
func (s *Store) ValidateName(fullName string) error { return s.validateStoreName(fullName) }

func (s *Store) validateStoreName(fullName string) error {
	if err := ValidateName(fullName); err != nil {
		return err
	}
	v, ok := s.b.(NameValidator)
	if !ok {
		return nil
	}
	// DESIGN.md, Names: the error names the store and the rule, and a name
	// the store refuses is always InvalidArgument (never retried).
	if err := v.ValidateName(fullName); err != nil && !isRuleViolation(err) {
		return Errorf(InvalidArgument, "the %s store does not accept secret name %s: %w", s.Kind(), quoteName(fullName), err)
	} else if err != nil {
		return err
	}
	return nil
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
	if !s.settings.CanWrite() {
		return Errorf(PermissionDenied, "key_management_settings.access_mode is %q, which only reads secrets; set access_mode = %q or %q to manage secrets with llmsecret_secret", s.settings.AccessMode, ReadAndWrite, WriteOnly)
	}
	if !s.Caps().Write {
		return Errorf(Unsupported, "the %s store does not support writing secrets", s.Kind())
	}
	return nil
}

// ReadAsGateway reads as the gateway would (LiteLLM's get_secret): the read of
// data sources and ephemeral resources. It honours
// access_mode (write_only reads the environment), hosted_keys, the primary
// secret and the store's environment fallback. name is the object's name as
// written, fullName the stored name.
func (s *Store) ReadAsGateway(ctx context.Context, name, fullName string) (*Secret, error) {
	if s.caps.KMS {
		return s.lookupKMS(ctx, name, fullName)
	}
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
	v, ok := s.opts.LookupEnv(name)
	if !ok {
		return nil, Errorf(NotFound, "reading secret (%s): environment variable %s is not set (%s)", name, quoteName(name), why)
	}
	return &Secret{Name: name, Value: []byte(v)}, nil
}

// ReadStored reads what the store itself holds: the read of managed resources (refresh, import, read-back after a
// write): from the store, with a deleted-but-recoverable secret treated as
// missing. Concurrent reads of a name share one store call; with
// StoreOptions.CacheReads later reads in the run are served from the run's
// read cache until the run writes, deletes, rotates or updates that name.
func (s *Store) ReadStored(ctx context.Context, fullName string) (*Secret, error) {
	return s.find(ctx, fullName, false)
}

// find is ReadStored; fresh bypasses the per-run caches (the read cache, and
// a backend's own: FreshGetter) and leaves them as they are.
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
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, s.opts.Concurrency)
	)
	for _, i := range pending {
		name := names[i]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			sec, err := s.ReadAsGateway(ctx, name, fullNames[i])
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			out[name] = sec
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// Create writes a secret the provider does not manage yet (a resource's
// create) and returns its version. Before the first write it checks, once,
// that the name holds no live secret (claim): a secret someone else wrote is
// never adopted and overwritten; the error says to import it instead. A
// soft-deleted secret does not count (the write recovers or overwrites it),
// and neither does one that already holds exactly the value being written (a
// write of ours whose answer was lost: retrying it overwrites nothing). The
// check runs before the write's retry loop, so the layer's own retry of a
// Put after a lost answer never meets it. KMS stores hold nothing: use
// Encrypt.
func (s *Store) Create(ctx context.Context, req WriteRequest) (string, error) {
	if err := s.CheckWritable(); err != nil {
		return "", err
	}
	if err := s.ValidateName(req.Name); err != nil {
		return "", err
	}
	if s.caps.KMS {
		return "", Errorf(Unsupported, "creating secret (%s) with %s: a KMS store holds no secrets; encrypt instead", req.Name, s.Kind())
	}
	if _, err := s.claim(ctx, req.Name, req.Value, "it", func(err error) error {
		return fmt.Errorf("creating secret (%s) in %s: %w", req.Name, s.Kind(), err)
	}); err != nil {
		return "", err
	}
	return s.Write(ctx, req)
}

// holder says what held a name when claim looked at it.
type holder int

const (
	// heldByNone: no live secret (missing, or deleted but recoverable).
	heldByNone holder = iota
	// heldBySame: a live secret holding exactly the value to be written.
	heldBySame
	// heldUnknown: the credential may not read (access_mode write_only and
	// a read refused with PermissionDenied).
	heldUnknown
)

// claim checks, once and before any write, that fullName holds no live secret
// other than value. A live secret with another value fails with
// AlreadyExists ("<subject> already exists"), wrapped by wrap. A name that
// holds a value no write of ours could have made (foreignValue: a field of
// the primary secret that is not a JSON string) is taken too. Under
// access_mode write_only a read refused with PermissionDenied does not
// block the write (the credential may be allowed to write only); it is
// reported as a warning. Any other failed read fails the claim: nothing is
// written on a guess.
func (s *Store) claim(ctx context.Context, fullName string, value []byte, subject string, wrap func(error) error) (holder, error) {
	sec, err := s.find(ctx, fullName, true)
	switch code := CodeOf(err); {
	case code == NotFound:
		return heldByNone, nil
	case code == PermissionDenied && s.settings.AccessMode == WriteOnly:
		Warn(ctx, fmt.Sprintf("could not check whether secret (%s) already exists in %s before writing it: the credential may not read it (access_mode %q): %v", fullName, s.Kind(), WriteOnly, err))
		return heldUnknown, nil
	case isForeignValue(err):
	case err != nil:
		return heldByNone, wrap(fmt.Errorf("checking whether the name is free before writing: %w", err))
	case string(sec.Value) == string(value):
		return heldBySame, nil
	}
	where := ""
	if l, ok := s.b.(Locator); ok {
		where = " " + l.Locate(fullName)
	}
	return heldByNone, wrap(Errorf(AlreadyExists, "%s already exists%s; to manage it, import it (import block id = %q)", subject, where, fullName))
}

// Write creates or replaces a secret and returns its new version. The object's
// description and tags are merged over the settings' defaults. It does not
// check who wrote what the name holds: resources use Create for a new secret.
func (s *Store) Write(ctx context.Context, req WriteRequest) (string, error) {
	if err := s.CheckWritable(); err != nil {
		return "", err
	}
	if err := s.ValidateName(req.Name); err != nil {
		return "", err
	}
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

// Rotate moves a secret to a new name LiteLLM's way: write the new name, read
// it back and compare, then delete the old name. oldMode says how the old
// name goes (Abandon keeps it).
//
// The new name must be free (claim): a live secret there with another value
// is someone else's, and the rotation fails before writing anything. If the
// write or the read-back fails, the old secret stays; the new name is removed
// again only if this rotation wrote it into a free name, and only
// recoverably (soft delete) where the store can: a store that can only
// delete for good keeps it, and the error says so. Under access_mode
// write_only there is no read-back (the credential may not read): the
// store's acknowledgement of the write stands for it.
func (s *Store) Rotate(ctx context.Context, oldName string, req WriteRequest, oldMode DeleteMode) (string, error) {
	if err := s.CheckWritable(); err != nil {
		return "", err
	}
	if err := s.ValidateName(req.Name); err != nil {
		return "", err
	}
	if oldName == req.Name {
		// Nothing moves: deleting the old name would delete the new one.
		return s.Write(ctx, req)
	}
	fail := func(err error) error {
		return fmt.Errorf("rotating secret (%s) to (%s) in %s: old secret kept, nothing written: %w", oldName, req.Name, s.Kind(), err)
	}
	held, err := s.claim(ctx, req.Name, req.Value, fmt.Sprintf("the new name (%s)", req.Name), fail)
	if err != nil {
		return "", err
	}
	// A native rotation retires the old name, so it serves only when the old
	// name is to be deleted.
	if r, ok := s.b.(Rotator); ok && oldMode != Abandon {
		req.Description, req.Tags = s.settings.Merge(req.Description, req.Tags)
		if err := s.validateWrite(req); err != nil {
			return "", err
		}
		s.cache.invalidate(oldName, req.Name)
		defer s.cache.invalidate(oldName, req.Name)
		var version string
		err := s.call(ctx, "rotating", oldName, func(ctx context.Context) error {
			var err error
			version, err = r.Rotate(ctx, oldName, req)
			return err
		})
		return version, err
	}
	version, err := s.Write(ctx, req)
	if err != nil {
		return "", fmt.Errorf("rotating secret (%s) to (%s) in %s: old secret kept: %w", oldName, req.Name, s.Kind(), err)
	}
	if s.settings.AccessMode != WriteOnly {
		got, err := s.find(ctx, req.Name, true)
		if err == nil && string(got.Value) != string(req.Value) {
			err = Errorf(FailedPrecondition, "the value read back from (%s) differs from the value written", req.Name)
		}
		if err != nil {
			return "", fmt.Errorf("rotating secret (%s) to (%s) in %s: read-back failed, old secret kept%s: %w", oldName, req.Name, s.Kind(), s.undoNewName(ctx, req.Name, held), err)
		}
	}
	if err := s.Delete(ctx, oldName, oldMode); err != nil {
		return version, fmt.Errorf("rotating secret (%s) to (%s) in %s: new secret written, deleting the old one failed: %w", oldName, req.Name, s.Kind(), err)
	}
	return version, nil
}

// undoNewName removes the new name of a failed rotation, if this rotation
// wrote it into a free name, and only recoverably. It returns what happened,
// for the error message.
func (s *Store) undoNewName(ctx context.Context, newName string, held holder) string {
	caps := s.Caps()
	switch {
	case held != heldByNone:
		return fmt.Sprintf("; the new name (%s) was left as it is: it held this value before the rotation wrote it", newName)
	case !caps.Delete || !caps.SoftDelete:
		return fmt.Sprintf("; the new name (%s) was left in the store: the %s store cannot delete it recoverably, and a rotation never deletes a name for good; remove it yourself if it is not wanted", newName, s.Kind())
	}
	if err := s.Delete(ctx, newName, DeleteSoft); err != nil {
		return fmt.Sprintf("; the new name (%s) is still in the store (removing it again, recoverably, also failed: %v)", newName, err)
	}
	return fmt.Sprintf("; the new name (%s) was deleted again, recoverably", newName)
}

// Health checks the store.
func (s *Store) Health(ctx context.Context) error {
	return s.call(ctx, "checking", "store health", s.b.Health)
}

// call runs one operation of the backend: callStore's retries and timeout
// for a store, or once for a Composite backend, whose own store calls each
// go through callStore.
func (s *Store) call(ctx context.Context, op, name string, fn func(context.Context) error) error {
	if _, ok := s.b.(Composite); !ok {
		return s.callStore(ctx, op, name, fn)
	}
	if s.closed.Load() {
		return Errorf(FailedPrecondition, "%s secret (%s) in %s: provider store is closed", op, name, s.Kind())
	}
	if err := fn(ctx); err != nil {
		return fmt.Errorf("%s secret (%s) in %s: %w", op, name, s.Kind(), err)
	}
	return nil
}

// callStore runs one store call with the per-call timeout, classifies its
// error and retries Throttled and Unavailable errors (and attempts that timed
// out) with backoff. Stores must make Put safe to repeat.
func (s *Store) callStore(ctx context.Context, op, name string, fn func(context.Context) error) error {
	if s.closed.Load() {
		return Errorf(FailedPrecondition, "%s secret (%s) in %s: provider store is closed", op, name, s.Kind())
	}
	if down := s.down.Load(); down != nil {
		return fmt.Errorf("%s secret (%s) in %s: not tried, the store was unreachable earlier in this run: %w", op, name, s.Kind(), *down)
	}
	p := s.opts.Retry
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
		deadline, _ := actx.Deadline()
		err := fn(actx)
		timedOut := err != nil && actx.Err() == context.DeadlineExceeded && ctx.Err() == nil
		cancel()
		if err == nil {
			return nil
		}
		err = s.classify(err, timedOut)
		code := CodeOf(err)
		// A server that enforces the deadline the call carried (gRPC) may
		// answer DeadlineExceeded a moment before the attempt's own timer
		// fires: that is the per-call timeout running out too.
		if code == DeadlineExceeded && !timedOut && ctx.Err() == nil && time.Until(deadline) <= s.opts.CallTimeout/10 {
			timedOut = true
		}
		retry := (code.Retryable() || code == DeadlineExceeded && timedOut) && ctx.Err() == nil
		if !retry || attempt >= p.MaxAttempts {
			if retry || attempt > 1 {
				err = fmt.Errorf("%s secret (%s) in %s: gave up after %d attempts: %w", op, name, s.Kind(), attempt, err)
			} else {
				err = fmt.Errorf("%s secret (%s) in %s: %w", op, name, s.Kind(), err)
			}
			if Unreachable(err) && ctx.Err() == nil {
				err = s.withAddressHint(err)
				s.down.CompareAndSwap(nil, &err)
			}
			return err
		}
		delay := p.backoff(attempt, retryAfterOf(err), jitter)
		if s.opts.OnRetry != nil {
			s.opts.OnRetry(ctx, op, name, attempt, delay, err)
		}
		if werr := s.opts.Wait(ctx, delay); werr != nil {
			return fmt.Errorf("%s secret (%s) in %s: %w (while retrying: %w)", op, name, s.Kind(), s.classify(werr, false), err)
		}
	}
}

// classify tags err with a code: its own if it is already an *Error, a
// deadline code for an attempt that ran out of time, else the store's mapping.
func (s *Store) classify(err error, timedOut bool) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if timedOut {
		return &Error{Code: DeadlineExceeded, msg: fmt.Sprintf("no answer within the per-call timeout of %s", s.opts.CallTimeout), err: err}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return Wrap(Canceled, err)
	case errors.Is(err, context.DeadlineExceeded):
		return Wrap(DeadlineExceeded, err)
	}
	return Wrap(s.b.ErrorCode(err), err)
}
