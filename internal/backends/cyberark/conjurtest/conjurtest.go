// Package conjurtest is a strict, in-process fake of the CyberArk Conjur REST
// API, for the cyberark store's tests and the provider's acceptance tests.
//
// It serves what the store uses, as Conjur documents it, and refuses what
// Conjur would refuse:
//
//   - POST /authn/{account}/{login}/authenticate with the API key as the body
//     (or, for a role added with AddCertRole, an empty body over mutual TLS),
//     and POST /authn-jwt/{service_id}/{account}[/{host_id}]/authenticate
//     with a form body jwt=...: both answer an access token (JSON with
//     protected, payload, signature; the payload has sub, iat and exp).
//   - Every other call needs the header Authorization: Token token="<base64
//     of the access token>"; a token that is malformed, unknown or expired
//     (on the fake's clock, see Advance) is answered 401.
//   - GET /whoami.
//   - GET /resources/{account}/variable/{id}: the resource with its secret
//     versions.
//   - GET /resources/{account}/variable?limit=N&offset=M: the variables the
//     role may read (none without Read), sorted by id; limit 1..1000 and
//     offset >= 0, else 422. Conjur's search and count parameters are not
//     served (422).
//   - GET /secrets/{account}/variable/{id}[?version=N] and POST (adds a
//     version; Conjur keeps the last 20).
//   - POST /policies/{account}/policy/{branch}: the body is parsed as YAML and
//     must be a sequence of !variable records (a scalar id, or a mapping with
//     id and optional annotations); anything else is 422, like Conjur's
//     policy parser. Variables are declared relative to the branch.
//
// Path segments are percent-decoded one by one from the escaped path, so an
// id whose "/" was not encoded does not match any route (404), as with
// Conjur. Roles have four privileges (Read: see resources, Execute: fetch
// values, Update: add values, Policy: load policy into any branch); a missing
// privilege is 403. InjectPolicyConflicts makes policy loads answer 409.
package conjurtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultTokenTTL is the lifetime of an access token, as in Conjur.
const DefaultTokenTTL = 8 * time.Minute

// keptVersions is how many versions Conjur keeps per variable.
const keptVersions = 20

// Admin is the login and API key of the role every fake starts with; it has
// every privilege.
const (
	AdminLogin  = "admin"
	AdminAPIKey = "admin-api-key-0123456789"
)

// Options configures a fake.
type Options struct {
	// Account is the Conjur account; empty means "default".
	Account string
	// TLS serves HTTPS with a self-signed certificate (CACertPEM).
	TLS bool
	// ClientCerts requires a client certificate signed by the fake's client
	// CA (mutual TLS); it implies TLS. ClientCertPEM and ClientKeyPEM hold one.
	ClientCerts bool
	// ClientCertsIfGiven verifies a client certificate when the client
	// sends one but does not require it (tls.VerifyClientCertIfGiven); it
	// implies TLS. LiteLLM's certificate login sends the certificate only
	// with its authn request, so a Conjur it works with accepts TLS
	// connections without one for the other calls.
	ClientCertsIfGiven bool
	// TokenTTL is the lifetime of access tokens; zero means 8 minutes.
	TokenTTL time.Duration
}

// Perms are a role's privileges.
type Perms struct {
	Read, Execute, Update, Policy bool
}

// All is every privilege.
var All = Perms{Read: true, Execute: true, Update: true, Policy: true}

// Stats counts what the fake saw.
type Stats struct {
	Authentications int // successful logins (authn and authn-jwt)
	Unauthorized    int // 401 answers to calls with an access token
	PolicyLoads     int // policy loads answered 201
	SecretWrites    int // values added
}

// Request is one request as the fake received it.
type Request struct {
	Method      string
	EscapedPath string
	RawQuery    string
}

type role struct {
	apiKey string
	// cert: the role logs in with a verified client certificate and an
	// empty authn body (LiteLLM's certificate login).
	cert  bool
	perms Perms
}

type issued struct {
	login string
	exp   time.Time
}

type variable struct {
	versions []version // oldest first, at most keptVersions
	next     int
}

type version struct {
	n     int
	value []byte
}

