package backends

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Error is the one error type the layer returns: every store error leaves
// *Store wrapped in it, tagged with a Code. Its message never contains a secret
// value: stores build errors from names and store answers, never from payloads.
type Error struct {
	Code Code
	// RetryAfter is the delay the store asked for (Retry-After), zero if none.
	RetryAfter time.Duration
	msg        string
	err        error
	// whole: msg already includes err's message (built by Errorf with %w).
	whole bool
	// rule: a store's refusal of a name or write by its own rule, whose
	// message names the store and the rule (RuleViolation).
	rule bool
}

// Error implements error.
func (e *Error) Error() string {
	switch {
	case e.whole:
		return e.msg
	case e.msg != "" && e.err != nil:
		return e.msg + ": " + e.err.Error()
	case e.msg != "":
		return e.msg
	case e.err != nil:
		return e.err.Error()
	}
	return e.Code.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.err }

// Errorf returns an *Error with the given code and a formatted message. A %w
// verb wraps as fmt.Errorf does.
func Errorf(code Code, format string, args ...any) error { return errorf(code, format, args...) }

func errorf(code Code, format string, args ...any) *Error {
	wrapped := fmt.Errorf(format, args...)
	e := &Error{Code: code, msg: wrapped.Error(), whole: true}
	switch u := wrapped.(type) {
	case interface{ Unwrap() error }:
		e.err = u.Unwrap()
	case interface{ Unwrap() []error }:
		e.err = wrapped // several %w: keep them all reachable for errors.Is/As
	}
	return e
}

// RuleViolation is the error a store's NameValidator or WriteValidator
// returns for what it refuses by its own rule (length, charset, tag limits):
// InvalidArgument, with a message that names the store and the rule ("the
// aws_secret_manager store does not accept secret name ...: ..."). *Store
// passes it on as it is; any other error from a validator is wrapped with
// the store and the name.
func RuleViolation(format string, args ...any) error {
	e := errorf(InvalidArgument, format, args...)
	e.rule = true
	return e
}

// isRuleViolation reports whether err is a RuleViolation.
func isRuleViolation(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.rule
}

// Wrap tags err with code, keeping err's message and chain. A nil err stays nil.
func Wrap(code Code, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, err: err}
}

// WithRetryAfter tags err as Throttled with the delay the store asked for.
func WithRetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &Error{Code: Throttled, RetryAfter: d, err: err}
}

// CodeOf returns the code of err: OK for nil, Canceled and DeadlineExceeded
// for context errors, the code of the outermost *Error in the chain, else
// Unknown.
func CodeOf(err error) Code {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	switch {
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return DeadlineExceeded
	}
	return Unknown
}

// retryAfterOf returns the delay the store asked for, if any error in the
// chain carries one.
func retryAfterOf(err error) time.Duration {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return 0
		}
		if e.RetryAfter > 0 {
			return e.RetryAfter
		}
		err = e.err
	}
	return 0
}

// foreignValueError marks a read that found the name holding something no
// write of this provider could have made (a field of the primary secret that
// is not a JSON string). Store.claim counts such a name as taken.
type foreignValueError struct{ err error }

func (e *foreignValueError) Error() string { return e.err.Error() }
func (e *foreignValueError) Unwrap() error { return e.err }

// foreignValue marks err (an *Error, which keeps its code) as a foreign value.
func foreignValue(err error) error { return &foreignValueError{err: err} }

func isForeignValue(err error) bool {
	var e *foreignValueError
	return errors.As(err, &e)
}
