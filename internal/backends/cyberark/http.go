package cyberark

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// maxBody bounds what the store reads from one answer.
const maxBody = 16 << 20

// defaultTokenLifetime is how long a Conjur access token lasts when its
// payload has no "exp".
const defaultTokenLifetime = 8 * time.Minute

// apiError is a non-2xx answer from Conjur. Its message is Conjur's own
// (names and ids, never values: Conjur does not echo secrets).
type apiError struct {
	status     int
	op         string
	id         string
	msg        string
	retryAfter time.Duration
}

func (e *apiError) Error() string {
	var b strings.Builder
	b.WriteString(e.op)
	if e.id != "" {
		b.WriteString(" ")
		b.WriteString(backends.QuoteName(e.id))
	}
	fmt.Fprintf(&b, ": Conjur answered %d %s", e.status, http.StatusText(e.status))
	if e.msg != "" {
		b.WriteString(": ")
		b.WriteString(e.msg)
	}
	if hint := statusHints[e.status]; hint != "" {
		b.WriteString(" (")
		b.WriteString(hint)
		b.WriteString(")")
	}
	return b.String()
}

var statusHints = map[int]string{
	http.StatusUnauthorized: "the login, API key or JWT was refused",
	http.StatusForbidden:    "the login lacks a privilege on this resource: read and execute to read, update to write, create on the policy branch to declare",
}

func isStatus(err error, status int) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.status == status
}

// errorMessage extracts Conjur's error message from an answer body:
// {"error":{"code":...,"message":...}}, else short plain text.
func errorMessage(body []byte) string {
	var doc struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &doc) == nil && doc.Error.Message != "" {
		return truncate(doc.Error.Message)
	}
	s := strings.TrimSpace(string(body))
	if s == "" || !utf8.ValidString(s) || strings.HasPrefix(s, "<") {
		return ""
	}
	return truncate(s)
}

func truncate(s string) string {
	const limit = 300
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// request sends one authenticated request and returns the answer body. A 401
// re-authenticates and resends once.
func (b *backend) request(ctx context.Context, method, path string, body []byte, contentType, op, id string) ([]byte, error) {
	for attempt := 1; ; attempt++ {
		tok, err := b.auth.get(ctx)
		if err != nil {
			return nil, err
		}
		status, data, hdr, err := b.send(ctx, method, b.cfg.base+path, body, contentType, tok.header)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", op, backends.QuoteName(id), err)
		}
		if status == http.StatusUnauthorized && attempt == 1 {
			b.auth.invalidate(tok)
			continue
		}
		if status/100 == 2 {
			return data, nil
		}
		return nil, newAPIError(status, data, hdr, op, id)
	}
}

func newAPIError(status int, data []byte, hdr http.Header, op, id string) error {
	ae := &apiError{status: status, op: op, id: id, msg: errorMessage(data)}
	if ra := backends.RetryAfter(hdr); ra > 0 && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
		ae.retryAfter = ra
		return backends.WithRetryAfter(ae, ra)
	}
	return ae
}

// send performs one HTTP exchange.
func (b *backend) send(ctx context.Context, method, rawURL string, body []byte, contentType, authz string) (int, []byte, http.Header, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return 0, nil, nil, backends.Errorf(backends.InvalidArgument, "building the request: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, nil, nil, backends.TransportError(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return 0, nil, nil, err
	}
	if len(data) > maxBody {
		return 0, nil, nil, backends.Errorf(backends.Internal, "Conjur's answer is larger than %d bytes", maxBody)
	}
	return resp.StatusCode, data, resp.Header, nil
}

// token is one cached Conjur access token.
type token struct {
	header    string // Authorization header value
	refreshAt time.Time
}

// tokenCache holds the current access token. Callers wait while one of them
// authenticates.
type tokenCache struct {
	b   *backend
	mu  sync.Mutex
	cur *token
}