// Server is a running fake.
type Server struct {
	URL     string
	Account string
	// CACertPEM is the server certificate to trust (TLS only).
	CACertPEM string
	// ClientCertPEM and ClientKeyPEM are a client certificate the fake
	// accepts (ClientCerts only).
	ClientCertPEM, ClientKeyPEM string

	srv *httptest.Server
	ttl time.Duration

	mu        sync.Mutex
	offset    time.Duration
	roles     map[string]*role
	jwts      map[string]map[string]string // service id -> JWT -> login
	branches  map[string]bool
	vars      map[string]*variable
	tokens    map[string]issued // by signature
	stats     Stats
	conflicts int
	policies  []string
	requests  []Request
}

// New starts a fake and stops it when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{
		Account:  opts.Account,
		ttl:      opts.TokenTTL,
		roles:    map[string]*role{AdminLogin: {apiKey: AdminAPIKey, perms: All}},
		jwts:     map[string]map[string]string{},
		branches: map[string]bool{"root": true},
		vars:     map[string]*variable{},
		tokens:   map[string]issued{},
	}
	if s.Account == "" {
		s.Account = "default"
	}
	if s.ttl <= 0 {
		s.ttl = DefaultTokenTTL
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	switch {
	case opts.ClientCerts || opts.ClientCertsIfGiven:
		ca, caKey, caPEM := newCA(t)
		s.ClientCertPEM, s.ClientKeyPEM = newClientCert(t, ca, caKey)
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
		auth := tls.RequireAndVerifyClientCert
		if !opts.ClientCerts {
			auth = tls.VerifyClientCertIfGiven
		}
		s.srv.TLS = &tls.Config{ClientAuth: auth, ClientCAs: pool, MinVersion: tls.VersionTLS12}
		s.srv.StartTLS()
	case opts.TLS:
		s.srv.StartTLS()
	default:
		s.srv.Start()
	}
	if opts.TLS || opts.ClientCerts || opts.ClientCertsIfGiven {
		s.CACertPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw}))
	}
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// AddRole adds (or replaces) a role that logs in with an API key.
func (s *Server) AddRole(login, apiKey string, perms Perms) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[login] = &role{apiKey: apiKey, perms: perms}
}

// AddCertRole adds (or replaces) a role that logs in with POST
// /authn/{account}/{login}/authenticate, an empty body and a client
// certificate the fake verified (Options.ClientCerts), as LiteLLM's
// CyberArkSecretManager does with CYBERARK_CLIENT_CERT and no API key.
func (s *Server) AddCertRole(login string, perms Perms) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[login] = &role{cert: true, perms: perms}
}

// AddJWT makes authn-jwt service serviceID accept jwt as login (a role that
// must exist).
func (s *Server) AddJWT(serviceID, jwt, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.jwts[serviceID] == nil {
		s.jwts[serviceID] = map[string]string{}
	}
	s.jwts[serviceID][jwt] = login
}

// AddPolicyBranch creates policy branch id (and its parents).
func (s *Server) AddPolicyBranch(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	parts := strings.Split(id, "/")
	for i := range parts {
		s.branches[strings.Join(parts[:i+1], "/")] = true
	}
}

// Advance moves the fake's clock, e.g. past the lifetime of tokens.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

func (s *Server) now() time.Time { return time.Now().Add(s.offset) }

// InjectPolicyConflicts makes the next n policy loads answer 409.
func (s *Server) InjectPolicyConflicts(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conflicts = n
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Policies returns the bodies of the policy loads answered 201, in order.
func (s *Server) Policies() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.policies)
}

// Requests returns every request received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Declared reports whether variable id exists.
func (s *Server) Declared(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.vars[id]
	return ok
}

// Value returns the latest value of variable id and its version.
func (s *Server) Value(id string) (value []byte, versionNumber int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.vars[id]
	if v == nil || len(v.versions) == 0 {
		return nil, 0, false
	}
	last := v.versions[len(v.versions)-1]
	return slices.Clone(last.value), last.n, true
}

// SetValue declares variable id if needed and adds a value, behind the
// provider's back. It returns the new version.
func (s *Server) SetValue(id string, value []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vars[id] == nil {
		s.vars[id] = &variable{}
	}
	return s.vars[id].add(value)
}

