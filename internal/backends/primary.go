package backends

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/singleflight"
)

// PrimarySecretOptions configures NewPrimarySecret.
type PrimarySecretOptions struct {
	// Description and Tags are written with the primary secret itself: its
	// fields have no metadata of their own (the settings' defaults).
	Description string
	Tags        map[string]string
	// Wait waits between compare-and-set rounds; nil means a timer under ctx.
	Wait func(ctx context.Context, d time.Duration) error
	// Call runs one call of the store below (op and name describe it for
	// errors): *Store passes its per-call timeout, classification and
	// retries. nil runs fn as it is.
	Call func(ctx context.Context, op, name string, fn func(context.Context) error) error
}

// NewPrimarySecret returns a Backend that keeps every name as a field of one
// JSON object of strings stored in inner under name, as LiteLLM reads
// key_management_settings.primary_secret_name (DESIGN.md, "The primary
// secret"). It is a decorator: *Store sees an ordinary Backend and has no
// primary-secret mode of its own.
//
// Reads share one inner read per run (a cache filled once, with
// singleflight); GetFresh reads the object again. Writes and deletes are
// read-modify-writes of the whole object: serialised and group-committed
// (whoever holds the write lock applies every mutation queued so far in one
// inner write, so N parallel writers cost far fewer than N round trips and
// none loses another's field), and conditional on the version read when
// inner is a CASWriter, so a write that lost to another process is read,
// merged and tried again.
//
// Fields have no metadata, no soft delete and no listing; deleting one is a
// write, so the decorator can delete wherever inner can write. Values must
// be UTF-8 text (JSON strings hold nothing else).
func NewPrimarySecret(inner Backend, name string, opts PrimarySecretOptions) Backend {
	if opts.Wait == nil {
		opts.Wait = WaitContext
	}
	if opts.Call == nil {
		opts.Call = func(ctx context.Context, _, _ string, fn func(context.Context) error) error { return fn(ctx) }
	}
	return &primaryBackend{inner: inner, name: name, opts: opts}
}

// primaryBackend is the decorator NewPrimarySecret returns.
type primaryBackend struct {
	inner Backend
	name  string
	opts  PrimarySecretOptions

	load singleflight.Group

	cacheMu sync.RWMutex
	cached  bool
	exists  bool
	fields  map[string]json.RawMessage
	// gen counts commits (and failed commits). A read that started before a
	// commit must not cache what it read over what the commit cached.
	gen uint64

	writeMu sync.Mutex // held by the one writer applying a batch
	queueMu sync.Mutex
	queue   []*fieldMutation
}

type fieldMutation struct {
	field   string
	value   []byte
	remove  bool
	done    bool
	version string
	err     error
}

// Kind implements Backend: the store is inner's.
func (p *primaryBackend) Kind() string { return p.inner.Kind() }

// Caps implements Backend: names are fields of a JSON object of strings,
// with no metadata and no soft delete of their own and UTF-8 values only;
// removing one is a write, over when it returns, so Store.Delete does not
// poll for it.
func (p *primaryBackend) Caps() Caps {
	c := p.inner.Caps()
	c.Metadata = false
	c.SoftDelete = false
	c.Binary = false
	c.Delete = c.Write
	// A field is gone from the run's copy as soon as its commit returns.
	c.ImmediateDelete = true
	return c
}

// Inner implements Composite.
func (p *primaryBackend) Inner() Backend { return p.inner }

// Health, ErrorCode and Close implement Backend with inner's.
func (p *primaryBackend) Health(ctx context.Context) error { return p.inner.Health(ctx) }
func (p *primaryBackend) ErrorCode(err error) Code         { return p.inner.ErrorCode(err) }
func (p *primaryBackend) Close() error                     { return p.inner.Close() }

// call runs one call of inner, on the primary secret, through opts.Call.
func (p *primaryBackend) call(ctx context.Context, op, name string, fn func(context.Context) error) error {
	return p.opts.Call(ctx, op, name, fn)
}

