// Package kvfake is a strict in-process double of the parts of Azure that the
// azure_key_vault store talks to, for tests: the Key Vault secrets REST API
// (set, get latest and by version, update properties, list, list versions,
// delete, get deleted, list deleted, recover, purge), its bearer challenge,
// and the token endpoints of Microsoft Entra ID (client credentials, with
// tenant discovery) and of managed identity (App Service style, the endpoint
// Lowkey Vault also offers).
//
// It serves HTTPS on a loopback port with a certificate from its own CA, for
// the names localhost, *.localhost, 127.0.0.1 and ::1. The vault is
// https://llmsecret.localhost:<port>/ and its challenge names the resource
// https://localhost:<port>, so the SDK's challenge-resource check (the
// resource's host must be a parent domain of the vault's, as vault.azure.net
// is of myvault.vault.azure.net) runs for real. Tokens are opaque, issued
// only for valid client credentials or the identity header, and bound to the
// resource; a request without a valid token gets Key Vault's 401 challenge.
//
// Key Vault behaviours a test needs to see are explicit: names are
// case-insensitive and 1-127 of [0-9A-Za-z-]; at most 15 tags; soft delete
// with asynchronous transitions (DeleteLag, RecoverLag and PurgeLag count the
// requests on a name that still see the old state, so tests never depend on
// wall time); purge protection; per-operation permission denials; injected
// faults such as 429 with Retry-After. It never logs values.
package kvfake

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/testpki"
)

// Defaults of Options.
const (
	DefaultTenantID       = "00000000-0000-0000-0000-0000000000aa"
	DefaultClientID       = "00000000-0000-0000-0000-0000000000bb"
	DefaultClientSecret   = "kvfake-client-secret"
	DefaultIdentityHeader = "kvfake-identity-header"
	VaultHost             = "llmsecret.localhost"
	AuthorityHostName     = "login.localhost"
)

// Options configures the fake.
type Options struct {
	// TenantID, ClientID and ClientSecret are the only client credentials
	// the token endpoint accepts.
	TenantID, ClientID, ClientSecret string
	// IdentityHeader is the X-IDENTITY-HEADER the managed identity endpoint
	// requires.
	IdentityHeader string
	// NoSoftDelete makes deletes final (a vault with soft delete off).
	NoSoftDelete bool
	// PurgeProtection refuses purges, as a vault with purge protection does.
	PurgeProtection bool
	// DeleteLag, RecoverLag and PurgeLag are how many requests on a name
	// still see a delete, recovery or purge in progress.
	DeleteLag, RecoverLag, PurgeLag int
}

// Request is one request the fake answered (never with values).
type Request struct {
	Op     string // set, get, update, list, versions, delete, get-deleted, list-deleted, recover, purge, token, mi-token, openid, challenge
	Name   string // secret name as sent, if any
	Status int
}

// Fault is an error answer injected for matching requests.
type Fault struct {
	Op      string // as in Request.Op
	Name    string // "" matches any name (case-insensitive otherwise)
	Status  int
	Code    string // Key Vault error code, e.g. "Throttled"
	Message string
	Header  http.Header
	Times   int // how many requests it answers; 0 means 1
}

type version struct {
	id          string
	value       string
	contentType *string
	tags        map[string]string
	enabled     bool
	created     int64
	updated     int64
}

type secret struct {
	name     string
	versions []*version
	state    string // active, deleting, deleted, recovering, purging
	lag      int
	deleted  int64
}

// Server is a running fake.
type Server struct {
	opts   Options
	srv    *httptest.Server
	caPEM  []byte
	pool   *x509.CertPool
	port   string
	issued time.Time

	mu      sync.Mutex
	secrets map[string]*secret
	tokens  map[string]string // token -> resource
	faults  []*Fault
	denied  map[string]bool
	reqs    []Request
}

