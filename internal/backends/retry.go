package backends

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRetryAfter caps a store's Retry-After so a bogus answer cannot stall a run.
const maxRetryAfter = 2 * time.Minute

// backoff returns the wait before retry number attempt (1-based): exponential
// from BaseDelay, capped at MaxDelay, with full jitter so parallel writers that
// were throttled together do not come back together. A larger Retry-After from
// the store wins.
func (p RetryPolicy) backoff(attempt int, retryAfter time.Duration, rnd func(int64) int64) time.Duration {
	d := p.BaseDelay
	for i := 1; i < attempt && d < p.MaxDelay; i++ {
		d *= 2
	}
	if p.MaxDelay > 0 && d > p.MaxDelay {
		d = p.MaxDelay
	}
	if d > 0 {
		d = time.Duration(rnd(int64(d)) + 1)
	}
	if retryAfter > maxRetryAfter {
		retryAfter = maxRetryAfter
	}
	if retryAfter > d {
		d = retryAfter
	}
	return d
}

// WaitContext waits for d or until ctx is done, whichever comes first. Stores
// that poll or back off on their own (Key Vault's asynchronous deletes,
// Conjur's policy lock) wait with it too.
func WaitContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func jitter(n int64) int64 { return rand.Int64N(n) }

// Jitter returns a duration in [d/2, d], so callers that back off together
// spread out while still waiting at least half the delay.
func Jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// ParseRetryAfter reads an HTTP Retry-After value, delay seconds or an HTTP
// date, relative to now. ok is false when it is absent, malformed or not in
// the future. Stores attach the result with WithRetryAfter.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs <= 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now), true
	}
	return 0, false
}

// RetryAfter is the delay h's Retry-After header asks for now, 0 if none.
func RetryAfter(h http.Header) time.Duration {
	d, _ := ParseRetryAfter(h.Get("Retry-After"), time.Now())
	return d
}
