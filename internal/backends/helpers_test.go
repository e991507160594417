package backends_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// testPolicy is the retry policy of unit tests: small, so delays are easy to
// check; Wait is injected, so nothing sleeps.
var testPolicy = backends.RetryPolicy{MaxAttempts: 4, BaseDelay: 10 * time.Millisecond, MaxDelay: 80 * time.Millisecond}

// recorder records what a *Store asked Wait and OnRetry for.
type recorder struct {
	mu      sync.Mutex
	waits   []time.Duration
	retries []retryEvent
	// waitErr, when set, is what Wait returns (after recording).
	waitErr func(ctx context.Context) error
}

type retryEvent struct {
	op, name string
	attempt  int
	delay    time.Duration
	err      error
}

func (r *recorder) wait(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.waits = append(r.waits, d)
	f := r.waitErr
	r.mu.Unlock()
	if f != nil {
		return f(ctx)
	}
	return ctx.Err()
}

func (r *recorder) onRetry(_ context.Context, op, name string, attempt int, delay time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries = append(r.retries, retryEvent{op, name, attempt, delay, err})
}

func (r *recorder) Waits() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.waits...)
}

func (r *recorder) Retries() []retryEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]retryEvent(nil), r.retries...)
}

// newStore wraps b with read_and_write settings, an empty environment,
// testPolicy and a recording Wait; mutate adjusts the options first.
func newStore(t *testing.T, b backends.Backend, mutate func(*backends.StoreOptions)) (*backends.Store, *recorder) {
	t.Helper()
	rec := &recorder{}
	opts := &backends.StoreOptions{
		Settings:  backends.Settings{AccessMode: backends.ReadAndWrite},
		Retry:     testPolicy,
		LookupEnv: envOf(nil),
		Wait:      rec.wait,
		OnRetry:   rec.onRetry,
	}
	if mutate != nil {
		mutate(opts)
	}
	s, err := backends.NewStore(b, opts)
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	return s, rec
}

func envOf(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

func wantCode(t *testing.T, what string, err error, want backends.Code) {
	t.Helper()
	if got := backends.CodeOf(err); got != want {
		t.Errorf("%s: got code %v, want %v (err: %v)", what, got, want, err)
	}
}

func wantContains(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got nil error, want one mentioning %q", what, parts)
		return
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: got message %q, want it to mention %q", what, err, p)
		}
	}
}