func (v *variable) add(value []byte) int {
	v.next++
	v.versions = append(v.versions, version{n: v.next, value: slices.Clone(value)})
	if len(v.versions) > keptVersions {
		v.versions = v.versions[len(v.versions)-keptVersions:]
	}
	return v.next
}

// errorJSON writes Conjur's error document.
func errorJSON(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// segments splits the escaped path and decodes each segment.
func segments(escaped string) ([]string, bool) {
	raw := strings.Split(strings.TrimPrefix(escaped, "/"), "/")
	out := make([]string, len(raw))
	for i, r := range raw {
		s, err := url.PathUnescape(r)
		if err != nil {
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, EscapedPath: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery})
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		errorJSON(w, http.StatusBadRequest, "bad_request", "cannot read the request body")
		return
	}
	seg, ok := segments(r.URL.EscapedPath())
	if !ok {
		errorJSON(w, http.StatusBadRequest, "bad_request", "malformed percent-encoding in the path")
		return
	}
	switch {
	case len(seg) == 4 && seg[0] == "authn" && seg[3] == "authenticate":
		s.authn(w, r, seg[1], seg[2], body)
		return
	case (len(seg) == 4 || len(seg) == 5) && seg[0] == "authn-jwt" && seg[len(seg)-1] == "authenticate":
		host := ""
		if len(seg) == 5 {
			host = seg[3]
		}
		s.authnJWT(w, r, seg[1], seg[2], host, body)
		return
	}
	login, ok := s.authorize(r)
	if !ok {
		s.stats.Unauthorized++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	perms := s.roles[login].perms
	switch {
	case len(seg) == 1 && seg[0] == "whoami" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"account": s.Account, "username": login})
	case len(seg) == 3 && seg[0] == "resources" && seg[2] == "variable" && r.Method == http.MethodGet:
		s.listResources(w, r, perms, seg[1])
	case len(seg) == 4 && seg[0] == "resources" && seg[2] == "variable" && r.Method == http.MethodGet:
		s.resource(w, perms, seg[1], seg[3])
	case len(seg) == 4 && seg[0] == "secrets" && seg[2] == "variable" && r.Method == http.MethodGet:
		s.getSecret(w, r, perms, seg[1], seg[3])
	case len(seg) == 4 && seg[0] == "secrets" && seg[2] == "variable" && r.Method == http.MethodPost:
		s.addSecret(w, perms, seg[1], seg[3], body)
	case len(seg) == 4 && seg[0] == "policies" && seg[2] == "policy" && r.Method == http.MethodPost:
		s.loadPolicy(w, perms, seg[1], seg[3], body)
	case len(seg) == 4 && seg[0] == "policies" && seg[2] == "policy":
		errorJSON(w, http.StatusMethodNotAllowed, "method_not_allowed", "this fake only loads policy with POST")
	default:
		errorJSON(w, http.StatusNotFound, "not_found", fmt.Sprintf("no route matches %s %s", r.Method, r.URL.EscapedPath()))
	}
}

func (s *Server) authn(w http.ResponseWriter, r *http.Request, account, login string, body []byte) {
	ro := s.roles[login]
	if ro != nil && ro.cert {
		if r.Method != http.MethodPost || account != s.Account || len(body) != 0 || r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		s.issue(w, login)
		return
	}
	if r.Method != http.MethodPost || account != s.Account || ro == nil || string(body) != ro.apiKey {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	s.issue(w, login)
}

func (s *Server) authnJWT(w http.ResponseWriter, r *http.Request, serviceID, account, host string, body []byte) {
	if r.Method != http.MethodPost || account != s.Account || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || len(form["jwt"]) != 1 {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	login, ok := s.jwts[serviceID][form.Get("jwt")]
	if !ok || (host != "" && host != login) || s.roles[login] == nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	s.issue(w, login)
}

func b64(v any) string {
	data, _ := json.Marshal(v)
	return base64.StdEncoding.EncodeToString(data)
}

func (s *Server) issue(w http.ResponseWriter, login string) {
	now := s.now()
	sig := make([]byte, 32)
	_, _ = rand.Read(sig)
	signature := base64.RawURLEncoding.EncodeToString(sig)
	s.tokens[signature] = issued{login: login, exp: now.Add(s.ttl)}
	s.stats.Authentications++
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"protected": b64(map[string]string{"alg": "conjur.org/slosilo/v2", "kid": "fake"}),
		"payload":   b64(map[string]any{"sub": login, "iat": now.Unix(), "exp": now.Add(s.ttl).Unix()}),
		"signature": signature,
	})
}