// New starts a fake for the test and stops it when the test ends.
func New(t testing.TB, opts *Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("starting the Key Vault fake: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake; the caller closes it.
func Start(opts *Options) (*Server, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.TenantID == "" {
		o.TenantID = DefaultTenantID
	}
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.ClientSecret == "" {
		o.ClientSecret = DefaultClientSecret
	}
	if o.IdentityHeader == "" {
		o.IdentityHeader = DefaultIdentityHeader
	}
	s := &Server{opts: o, secrets: map[string]*secret{}, tokens: map[string]string{}, denied: map[string]bool{}, issued: time.Now()}
	cert, caPEM, err := testpki.LocalhostCert("kvfake test CA", VaultHost, AuthorityHostName)
	if err != nil {
		return nil, err
	}
	s.caPEM = caPEM
	s.pool = x509.NewCertPool()
	s.pool.AppendCertsFromPEM(caPEM)
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	s.srv.StartTLS()
	_, s.port, _ = net.SplitHostPort(s.srv.Listener.Addr().String())
	return s, nil
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// VaultURL is the vault's URL, https://llmsecret.localhost:<port>/.
func (s *Server) VaultURL() string { return "https://" + VaultHost + ":" + s.port + "/" }

// Resource is the resource the vault's challenge names.
func (s *Server) Resource() string { return "https://localhost:" + s.port }

// AuthorityHost is the Entra authority host to configure
// (AZURE_AUTHORITY_HOST).
func (s *Server) AuthorityHost() string { return "https://" + AuthorityHostName + ":" + s.port + "/" }

// IdentityEndpoint is the managed identity endpoint (IDENTITY_ENDPOINT).
func (s *Server) IdentityEndpoint() string {
	return "https://localhost:" + s.port + "/metadata/identity/oauth2/token"
}

// Options returns the fake's options with defaults filled in.
func (s *Server) Options() Options { return s.opts }

// CAPEM is the certificate of the CA that signed the server's certificate.
func (s *Server) CAPEM() []byte { return s.caPEM }

// CAFile writes CAPEM to a file in dir and returns its path.
func (s *Server) CAFile(dir string) (string, error) {
	p := filepath.Join(dir, "kvfake-ca.pem")
	return p, os.WriteFile(p, s.caPEM, 0o600)
}

// Client is an HTTP client that trusts the fake and sends every name under
// localhost to the loopback address.
func (s *Server) Client() *http.Client {
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: s.pool, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			var d net.Dialer
			return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		},
	}
	return &http.Client{Transport: tr}
}

// Fail queues an injected error answer.
func (s *Server) Fail(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times <= 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// Deny makes every request of op answer 403, as a vault whose access policy
// lacks that secret permission. Deny("") clears all denials.
func (s *Server) Deny(op string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if op == "" {
		s.denied = map[string]bool{}
		return
	}
	s.denied[op] = true
}

// SetPurgeProtection turns purge protection on or off.
func (s *Server) SetPurgeProtection(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.PurgeProtection = on
}

// SetLags changes DeleteLag, RecoverLag and PurgeLag.
func (s *Server) SetLags(deleteLag, recoverLag, purgeLag int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.DeleteLag, s.opts.RecoverLag, s.opts.PurgeLag = deleteLag, recoverLag, purgeLag
}

// Requests returns what the fake answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// Count returns how many requests of op (for name, when not empty) the fake
// answered, whatever their status.
func (s *Server) Count(op, name string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Op == op && (name == "" || strings.EqualFold(r.Name, name)) {
			n++
		}
	}
	return n
}

// State returns a secret's state: absent, active, deleting, deleted,
// recovering or purging. It does not advance transitions.
func (s *Server) State(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, ok := s.secrets[strings.ToLower(name)]
	if !ok {
		return "absent"
	}
	return sec.state
}

// Value returns the current value of an active secret (for tests that check
// what the store holds).
func (s *Server) Value(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, ok := s.secrets[strings.ToLower(name)]
	if !ok || sec.state != "active" || len(sec.versions) == 0 {
		return "", false
	}
	return sec.versions[len(sec.versions)-1].value, true
}

// Props returns the content type and tags of an active secret's current
// version.
func (s *Server) Props(name string) (contentType string, tags map[string]string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, found := s.secrets[strings.ToLower(name)]
	if !found || sec.state != "active" || len(sec.versions) == 0 {
		return "", nil, false
	}
	v := sec.versions[len(sec.versions)-1]
	if v.contentType != nil {
		contentType = *v.contentType
	}
	return contentType, maps.Clone(v.tags), true
}

// Versions returns how many versions an existing secret has.
func (s *Server) Versions(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec, ok := s.secrets[strings.ToLower(name)]; ok {
		return len(sec.versions)
	}
	return 0
}

// SoftDelete moves an active secret straight to deleted-but-recoverable,
// as a delete outside Terraform that has completed.
func (s *Server) SoftDelete(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, ok := s.secrets[strings.ToLower(name)]
	if !ok || sec.state != "active" {
		return false
	}
	sec.state, sec.lag, sec.deleted = "deleted", 0, time.Now().Unix()
	return true
}

// Names returns the names of the secrets the vault holds in any state.
func (s *Server) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, sec := range s.secrets {
		out = append(out, sec.name)
	}
	slices.Sort(out)
	return out
}

