package backends_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/backendtest"
)

func TestBackoffExponentialCapped(t *testing.T) {
	p := backends.RetryPolicy{MaxAttempts: 20, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	ms := time.Millisecond
	wantCap := []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second, time.Second, time.Second}
	for i, want := range wantCap {
		attempt := i + 1
		var asked []int64
		top := func(n int64) int64 { asked = append(asked, n); return n - 1 } // jitter's largest answer
		if got := p.Backoff(attempt, 0, top); got != want {
			t.Errorf("Backoff(attempt %d) with the largest jitter: got %v, want %v", attempt, got, want)
		}
		if len(asked) != 1 || asked[0] != int64(want) {
			t.Errorf("Backoff(attempt %d): jitter asked for %v, want one draw below %d", attempt, asked, int64(want))
		}
		// Full jitter: the smallest draw waits almost nothing, never zero.
		if got := p.Backoff(attempt, 0, func(int64) int64 { return 0 }); got != 1 {
			t.Errorf("Backoff(attempt %d) with the smallest jitter: got %v, want 1ns", attempt, got)
		}
		if got := p.Backoff(attempt, 0, func(n int64) int64 { return n/2 - 1 }); got != want/2 {
			t.Errorf("Backoff(attempt %d) with a middle jitter: got %v, want %v", attempt, got, want/2)
		}
	}
	// Many attempts never overflow past the cap.
	for _, attempt := range []int{50, 100, 1000} {
		if got := p.Backoff(attempt, 0, func(n int64) int64 { return n - 1 }); got != time.Second {
			t.Errorf("Backoff(attempt %d): got %v, want the 1s cap", attempt, got)
		}
	}
}

func TestBackoffNoCapNoBase(t *testing.T) {
	zero := backends.RetryPolicy{MaxAttempts: 3}
	called := false
	if got := zero.Backoff(3, 0, func(n int64) int64 { called = true; return 0 }); got != 0 || called {
		t.Errorf("Backoff with no BaseDelay: got %v (jitter called %t), want 0 without a draw", got, called)
	}
	// Without MaxDelay the delay does not grow unbounded either.
	p := backends.RetryPolicy{MaxAttempts: 3, BaseDelay: 50 * time.Millisecond}
	if got := p.Backoff(5, 0, func(n int64) int64 { return n - 1 }); got != 50*time.Millisecond {
		t.Errorf("Backoff without MaxDelay: got %v, want BaseDelay", got)
	}
}

