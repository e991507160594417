package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// nsKind says which namespace a request carries.
type nsKind int

const (
	nsRoot   nsKind = iota // none: sys/health
	nsLogin                // login_namespace: logins and token requests
	nsSecret               // secret_namespace: KV requests
)

// request is one Vault API call.
type request struct {
	method string
	// path is the API path without /v1/, unescaped: send escapes it ("a b"
	// stays part of the path).
	path string
	// capability is the policy capability the request needs, named in 403
	// messages; empty for requests that need none.
	capability string
	ns         nsKind
	// auth: send the store's token, logging in first if needed.
	auth  bool
	body  any // JSON-encoded; never appears in errors
	query url.Values
	// accept lists non-2xx statuses returned as answers rather than errors;
	// acceptAll returns every answer.
	accept    []int
	acceptAll bool
}

// answer is Vault's answer to a request.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (b *backend) namespace(k nsKind) string {
	switch k {
	case nsLogin:
		return b.res.LoginNamespace
	case nsSecret:
		return b.res.SecretNamespace
	}
	return ""
}

// do sends an authenticated request. A 403 on a login token that turns out
// to be invalid (revoked, or expired before its lease said) is answered by
// one new login and one repeat of the request.
func (b *backend) do(ctx context.Context, req *request) (*answer, error) {
	if !req.auth {
		return b.send(ctx, req, "")
	}
	tok, err := b.auth.token(ctx)
	if err != nil {
		return nil, err
	}
	ans, err := b.send(ctx, req, tok)
	var ae *apiError
	if err == nil || !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
		return ans, err
	}
	if !ae.looksLikeBadToken() && b.tokenWorks(ctx, tok) {
		return ans, err // the token is fine: its policies lack the capability
	}
	if !b.auth.forget(tok) {
		ae.badToken = true
		ae.hint = tokenHint(b.res)
		return ans, err
	}
	tok, lerr := b.auth.token(ctx)
	if lerr != nil {
		return nil, fmt.Errorf("%w (the login token was refused and logging in again failed: %w)", err, lerr)
	}
	return b.send(ctx, req, tok)
}

// tokenWorks reports whether Vault still accepts tok.
func (b *backend) tokenWorks(ctx context.Context, tok string) bool {
	_, err := b.send(ctx, &request{method: http.MethodGet, path: "auth/token/lookup-self", capability: "read", ns: nsLogin}, tok)
	return err == nil
}

// send makes one HTTP round trip with token (none if empty) and returns the
// answer, or a coded error for a refused request or a transport failure.
// Vault's HTTP API is plain JSON over HTTP, so the store speaks it with
// net/http as the Conjur and custom stores do: every header it sends is set
// here, and no client library reads the environment behind Resolve's back
// (DESIGN.md, Layers).
func (b *backend) send(ctx context.Context, req *request, token string) (*answer, error) {
	u := *b.addr
	u.Path = path.Join(b.addr.Path, "/v1", req.path)
	u.RawQuery = req.query.Encode()
	var body io.Reader
	if req.body != nil {
		data, err := json.Marshal(req.body)
		if err != nil {
			return nil, backends.Errorf(backends.Internal, "encoding the request to %s: %T cannot be encoded", req.path, req.body)
		}
		body = bytes.NewReader(data)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u.String(), body)
	if err != nil {
		return nil, backends.Errorf(backends.Internal, "building the request %s %s", req.method, req.path)
	}
	hr.Header.Set("X-Vault-Request", "true") // Vault's guard against browser-forged requests
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		hr.Header.Set("X-Vault-Token", token)
	}
	ns := b.namespace(req.ns)
	if ns != "" {
		hr.Header.Set("X-Vault-Namespace", ns)
	}
	resp, err := b.http.Do(hr)
	if err != nil {
		return nil, transportError(ctx, b.res.Address, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return nil, transportError(ctx, b.res.Address, fmt.Errorf("reading the answer to %s %s: %w", req.method, req.path, err))
	}
	ans := &answer{status: resp.StatusCode, header: resp.Header, body: data}
	if ans.status >= 300 && ans.status < 400 {
		return nil, backends.Errorf(backends.FailedPrecondition,
			"Vault at %s answered %s %s with a redirect (HTTP %d) to %s; the provider does not follow redirects, which would send the token to another address: set address to the active Vault node",
			backends.RedactURL(b.res.Address), req.method, req.path, ans.status, backends.RedactURL(resp.Header.Get("Location")))
	}
	if (ans.status >= 200 && ans.status < 300) || req.acceptAll || slices.Contains(req.accept, ans.status) {
		return ans, nil
	}
	return nil, newAPIError(req, ns, ans.status, ans.header, data)
}

// tokenHint says where the refused token came from and where a token is
// looked for, in order.
func tokenHint(res Resolved) string {
	return fmt.Sprintf("check the token (%s); it is taken from hashicorp_vault.token, else HCP_VAULT_TOKEN, "+
		"VAULT_TOKEN, then ~/.vault-token (what vault login writes)", res.source("token"))
}
