package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// loginTimeout bounds one login or renewal. A login is shared by every
// caller waiting for it, so it does not run under any one caller's context.
const loginTimeout = 30 * time.Second

// maxRefreshMargin caps how long before expiry a token is renewed or
// replaced; shorter leases use a tenth of their duration.
const maxRefreshMargin = 30 * time.Second

// loginToken is a token obtained by AppRole or certificate login.
type loginToken struct {
	token     string
	accessor  string
	renewable bool
	lease     time.Duration // as granted by the last login or renewal
	expires   time.Time     // zero: never (a lease duration of 0)
}

// margin is how long before expiry the token is refreshed.
func (t *loginToken) margin() time.Duration { return min(t.lease/10, maxRefreshMargin) }

// fresh reports whether the token can be used as it is at now.
func (t *loginToken) fresh(now time.Time) bool {
	return t.expires.IsZero() || now.Before(t.expires.Add(-t.margin()))
}

// authenticator hands out the token for secret requests: the configured one,
// or one from a login that serves the whole run, renewed or re-acquired
// before it expires.
type authenticator struct {
	b      *backend
	method AuthMethod
	static string // AuthToken

	now func() time.Time

	mu  sync.Mutex
	cur *loginToken
	sf  singleflight.Group

	// logins and renewals count round trips (for tests and logs).
	logins, renewals int
}

// token returns a usable token, logging in or renewing first when needed.
func (a *authenticator) token(ctx context.Context) (string, error) {
	if a.method == AuthToken {
		return a.static, nil
	}
	a.mu.Lock()
	cur := a.cur
	a.mu.Unlock()
	if cur != nil && cur.fresh(a.now()) {
		return cur.token, nil
	}
	ch := a.sf.DoChan("token", func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loginTimeout)
		defer cancel()
		return a.refresh(lctx)
	})
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		t, ok := r.Val.(*loginToken)
		if !ok {
			return "", backends.Errorf(backends.Internal, "logging in to Vault: unexpected login result %T", r.Val)
		}
		return t.token, nil
	}
}

// refresh renews the current token when it is renewable and still valid,
// else logs in again. Only one refresh runs at a time (singleflight).
func (a *authenticator) refresh(ctx context.Context) (*loginToken, error) {
	a.mu.Lock()
	cur := a.cur
	a.mu.Unlock()
	now := a.now()
	if cur != nil && cur.fresh(now) {
		return cur, nil // refreshed by the flight that just finished
	}
	if cur != nil && cur.renewable && now.Before(cur.expires) {
		if t, err := a.renew(ctx, cur); err == nil && t.lease > 2*t.margin() && t.fresh(a.now()) {
			a.store(t)
			return t, nil
		}
		// Renewal refused or capped by the token's max TTL: log in again.
	}
	t, err := a.login(ctx)
	if err != nil {
		return nil, err
	}
	a.store(t)
	return t, nil
}

func (a *authenticator) store(t *loginToken) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cur = t
}