func TestBackoffRetryAfter(t *testing.T) {
	p := backends.RetryPolicy{MaxAttempts: 8, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	top := func(n int64) int64 { return n - 1 }
	tests := []struct {
		name       string
		attempt    int
		retryAfter time.Duration
		want       time.Duration
	}{
		{"LargerWins", 1, 5 * time.Second, 5 * time.Second},
		{"SmallerLoses", 4, 10 * time.Millisecond, 800 * time.Millisecond},
		{"Capped", 1, time.Hour, backends.MaxRetryAfter},
		{"CapIsTwoMinutes", 1, 2 * time.Minute, 2 * time.Minute},
	}
	for _, tc := range tests {
		if got := p.Backoff(tc.attempt, tc.retryAfter, top); got != tc.want {
			t.Errorf("%s: Backoff(%d, retry-after %v): got %v, want %v", tc.name, tc.attempt, tc.retryAfter, got, tc.want)
		}
	}
	// With jitter low, Retry-After still bounds the wait from below.
	if got := p.Backoff(3, 3*time.Second, func(int64) int64 { return 0 }); got != 3*time.Second {
		t.Errorf("Backoff with retry-after 3s and the smallest jitter: got %v, want 3s", got)
	}
	if backends.MaxRetryAfter != 2*time.Minute {
		t.Errorf("MaxRetryAfter: got %v, want 2m", backends.MaxRetryAfter)
	}
}

func TestDefaultRetryPolicy(t *testing.T) {
	p := backends.DefaultRetryPolicy
	if p.MaxAttempts < 2 || p.BaseDelay <= 0 || p.MaxDelay < p.BaseDelay {
		t.Errorf("DefaultRetryPolicy: got %+v, want retries with a growing, capped delay", p)
	}
	if backends.DefaultCallTimeout <= 0 {
		t.Errorf("DefaultCallTimeout: got %v, want > 0", backends.DefaultCallTimeout)
	}
}

func TestRetryTransientToSuccess(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		err  error
	}{
		{"ThrottledCoded", backends.Errorf(backends.Throttled, "slow down")},
		{"UnavailableCoded", backends.Errorf(backends.Unavailable, "503")},
		{"ThrottledClassifiedByStore", backendtest.ErrThrottled},
		{"UnavailableClassifiedByStore", backendtest.ErrUnavailable},
		{"WrappedSDKError", fmt.Errorf("sdk: %w", backendtest.ErrUnavailable)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := backendtest.NewMemStore(backendtest.AllCaps)
			s, rec := newStore(t, m, nil)
			if _, err := s.Write(ctx, backends.WriteRequest{Name: "k", Value: []byte("v")}); err != nil {
				t.Fatal(err)
			}
			m.FailNext(backendtest.MethodGet, testPolicy.MaxAttempts-1, tc.err)
			m.FailNext(backendtest.MethodPut, testPolicy.MaxAttempts-1, tc.err)
			m.ResetCalls()

			sec, err := s.ReadStored(ctx, "k")
			if err != nil {
				t.Fatalf("Find after %d transient failures: got %v, want success", testPolicy.MaxAttempts-1, err)
			}
			if string(sec.Value) != "v" {
				t.Errorf("Find: got %q, want %q", sec.Value, "v")
			}
			if _, err := s.Write(ctx, backends.WriteRequest{Name: "k", Value: []byte("v2")}); err != nil {
				t.Errorf("Write after transient failures: got %v, want success", err)
			}
			if got, want := m.Calls(backendtest.MethodGet), testPolicy.MaxAttempts; got != want {
				t.Errorf("Get calls: got %d, want %d", got, want)
			}
			if got, want := len(rec.Waits()), 2*(testPolicy.MaxAttempts-1); got != want {
				t.Errorf("waits: got %d, want %d", got, want)
			}
			for i, d := range rec.Waits() {
				if d <= 0 || d > testPolicy.MaxDelay {
					t.Errorf("wait %d: got %v, want in (0, %v]", i, d, testPolicy.MaxDelay)
				}
			}
			ev := rec.Retries()
			if len(ev) != 2*(testPolicy.MaxAttempts-1) {
				t.Fatalf("OnRetry calls: got %d, want %d", len(ev), 2*(testPolicy.MaxAttempts-1))
			}
			for i, e := range ev[:testPolicy.MaxAttempts-1] {
				if e.op != "reading" || e.name != "k" || e.attempt != i+1 || !backends.CodeOf(e.err).Retryable() {
					t.Errorf("OnRetry #%d: got (%q, %q, attempt %d, %v), want (reading, k, attempt %d, a retryable error)", i, e.op, e.name, e.attempt, e.err, i+1)
				}
			}
		})
	}
}

