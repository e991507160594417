package backends

import (
	"context"
	"math/rand/v2"
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

// waitContext waits for d or until ctx is done.
func waitContext(ctx context.Context, d time.Duration) error {
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
