package backends_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"syscall"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

func TestTransportError(t *testing.T) {
	wrapURL := func(err error) error { return &url.Error{Op: "Post", URL: "http://127.0.0.1/secrets/NAME", Err: err} }
	for _, tc := range []struct {
		err  error
		want backends.Code
	}{
		{wrapURL(io.EOF), backends.Unavailable},
		{wrapURL(io.ErrUnexpectedEOF), backends.Unavailable},
		{wrapURL(fmt.Errorf("read: %w", syscall.ECONNRESET)), backends.Unavailable},
		{wrapURL(fmt.Errorf("dial: %w", syscall.ECONNREFUSED)), backends.Unavailable},
		{wrapURL(context.Canceled), backends.Canceled},
		{wrapURL(context.DeadlineExceeded), backends.DeadlineExceeded},
		{wrapURL(x509.UnknownAuthorityError{}), backends.Unknown},
		{errors.New("plain"), backends.Unknown},
	} {
		got := backends.TransportError(tc.err)
		if c := backends.CodeOf(got); c != tc.want {
			t.Errorf("TransportError(%v): got code %v, want %v", tc.err, c, tc.want)
		}
		var ue *url.Error
		if errors.As(got, &ue) {
			t.Errorf("TransportError(%v) kept the request URL", tc.err)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:s3cr3t@conjur.example/api": "https://REDACTED@conjur.example/api",
		"http://tok3n@127.0.0.1:8080":            "http://REDACTED@127.0.0.1:8080",
		"http://a:b@c@host/x@y":                  "http://REDACTED@host/x@y",
		"user:s3cr3t@host":                       "REDACTED@host",
		"https://host/path/with@sign":            "https://host/path/with@sign",
		"https://host":                           "https://host",
		"ht tp://us er:s3cr3t@host/%zz":          "ht tp://REDACTED@host/%zz",
		"":                                       "",
	} {
		if got := backends.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHTTPStatusCode: a store's own reading of a status wins; otherwise a
// status means the same on every HTTP store, and an unlisted 5xx is retried.
func TestHTTPStatusCode(t *testing.T) {
	overrides := map[int]backends.Code{409: backends.InvalidArgument, 501: backends.Unavailable}
	for _, tc := range []struct {
		status    int
		overrides map[int]backends.Code
		want      backends.Code
	}{
		{404, nil, backends.NotFound},
		{403, nil, backends.PermissionDenied},
		{429, nil, backends.Throttled},
		{409, nil, backends.FailedPrecondition},
		{409, overrides, backends.InvalidArgument},
		{501, nil, backends.Unsupported},
		{501, overrides, backends.Unavailable},
		{599, nil, backends.Unavailable},
		{418, nil, backends.Unknown},
		{302, overrides, backends.Unknown},
	} {
		if got := backends.HTTPStatusCode(tc.status, tc.overrides); got != tc.want {
			t.Errorf("HTTPStatusCode(%d, %v): got %v, want %v", tc.status, tc.overrides, got, tc.want)
		}
	}
}