// forget drops tok if it is still the current token, so the next request
// logs in again. It reports whether a login can replace it.
func (a *authenticator) forget(tok string) bool {
	if a.method == AuthToken {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cur != nil && a.cur.token == tok {
		a.cur = nil
	}
	return true
}

// current returns the login token in use, if any.
func (a *authenticator) current() *loginToken {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cur
}

// authAnswer is the auth part of a login or renewal answer.
type authAnswer struct {
	Auth *struct {
		ClientToken   string `json:"client_token"`
		Accessor      string `json:"accessor"`
		LeaseDuration int64  `json:"lease_duration"`
		Renewable     bool   `json:"renewable"`
	} `json:"auth"`
}

// login runs the configured login.
func (a *authenticator) login(ctx context.Context) (*loginToken, error) {
	r := a.b.res
	var (
		req  *request
		what string
	)
	switch a.method {
	case AuthAppRole:
		what = "AppRole"
		req = &request{
			method: http.MethodPut,
			path:   "auth/" + r.AppRole.MountPath + "/login",
			ns:     nsLogin,
			body:   map[string]any{"role_id": r.AppRole.RoleID, "secret_id": r.AppRole.SecretID},
		}
	case AuthCert:
		what = "TLS certificate"
		body := map[string]any{}
		if r.CertRole != "" {
			body["name"] = r.CertRole
		}
		req = &request{method: http.MethodPut, path: "auth/" + certLoginMount + "/login", ns: nsLogin, body: body}
	default:
		return nil, backends.Errorf(backends.Internal, "logging in to Vault: no login for auth method %q", a.method)
	}
	ans, err := a.b.send(ctx, req, "")
	if err != nil {
		return nil, a.loginError(what, err)
	}
	a.mu.Lock()
	a.logins++
	a.mu.Unlock()
	t, err := a.parseAuth(ans, req.path)
	if err != nil {
		return nil, fmt.Errorf("logging in to Vault with %s: %w", what, err)
	}
	return t, nil
}

// loginError explains a refused login: Vault answers 400 for bad
// credentials, which no retry fixes.
func (a *authenticator) loginError(what string, err error) error {
	var ae *apiError
	if !errors.As(err, &ae) {
		return fmt.Errorf("logging in to Vault with %s: %w", what, err)
	}
	switch ae.Status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		switch a.method {
		case AuthAppRole:
			ae.hint = "check hashicorp_vault.approle.role_id, approle.secret_id and approle.mount_path (HCP_VAULT_APPROLE_ROLE_ID, HCP_VAULT_APPROLE_SECRET_ID, HCP_VAULT_APPROLE_MOUNT_PATH)"
		case AuthCert:
			ae.hint = "check hashicorp_vault.tls.client_cert_file, tls.client_key_file and tls.cert_role (HCP_VAULT_CLIENT_CERT, HCP_VAULT_CLIENT_KEY, HCP_VAULT_CERT_ROLE), and that the cert auth method at auth/cert trusts the certificate's CA"
		}
		return backends.Errorf(backends.PermissionDenied, "logging in to Vault with %s: %w", what, ae)
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		ae.hint = "is the auth method enabled at that path?"
		return backends.Errorf(backends.FailedPrecondition, "logging in to Vault with %s: %w", what, ae)
	}
	return fmt.Errorf("logging in to Vault with %s: %w", what, err)
}

func (a *authenticator) parseAuth(ans *answer, path string) (*loginToken, error) {
	var aa authAnswer
	if err := json.Unmarshal(ans.body, &aa); err != nil {
		return nil, backends.Errorf(backends.Internal, "Vault's answer to %s is not JSON with an auth object (%d bytes)", path, len(ans.body))
	}
	if aa.Auth == nil || aa.Auth.ClientToken == "" {
		return nil, backends.Errorf(backends.Internal, "Vault's answer to %s has no auth.client_token", path)
	}
	t := &loginToken{
		token:     aa.Auth.ClientToken,
		accessor:  aa.Auth.Accessor,
		renewable: aa.Auth.Renewable,
		lease:     time.Duration(aa.Auth.LeaseDuration) * time.Second,
	}
	if t.lease > 0 {
		t.expires = a.now().Add(t.lease)
	}
	return t, nil
}

// renew extends cur with auth/token/renew-self, asking for its last lease
// again.
func (a *authenticator) renew(ctx context.Context, cur *loginToken) (*loginToken, error) {
	req := &request{
		method:     http.MethodPut,
		path:       "auth/token/renew-self",
		capability: "update",
		ns:         nsLogin,
		body:       map[string]any{"increment": int64(cur.lease / time.Second)},
	}
	ans, err := a.b.send(ctx, req, cur.token)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.renewals++
	a.mu.Unlock()
	t, err := a.parseAuth(ans, req.path)
	if err != nil {
		return nil, err
	}
	if t.token != cur.token {
		return nil, backends.Errorf(backends.Internal, "Vault's answer to %s names another token", req.path)
	}
	return t, nil
}

// revoke revokes a login token at Close; errors are ignored (it expires
// anyway).
func (a *authenticator) revoke(ctx context.Context) {
	if a.method == AuthToken {
		return
	}
	a.mu.Lock()
	cur := a.cur
	a.cur = nil
	a.mu.Unlock()
	if cur == nil {
		return
	}
	req := &request{method: http.MethodPut, path: "auth/token/revoke-self", capability: "update", ns: nsLogin}
	_, _ = a.b.send(ctx, req, cur.token)
}
