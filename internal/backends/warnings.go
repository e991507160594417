package backends

import (
	"context"
	"sync"
)

// Warnings collects what a store wants the user to see without failing the
// call: a replication that did not happen, a purge that purge protection
// refused. The provider turns each into a warning diagnostic.
type Warnings struct {
	mu   sync.Mutex
	msgs []string
}

type warningsKey struct{}

// WithWarnings returns a context whose store calls can add warnings, and the
// collector to read them from afterwards.
func WithWarnings(ctx context.Context) (context.Context, *Warnings) {
	w := &Warnings{}
	return context.WithValue(ctx, warningsKey{}, w), w
}

// Warn adds a warning to the collector in ctx, if any. Messages must not hold
// secret values. It reports whether a collector took it, so a store can fall
// back to logging.
func Warn(ctx context.Context, msg string) bool {
	w, ok := ctx.Value(warningsKey{}).(*Warnings)
	if !ok || w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
	return true
}

// Messages returns the warnings collected so far.
func (w *Warnings) Messages() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}
