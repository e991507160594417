package backends

import "time"

// Exports for the external tests of this package.

// Backoff exposes RetryPolicy.backoff.
func (p RetryPolicy) Backoff(attempt int, retryAfter time.Duration, rnd func(int64) int64) time.Duration {
	return p.backoff(attempt, retryAfter, rnd)
}

// RetryAfterOf exposes retryAfterOf.
var RetryAfterOf = retryAfterOf

// MaxRetryAfter exposes maxRetryAfter.
const MaxRetryAfter = maxRetryAfter
