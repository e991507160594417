package backendtest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// MemStoreKind is the Kind of a MemStore.
const MemStoreKind = "memstore"

// Method names for MemStore.Calls, FailNext and BlockNext.
const (
	MethodGet            = "Get"
	MethodPut            = "Put"
	MethodDelete         = "Delete"
	MethodHealth         = "Health"
	MethodUpdateMetadata = "UpdateMetadata"
	MethodGetBatch       = "GetBatch"
	MethodRotate         = "Rotate"
	MethodClose          = "Close"
	MethodList           = "List"
)

// Errors a MemStore can be told to fail with that are not *backends.Error, so
// the layer has to ask ErrorCode to classify them (the way SDK errors arrive).
var (
	ErrThrottled   = errors.New("memstore: too many requests")
	ErrUnavailable = errors.New("memstore: service unavailable")
	ErrDenied      = errors.New("memstore: access denied")
)

// memCodes classifies the sentinel errors above, the way a store maps its
// SDK's error codes with a table.
var memCodes = map[error]backends.Code{
	ErrThrottled:   backends.Throttled,
	ErrUnavailable: backends.Unavailable,
	ErrDenied:      backends.PermissionDenied,
}

// MemStore is an in-memory store for unit tests of the layer and of provider
// code. It implements backends.Backend, backends.NameValidator (accepting
// every name unless SetNameValidator says otherwise) and
// backends.MetadataUpdater. Batch and Rotating return views of it that also
// implement backends.BatchGetter and backends.Rotator.
//
// Versions are increasing integers. A soft delete keeps the secret with
// Deleted set, and Get returns it so, as stores with recovery windows do; a
// Put recovers it. Every method call is counted, and FailNext and BlockNext
// inject faults. It is safe for concurrent use.
type MemStore struct {
	caps backends.Caps

	mu       sync.Mutex
	secrets  map[string]*memSecret
	version  int
	calls    map[string]int
	faults   map[string][]error
	blocks   map[string]int
	validate func(string) error
	closed   bool
}

type memSecret struct {
	value       []byte
	version     string
	description string
	tags        map[string]string
	deleted     bool
}

var (
	_ backends.Backend         = (*MemStore)(nil)
	_ backends.NameValidator   = (*MemStore)(nil)
	_ backends.MetadataUpdater = (*MemStore)(nil)
)

// NewMemStore returns an empty store reporting caps.
func NewMemStore(caps backends.Caps) *MemStore {
	return &MemStore{
		caps:    caps,
		secrets: map[string]*memSecret{},
		calls:   map[string]int{},
		faults:  map[string][]error{},
		blocks:  map[string]int{},
	}
}

// AllCaps is every capability on.
var AllCaps = backends.Caps{Write: true, Delete: true, SoftDelete: true, Metadata: true, Binary: true, EnvFallback: true, PrimarySecret: true}

// SetNameValidator installs the store's own name rule; nil accepts every name.
func (m *MemStore) SetNameValidator(f func(string) error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.validate = f
}

// FailNext makes the next n calls of method return err (without doing
// anything). Faults queue up: FailNext(Get, 2, a) then FailNext(Get, 1, b)
// fails three Gets, with a, a, b.
func (m *MemStore) FailNext(method string, n int, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for range n {
		m.faults[method] = append(m.faults[method], err)
	}
}

// BlockNext makes the next n calls of method block until their context is
// done and return its error, like a store that never answers. Blocks are used
// before queued faults.
func (m *MemStore) BlockNext(method string, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.blocks[method] += n
}

// Calls returns how many times method was called (failed calls included).
func (m *MemStore) Calls(method string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[method]
}

// ResetCalls sets every call count back to zero.
func (m *MemStore) ResetCalls() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.calls)
}

// Raw returns what the store holds under name, deleted or not, bypassing
// counters and faults.
func (m *MemStore) Raw(name string) (sec *backends.Secret, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.secrets[name]
	if !ok {
		return nil, false
	}
	return s.export(name), true
}

// Names returns the names the store holds (soft-deleted ones included),
// sorted.
func (m *MemStore) Names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.secrets))
}

// Closed reports whether Close was called.
func (m *MemStore) Closed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

func (s *memSecret) export(name string) *backends.Secret {
	return &backends.Secret{
		Name:        name,
		Value:       slices.Clone(s.value),
		Version:     s.version,
		Description: s.description,
		Tags:        maps.Clone(s.tags),
		Deleted:     s.deleted,
	}
}

// begin counts a call of method and returns the fault to answer with, if any.
// It blocks (without holding the lock) when BlockNext asked for it.
func (m *MemStore) begin(ctx context.Context, method string) error {
	m.mu.Lock()
	m.calls[method]++
	if m.closed && method != MethodClose {
		m.mu.Unlock()
		return backends.Errorf(backends.FailedPrecondition, "memstore: %s after Close", method)
	}
	if m.blocks[method] > 0 {
		m.blocks[method]--
		m.mu.Unlock()
		<-ctx.Done()
		return ctx.Err()
	}
	defer m.mu.Unlock()
	if q := m.faults[method]; len(q) > 0 {
		m.faults[method] = q[1:]
		return q[0]
	}
	return nil
}

// Kind implements backends.Backend.
func (m *MemStore) Kind() string { return MemStoreKind }

// Caps implements backends.Backend.
func (m *MemStore) Caps() backends.Caps { return m.caps }

// ValidateName implements backends.NameValidator.
func (m *MemStore) ValidateName(name string) error {
	m.mu.Lock()
	f := m.validate
	m.mu.Unlock()
	if f == nil {
		return nil
	}
	return f(name)
}

