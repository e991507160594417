// Package cyberark is the CyberArk Conjur store (key_management_system =
// "cyberark"). Secrets are Conjur variables, read and written through
// Conjur's REST API with net/http.
//
// # Why not github.com/cyberark/conjur-api-go
//
// The SDK is on the Go module proxy, but this package does not use it: its
// calls take no context.Context (so the layer's per-call timeout and
// cancellation would not reach the wire), its Client refreshes the cached
// access token without synchronisation (a data race under Terraform's
// parallel operations), it asserts token payload fields without comma-ok,
// and it reads CONJUR_* variables and credential storage (netrc, keyring) on
// its own. The REST API this store needs is five endpoints, all documented by
// CyberArk: authn, authn-jwt, secrets, resources and policies.
//
// # Settings
//
// Options are resolved against the environment in one place, resolve: the
// LiteLLM variable first, then Conjur's own.
//
//	url                 CYBERARK_API_BASE, CONJUR_APPLIANCE_URL
//	account             CYBERARK_ACCOUNT, CONJUR_ACCOUNT; default "default"
//	login               CYBERARK_USERNAME, CONJUR_AUTHN_LOGIN
//	api_key             CYBERARK_API_KEY, CONJUR_AUTHN_API_KEY
//	client_cert         CYBERARK_CLIENT_CERT
//	client_key          CYBERARK_CLIENT_KEY
//	ssl_verify          CYBERARK_SSL_VERIFY; default true
//	ca_cert             CONJUR_SSL_CERTIFICATE (PEM), CONJUR_CERT_FILE (path)
//	authn_jwt.service_id CONJUR_AUTHN_JWT_SERVICE_ID
//	authn_jwt.token     CONJUR_AUTHN_JWT_TOKEN
//	policy_branch       default "root"
//
// # Authentication
//
// With authn_jwt (a service id), the store logs in with POST
// /authn-jwt/{service_id}/{account}[/{login}]/authenticate (login, when set,
// is the host id); otherwise with POST /authn/{account}/{login}/authenticate
// and the API key as the body. client_cert and client_key add mutual TLS to
// every request (LiteLLM's CYBERARK_CLIENT_CERT / CYBERARK_CLIENT_KEY). With
// a client certificate and no API key, the store logs in as LiteLLM's
// CyberArkSecretManager does: the same authn request, over mutual TLS, with
// an empty body (the certificate alone identifies the login).
//
// ssl_verify falls back to CYBERARK_SSL_VERIFY read as LiteLLM reads it
// (str_to_bool): "false" in any case, surrounded by blanks or not, turns
// verification off; "true" and every other value (including "0", "no",
// "off") keep it on.
//
// Conjur access tokens last 8 minutes (or until the "exp" of their payload).
// The store caches one token, re-authenticates when 80% of its lifetime has
// passed (measured on the local clock from the moment it arrived, so clock
// skew does not matter), and once more when Conjur answers 401 to a request.
//
// # Names, reads and writes
//
// A name is a variable id relative to policy_branch: with the default "root"
// the id is the name itself, as LiteLLM uses it; with policy_branch
// "apps/llm" the name "OPENAI_API_KEY" is the variable "apps/llm/OPENAI_API_KEY".
// Ids are percent-encoded as one URL path segment exactly as LiteLLM does
// (Python's urllib.parse.quote(id, safe="")): every byte but ASCII letters,
// digits and "_.-~" becomes %XX with upper-case hex, "/" included, so both
// clients send the same request path.
//
// Get reads the variable's resource for its latest version, then that
// version's value (GET /secrets/{account}/variable/{id}?version=N), so the
// value and the version always match. Conjur version numbers are the
// version ids.
//
// Put sets the value (POST /secrets/...). When the variable is not declared
// yet (404), it first declares it by loading the policy "- !variable <id>"
// (the id as a double-quoted YAML scalar) into policy_branch with POST, which
// only appends; a 409 (another policy load holds the branch) is retried with
// backoff. Updating an existing variable therefore needs only "update" on it,
// not write access to the policy.
//
// Conjur cannot delete a variable through its API (only a policy change with
// !delete removes it), so Caps reports no Delete: llmsecret_secret defaults
// to deletion_policy "abandon" on this store. Description and tags are not
// kept.
package cyberark

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// Kind is this store's key_management_system value.
const Kind = "cyberark"