func TestRetryPermanentNotRetried(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		err  error
		want backends.Code
	}{
		{"InvalidArgument", backends.Errorf(backends.InvalidArgument, "bad request"), backends.InvalidArgument},
		{"PermissionDenied", backends.Errorf(backends.PermissionDenied, "denied"), backends.PermissionDenied},
		{"PermissionDeniedClassified", backendtest.ErrDenied, backends.PermissionDenied},
		{"NotFound", backends.Errorf(backends.NotFound, "gone"), backends.NotFound},
		{"FailedPrecondition", backends.Errorf(backends.FailedPrecondition, "disabled"), backends.FailedPrecondition},
		{"Internal", backends.Errorf(backends.Internal, "garbled"), backends.Internal},
		{"Unknown", errors.New("something odd"), backends.Unknown},
		{"Unsupported", backends.Errorf(backends.Unsupported, "no"), backends.Unsupported},
		{"StoreDeadline", backends.Errorf(backends.DeadlineExceeded, "server-side timeout"), backends.DeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := backendtest.NewMemStore(backendtest.AllCaps)
			s, rec := newStore(t, m, nil)
			m.FailNext(backendtest.MethodPut, 10, tc.err)

			_, err := s.Write(ctx, backends.WriteRequest{Name: "k", Value: []byte("v")})
			wantCode(t, "Write", err, tc.want)
			if got := m.Calls(backendtest.MethodPut); got != 1 {
				t.Errorf("Put calls: got %d, want 1 (no retry)", got)
			}
			if w := rec.Waits(); len(w) != 0 {
				t.Errorf("waits: got %v, want none", w)
			}
			wantContains(t, "Write", err, "writing secret (k) in memstore")
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	ctx := context.Background()
	m := backendtest.NewMemStore(backendtest.AllCaps)
	s, rec := newStore(t, m, nil)
	const ra = 3 * time.Second // far above testPolicy.MaxDelay
	m.FailNext(backendtest.MethodPut, 2, backends.WithRetryAfter(errors.New("429 Too Many Requests"), ra))
	m.FailNext(backendtest.MethodPut, 1, fmt.Errorf("sdk: %w", backends.WithRetryAfter(errors.New("429"), 5*time.Second)))

	if _, err := s.Write(ctx, backends.WriteRequest{Name: "k", Value: []byte("v")}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	waits := rec.Waits()
	if len(waits) != 3 {
		t.Fatalf("waits: got %v, want 3", waits)
	}
	for i, want := range []time.Duration{ra, ra, 5 * time.Second} {
		if waits[i] < want {
			t.Errorf("wait %d: got %v, want >= %v (Retry-After)", i, waits[i], want)
		}
	}
	for i, e := range rec.Retries() {
		if e.delay != waits[i] {
			t.Errorf("OnRetry #%d delay: got %v, want %v (what was waited)", i, e.delay, waits[i])
		}
	}
}

func TestRetryGivesUp(t *testing.T) {
	ctx := context.Background()
	for _, attempts := range []int{1, 2, 4} {
		t.Run(fmt.Sprint(attempts), func(t *testing.T) {
			m := backendtest.NewMemStore(backendtest.AllCaps)
			s, rec := newStore(t, m, func(o *backends.StoreOptions) { o.Retry.MaxAttempts = attempts })
			m.FailNext(backendtest.MethodGet, 100, backendtest.ErrUnavailable)

			_, err := s.ReadStored(ctx, "k")
			wantCode(t, "Find", err, backends.Unavailable)
			wantContains(t, "Find", err, fmt.Sprintf("gave up after %d attempts", attempts), "reading secret (k) in memstore")
			if !errors.Is(err, backendtest.ErrUnavailable) {
				t.Errorf("errors.Is(err, the store's error): got false, want true")
			}
			if got := m.Calls(backendtest.MethodGet); got != attempts {
				t.Errorf("Get calls: got %d, want %d", got, attempts)
			}
			if got := len(rec.Waits()); got != attempts-1 {
				t.Errorf("waits: got %d, want %d", got, attempts-1)
			}
		})
	}
}

func TestRetryThenPermanent(t *testing.T) {
	ctx := context.Background()
	m := backendtest.NewMemStore(backendtest.AllCaps)
	s, _ := newStore(t, m, nil)
	m.FailNext(backendtest.MethodGet, 1, backendtest.ErrThrottled)
	// After the throttle the store answers NotFound: that is final.
	_, err := s.ReadStored(ctx, "missing")
	wantCode(t, "Find", err, backends.NotFound)
	if got := m.Calls(backendtest.MethodGet); got != 2 {
		t.Errorf("Get calls: got %d, want 2", got)
	}
}

func TestPerCallTimeout(t *testing.T) {
	ctx := context.Background()
	m := backendtest.NewMemStore(backendtest.AllCaps)
	const timeout = 2 * time.Millisecond
	s, rec := newStore(t, m, func(o *backends.StoreOptions) { o.CallTimeout = timeout })
	m.BlockNext(backendtest.MethodGet, 100) // a store that never answers

	_, err := s.ReadStored(ctx, "k")
	wantCode(t, "Find on a store that never answers", err, backends.DeadlineExceeded)
	wantContains(t, "Find on a store that never answers", err, "per-call timeout of 2ms", fmt.Sprintf("gave up after %d attempts", testPolicy.MaxAttempts))
	if got := m.Calls(backendtest.MethodGet); got != testPolicy.MaxAttempts {
		t.Errorf("Get calls: got %d, want %d (timeouts are retried)", got, testPolicy.MaxAttempts)
	}
	if got := len(rec.Waits()); got != testPolicy.MaxAttempts-1 {
		t.Errorf("waits: got %d, want %d", got, testPolicy.MaxAttempts-1)
	}
}

func TestPerCallTimeoutThenSuccess(t *testing.T) {
	ctx := context.Background()
	m := backendtest.NewMemStore(backendtest.AllCaps)
	s, _ := newStore(t, m, func(o *backends.StoreOptions) { o.CallTimeout = time.Millisecond })
	if _, err := s.Write(ctx, backends.WriteRequest{Name: "k", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	m.BlockNext(backendtest.MethodGet, 1)
	if _, err := s.ReadStored(ctx, "k"); err != nil {
		t.Errorf("Find after one timed-out attempt: got %v, want success", err)
	}
	// Without a timeout the default applies (and the call is fast).
	s2, _ := newStore(t, m, func(o *backends.StoreOptions) { o.CallTimeout = 0 })
	if _, err := s2.ReadStored(ctx, "k"); err != nil {
		t.Errorf("Find with the default call timeout: %v", err)
	}
}

func TestCallerCancellationNotRetried(t *testing.T) {
	t.Run("CanceledBeforeCall", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, rec := newStore(t, m, nil)
		m.BlockNext(backendtest.MethodGet, 100)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := s.ReadStored(ctx, "k")
		wantCode(t, "Find with a canceled context", err, backends.Canceled)
		if got := m.Calls(backendtest.MethodGet); got != 1 {
			t.Errorf("Get calls: got %d, want 1", got)
		}
		if w := rec.Waits(); len(w) != 0 {
			t.Errorf("waits: got %v, want none", w)
		}
	})
	t.Run("CallerDeadline", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, m, nil)
		m.BlockNext(backendtest.MethodGet, 100)
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		_, err := s.ReadStored(ctx, "k")
		wantCode(t, "Find past the caller's deadline", err, backends.DeadlineExceeded)
		if got := m.Calls(backendtest.MethodGet); got != 1 {
			t.Errorf("Get calls: got %d, want 1 (the caller's deadline is not the per-call timeout)", got)
		}
	})
	t.Run("TransientErrorAfterCancel", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, m, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		m.FailNext(backendtest.MethodGet, 5, backendtest.ErrThrottled)
		_, err := s.ReadStored(ctx, "k")
		if err == nil {
			t.Fatal("Find: got nil error, want one")
		}
		if got := m.Calls(backendtest.MethodGet); got != 1 {
			t.Errorf("Get calls: got %d, want 1 (no retry once the caller is gone)", got)
		}
	})
	t.Run("CanceledWhileWaiting", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s, rec := newStore(t, m, nil)
		rec.waitErr = func(ctx context.Context) error { cancel(); return ctx.Err() }
		m.FailNext(backendtest.MethodGet, 5, backendtest.ErrThrottled)
		_, err := s.ReadStored(ctx, "k")
		wantCode(t, "Find canceled during backoff", err, backends.Canceled)
		wantContains(t, "Find canceled during backoff", err, "while retrying")
		if !errors.Is(err, backendtest.ErrThrottled) {
			t.Errorf("errors.Is(err, the store's last error): got false, want true")
		}
		if got := m.Calls(backendtest.MethodGet); got != 1 {
			t.Errorf("Get calls: got %d, want 1", got)
		}
	})
}

