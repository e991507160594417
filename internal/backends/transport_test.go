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