// Get implements Backend: one field, from the run's copy of the object.
func (p *primaryBackend) Get(ctx context.Context, field string) (*Secret, error) {
	return p.field(ctx, field, false)
}

// GetFresh implements FreshGetter: one field, from the object as the store
// holds it now.
func (p *primaryBackend) GetFresh(ctx context.Context, field string) (*Secret, error) {
	return p.field(ctx, field, true)
}

// Put implements Backend: sets one field. Description and tags are the
// primary secret's (PrimarySecretOptions), not the field's.
func (p *primaryBackend) Put(ctx context.Context, req WriteRequest) (string, error) {
	if !utf8.Valid(req.Value) {
		return "", Errorf(InvalidArgument, "a value stored in primary secret (%s) must be UTF-8 text (JSON strings cannot hold other bytes)", p.name)
	}
	return p.mutate(ctx, &fieldMutation{field: req.Name, value: req.Value})
}

// Delete implements Backend: removes one field; a missing field or primary
// secret writes nothing.
func (p *primaryBackend) Delete(ctx context.Context, field string, _ DeleteMode) error {
	_, err := p.mutate(ctx, &fieldMutation{field: field, remove: true})
	return err
}

// ValidateWrite implements WriteValidator: what is written is the primary
// secret, with its own description and tags, so inner's rules apply to that.
func (p *primaryBackend) ValidateWrite(WriteRequest) error {
	v, ok := p.inner.(WriteValidator)
	if !ok {
		return nil
	}
	return v.ValidateWrite(WriteRequest{Name: p.name, Description: p.opts.Description, Tags: p.opts.Tags})
}

// CheckCredentials implements CredentialChecker with inner's check, where it
// has one: the credentials that read and write the primary secret are the
// store's.
func (p *primaryBackend) CheckCredentials(ctx context.Context) error {
	if cc, ok := p.inner.(CredentialChecker); ok {
		return cc.CheckCredentials(ctx)
	}
	return nil
}

// EnvOnlyName implements EnvOnlyNamer with inner's: LiteLLM's reader of the
// store reads those names from the environment with or without a primary
// secret.
func (p *primaryBackend) EnvOnlyName(name string) string {
	if e, ok := p.inner.(EnvOnlyNamer); ok {
		return e.EnvOnlyName(name)
	}
	return ""
}

// NoListReason implements NoListExplainer.
func (p *primaryBackend) NoListReason() string {
	return "with primary_secret_name every secret is a field of one JSON secret; import the fields by name"
}

// Locate implements Locator, for errors about a name that is taken.
func (p *primaryBackend) Locate(string) string {
	return fmt.Sprintf("as a field of primary secret (%s)", p.name)
}

// field reads one field of the object.
func (p *primaryBackend) field(ctx context.Context, field string, fresh bool) (*Secret, error) {
	fields, exists, err := p.object(ctx, fresh)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, Errorf(NotFound, "primary secret (%s) does not exist", p.name)
	}
	raw, ok := fields[field]
	if !ok {
		return nil, Errorf(NotFound, "no such field in primary secret (%s)", p.name)
	}
	// A *string, so a JSON null fails like any other non-string field
	// instead of reading as "".
	var v *string
	if err := json.Unmarshal(raw, &v); err != nil || v == nil {
		return nil, foreignValue(Errorf(FailedPrecondition, "field of primary secret (%s) is not a JSON string (LiteLLM's get_secret returns None for it: the gateway sees no value)", p.name))
	}
	return &Secret{Name: field, Value: []byte(*v), Version: Fingerprint(field, []byte(*v))}, nil
}

