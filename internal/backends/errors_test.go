package backends_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

var errInner = errors.New("inner failure")

func TestCodeOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want backends.Code
	}{
		{"Nil", nil, backends.OK},
		{"Plain", errors.New("boom"), backends.Unknown},
		{"Canceled", context.Canceled, backends.Canceled},
		{"DeadlineExceeded", context.DeadlineExceeded, backends.DeadlineExceeded},
		{"WrappedCanceled", fmt.Errorf("calling: %w", context.Canceled), backends.Canceled},
		{"WrappedDeadline", fmt.Errorf("calling: %w", context.DeadlineExceeded), backends.DeadlineExceeded},
		{"Errorf", backends.Errorf(backends.NotFound, "missing %s", "x"), backends.NotFound},
		{"ErrorfWrapsOtherCode", backends.Errorf(backends.NotFound, "x: %w", backends.Errorf(backends.Unavailable, "y")), backends.NotFound},
		{"FmtWrapsError", fmt.Errorf("reading: %w", backends.Errorf(backends.PermissionDenied, "no")), backends.PermissionDenied},
		{"WrapOutermostWins", backends.Wrap(backends.Unavailable, backends.Errorf(backends.NotFound, "x")), backends.Unavailable},
		{"WrapOverContext", backends.Wrap(backends.PermissionDenied, context.Canceled), backends.PermissionDenied},
		{"WithRetryAfter", backends.WithRetryAfter(errInner, time.Second), backends.Throttled},
		{"Joined", errors.Join(errors.New("a"), backends.Errorf(backends.Internal, "b")), backends.Internal},
		{"ZeroError", &backends.Error{}, backends.OK},
		{"BareError", &backends.Error{Code: backends.FailedPrecondition}, backends.FailedPrecondition},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := backends.CodeOf(tc.err); got != tc.want {
				t.Errorf("CodeOf(%v): got %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestErrorf(t *testing.T) {
	t.Run("Message", func(t *testing.T) {
		err := backends.Errorf(backends.InvalidArgument, "name %q is bad", "x")
		if got, want := err.Error(), `name "x" is bad`; got != want {
			t.Errorf("Error(): got %q, want %q", got, want)
		}
		if u := errors.Unwrap(err); u != nil {
			t.Errorf("Unwrap without %%w: got %v, want nil", u)
		}
	})
	t.Run("WrapOnce", func(t *testing.T) {
		err := backends.Errorf(backends.InvalidArgument, "primary_secret_name: %w", errInner)
		if got, want := err.Error(), "primary_secret_name: inner failure"; got != want {
			t.Errorf("Error(): got %q, want %q (the wrapped message once)", got, want)
		}
		if !errors.Is(err, errInner) {
			t.Errorf("errors.Is(err, inner): got false, want true")
		}
		if u := errors.Unwrap(err); u != errInner {
			t.Errorf("Unwrap: got %v, want the %%w operand", u)
		}
	})
	t.Run("WrapTwice", func(t *testing.T) {
		other := errors.New("other failure")
		err := backends.Errorf(backends.Internal, "a: %w; b: %w", errInner, other)
		if got, want := err.Error(), "a: inner failure; b: other failure"; got != want {
			t.Errorf("Error(): got %q, want %q", got, want)
		}
		if !errors.Is(err, errInner) || !errors.Is(err, other) {
			t.Errorf("errors.Is with two %%w: got (%t, %t), want both true", errors.Is(err, errInner), errors.Is(err, other))
		}
		if got := backends.CodeOf(err); got != backends.Internal {
			t.Errorf("CodeOf: got %v, want Internal", got)
		}
	})
	t.Run("InnerCodeReachable", func(t *testing.T) {
		inner := backends.WithRetryAfter(errInner, 3*time.Second)
		err := backends.Errorf(backends.Unavailable, "reading: %w", inner)
		var e *backends.Error
		if !errors.As(err, &e) || e.Code != backends.Unavailable {
			t.Fatalf("errors.As: got %v, want the outer *Error", e)
		}
		if got := backends.RetryAfterOf(err); got != 3*time.Second {
			t.Errorf("RetryAfterOf through Errorf: got %v, want 3s", got)
		}
	})
}

func TestWrap(t *testing.T) {
	if err := backends.Wrap(backends.NotFound, nil); err != nil {
		t.Errorf("Wrap(nil): got %v, want nil", err)
	}
	err := backends.Wrap(backends.Unavailable, errInner)
	if got, want := err.Error(), errInner.Error(); got != want {
		t.Errorf("Error(): got %q, want %q", got, want)
	}
	if !errors.Is(err, errInner) {
		t.Errorf("errors.Is(Wrap(err), err): got false, want true")
	}
	if got := backends.CodeOf(err); got != backends.Unavailable {
		t.Errorf("CodeOf: got %v, want Unavailable", got)
	}
	if got, want := (&backends.Error{Code: backends.NotFound}).Error(), "NotFound"; got != want {
		t.Errorf("Error() of a bare *Error: got %q, want %q", got, want)
	}
}

func TestWithRetryAfter(t *testing.T) {
	if err := backends.WithRetryAfter(nil, time.Second); err != nil {
		t.Errorf("WithRetryAfter(nil): got %v, want nil", err)
	}
	err := backends.WithRetryAfter(errInner, 7*time.Second)
	var e *backends.Error
	if !errors.As(err, &e) {
		t.Fatalf("errors.As: got false, want a *backends.Error")
	}
	if e.Code != backends.Throttled || e.RetryAfter != 7*time.Second {
		t.Errorf("WithRetryAfter: got code %v and RetryAfter %v, want Throttled and 7s", e.Code, e.RetryAfter)
	}
	if !errors.Is(err, errInner) {
		t.Errorf("errors.Is: got false, want true")
	}
	tests := []struct {
		name string
		err  error
		want time.Duration
	}{
		{"Nil", nil, 0},
		{"Plain", errInner, 0},
		{"Direct", err, 7 * time.Second},
		{"FmtWrapped", fmt.Errorf("x: %w", err), 7 * time.Second},
		{"WrappedInCode", backends.Wrap(backends.Unavailable, err), 7 * time.Second},
		{"NoneInChain", backends.Errorf(backends.Throttled, "slow down"), 0},
	}
	for _, tc := range tests {
		if got := backends.RetryAfterOf(tc.err); got != tc.want {
			t.Errorf("RetryAfterOf(%s): got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCodes(t *testing.T) {
	// Values are a contract between packages: never renumber.
	want := []struct {
		code  backends.Code
		value int
		name  string
		retry bool
	}{
		{backends.OK, 0, "OK", false},
		{backends.Unknown, 1, "Unknown", false},
		{backends.NotFound, 2, "NotFound", false},
		{backends.AlreadyExists, 3, "AlreadyExists", false},
		{backends.SoftDeleted, 4, "SoftDeleted", false},
		{backends.Unsupported, 5, "Unsupported", false},
		{backends.PermissionDenied, 6, "PermissionDenied", false},
		{backends.Throttled, 7, "Throttled", true},
		{backends.InvalidArgument, 8, "InvalidArgument", false},
		{backends.Unavailable, 9, "Unavailable", true},
		{backends.DeadlineExceeded, 10, "DeadlineExceeded", false},
		{backends.Canceled, 11, "Canceled", false},
		{backends.FailedPrecondition, 12, "FailedPrecondition", false},
		{backends.Internal, 13, "Internal", false},
	}
	for _, w := range want {
		if int(w.code) != w.value {
			t.Errorf("%s: got value %d, want %d", w.name, int(w.code), w.value)
		}
		if got := w.code.String(); got != w.name {
			t.Errorf("Code(%d).String(): got %q, want %q", w.value, got, w.name)
		}
		if got := w.code.Retryable(); got != w.retry {
			t.Errorf("%s.Retryable(): got %t, want %t", w.name, got, w.retry)
		}
	}
	if got, want := backends.Code(99).String(), "Code(99)"; got != want {
		t.Errorf("Code(99).String(): got %q, want %q", got, want)
	}
}

func TestFormattingNeverShowsValues(t *testing.T) {
	const secret = "sk-SECRET-fmt"
	sec := &backends.Secret{Name: "OPENAI_API_KEY", Value: []byte(secret), Version: "3", Tags: map[string]string{"team": "ml"}}
	req := backends.WriteRequest{Name: "OPENAI_API_KEY", Value: []byte(secret)}
	nested := struct {
		S   *backends.Secret
		R   backends.WriteRequest
		Map map[string]*backends.Secret
	}{sec, req, map[string]*backends.Secret{"k": sec}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		for what, arg := range map[string]any{"*Secret": sec, "Secret": *sec, "WriteRequest": req, "*WriteRequest": &req, "nested": nested} {
			got := fmt.Sprintf(verb, arg)
			if strings.Contains(got, secret) || strings.Contains(got, fmt.Sprintf("%x", secret)) || strings.Contains(got, "115 107 45") {
				t.Errorf("Sprintf(%s, %s): got %q, want the value redacted", verb, what, got)
			}
		}
	}
	if got := fmt.Sprint(sec); !strings.Contains(got, "OPENAI_API_KEY") || !strings.Contains(got, "redacted") {
		t.Errorf("Sprint(*Secret): got %q, want the name and a redaction mark", got)
	}
}
