package backends

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/singleflight"
)

// primarySecret holds every name as a field of one JSON object stored under one
// name (primary_secret_name). Reads share one store call per run through a
// cache filled once with singleflight. Writes are read-modify-write of the whole
// object; they are serialised and group-committed: whoever holds the write lock
// applies every mutation queued so far in one store write, so N parallel
// writers cost far fewer than N round trips and none loses another's field.
type primarySecret struct {
	name string

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

// loadPrimary returns the primary object, from the cache unless fresh.
func (s *Store) loadPrimary(ctx context.Context, fresh bool) (map[string]json.RawMessage, bool, error) {
	p := s.primary
	if s.closed.Load() {
		return nil, false, Errorf(FailedPrecondition, "reading primary secret (%s) in %s: provider store is closed", p.name, s.Kind())
	}
	if !fresh {
		p.cacheMu.RLock()
		if p.cached {
			f, ok := p.fields, p.exists
			p.cacheMu.RUnlock()
			return f, ok, nil
		}
		p.cacheMu.RUnlock()
		type result struct {
			fields map[string]json.RawMessage
			exists bool
		}
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
			f, ok, err := s.fetchPrimary(ctx)
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
	return s.fetchPrimary(ctx)
}

// fetchPrimary reads and parses the primary object from the store and caches
// it. A missing primary secret is an empty object that does not exist yet.
func (s *Store) fetchPrimary(ctx context.Context) (map[string]json.RawMessage, bool, error) {
	fields, exists, _, err := s.readPrimary(ctx)
	return fields, exists, err
}

// readPrimary is fetchPrimary that also returns the version read ("" when
// the primary secret does not exist), which a compare-and-set expects.
func (s *Store) readPrimary(ctx context.Context) (map[string]json.RawMessage, bool, string, error) {
	p := s.primary
	p.cacheMu.RLock()
	gen := p.gen
	p.cacheMu.RUnlock()
	var sec *Secret
	err := s.call(ctx, "reading", "primary "+p.name, func(ctx context.Context) error {
		var err error
		sec, err = s.b.Get(ctx, p.name)
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
		fields, err = parsePrimary(p.name, s.Kind(), sec.Value)
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

// primaryField reads one field of the primary object.
func (s *Store) primaryField(ctx context.Context, field string, fresh bool) (*Secret, error) {
	fields, exists, err := s.loadPrimary(ctx, fresh)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, Errorf(NotFound, "reading secret (%s) in %s: primary secret (%s) does not exist", field, s.Kind(), s.primary.name)
	}
	raw, ok := fields[field]
	if !ok {
		return nil, Errorf(NotFound, "reading secret (%s) in %s: no such field in primary secret (%s)", field, s.Kind(), s.primary.name)
	}
	// A *string, so a JSON null fails like any other non-string field
	// instead of reading as "".
	var v *string
	if err := json.Unmarshal(raw, &v); err != nil || v == nil {
		return nil, Errorf(FailedPrecondition, "reading secret (%s) in %s: field of primary secret (%s) is not a JSON string (LiteLLM's get_secret returns None for it: the gateway sees no value)", field, s.Kind(), s.primary.name)
	}
	return &Secret{Name: field, Value: []byte(*v), Version: Fingerprint(field, []byte(*v))}, nil
}

// writePrimaryField sets (or removes) one field and returns its version.
func (s *Store) writePrimaryField(ctx context.Context, field string, value []byte, remove bool) (string, error) {
	if !remove && !utf8.Valid(value) {
		return "", Errorf(InvalidArgument, "writing secret (%s) in %s: a value stored in primary secret (%s) must be UTF-8 text (JSON strings cannot hold other bytes)", field, s.Kind(), s.primary.name)
	}
	p := s.primary
	m := &fieldMutation{field: field, value: value, remove: remove}
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

	err := s.commitPrimary(ctx, batch)
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

// commitPrimary applies a batch of mutations in one read-modify-write. When
// the store is a CASWriter, the write is conditional on the version read; a
// write that lost to another process's is read, merged and tried again after
// a short random pause.
func (s *Store) commitPrimary(ctx context.Context, batch []*fieldMutation) error {
	p := s.primary
	cas, _ := s.b.(CASWriter)
	for attempt := 1; ; attempt++ {
		fields, _, version, err := s.readPrimary(ctx)
		if err != nil {
			return fmt.Errorf("writing secret (%s) in %s: %w", batch[0].field, s.Kind(), err)
		}
		payload, changed, err := s.mergePrimary(fields, batch)
		if err != nil || payload == nil {
			return err // only removals of absent fields: no write, no empty object
		}
		desc, tags := s.settings.Merge("", nil)
		req := WriteRequest{Name: p.name, Value: payload, Description: desc, Tags: tags}
		err = s.call(ctx, "writing", "primary "+p.name, func(ctx context.Context) error {
			var err error
			if cas != nil {
				_, err = cas.PutIf(ctx, req, version)
			} else {
				_, err = s.b.Put(ctx, req)
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
				if err := s.opts.Wait(ctx, casPause(attempt)); err != nil {
					return err
				}
				continue
			}
			if IsVersionChanged(err) {
				return fmt.Errorf("writing secret (%s) in %s: primary secret (%s) kept changing under %d attempts (other writers): %w", batch[0].field, s.Kind(), p.name, attempt, err)
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

// mergePrimary applies batch to a copy of fields and returns the encoded
// object and the new fields, or a nil payload when nothing changed.
func (s *Store) mergePrimary(fields map[string]json.RawMessage, batch []*fieldMutation) ([]byte, map[string]json.RawMessage, error) {
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
			return nil, nil, Errorf(InvalidArgument, "writing secret (%s) in %s: encoding field: %v", m.field, s.Kind(), err)
		}
		fields[m.field] = raw
		changed = true
	}
	if !changed {
		return nil, nil, nil
	}
	payload, err := json.Marshal(fields)
	if err != nil {
		return nil, nil, Errorf(Internal, "writing primary secret (%s) in %s: encoding object: %v", s.primary.name, s.Kind(), err)
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