var (
	nameRE    = regexp.MustCompile(`^[0-9A-Za-z-]{1,127}$`)
	versionRE = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

const (
	maxTags       = 15
	maxValueBytes = 25 * 1024
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/metadata/identity/oauth2/token" || p == "/metadata/identity/oauth2/token/":
		s.managedIdentityToken(w, r)
		return
	case strings.HasSuffix(p, "/v2.0/.well-known/openid-configuration"):
		s.openID(w, r)
		return
	case strings.HasSuffix(p, "/oauth2/v2.0/token"):
		s.clientToken(w, r)
		return
	}
	s.vault(w, r)
}

// ---- Entra ID and managed identity ----

func (s *Server) tenantOf(p string) string {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	return parts[0]
}

func (s *Server) openID(w http.ResponseWriter, r *http.Request) {
	tenant := s.tenantOf(r.URL.Path)
	if r.Method != http.MethodGet || tenant != s.opts.TenantID {
		s.record("openid", http.StatusBadRequest)
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_tenant", "error_description": "AADSTS90002: Tenant '" + tenant + "' not found."})
		return
	}
	base := strings.TrimSuffix(s.AuthorityHost(), "/") + "/" + tenant
	s.record("openid", http.StatusOK)
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":         base + "/oauth2/v2.0/token",
		"authorization_endpoint": base + "/oauth2/v2.0/authorize",
		"issuer":                 base + "/v2.0",
	})
}

func (s *Server) clientToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); r.Method != http.MethodPost || err != nil {
		s.record("token", http.StatusBadRequest)
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request"})
		return
	}
	f := r.PostForm
	scope := f.Get("scope")
	switch {
	case s.tenantOf(r.URL.Path) != s.opts.TenantID:
		s.tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS90002: Tenant not found.")
	case f.Get("grant_type") != "client_credentials":
		s.tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: grant type not supported.")
	case f.Get("client_id") != s.opts.ClientID:
		s.tokenError(w, http.StatusBadRequest, "unauthorized_client", "AADSTS700016: Application not found in the directory.")
	case f.Get("client_secret") != s.opts.ClientSecret:
		s.tokenError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
	case !strings.Contains(" "+scope+" ", " "+s.Resource()+"/.default "):
		s.tokenError(w, http.StatusBadRequest, "invalid_scope", "AADSTS70011: The provided value for scope is not valid.")
	default:
		tok := s.issue(s.Resource())
		s.record("token", http.StatusOK)
		writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": tok})
	}
}

func (s *Server) tokenError(w http.ResponseWriter, status int, code, desc string) {
	s.record("token", status)
	writeJSON(w, status, map[string]any{"error": code, "error_description": desc, "error_codes": []int{}})
}

func (s *Server) managedIdentityToken(w http.ResponseWriter, r *http.Request) {
	resource := strings.TrimSuffix(r.URL.Query().Get("resource"), "/.default")
	ok := r.Method == http.MethodGet && r.URL.Query().Get("api-version") != "" &&
		(r.Header.Get("X-IDENTITY-HEADER") == s.opts.IdentityHeader || r.Header.Get("Metadata") == "true")
	if !ok || resource != s.Resource() {
		s.record("mi-token", http.StatusBadRequest)
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "missing identity header, api-version or a valid resource"})
		return
	}
	tok := s.issue(resource)
	s.record("mi-token", http.StatusOK)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok, "token_type": "Bearer", "resource": resource,
		"expires_on": strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10),
	})
}