var tokenHeader = regexp.MustCompile(`^Token token="([A-Za-z0-9+/]+={0,2})"$`)

// authorize checks the access token and returns its login.
func (s *Server) authorize(r *http.Request) (string, bool) {
	m := tokenHeader.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return "", false
	}
	raw, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		return "", false
	}
	var tok struct {
		Protected string `json:"protected"`
		Payload   string `json:"payload"`
		Signature string `json:"signature"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if dec.Decode(&tok) != nil || tok.Protected == "" || tok.Payload == "" {
		return "", false
	}
	is, ok := s.tokens[tok.Signature]
	if !ok || !s.now().Before(is.exp) || s.roles[is.login] == nil {
		return "", false
	}
	return is.login, true
}

func (s *Server) listResources(w http.ResponseWriter, r *http.Request, perms Perms, account string) {
	q := r.URL.Query()
	limit, offset := 1000, 0
	for k, vs := range q {
		n, err := strconv.Atoi(vs[0])
		switch {
		case k == "limit" && err == nil && n >= 1 && n <= 1000 && len(vs) == 1:
			limit = n
		case k == "offset" && err == nil && n >= 0 && len(vs) == 1:
			offset = n
		default:
			errorJSON(w, http.StatusUnprocessableEntity, "unprocessable_entity", fmt.Sprintf("parameter %s=%q is not served by this fake", k, vs))
			return
		}
	}
	if account != s.Account {
		errorJSON(w, http.StatusNotFound, "not_found", fmt.Sprintf("Account '%s' not found", account))
		return
	}
	out := []map[string]any{}
	if perms.Read {
		ids := slices.Sorted(maps.Keys(s.vars))
		for _, id := range ids[min(offset, len(ids)):min(offset+limit, len(ids))] {
			out = append(out, map[string]any{"id": s.Account + ":variable:" + id, "owner": s.Account + ":user:" + AdminLogin,
				"policy": s.Account + ":policy:root", "permissions": []any{}, "annotations": []any{}})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Server) resource(w http.ResponseWriter, perms Perms, account, id string) {
	v := s.vars[id]
	switch {
	case account != s.Account || v == nil:
		errorJSON(w, http.StatusNotFound, "not_found", fmt.Sprintf("Variable '%s' not found in account '%s'", id, account))
		return
	case !perms.Read:
		errorJSON(w, http.StatusForbidden, "forbidden", "Forbidden")
		return
	}
	secrets := make([]map[string]any, 0, len(v.versions))
	for _, ver := range v.versions {
		secrets = append(secrets, map[string]any{"version": ver.n, "expires_at": nil})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id":          s.Account + ":variable:" + id,
		"owner":       s.Account + ":user:" + AdminLogin,
		"policy":      s.Account + ":policy:root",
		"permissions": []any{},
		"annotations": []any{},
		"secrets":     secrets,
	})
}

func (s *Server) getSecret(w http.ResponseWriter, r *http.Request, perms Perms, account, id string) {
	v := s.vars[id]
	switch {
	case account != s.Account || v == nil:
		errorJSON(w, http.StatusNotFound, "not_found", fmt.Sprintf("Variable '%s' not found in account '%s'", id, account))
		return
	case !perms.Execute:
		errorJSON(w, http.StatusForbidden, "forbidden", "Forbidden")
		return
	case len(v.versions) == 0:
		errorJSON(w, http.StatusNotFound, "not_found", fmt.Sprintf("Variable %s is empty or not found.", id))
		return
	}
	q := r.URL.Query()
	for k := range q {
		if k != "version" {
			errorJSON(w, http.StatusUnprocessableEntity, "unprocessable_entity", fmt.Sprintf("unknown query parameter %q", k))
			return
		}
	}
	found := v.versions[len(v.versions)-1]
	if q.Has("version") {
		n, err := strconv.Atoi(q.Get("version"))
		if err != nil || n < 1 {
			errorJSON(w, http.StatusUnprocessableEntity, "unprocessable_entity", "version must be a positive integer")
			return
		}
		i := slices.IndexFunc(v.versions, func(ver version) bool { return ver.n == n })
		if i < 0 {
			errorJSON(w, http.StatusNotFound, "not_found", fmt.Sprintf("Requested version does not exist for variable %s", id))
			return
		}
		found = v.versions[i]
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(found.value)
}

func (s *Server) addSecret(w http.ResponseWriter, perms Perms, account, id string, body []byte) {
	v := s.vars[id]
	switch {
	case account != s.Account || v == nil:
		errorJSON(w, http.StatusNotFound, "not_found", fmt.Sprintf("Variable '%s' not found in account '%s'", id, account))
		return
	case !perms.Update:
		errorJSON(w, http.StatusForbidden, "forbidden", "Forbidden")
		return
	case len(body) == 0:
		errorJSON(w, http.StatusUnprocessableEntity, "unprocessable_entity", "value can't be blank")
		return
	}
	v.add(body)
	s.stats.SecretWrites++
	w.WriteHeader(http.StatusCreated)
}

func (s *Server) loadPolicy(w http.ResponseWriter, perms Perms, account, branch string, body []byte) {
	switch {
	case account != s.Account || !s.branches[branch]:
		errorJSON(w, http.StatusNotFound, "not_found", fmt.Sprintf("Policy '%s' not found in account '%s'", branch, account))
		return
	case !perms.Policy:
		errorJSON(w, http.StatusForbidden, "forbidden", "Forbidden")
		return
	case s.conflicts > 0:
		s.conflicts--
		errorJSON(w, http.StatusConflict, "conflict", "Policy load already in progress on this branch, retry later")
		return
	}
	ids, err := parsePolicy(body)
	if err != nil {
		errorJSON(w, http.StatusUnprocessableEntity, "validation_failed", err.Error())
		return
	}
	for _, id := range ids {
		full := id
		if branch != "root" {
			full = branch + "/" + id
		}
		if s.vars[full] == nil {
			s.vars[full] = &variable{}
		}
	}
	s.stats.PolicyLoads++
	s.policies = append(s.policies, string(body))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"created_roles": map[string]any{}, "version": s.stats.PolicyLoads})
}

// parsePolicy parses a policy of !variable records and returns their ids.
func parsePolicy(body []byte) ([]string, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("policy is not valid YAML: %v", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, fmt.Errorf("policy must be a single YAML document")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("policy must be a YAML sequence of records")
	}
	var ids []string
	for i, item := range doc.Content[0].Content {
		if item.Tag != "!variable" {
			return nil, fmt.Errorf("record %d: unsupported tag %q (this fake declares only !variable)", i+1, item.Tag)
		}
		var id string
		switch item.Kind {
		case yaml.ScalarNode:
			id = item.Value
		case yaml.MappingNode:
			for j := 0; j+1 < len(item.Content); j += 2 {
				k, v := item.Content[j], item.Content[j+1]
				switch {
				case k.Value == "id" && v.Kind == yaml.ScalarNode && v.Tag == "!!str":
					id = v.Value
				case k.Value == "annotations" && v.Kind == yaml.MappingNode:
				default:
					return nil, fmt.Errorf("record %d: unexpected field %q", i+1, k.Value)
				}
			}
		default:
			return nil, fmt.Errorf("record %d: !variable must be a scalar id or a mapping", i+1)
		}
		if id == "" || strings.HasPrefix(id, "/") || strings.HasSuffix(id, "/") {
			return nil, fmt.Errorf("record %d: invalid variable id %q", i+1, id)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("policy declares nothing")
	}
	return ids, nil
}

func newCA(t testing.TB) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "conjurtest client CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return ca, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func newClientCert(t testing.TB, ca *x509.Certificate, caKey *ecdsa.PrivateKey) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "llm-gateway"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
}