// Defaults.
const (
	DefaultAccount      = "default"
	DefaultPolicyBranch = "root"
)

// Options configures the store (the provider's cyberark block). Empty fields
// fall back to the environment, see the package comment.
type Options struct {
	URL     string
	Account string
	Login   string
	APIKey  string
	// ClientCert and ClientKey are PEM text or paths of PEM files, for
	// mutual TLS.
	ClientCert string
	ClientKey  string
	// SSLVerify nil means CYBERARK_SSL_VERIFY, else true.
	SSLVerify *bool
	// CACert is PEM text or the path of a PEM file of CA certificates that
	// replace the system roots.
	CACert       string
	PolicyBranch string
	JWTServiceID string
	JWTToken     string

	// LookupEnv reads the environment; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Now is the clock of the token cache; nil means time.Now. Tests move it.
	Now func() time.Time
	// PolicyConflictRetries bounds the retries of a policy load answered 409;
	// zero means 5. PolicyConflictDelay is the first backoff (doubled each
	// time, with jitter); zero means 200ms.
	PolicyConflictRetries int
	PolicyConflictDelay   time.Duration
}

// config is Options after resolve.
type config struct {
	base         string // URL without trailing slash
	account      string
	login        string
	apiKey       string
	jwtServiceID string
	jwtToken     string
	policyBranch string
	// certOnly: no API key or JWT; log in with the client certificate.
	certOnly     bool
	tls          *tls.Config
	now          func() time.Time
	conflictMax  int
	conflictWait time.Duration
}

// envNames lists the variables each setting falls back to, in order.
var envNames = map[string][]string{
	"url":                  {"CYBERARK_API_BASE", "CONJUR_APPLIANCE_URL"},
	"account":              {"CYBERARK_ACCOUNT", "CONJUR_ACCOUNT"},
	"login":                {"CYBERARK_USERNAME", "CONJUR_AUTHN_LOGIN"},
	"api_key":              {"CYBERARK_API_KEY", "CONJUR_AUTHN_API_KEY"},
	"client_cert":          {"CYBERARK_CLIENT_CERT"},
	"client_key":           {"CYBERARK_CLIENT_KEY"},
	"ssl_verify":           {"CYBERARK_SSL_VERIFY"},
	"ca_cert":              {"CONJUR_SSL_CERTIFICATE", "CONJUR_CERT_FILE"},
	"authn_jwt.service_id": {"CONJUR_AUTHN_JWT_SERVICE_ID"},
	"authn_jwt.token":      {"CONJUR_AUTHN_JWT_TOKEN"},
}

// EnvNames returns the environment variables setting (an attribute of the
// cyberark block, e.g. "url") falls back to, for documentation.
func EnvNames(setting string) []string { return envNames[setting] }

type backend struct {
	cfg    config
	client *http.Client
	auth   tokenCache
}

var _ backends.Backend = (*backend)(nil)