func (c *tokenCache) get(ctx context.Context) (*token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil && c.b.cfg.now().Before(c.cur.refreshAt) {
		return c.cur, nil
	}
	t, err := c.b.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	c.cur = t
	return t, nil
}

// invalidate drops t if it is still the cached token (a 401 answered it).
func (c *tokenCache) invalidate(t *token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == t {
		c.cur = nil
	}
}

// authenticate logs in and returns a fresh token.
func (b *backend) authenticate(ctx context.Context) (*token, error) {
	acct := segment(b.cfg.account)
	var (
		path, ctype, what string
		body              []byte
	)
	if b.cfg.jwtServiceID != "" {
		path = "/authn-jwt/" + segment(b.cfg.jwtServiceID) + "/" + acct
		if b.cfg.login != "" {
			path += "/" + segment(b.cfg.login)
		}
		path += "/authenticate"
		body = []byte("jwt=" + url.QueryEscape(b.cfg.jwtToken))
		ctype = "application/x-www-form-urlencoded"
		what = fmt.Sprintf("authenticating with authn-jwt service %s", backends.QuoteName(b.cfg.jwtServiceID))
	} else {
		path = "/authn/" + acct + "/" + segment(b.cfg.login) + "/authenticate"
		body = []byte(b.cfg.apiKey)
		ctype = "text/plain"
		what = "authenticating with an API key"
		if b.cfg.certOnly {
			// LiteLLM's certificate login: the same request over mutual
			// TLS, with an empty body.
			body, ctype = []byte{}, ""
			what = "authenticating with a client certificate"
		}
	}
	start := b.cfg.now()
	status, data, hdr, err := b.send(ctx, http.MethodPost, b.cfg.base+path, body, ctype, "")
	if err != nil {
		return nil, fmt.Errorf("%s as %s to %s: %w", what, backends.QuoteName(b.cfg.login), backends.RedactURL(b.cfg.base), err)
	}
	if status/100 != 2 {
		return nil, newAPIError(status, data, hdr, what+" to "+backends.RedactURL(b.cfg.base)+" in account "+b.cfg.account+" as", b.cfg.login)
	}
	lifetime, err := tokenLifetime(data)
	if err != nil {
		return nil, backends.Errorf(backends.Internal, "%s: Conjur answered with something that is not an access token: %v", what, err)
	}
	return &token{
		header:    `Token token="` + base64.StdEncoding.EncodeToString(data) + `"`,
		refreshAt: start.Add(lifetime - lifetime/5),
	}, nil
}

// tokenLifetime checks that raw is a Conjur access token ({"protected",
// "payload", "signature"}) and returns its lifetime: exp - iat from the
// payload, else 8 minutes.
func tokenLifetime(raw []byte) (time.Duration, error) {
	var tok struct {
		Protected string `json:"protected"`
		Payload   string `json:"payload"`
		Signature string `json:"signature"`
	}
	if err := json.Unmarshal(raw, &tok); err != nil {
		return 0, errors.New("not a JSON object")
	}
	if tok.Protected == "" || tok.Payload == "" || tok.Signature == "" {
		return 0, errors.New(`missing "protected", "payload" or "signature"`)
	}
	// An unreadable payload or one without exp is not an error: Conjur's
	// default lifetime applies.
	if d, ok := claimsLifetime(tok.Payload); ok {
		return d, nil
	}
	return defaultTokenLifetime, nil
}

// claimsLifetime returns exp - iat of a token payload, if it has both.
func claimsLifetime(encoded string) (time.Duration, bool) {
	var claims struct {
		IAT *float64 `json:"iat"`
		EXP *float64 `json:"exp"`
	}
	payload, ok := decodeB64(encoded)
	if !ok {
		return 0, false
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.IAT == nil || claims.EXP == nil || *claims.EXP <= *claims.IAT {
		return 0, false
	}
	return time.Duration((*claims.EXP - *claims.IAT) * float64(time.Second)), true
}

func decodeB64(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawURLEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}