// object returns the primary object, from the cache unless fresh.
func (p *primaryBackend) object(ctx context.Context, fresh bool) (map[string]json.RawMessage, bool, error) {
	type result struct {
		fields map[string]json.RawMessage
		exists bool
	}
	if fresh {
		// Fresh reads share a read only with those that started after the
		// same commit: concurrent creates checking their names cost one
		// read, and a read after a write (a rotation's read-back) never
		// joins one that started before the write.
		p.cacheMu.RLock()
		key := "fresh " + strconv.FormatUint(p.gen, 10)
		p.cacheMu.RUnlock()
		v, err, shared := p.load.Do(key, func() (any, error) {
			f, ok, _, err := p.read(ctx)
			return result{f, ok}, err
		})
		// A read this caller joined ended with its first caller's
		// cancellation or deadline: this caller's own context is not done,
		// so it reads for itself.
		if shared && ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			var f map[string]json.RawMessage
			var ok bool
			f, ok, _, err = p.read(ctx)
			v = result{f, ok}
		}
		if err != nil {
			return nil, false, err
		}
		r, _ := v.(result)
		return r.fields, r.exists, nil
	}
	p.cacheMu.RLock()
	if p.cached {
		f, ok := p.fields, p.exists
		p.cacheMu.RUnlock()
		return f, ok, nil
	}
	p.cacheMu.RUnlock()
	v, err, _ := p.load.Do("load", func() (any, error) {
		// A caller that missed the cache just before a previous load
		// finished lands here after it: use what that load cached.
		p.cacheMu.RLock()
		if p.cached {
			r := result{p.fields, p.exists}
			p.cacheMu.RUnlock()
			return r, nil
		}
		p.cacheMu.RUnlock()
		f, ok, _, err := p.read(ctx)
		return result{f, ok}, err
	})
	if err != nil {
		return nil, false, err
	}
	r, ok := v.(result)
	if !ok {
		return nil, false, Errorf(Internal, "reading primary secret (%s): unexpected cache entry %T", p.name, v)
	}
	return r.fields, r.exists, nil
}

// read reads and parses the object from inner, caches it, and returns it
// with the version read ("" when the primary secret does not exist), which
// a compare-and-set expects. A missing primary secret is an empty object
// that does not exist yet.
func (p *primaryBackend) read(ctx context.Context) (map[string]json.RawMessage, bool, string, error) {
	p.cacheMu.RLock()
	gen := p.gen
	p.cacheMu.RUnlock()
	var sec *Secret
	err := p.call(ctx, "reading", "primary "+p.name, func(ctx context.Context) error {
		var err error
		sec, err = p.inner.Get(ctx, p.name)
		return err
	})
	fields := map[string]json.RawMessage{}
	exists := true
	version := ""
	switch {
	case CodeOf(err) == NotFound || err == nil && (sec == nil || sec.Deleted):
		exists = false
	case err != nil:
		return nil, false, "", err
	default:
		fields, err = parsePrimary(p.name, p.inner.Kind(), sec.Value)
		if err != nil {
			return nil, false, "", err
		}
		version = sec.Version
	}
	p.cacheMu.Lock()
	if p.gen == gen {
		p.cached, p.exists, p.fields = true, exists, fields
	}
	p.cacheMu.Unlock()
	return fields, exists, version, nil
}

// parsePrimary parses the primary object as LiteLLM's _parse_primary_secret
// does (json.loads(value or "{}")): an empty value is an empty object. Its
// errors never quote the payload, which is made of secrets.
func parsePrimary(name, kind string, payload []byte) (map[string]json.RawMessage, error) {
	if len(payload) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	var fields map[string]json.RawMessage
	err := json.Unmarshal(payload, &fields)
	if err == nil && fields == nil {
		return nil, Errorf(FailedPrecondition, "primary secret (%s) in %s is not a JSON object of strings: it is JSON null", name, kind)
	}
	if err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			err = fmt.Errorf("invalid JSON at byte %d of %d", syn.Offset, len(payload))
		case errors.As(err, &typ):
			err = fmt.Errorf("it is a JSON %s", typ.Value)
		default:
			err = errors.New("it is not valid JSON")
		}
		return nil, Errorf(FailedPrecondition, "primary secret (%s) in %s is not a JSON object of strings: %v", name, kind, err)
	}
	return fields, nil
}