// New returns the Conjur store. It checks the settings and builds the HTTP
// client; it does not contact Conjur (the first call authenticates).
func New(opts *Options) (backends.Backend, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	cfg, err := resolve(&o)
	if err != nil {
		return nil, err
	}
	tr, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, errors.New("cyberark: http.DefaultTransport is not an *http.Transport")
	}
	tr = tr.Clone()
	tr.TLSClientConfig = cfg.tls
	b := &backend{
		cfg: cfg,
		// No client timeout: every call runs under the layer's per-call
		// context deadline. No redirects: Conjur sends none, and following
		// one would resend the token elsewhere.
		client: &http.Client{
			Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
	b.auth.b = b
	return b, nil
}

// resolve applies the environment fallbacks and defaults and checks the
// result. It is the only place the store reads the environment.
func resolve(o *Options) (config, error) {
	lookup := o.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	get := func(v, setting string) string {
		if v != "" {
			return v
		}
		for _, name := range envNames[setting] {
			if ev, ok := lookup(name); ok && ev != "" {
				return ev
			}
		}
		return ""
	}
	missing := func(setting, extra string) error {
		return backends.Errorf(backends.InvalidArgument, "cyberark.%s is not set and none of %s is%s", setting, strings.Join(envNames[setting], ", "), extra)
	}

	cfg := config{
		account:      get(o.Account, "account"),
		login:        get(o.Login, "login"),
		apiKey:       get(o.APIKey, "api_key"),
		jwtServiceID: get(o.JWTServiceID, "authn_jwt.service_id"),
		jwtToken:     get(o.JWTToken, "authn_jwt.token"),
		policyBranch: strings.Trim(o.PolicyBranch, "/"),
		now:          o.Now,
		conflictMax:  o.PolicyConflictRetries,
		conflictWait: o.PolicyConflictDelay,
	}
	if cfg.account == "" {
		cfg.account = DefaultAccount
	}
	if cfg.policyBranch == "" {
		cfg.policyBranch = DefaultPolicyBranch
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.conflictMax <= 0 {
		cfg.conflictMax = 5
	}
	if cfg.conflictWait <= 0 {
		cfg.conflictWait = 200 * time.Millisecond
	}

	raw := get(o.URL, "url")
	if raw == "" {
		return config{}, missing("url", " (the Conjur appliance URL, e.g. https://conjur.example.com)")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return config{}, backends.Errorf(backends.InvalidArgument, "cyberark.url %q must be an http:// or https:// URL with a host and no query, e.g. https://conjur.example.com", backends.RedactURL(raw))
	}
	cfg.base = strings.TrimRight(u.String(), "/")

	for _, seg := range strings.Split(cfg.policyBranch, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return config{}, backends.Errorf(backends.InvalidArgument, "cyberark.policy_branch %q must be a policy id such as %q or %q, without empty, %q or %q segments", o.PolicyBranch, "root", "apps/llm", ".", "..")
		}
	}

	clientCert, clientKey := get(o.ClientCert, "client_cert"), get(o.ClientKey, "client_key")
	cfg.certOnly = cfg.jwtServiceID == "" && cfg.apiKey == "" && clientCert != "" && clientKey != ""
	switch {
	case cfg.jwtServiceID != "":
		if cfg.jwtToken == "" {
			return config{}, missing("authn_jwt.token", " (authn_jwt.service_id is set, so the store logs in with authn-jwt and needs the JWT)")
		}
	default:
		if cfg.login == "" {
			return config{}, missing("login", " (the Conjur user or host to log in as, e.g. host/llm-gateway; LiteLLM logs in as \"admin\" when CYBERARK_USERNAME is unset)")
		}
		if cfg.apiKey == "" && (clientCert == "" || clientKey == "") {
			return config{}, missing("api_key", "; set api_key (or CYBERARK_API_KEY), or client_cert and client_key (CYBERARK_CLIENT_CERT, CYBERARK_CLIENT_KEY) to log in with the certificate alone, or log in with authn_jwt")
		}
	}

	verify := SSLVerifyFromEnv(get("", "ssl_verify"))
	if o.SSLVerify != nil {
		verify = *o.SSLVerify
	}
	cfg.tls, err = tlsConfig(verify, get(o.CACert, "ca_cert"), clientCert, clientKey)
	if err != nil {
		return config{}, err
	}
	return cfg, nil
}

// SSLVerifyFromEnv reads a CYBERARK_SSL_VERIFY value as LiteLLM does
// (litellm.secret_managers.main.str_to_bool, then "None means verify"):
// only "false", case-insensitive and trimmed of white space, turns
// verification off. "true", an empty value and any value str_to_bool does
// not recognise ("0", "no", "off", typos) keep it on.
func SSLVerifyFromEnv(s string) bool {
	return strings.ToLower(strings.TrimSpace(s)) != "false"
}

// pemOrFile returns s when it is PEM text, else the content of the file s.
func pemOrFile(setting, s string) ([]byte, error) {
	if strings.Contains(s, "-----BEGIN ") {
		return []byte(s), nil
	}
	data, err := os.ReadFile(s)
	if err != nil {
		// An *fs.PathError quotes the path, which may be the key itself
		// without its PEM armour (base64): never quote it.
		reason := "it cannot be read"
		if errors.Is(err, fs.ErrNotExist) {
			reason = "no file has that path"
		}
		return nil, backends.Errorf(backends.InvalidArgument, "cyberark.%s is neither PEM text nor a readable file (%s; PEM text starts with its -----BEGIN line)", setting, reason)
	}
	return data, nil
}

func tlsConfig(verify bool, caCert, clientCert, clientKey string) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: !verify} //nolint:gosec // ssl_verify = false is the user's explicit choice (LiteLLM's CYBERARK_SSL_VERIFY)
	if caCert != "" {
		pem, err := pemOrFile("ca_cert", caCert)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, backends.Errorf(backends.InvalidArgument, "cyberark.ca_cert holds no PEM certificate")
		}
		c.RootCAs = pool
	}
	switch {
	case clientCert == "" && clientKey == "":
	case clientCert == "" || clientKey == "":
		return nil, backends.Errorf(backends.InvalidArgument, "cyberark.client_cert and cyberark.client_key (CYBERARK_CLIENT_CERT, CYBERARK_CLIENT_KEY) must be set together for mutual TLS")
	default:
		certPEM, err := pemOrFile("client_cert", clientCert)
		if err != nil {
			return nil, err
		}
		keyPEM, err := pemOrFile("client_key", clientKey)
		if err != nil {
			return nil, err
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			// The parse error names no key material.
			return nil, backends.Errorf(backends.InvalidArgument, "cyberark.client_cert and client_key are not a matching PEM certificate and key: %w", err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}

// Kind implements backends.Backend.
func (b *backend) Kind() string { return Kind }

// Caps implements backends.Backend.
func (b *backend) Caps() backends.Caps {
	return backends.Caps{Write: true, Binary: true}
}

// NoDeleteReason implements backends.NoDeleteExplainer.
func (b *backend) NoDeleteReason() string {
	return "Conjur has no API to delete a variable; only a policy change (a PATCH with !delete) removes it, which this provider does not make on your behalf"
}

// variableID is the Conjur id of name: relative to the policy branch.
func (b *backend) variableID(name string) string {
	if b.cfg.policyBranch == DefaultPolicyBranch {
		return name
	}
	return b.cfg.policyBranch + "/" + name
}

// segment percent-encodes s as one URL path segment the way LiteLLM's
// CyberArkSecretManager.get_url does (urllib.parse.quote(s, safe="")): ASCII
// letters, digits and "_.-~" stay, every other byte (of the UTF-8 form) is
// %XX in upper-case hex, "/" included. A bare "." would be a dot segment, so
// it is encoded too ("..", the other one, is refused by the shared name
// rules).
func segment(s string) string {
	if s == "." {
		return "%2E"
	}
	const upperHex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '.', c == '-', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&0xf])
		}
	}
	return b.String()
}

