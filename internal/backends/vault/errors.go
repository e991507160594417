package vault

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// casMismatch is KV v2's message when options.cas is not the current version.
const casMismatch = "check-and-set parameter did not match the current version"

func codeOfStatus(status int, msgs []string) backends.Code {
	if status == http.StatusBadRequest {
		for _, m := range msgs {
			if strings.Contains(m, casMismatch) {
				return backends.FailedPrecondition
			}
		}
	}
	if c := backends.HTTPStatusCode(status, statusCodes); c != backends.Unknown {
		return c
	}
	if status >= 400 {
		return backends.InvalidArgument
	}
	return backends.Internal
}

// statusCodes is how Vault's HTTP answers differ from what the status means
// on every store (backends.HTTPStatusCode). 400 is refined by message
// (check-and-set mismatch) in codeOfStatus; other 4xx are InvalidArgument.
var statusCodes = map[int]backends.Code{
	http.StatusConflict:           backends.InvalidArgument,
	http.StatusPreconditionFailed: backends.FailedPrecondition, // a replication state not yet reached
	http.StatusNotImplemented:     backends.FailedPrecondition, // not initialised
}

// apiError is one refused Vault request. Its message names the method, the
// API path and, for a 403, the capability the request needed. It never holds
// a request body, so never a secret value or a token.
type apiError struct {
	Status     int
	Method     string
	Path       string // API path without /v1/
	Namespace  string
	Capability string // the policy capability the request needs, if any
	Errors     []string
	RetryAfter time.Duration
	// hint is added to the message (what to change).
	hint string
	// badToken: Vault refused the token itself, not a capability.
	badToken bool
}

func (e *apiError) Error() string {
	var b strings.Builder
	in := ""
	if e.Namespace != "" {
		in = " in namespace " + strconv.Quote(e.Namespace)
	}
	reason := strings.Join(e.Errors, "; ")
	if reason == "" {
		reason = http.StatusText(e.Status)
	}
	if e.badToken {
		fmt.Fprintf(&b, "Vault refused the token on %s %s%s (%s): it is invalid, expired or revoked", e.Method, e.Path, in, reason)
	} else if e.Status == http.StatusForbidden && e.Capability != "" {
		fmt.Fprintf(&b, "Vault denied %q on %s%s (%s): the token's policies need capability %s on that path", e.Capability, e.Path, in, reason, capabilityNeed(e.Capability))
	} else {
		fmt.Fprintf(&b, "Vault answered %d %s to %s %s%s: %s", e.Status, http.StatusText(e.Status), e.Method, e.Path, in, reason)
	}
	if e.hint != "" {
		b.WriteString(": ")
		b.WriteString(e.hint)
	}
	return b.String()
}

// capabilityNeed words what a policy must grant: a write needs create for a
// new secret and update for an existing one.
func capabilityNeed(c string) string {
	if c == "create" || c == "update" {
		return "create/update"
	}
	return c
}

// looksLikeBadToken reports whether a 403 says the token itself is bad
// (expired, revoked) rather than lacking a capability.
func (e *apiError) looksLikeBadToken() bool {
	if e.Status != http.StatusForbidden {
		return false
	}
	for _, m := range e.Errors {
		if strings.Contains(m, "invalid token") || strings.Contains(m, "token expired") || strings.Contains(m, "bad token") {
			return true
		}
	}
	return false
}

// newAPIError builds the coded error of a refused request from Vault's
// answer.
func newAPIError(req *request, ns string, status int, header http.Header, body []byte) error {
	e := &apiError{
		Status:     status,
		Method:     req.method,
		Path:       req.path,
		Namespace:  ns,
		Capability: req.capability,
		Errors:     vaultErrors(body),
	}
	code := codeOfStatus(status, e.Errors)
	if code == backends.Throttled {
		e.RetryAfter = backends.RetryAfter(header)
		return backends.WithRetryAfter(e, e.RetryAfter)
	}
	return backends.Wrap(code, e)
}

// vaultErrors extracts Vault's {"errors": [...]} list, or a short excerpt of
// a body that is not Vault's JSON (a proxy's error page).
func vaultErrors(body []byte) []string {
	var er struct {
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(body, &er); err == nil && er.Errors != nil {
		var out []string
		for _, raw := range er.Errors {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				continue // not a string: ignore rather than echo it
			}
			// Vault's multierror text: "2 errors occurred:\n\t* a\n\t* b\n\n".
			for line := range strings.SplitSeq(s, "\n") {
				line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "*"))
				if line == "" || strings.HasSuffix(line, "errors occurred:") || strings.HasSuffix(line, "error occurred:") {
					continue
				}
				out = append(out, line)
			}
		}
		return out
	}
	s := strings.TrimSpace(string(bytes.ToValidUTF8(body, []byte("?"))))
	if s == "" {
		return nil
	}
	const limit = 200
	if len(s) > limit {
		s = s[:limit]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "..."
	}
	return []string{s}
}

// transportError classifies an error that came without an HTTP answer. A
// context error stays uncoded so the layer can tell a per-call timeout from
// the caller's cancellation.
func transportError(ctx context.Context, addr string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("calling Vault at %s: %w", addr, err)
	}
	if certProblem(err) {
		return backends.Errorf(backends.FailedPrecondition, "cannot verify Vault's TLS certificate at %s: %w: set hashicorp_vault.tls.ca_cert_file (or VAULT_CACERT) to the CA that signed it, or tls.skip_verify for a test server", addr, err)
	}
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return backends.Errorf(backends.FailedPrecondition, "cannot reach Vault at %s: %w: the server speaks plain HTTP; use an http:// address", addr, err)
	}
	return backends.Errorf(backends.Unavailable, "cannot reach Vault at %s: %w", addr, err)
}

func certProblem(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		verify           *tls.CertificateVerificationError
	)
	return errors.As(err, &unknownAuthority) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &verify)
}

// ErrorCode implements backends.Backend. Errors this package makes are
// already coded; this classifies what could still come from the HTTP stack.
func (b *backend) ErrorCode(err error) backends.Code {
	return errorCode(err)
}

func errorCode(err error) backends.Code {
	var ae *apiError
	switch {
	case err == nil:
		return backends.OK
	case errors.As(err, &ae):
		return codeOfStatus(ae.Status, ae.Errors)
	case errors.Is(err, context.Canceled):
		return backends.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return backends.DeadlineExceeded
	case certProblem(err):
		return backends.FailedPrecondition
	case backends.ConnectionFailed(err):
		// The classifier every HTTP store shares (EPIPE included).
		return backends.Unavailable
	}
	return backends.Unknown
}
