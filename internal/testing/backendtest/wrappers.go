package backendtest

import (
	"context"
	"sync"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// countingBackend counts the calls that reach the store. It forwards the
// store's NameValidator (a pure check) but hides its optional BatchGetter,
// Rotator and MetadataUpdater, so *Store takes its generic paths.
type countingBackend struct {
	backends.Backend

	mu    sync.Mutex
	calls map[string]int
	names map[string][]string // method -> names it was called with
}

var _ backends.NameValidator = (*countingBackend)(nil)

func newCounting(b backends.Backend) *countingBackend {
	return &countingBackend{Backend: b, calls: map[string]int{}, names: map[string][]string{}}
}

func (c *countingBackend) count(method, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[method]++
	c.names[method] = append(c.names[method], name)
}

// Calls returns how many times method reached the store.
func (c *countingBackend) Calls(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[method]
}

// Total returns how many data calls (Get, Put, Delete, Health) reached the
// store.
func (c *countingBackend) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[MethodGet] + c.calls[MethodPut] + c.calls[MethodDelete] + c.calls[MethodHealth]
}

// Names returns the names method was called with.
func (c *countingBackend) Names(method string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.names[method]...)
}

func (c *countingBackend) ValidateName(name string) error {
	if v, ok := c.Backend.(backends.NameValidator); ok {
		return v.ValidateName(name)
	}
	return nil
}

func (c *countingBackend) Get(ctx context.Context, name string) (*backends.Secret, error) {
	c.count(MethodGet, name)
	return c.Backend.Get(ctx, name)
}

func (c *countingBackend) Put(ctx context.Context, req backends.WriteRequest) (string, error) {
	c.count(MethodPut, req.Name)
	return c.Backend.Put(ctx, req)
}

func (c *countingBackend) Delete(ctx context.Context, name string, mode backends.DeleteMode) error {
	c.count(MethodDelete, name)
	return c.Backend.Delete(ctx, name, mode)
}

func (c *countingBackend) Health(ctx context.Context) error {
	c.count(MethodHealth, "")
	return c.Backend.Health(ctx)
}

// Close does not close the store: the fixture that made it does, once.
func (c *countingBackend) Close() error { return nil }

// faultyBackend injects faults into a store's Get and Put. A nil hook passes
// the call through. Like countingBackend it forwards NameValidator only, so
// *Store rotates LiteLLM's way (write, read back, delete) even over a store
// with a native Rotator.
type faultyBackend struct {
	backends.Backend
	get func(ctx context.Context, name string) (*backends.Secret, error)
	put func(ctx context.Context, req backends.WriteRequest) (string, error)
}

var _ backends.NameValidator = (*faultyBackend)(nil)

func (f *faultyBackend) ValidateName(name string) error {
	if v, ok := f.Backend.(backends.NameValidator); ok {
		return v.ValidateName(name)
	}
	return nil
}

func (f *faultyBackend) Get(ctx context.Context, name string) (*backends.Secret, error) {
	if f.get != nil {
		return f.get(ctx, name)
	}
	return f.Backend.Get(ctx, name)
}

func (f *faultyBackend) Put(ctx context.Context, req backends.WriteRequest) (string, error) {
	if f.put != nil {
		return f.put(ctx, req)
	}
	return f.Backend.Put(ctx, req)
}

// Close does not close the store: the fixture that made it does, once.
func (f *faultyBackend) Close() error { return nil }