func (b *backend) secretPath(id string) string {
	return "/secrets/" + segment(b.cfg.account) + "/variable/" + segment(id)
}

func (b *backend) resourcePath(id string) string {
	return "/resources/" + segment(b.cfg.account) + "/variable/" + segment(id)
}

func (b *backend) policyPath() string {
	return "/policies/" + segment(b.cfg.account) + "/policy/" + segment(b.cfg.policyBranch)
}

// Get implements backends.Backend.
func (b *backend) Get(ctx context.Context, name string) (*backends.Secret, error) {
	id := b.variableID(name)
	version, err := b.latestVersion(ctx, id)
	switch {
	case isStatus(err, http.StatusForbidden):
		// The role may fetch values (execute) without seeing the resource
		// (read): read the latest value and fingerprint it.
		value, gerr := b.request(ctx, http.MethodGet, b.secretPath(id), nil, "", "reading variable", id)
		if gerr != nil {
			return nil, gerr
		}
		return &backends.Secret{Name: name, Value: value, Version: backends.Fingerprint(name, value)}, nil
	case err != nil:
		return nil, err
	case version == 0:
		return nil, &apiError{status: http.StatusNotFound, op: "reading variable", id: id, msg: "the variable is declared but has no value"}
	}
	value, err := b.request(ctx, http.MethodGet, b.secretPath(id)+"?version="+strconv.Itoa(version), nil, "", "reading variable", id)
	if err != nil {
		return nil, err
	}
	return &backends.Secret{Name: name, Value: value, Version: strconv.Itoa(version)}, nil
}

