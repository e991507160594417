package backends

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
)

// TransportError is the error of an HTTP exchange that got no answer. It drops
// the request URL (it holds names the caller's message already gives) and
// codes a refused, reset or cut connection Unavailable, so the layer retries
// it: a connection closed before the answer surfaces as a bare io.EOF, which a
// store's ErrorCode would not recognise. Context errors stay uncoded, so the
// layer can tell its per-call timeout from the caller's.
func TransportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if ConnectionFailed(err) {
		return Wrap(Unavailable, err)
	}
	return err
}

// ConnectionFailed reports whether err is a refused, reset or cut connection
// (or another net.Error): the one transport classifier every HTTP store shares,
// so an ErrorCode that sees such an error codes it as TransportError does.
func ConnectionFailed(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) || errors.As(err, &ne)
}

// RedactURL returns raw for a message: any userinfo (user:password@, or a
// token in the user part) is replaced by "REDACTED@", whether or not the
// rest parses as a URL, so an error about a store URL never echoes a
// credential embedded in it.
func RedactURL(raw string) string {
	rest, scheme := raw, ""
	if i := strings.Index(raw, "://"); i >= 0 {
		scheme, rest = raw[:i+3], raw[i+3:]
	}
	host := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host = rest[:i]
	}
	at := strings.LastIndex(host, "@")
	if at < 0 {
		return raw
	}
	return scheme + "REDACTED@" + rest[at+1:]
}

// Unreachable reports whether err says the store could not be reached at all:
// the connection was refused, the host name did not resolve, the dial failed,
// or TLS could not be established (an untrusted or mismatched certificate,
// a plain-HTTP server on a TLS address). An answer from the store, even an
// error like 503 or 429, is never unreachable.
func Unreachable(err error) bool {
	var (
		cv   *tls.CertificateVerificationError
		rh   tls.RecordHeaderError
		ua   x509.UnknownAuthorityError
		host x509.HostnameError
		inv  x509.CertificateInvalidError
	)
	return dialFailed(err) ||
		errors.As(err, &cv) || errors.As(err, &rh) || errors.As(err, &ua) || errors.As(err, &host) || errors.As(err, &inv)
}

// dialFailed reports whether err says no connection was made: refused, no
// route, a host name that does not resolve, a failed dial.
func dialFailed(err error) bool {
	var (
		dns *net.DNSError
		op  *net.OpError
	)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.As(err, &dns):
		return true
	case errors.As(err, &op):
		return op.Op == "dial"
	}
	return false
}

// httpStatusCodes is what an HTTP status means on every store that answers
// over HTTP (Key Vault, Vault, Conjur, custom stores); a store's overrides
// change what its API means otherwise.
var httpStatusCodes = map[int]Code{
	http.StatusBadRequest:            InvalidArgument,
	http.StatusUnauthorized:          PermissionDenied,
	http.StatusForbidden:             PermissionDenied,
	http.StatusNotFound:              NotFound,
	http.StatusMethodNotAllowed:      Unsupported,
	http.StatusConflict:              FailedPrecondition,
	http.StatusRequestEntityTooLarge: InvalidArgument,
	http.StatusUnprocessableEntity:   InvalidArgument,
	http.StatusTooManyRequests:       Throttled,
	http.StatusNotImplemented:        Unsupported,
}

// HTTPStatusCode classifies an HTTP answer by its status: the store's own
// reading of it (overrides) first, then what the status means on every
// store; any other 5xx is Unavailable (retried), anything else Unknown.
func HTTPStatusCode(status int, overrides map[int]Code) Code {
	if c, ok := overrides[status]; ok {
		return c
	}
	if c, ok := httpStatusCodes[status]; ok {
		return c
	}
	if status >= 500 {
		return Unavailable
	}
	return Unknown
}
