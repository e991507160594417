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
