package vault

import (
	"fmt"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

func impl(b backends.Backend) *backend {
	v, ok := b.(*backend)
	if !ok {
		panic(fmt.Sprintf("not a vault backend: %T", b))
	}
	return v
}

// SetClock replaces the clock that decides when a login token is renewed.
// Call it before the backend is used.
func SetClock(b backends.Backend, now func() time.Time) {
	impl(b).auth.now = now
}

// LoginStats returns how many logins and renewals the backend made.
func LoginStats(b backends.Backend) (logins, renewals int) {
	a := impl(b).auth
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.logins, a.renewals
}

// TokenAccessor returns the accessor of the current login token ("" for
// none).
func TokenAccessor(b backends.Backend) string {
	if t := impl(b).auth.current(); t != nil {
		return t.accessor
	}
	return ""
}

// ErrorCodeOf is the backend's ErrorCode, without a backend.
var ErrorCodeOf = errorCode

// StatusError is the error of a request Vault refused with status and
// messages.
func StatusError(status int, msgs ...string) error {
	return &apiError{Status: status, Method: "GET", Path: "secret/data/x", Errors: msgs}
}