func (s *Server) issue(resource string) string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := "kvfake." + hex.EncodeToString(b)
	s.mu.Lock()
	s.tokens[tok] = resource
	s.mu.Unlock()
	return tok
}

// ---- Key Vault ----

func (s *Server) challenge(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization="%s%s", resource="%s"`,
		s.AuthorityHost(), s.opts.TenantID, s.Resource()))
	s.record("challenge", http.StatusUnauthorized)
	writeJSON(w, http.StatusUnauthorized, kvErr("Unauthorized", msg, ""))
}

func (s *Server) vault(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(strings.Split(r.Host, ":")[0], VaultHost) {
		writeJSON(w, http.StatusNotFound, kvErr("VaultNotFound", "no vault at host "+r.Host, ""))
		return
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		s.challenge(w, "AKV10000: Request is missing a Bearer or PoP token.")
		return
	}
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	s.mu.Lock()
	aud, known := s.tokens[tok]
	s.mu.Unlock()
	if !ok || !known {
		s.challenge(w, "AKV10032: Invalid issuer or token.")
		return
	}
	if aud != s.Resource() {
		s.challenge(w, "AKV10022: Invalid audience.")
		return
	}
	if r.URL.Query().Get("api-version") == "" {
		writeJSON(w, http.StatusBadRequest, kvErr("MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.", ""))
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	op, name, ver := route(r.Method, parts)
	if op == "" {
		writeJSON(w, http.StatusBadRequest, kvErr("BadParameter", "unsupported request "+r.Method+" "+r.URL.Path, ""))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	status, body, hdr := s.handle(op, name, ver, r)
	for k, vs := range hdr {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	s.reqs = append(s.reqs, Request{Op: op, Name: name, Status: status})
	if body == nil {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, body)
}

// route maps a Key Vault path to an operation.
func route(method string, p []string) (op, name, ver string) {
	switch {
	case len(p) == 1 && p[0] == "secrets" && method == http.MethodGet:
		return "list", "", ""
	case len(p) == 1 && p[0] == "deletedsecrets" && method == http.MethodGet:
		return "list-deleted", "", ""
	case len(p) == 2 && p[0] == "secrets" && method == http.MethodPut:
		return "set", p[1], ""
	case len(p) == 2 && p[0] == "secrets" && method == http.MethodDelete:
		return "delete", p[1], ""
	case len(p) == 2 && p[0] == "secrets" && method == http.MethodGet:
		return "get", p[1], ""
	case len(p) == 2 && p[0] == "secrets" && method == http.MethodPatch:
		return "update", p[1], ""
	case len(p) == 3 && p[0] == "secrets" && p[2] == "versions" && method == http.MethodGet:
		return "versions", p[1], ""
	case len(p) == 3 && p[0] == "secrets" && method == http.MethodGet:
		return "get", p[1], p[2]
	case len(p) == 3 && p[0] == "secrets" && method == http.MethodPatch:
		return "update", p[1], p[2]
	case len(p) == 2 && p[0] == "deletedsecrets" && method == http.MethodGet:
		return "get-deleted", p[1], ""
	case len(p) == 2 && p[0] == "deletedsecrets" && method == http.MethodDelete:
		return "purge", p[1], ""
	case len(p) == 3 && p[0] == "deletedsecrets" && p[2] == "recover" && method == http.MethodPost:
		return "recover", p[1], ""
	}
	return "", "", ""
}

var permissionOf = map[string]string{
	"set": "set", "update": "set", "get": "get", "versions": "list", "list": "list", "delete": "delete",
	"get-deleted": "get", "list-deleted": "list", "recover": "recover", "purge": "purge",
}

// handle answers one Key Vault request; s.mu is held.
func (s *Server) handle(op, name, ver string, r *http.Request) (int, any, http.Header) {
	if s.denied[op] {
		return http.StatusForbidden, kvErr("Forbidden", fmt.Sprintf("The user, group or application 'appid=%s' does not have secrets %s permission on key vault '%s'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
			s.opts.ClientID, permissionOf[op], VaultHost), "AccessDenied"), nil
	}
	for i, f := range s.faults {
		if f.Op == op && (f.Name == "" || strings.EqualFold(f.Name, name)) {
			f.Times--
			if f.Times <= 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
			return f.Status, kvErr(f.Code, f.Message, ""), f.Header
		}
	}
	if name != "" && !nameRE.MatchString(name) {
		return http.StatusBadRequest, kvErr("BadParameter", "The request URI contains an invalid name: "+name, ""), nil
	}
	var sec *secret
	if name != "" {
		sec = s.secrets[strings.ToLower(name)]
		if sec != nil {
			s.tick(sec)
			if sec.state == "gone" {
				delete(s.secrets, strings.ToLower(name))
				sec = nil
			}
		}
	}
	switch op {
	case "list":
		return s.list(r, false)
	case "list-deleted":
		return s.list(r, true)
	case "set":
		return s.set(name, sec, r)
	case "get":
		return s.get(name, ver, sec)
	case "update":
		return s.update(name, ver, sec, r)
	case "versions":
		if sec == nil || sec.state != "active" {
			return notFound(name)
		}
		var items []any
		for _, v := range sec.versions {
			items = append(items, s.props(sec, v, false))
		}
		return http.StatusOK, map[string]any{"value": items, "nextLink": nil}, nil
	case "delete":
		return s.del(name, sec)
	case "get-deleted":
		if sec == nil || sec.state != "deleted" {
			return http.StatusNotFound, kvErr("SecretNotFound", "Deleted Secret not found: "+name, ""), nil
		}
		return http.StatusOK, s.deletedBundle(sec), nil
	case "purge":
		if sec == nil || sec.state != "deleted" {
			if sec != nil && (sec.state == "deleting" || sec.state == "purging") {
				return conflict(sec.name, "being deleted")
			}
			return http.StatusNotFound, kvErr("SecretNotFound", "Deleted Secret not found: "+name, ""), nil
		}
		if s.opts.PurgeProtection {
			return http.StatusForbidden, kvErr("Forbidden", `Operation "purge" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.`, ""), nil
		}
		s.transition(sec, "purging", s.opts.PurgeLag, "gone")
		if sec.state == "gone" {
			delete(s.secrets, strings.ToLower(name))
		}
		return http.StatusNoContent, nil, nil
	case "recover":
		switch {
		case sec != nil && sec.state == "deleting":
			return conflict(sec.name, "being deleted")
		case sec == nil || sec.state != "deleted":
			return http.StatusNotFound, kvErr("SecretNotFound", "Deleted Secret not found: "+name, ""), nil
		}
		s.transition(sec, "recovering", s.opts.RecoverLag, "active")
		return http.StatusOK, s.props(sec, sec.versions[len(sec.versions)-1], false), nil
	}
	return http.StatusBadRequest, kvErr("BadParameter", "unsupported operation", ""), nil
}

// transition moves sec into a transitional state for lag requests, or
// straight to final when lag is zero.
func (s *Server) transition(sec *secret, state string, lag int, final string) {
	if lag <= 0 {
		sec.state, sec.lag = final, 0
		return
	}
	sec.state, sec.lag = state, lag
}

// tick advances a transitional state by one request.
func (s *Server) tick(sec *secret) {
	if sec.lag <= 0 {
		return
	}
	sec.lag--
	if sec.lag > 0 {
		return
	}
	switch sec.state {
	case "deleting":
		sec.state = "deleted"
	case "recovering":
		sec.state = "active"
	case "purging":
		sec.state = "gone"
	}
}

func conflict(name, what string) (int, any, http.Header) {
	return http.StatusConflict, kvErr("Conflict", fmt.Sprintf("Secret %s is currently %s.", name, what), ""), nil
}

func notFound(name string) (int, any, http.Header) {
	return http.StatusNotFound, kvErr("SecretNotFound", fmt.Sprintf("A secret with (name/id) %s was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182", name), ""), nil
}

type setBody struct {
	Value       *string           `json:"value"`
	ContentType *string           `json:"contentType"`
	Tags        map[string]string `json:"tags"`
	Attributes  *struct {
		Enabled *bool `json:"enabled"`
	} `json:"attributes"`
}

func decodeStrict(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("content type %q is not application/json", ct)
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (s *Server) set(name string, sec *secret, r *http.Request) (int, any, http.Header) {
	var b setBody
	if err := decodeStrict(r, &b); err != nil {
		return http.StatusBadRequest, kvErr("BadParameter", "The request body is not valid: "+err.Error(), ""), nil
	}
	switch {
	case b.Value == nil:
		return http.StatusBadRequest, kvErr("BadParameter", "Property 'value' is required.", ""), nil
	case len(*b.Value) > maxValueBytes:
		return http.StatusBadRequest, kvErr("BadParameter", "Secret value exceeds the maximum allowed size of 25 KB.", ""), nil
	case len(b.Tags) > maxTags:
		return http.StatusBadRequest, kvErr("BadParameter", "Tags: The number of tags exceeds the maximum of 15.", ""), nil
	}
	if sec != nil {
		switch sec.state {
		case "deleted":
			return http.StatusConflict, kvErr("Conflict", fmt.Sprintf("Secret %s is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.", sec.name), ""), nil
		case "deleting", "purging":
			return conflict(sec.name, "being deleted")
		case "recovering":
			return conflict(sec.name, "being recovered")
		}
	} else {
		sec = &secret{name: name, state: "active"}
		s.secrets[strings.ToLower(name)] = sec
	}
	now := time.Now().Unix()
	v := &version{id: newVersion(), value: *b.Value, contentType: b.ContentType, tags: b.Tags, enabled: true, created: now, updated: now}
	if b.Attributes != nil && b.Attributes.Enabled != nil {
		v.enabled = *b.Attributes.Enabled
	}
	sec.versions = append(sec.versions, v)
	return http.StatusOK, s.props(sec, v, true), nil
}

func (s *Server) find(sec *secret, ver string) *version {
	if sec == nil || sec.state != "active" || len(sec.versions) == 0 {
		return nil
	}
	if ver == "" {
		return sec.versions[len(sec.versions)-1]
	}
	for _, v := range sec.versions {
		if v.id == ver {
			return v
		}
	}
	return nil
}

func (s *Server) get(name, ver string, sec *secret) (int, any, http.Header) {
	if ver != "" && !versionRE.MatchString(ver) {
		return http.StatusBadRequest, kvErr("BadParameter", "Method GET does not allow operation 'secrets/"+ver+"'", ""), nil
	}
	v := s.find(sec, ver)
	if v == nil {
		return notFound(name)
	}
	if !v.enabled {
		return http.StatusForbidden, kvErr("Forbidden", "Operation get is not allowed on a disabled secret.", "SecretDisabled"), nil
	}
	return http.StatusOK, s.props(sec, v, true), nil
}

func (s *Server) update(name, ver string, sec *secret, r *http.Request) (int, any, http.Header) {
	var b struct {
		ContentType *string            `json:"contentType"`
		Tags        *map[string]string `json:"tags"`
		Attributes  *struct {
			Enabled *bool `json:"enabled"`
		} `json:"attributes"`
	}
	if err := decodeStrict(r, &b); err != nil {
		return http.StatusBadRequest, kvErr("BadParameter", "The request body is not valid: "+err.Error(), ""), nil
	}
	v := s.find(sec, ver)
	if v == nil {
		return notFound(name)
	}
	if b.Tags != nil && len(*b.Tags) > maxTags {
		return http.StatusBadRequest, kvErr("BadParameter", "Tags: The number of tags exceeds the maximum of 15.", ""), nil
	}
	if b.ContentType != nil {
		ct := *b.ContentType
		v.contentType = &ct
	}
	if b.Tags != nil {
		v.tags = *b.Tags
	}
	if b.Attributes != nil && b.Attributes.Enabled != nil {
		v.enabled = *b.Attributes.Enabled
	}
	v.updated = time.Now().Unix()
	return http.StatusOK, s.props(sec, v, false), nil
}

func (s *Server) del(name string, sec *secret) (int, any, http.Header) {
	if sec == nil || sec.state != "active" {
		if sec != nil && (sec.state == "deleting" || sec.state == "purging") {
			return conflict(sec.name, "being deleted")
		}
		return notFound(name)
	}
	if s.opts.NoSoftDelete {
		delete(s.secrets, strings.ToLower(name))
		b := s.props(sec, sec.versions[len(sec.versions)-1], false)
		return http.StatusOK, b, nil
	}
	sec.deleted = time.Now().Unix()
	s.transition(sec, "deleting", s.opts.DeleteLag, "deleted")
	return http.StatusOK, s.deletedBundle(sec), nil
}

func (s *Server) recoveryLevel() string {
	switch {
	case s.opts.NoSoftDelete:
		return "Purgeable"
	case s.opts.PurgeProtection:
		return "Recoverable"
	}
	return "Recoverable+Purgeable"
}

func (s *Server) id(kind, name, ver string) string {
	u := strings.TrimSuffix(s.VaultURL(), "/") + "/" + kind + "/" + name
	if ver != "" {
		u += "/" + ver
	}
	return u
}

// props renders a secret bundle (with the value when withValue).
func (s *Server) props(sec *secret, v *version, withValue bool) map[string]any {
	attrs := map[string]any{
		"enabled": v.enabled, "created": v.created, "updated": v.updated,
		"recoveryLevel": s.recoveryLevel(),
	}
	if !s.opts.NoSoftDelete {
		attrs["recoverableDays"] = 90
	}
	out := map[string]any{"id": s.id("secrets", sec.name, v.id), "attributes": attrs}
	if withValue {
		out["value"] = v.value
	}
	if v.contentType != nil {
		out["contentType"] = *v.contentType
	}
	if len(v.tags) > 0 {
		out["tags"] = v.tags
	}
	return out
}

func (s *Server) deletedBundle(sec *secret) map[string]any {
	b := s.props(sec, sec.versions[len(sec.versions)-1], false)
	b["recoveryId"] = s.id("deletedsecrets", sec.name, "")
	b["deletedDate"] = sec.deleted
	b["scheduledPurgeDate"] = sec.deleted + 90*24*3600
	return b
}

// list renders a page of secrets (active, or deleted), 25 per page.
func (s *Server) list(r *http.Request, deleted bool) (int, any, http.Header) {
	var names []string
	for k, sec := range s.secrets {
		s.tick(sec)
		if (deleted && sec.state == "deleted") || (!deleted && sec.state == "active") {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	start := 0
	if t := r.URL.Query().Get("$skiptoken"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 || n > len(names) {
			return http.StatusBadRequest, kvErr("BadParameter", "invalid $skiptoken", ""), nil
		}
		start = n
	}
	end := min(start+25, len(names))
	items := []any{}
	for _, k := range names[start:end] {
		sec := s.secrets[k]
		v := sec.versions[len(sec.versions)-1]
		var item map[string]any
		if deleted {
			item = s.deletedBundle(sec)
		} else {
			item = s.props(sec, v, false)
		}
		item["id"] = s.id(map[bool]string{true: "deletedsecrets", false: "secrets"}[deleted], sec.name, "")
		items = append(items, item)
	}
	var next any
	if end < len(names) {
		q := url.Values{"api-version": {r.URL.Query().Get("api-version")}, "$skiptoken": {strconv.Itoa(end)}}
		next = strings.TrimSuffix(s.VaultURL(), "/") + r.URL.Path + "?" + q.Encode()
	}
	return http.StatusOK, map[string]any{"value": items, "nextLink": next}, nil
}

func (s *Server) record(op string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, Request{Op: op, Status: status})
}

func kvErr(code, msg, inner string) map[string]any {
	e := map[string]any{"code": code, "message": msg}
	if inner != "" {
		e["innererror"] = map[string]any{"code": inner}
	}
	return map[string]any{"error": e}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func newVersion() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