// TestUnreachableStoreFailsFast: once a call has spent its retries on a store
// that cannot be reached (connection refused), later calls of the run fail at
// once, naming the store and the first error, instead of each spending the
// whole retry budget. A store that answers, even with 503, is retried as
// before by every call.
func TestUnreachableStoreFailsFast(t *testing.T) {
	ctx := context.Background()
	refused := backends.Wrap(backends.Unavailable, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})

	m := backendtest.NewMemStore(backendtest.AllCaps)
	s, rec := newStore(t, m, func(o *backends.StoreOptions) { o.Retry.MaxAttempts = 4 })
	m.FailNext(backendtest.MethodGet, 1000, refused)
	m.FailNext(backendtest.MethodPut, 1000, refused)
	if _, err := s.ReadStored(ctx, "FIRST"); backends.CodeOf(err) != backends.Unavailable {
		t.Fatalf("first Find: got %v, want Unavailable", err)
	}
	if got := m.Calls(backendtest.MethodGet); got != 4 {
		t.Fatalf("first Find: %d Get calls, want the 4 attempts of the budget", got)
	}
	waits := len(rec.Waits())
	_, err := s.Write(ctx, backends.WriteRequest{Name: "SECOND", Value: []byte("v")})
	wantCode(t, "Write after the store was found unreachable", err, backends.Unavailable)
	wantContains(t, "Write after the store was found unreachable", err,
		"writing secret (SECOND) in memstore: not tried, the store was unreachable earlier in this run",
		"reading secret (FIRST) in memstore: gave up after 4 attempts", "connection refused")
	if got := m.Calls(backendtest.MethodPut); got != 0 {
		t.Errorf("Write after the store was found unreachable: %d Put calls, want none", got)
	}
	if got := len(rec.Waits()); got != waits {
		t.Errorf("Write after the store was found unreachable waited %d more times, want none", got-waits)
	}

	// An answering store that fails with 503 keeps every call's retries.
	m2 := backendtest.NewMemStore(backendtest.AllCaps)
	s2, _ := newStore(t, m2, func(o *backends.StoreOptions) { o.Retry.MaxAttempts = 3 })
	m2.FailNext(backendtest.MethodGet, 6, backendtest.ErrUnavailable)
	_, _ = s2.ReadStored(ctx, "A")
	_, _ = s2.ReadStored(ctx, "B")
	if got := m2.Calls(backendtest.MethodGet); got != 6 {
		t.Errorf("two Finds on a store answering 503: %d Get calls, want 3 each", got)
	}
}

func TestUnreachable(t *testing.T) {
	for what, tc := range map[string]struct {
		err  error
		want bool
	}{
		"refused":       {&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, true},
		"dns":           {&net.DNSError{Err: "no such host", Name: "vault.invalid", IsNotFound: true}, true},
		"dial timeout":  {&net.OpError{Op: "dial", Err: errors.New("i/o timeout")}, true},
		"tls authority": {fmt.Errorf("wrapped: %w", x509.UnknownAuthorityError{}), true},
		"reset on read": {&net.OpError{Op: "read", Err: syscall.ECONNRESET}, false},
		"503 answer":    {backends.Errorf(backends.Unavailable, "HTTP 503"), false},
		"plain eof":     {io.EOF, false},
	} {
		if got := backends.Unreachable(tc.err); got != tc.want {
			t.Errorf("Unreachable(%s) = %t, want %t", what, got, tc.want)
		}
	}
}
