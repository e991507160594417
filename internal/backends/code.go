package backends

//go:generate go run golang.org/x/tools/cmd/stringer@v0.41.0 -type=Code

// Code classifies an error from any store, so callers act on a code and never on
// a message. Values are part of the contract between packages: never renumber
// them, only append.
type Code int

const (
	// OK means no error.
	OK Code = 0
	// Unknown is an error no store mapping recognised.
	Unknown Code = 1
	// NotFound means the secret does not exist (or only exists as deleted, once
	// findSecret has looked at it).
	NotFound Code = 2
	// AlreadyExists means a create met an existing secret.
	AlreadyExists Code = 3
	// SoftDeleted means the name is held by a deleted-but-recoverable secret.
	SoftDeleted Code = 4
	// Unsupported means the store cannot do this operation at all.
	Unsupported Code = 5
	// PermissionDenied means the store refused the caller's credentials or policy.
	PermissionDenied Code = 6
	// Throttled means the store asked the caller to slow down (HTTP 429 and kin).
	// It is retried.
	Throttled Code = 7
	// InvalidArgument means the request can never succeed as written (bad name,
	// malformed value, ...). It is not retried.
	InvalidArgument Code = 8
	// Unavailable means a transient server-side failure (HTTP 5xx, connection
	// reset). It is retried.
	Unavailable Code = 9
	// DeadlineExceeded means a per-call or caller timeout expired.
	DeadlineExceeded Code = 10
	// Canceled means the caller's context was canceled.
	Canceled Code = 11
	// FailedPrecondition means the secret is in a state that forbids the call
	// (disabled version, concurrent modification detected by check-and-set).
	FailedPrecondition Code = 12
	// Internal means the store answered with something this provider cannot
	// understand (truncated or malformed payload).
	Internal Code = 13
)

// Retryable reports whether an error with this code is worth another attempt.
func (c Code) Retryable() bool { return c == Throttled || c == Unavailable }