// latestVersion reads the variable's resource and returns its highest
// secret version, 0 when it has none.
func (b *backend) latestVersion(ctx context.Context, id string) (int, error) {
	body, err := b.request(ctx, http.MethodGet, b.resourcePath(id), nil, "", "reading the resource of variable", id)
	if err != nil {
		return 0, err
	}
	var res struct {
		Secrets []struct {
			Version *int `json:"version"`
		} `json:"secrets"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return 0, backends.Errorf(backends.Internal, "reading the resource of variable %s: Conjur answered with JSON this provider cannot read: %v", backends.QuoteName(id), err)
	}
	latest := 0
	for _, s := range res.Secrets {
		if s.Version == nil {
			return 0, backends.Errorf(backends.Internal, "reading the resource of variable %s: a secret entry has no version", backends.QuoteName(id))
		}
		latest = max(latest, *s.Version)
	}
	return latest, nil
}

// Put implements backends.Backend.
func (b *backend) Put(ctx context.Context, req backends.WriteRequest) (string, error) {
	id := b.variableID(req.Name)
	err := b.setValue(ctx, id, req.Value)
	if isStatus(err, http.StatusNotFound) {
		if err := b.declare(ctx, id); err != nil {
			return "", err
		}
		err = b.setValue(ctx, id, req.Value)
	}
	if err != nil {
		return "", err
	}
	version, err := b.latestVersion(ctx, id)
	switch {
	case isStatus(err, http.StatusForbidden):
		return backends.Fingerprint(req.Name, req.Value), nil
	case err != nil:
		return "", fmt.Errorf("value written, reading its version: %w", err)
	case version == 0:
		return "", backends.Errorf(backends.Internal, "variable %s has no version after a value was added", backends.QuoteName(id))
	}
	return strconv.Itoa(version), nil
}

func (b *backend) setValue(ctx context.Context, id string, value []byte) error {
	if len(value) == 0 {
		return backends.Errorf(backends.InvalidArgument, "Conjur cannot store an empty value in variable %s", backends.QuoteName(id))
	}
	_, err := b.request(ctx, http.MethodPost, b.secretPath(id), value, "application/octet-stream", "setting variable", id)
	return err
}

// declare loads "- !variable <name>" into the policy branch with POST,
// retrying a 409 (another load holds the branch) with backoff.
func (b *backend) declare(ctx context.Context, id string) error {
	name := id
	if b.cfg.policyBranch != DefaultPolicyBranch {
		name = strings.TrimPrefix(id, b.cfg.policyBranch+"/")
	}
	body := []byte(VariablePolicy(name))
	delay := b.cfg.conflictWait
	for attempt := 1; ; attempt++ {
		_, err := b.request(ctx, http.MethodPost, b.policyPath(), body, "application/x-yaml", "declaring variable", id)
		if isStatus(err, http.StatusNotFound) {
			// Not a missing secret: the branch itself is missing.
			return backends.Errorf(backends.FailedPrecondition, "policy branch %s (cyberark.policy_branch) does not exist in account %s or is not visible to the login: %w", backends.QuoteName(b.cfg.policyBranch), backends.QuoteName(b.cfg.account), err)
		}
		if !isStatus(err, http.StatusConflict) || attempt > b.cfg.conflictMax {
			if err != nil && isStatus(err, http.StatusConflict) {
				return fmt.Errorf("policy branch %s stayed locked by other policy loads after %d attempts: %w", backends.QuoteName(b.cfg.policyBranch), attempt, err)
			}
			return err
		}
		if werr := backends.WaitContext(ctx, backends.Jitter(delay)); werr != nil {
			return err
		}
		delay *= 2
	}
}

// Delete implements backends.Backend. Conjur has no delete (Caps reports
// none, so the layer refuses before calling).
func (b *backend) Delete(context.Context, string, backends.DeleteMode) error {
	return backends.Errorf(backends.Unsupported, "the cyberark store cannot delete secrets: %s", b.NoDeleteReason())
}

// Health implements backends.Backend: it logs in and asks Conjur who it is.
func (b *backend) Health(ctx context.Context) error {
	_, err := b.request(ctx, http.MethodGet, "/whoami", nil, "", "checking the login with /whoami", "")
	return err
}

// Close implements backends.Backend.
func (b *backend) Close() error {
	b.client.CloseIdleConnections()
	return nil
}

// ErrorCode implements backends.Backend.
func (b *backend) ErrorCode(err error) backends.Code {
	var ae *apiError
	if errors.As(err, &ae) {
		return backends.HTTPStatusCode(ae.status, nil)
	}
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		verify           *tls.CertificateVerificationError
	)
	if errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify) {
		// A TLS trust problem is configuration (ca_cert, ssl_verify), not a
		// transient failure.
		return backends.FailedPrecondition
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return backends.Unavailable
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return backends.Unavailable
	}
	return backends.Unknown
}
