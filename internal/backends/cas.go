package backends

import (
	"context"
	"errors"
)

// CASWriter is implemented by stores that can make a write conditional on
// the version the writer read (a compare-and-set). The primary secret, a
// JSON object that many names share, is written through it when the store
// has it, so two processes (two provider aliases, two concurrent applies,
// two CI jobs) writing fields of one primary secret never lose a field:
// each merges its fields into what it read, and a write that finds the
// object changed since is read again and retried.
type CASWriter interface {
	// PutIf writes req as the new current version of req.Name only if the
	// current version is still expected, or, with expected "", only if the
	// name holds no live secret (a soft-deleted one is recovered first and
	// its current version is then the one expected). It returns the new
	// version. When another writer changed the secret first, it writes
	// nothing the readers see and returns an error for which
	// IsVersionChanged is true. Like Put, it may be called again after a
	// timeout.
	PutIf(ctx context.Context, req WriteRequest, expected string) (version string, err error)
}

// versionChangedError marks a compare-and-set that lost the race.
type versionChangedError struct{ msg string }

func (e *versionChangedError) Error() string { return e.msg }

// VersionChanged returns the error a CASWriter returns when the secret was
// changed by someone else after the version it was told to expect. detail
// names what was seen (never a value).
func VersionChanged(detail string) error {
	return Wrap(FailedPrecondition, &versionChangedError{msg: "changed concurrently: " + detail})
}

// IsVersionChanged reports whether err is a lost compare-and-set.
func IsVersionChanged(err error) bool {
	var e *versionChangedError
	return errors.As(err, &e)
}