// Get implements backends.Backend.
func (m *MemStore) Get(ctx context.Context, name string) (*backends.Secret, error) {
	if err := m.begin(ctx, MethodGet); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.secrets[name]
	if !ok {
		return nil, backends.Errorf(backends.NotFound, "memstore: secret %s not found", backends.QuoteName(name))
	}
	return s.export(name), nil
}

// Put implements backends.Backend.
func (m *MemStore) Put(ctx context.Context, req backends.WriteRequest) (string, error) {
	if err := m.begin(ctx, MethodPut); err != nil {
		return "", err
	}
	if !m.caps.Write {
		return "", backends.Errorf(backends.Unsupported, "memstore: writes are not supported")
	}
	if !m.caps.Binary && !utf8.Valid(req.Value) {
		return "", backends.Errorf(backends.InvalidArgument, "memstore: value of %s is not UTF-8 text", backends.QuoteName(req.Name))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.putLocked(req), nil
}

func (m *MemStore) putLocked(req backends.WriteRequest) string {
	m.version++
	s := &memSecret{value: slices.Clone(req.Value), version: strconv.Itoa(m.version)}
	if m.caps.Metadata {
		s.description, s.tags = req.Description, maps.Clone(req.Tags)
	}
	m.secrets[req.Name] = s
	return s.version
}

// Delete implements backends.Backend.
func (m *MemStore) Delete(ctx context.Context, name string, mode backends.DeleteMode) error {
	if err := m.begin(ctx, MethodDelete); err != nil {
		return err
	}
	switch {
	case !m.caps.Delete:
		return backends.Errorf(backends.Unsupported, "memstore: deletes are not supported")
	case mode == backends.DeleteSoft && !m.caps.SoftDelete:
		return backends.Errorf(backends.Unsupported, "memstore: soft delete is not supported")
	case mode != backends.DeleteSoft && mode != backends.DeleteForever:
		return backends.Errorf(backends.InvalidArgument, "memstore: unknown delete mode %d", mode)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.secrets[name]
	switch {
	case !ok:
	case mode == backends.DeleteSoft:
		s.deleted = true
	default:
		delete(m.secrets, name)
	}
	return nil
}

// UpdateMetadata implements backends.MetadataUpdater.
func (m *MemStore) UpdateMetadata(ctx context.Context, name, description string, tags map[string]string) error {
	if err := m.begin(ctx, MethodUpdateMetadata); err != nil {
		return err
	}
	if !m.caps.Metadata {
		return backends.Errorf(backends.Unsupported, "memstore: metadata is not supported")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.secrets[name]
	if !ok || s.deleted {
		return backends.Errorf(backends.NotFound, "memstore: secret %s not found", backends.QuoteName(name))
	}
	s.description, s.tags = description, maps.Clone(tags)
	return nil
}

// Health implements backends.Backend.
func (m *MemStore) Health(ctx context.Context) error {
	return m.begin(ctx, MethodHealth)
}

// ErrorCode implements backends.Backend.
func (m *MemStore) ErrorCode(err error) backends.Code {
	for sentinel, code := range memCodes {
		if errors.Is(err, sentinel) {
			return code
		}
	}
	return backends.CodeOf(err)
}

// Close implements backends.Backend.
func (m *MemStore) Close() error {
	_ = m.begin(context.Background(), MethodClose)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

// Batch returns a view of m that also implements backends.BatchGetter. It
// shares m's secrets, counters and faults.
func (m *MemStore) Batch() backends.Backend { return memBatch{m} }

type memBatch struct{ *MemStore }

var _ backends.BatchGetter = memBatch{}

// GetBatch implements backends.BatchGetter.
func (b memBatch) GetBatch(ctx context.Context, names []string) (map[string]*backends.Secret, error) {
	m := b.MemStore
	if err := m.begin(ctx, MethodGetBatch); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]*backends.Secret{}
	for _, n := range names {
		if s, ok := m.secrets[n]; ok {
			out[n] = s.export(n)
		}
	}
	return out, nil
}

// Rotating returns a view of m that also implements backends.Rotator: an
// atomic move of a secret to a new name. It shares m's secrets, counters and
// faults.
func (m *MemStore) Rotating() backends.Backend { return memRotator{m} }

type memRotator struct{ *MemStore }

var _ backends.Rotator = memRotator{}

// Rotate implements backends.Rotator.
func (r memRotator) Rotate(ctx context.Context, oldName string, req backends.WriteRequest) (string, error) {
	m := r.MemStore
	if err := m.begin(ctx, MethodRotate); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.secrets[oldName]; !ok || s.deleted {
		return "", backends.Errorf(backends.NotFound, "memstore: secret %s not found", backends.QuoteName(oldName))
	}
	v := m.putLocked(req)
	if oldName != req.Name {
		delete(m.secrets, oldName)
	}
	return v, nil
}

// memPageSize is the memstore's list page: small, so the layer's paging is
// exercised with a few names.
const memPageSize = 7

// ListPage implements backends.Lister: sorted names after token, a page of
// memPageSize; soft-deleted secrets are not listed.
func (m *MemStore) ListPage(ctx context.Context, prefix, token string) ([]string, string, error) {
	if err := m.begin(ctx, MethodList); err != nil {
		return nil, "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var names []string
	for _, n := range slices.Sorted(maps.Keys(m.secrets)) {
		if n > token && strings.HasPrefix(n, prefix) && !m.secrets[n].deleted {
			names = append(names, n)
		}
	}
	if len(names) <= memPageSize {
		return names, "", nil
	}
	return names[:memPageSize], names[memPageSize-1], nil
}