// mutate queues m and returns once a commit applied it: this caller's, or
// that of a writer who held the lock before and took m with its batch.
func (p *primaryBackend) mutate(ctx context.Context, m *fieldMutation) (string, error) {
	p.queueMu.Lock()
	p.queue = append(p.queue, m)
	p.queueMu.Unlock()

	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	if m.done { // a previous writer committed it with its batch
		return m.version, m.err
	}
	p.queueMu.Lock()
	batch := p.queue
	p.queue = nil
	p.queueMu.Unlock()

	err := p.commit(ctx, batch)
	for _, b := range batch {
		b.done, b.err = true, err
		if err == nil && !b.remove {
			b.version = Fingerprint(b.field, b.value)
		}
	}
	return m.version, m.err
}

// casAttempts bounds the compare-and-set rounds of one primary commit; each
// lost round means another writer committed, so this many in a row means
// heavy contention, reported as such.
const casAttempts = 20

// commit applies a batch of mutations in one read-modify-write. When inner
// is a CASWriter, the write is conditional on the version read; a write
// that lost to another process's is read, merged and tried again after a
// short random pause.
func (p *primaryBackend) commit(ctx context.Context, batch []*fieldMutation) error {
	cas, _ := p.inner.(CASWriter)
	for attempt := 1; ; attempt++ {
		fields, _, version, err := p.read(ctx)
		if err != nil {
			return err
		}
		payload, changed, err := p.merge(fields, batch)
		if err != nil || payload == nil {
			return err // only removals of absent fields: no write, no empty object
		}
		req := WriteRequest{Name: p.name, Value: payload, Description: p.opts.Description, Tags: p.opts.Tags}
		err = p.call(ctx, "writing", "primary "+p.name, func(ctx context.Context) error {
			var err error
			if cas != nil {
				_, err = cas.PutIf(ctx, req, version)
			} else {
				_, err = p.inner.Put(ctx, req)
			}
			return err
		})
		if err != nil {
			// The store may or may not hold the write; read it again next time.
			p.cacheMu.Lock()
			p.cached = false
			p.gen++
			p.cacheMu.Unlock()
			if IsVersionChanged(err) && attempt < casAttempts {
				if err := p.opts.Wait(ctx, casPause(attempt)); err != nil {
					return err
				}
				continue
			}
			if IsVersionChanged(err) {
				return fmt.Errorf("primary secret (%s) kept changing under %d attempts (other writers): %w", p.name, attempt, err)
			}
			return err
		}
		p.cacheMu.Lock()
		p.cached, p.exists, p.fields = true, true, changed
		p.gen++
		p.cacheMu.Unlock()
		return nil
	}
}

// merge applies batch to a copy of fields and returns the encoded object
// and the new fields, or a nil payload when nothing changed.
func (p *primaryBackend) merge(fields map[string]json.RawMessage, batch []*fieldMutation) ([]byte, map[string]json.RawMessage, error) {
	fields = maps.Clone(fields) // the cached map is shared with readers
	changed := false
	for _, m := range batch {
		if m.remove {
			if _, ok := fields[m.field]; ok {
				delete(fields, m.field)
				changed = true
			}
			continue
		}
		raw, err := json.Marshal(string(m.value))
		if err != nil {
			return nil, nil, Errorf(InvalidArgument, "encoding field %s: %v", quoteName(m.field), err)
		}
		fields[m.field] = raw
		changed = true
	}
	if !changed {
		return nil, nil, nil
	}
	payload, err := json.Marshal(fields)
	if err != nil {
		return nil, nil, Errorf(Internal, "encoding primary secret (%s): %v", p.name, err)
	}
	return payload, fields, nil
}

// casPause is the wait before compare-and-set round attempt+1: a random
// time up to 10 ms times the round (capped at 200 ms), so that contending
// writers spread out.
func casPause(attempt int) time.Duration {
	limit := min(time.Duration(attempt)*10*time.Millisecond, 200*time.Millisecond)
	return rand.N(limit) + time.Millisecond
}
