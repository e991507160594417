// Package vault is the HashiCorp Vault store (key_management_system =
// "hashicorp_vault"): secrets live in a KV version 2 secrets engine, one KV
// secret per name, as LiteLLM's HashicorpSecretManager reads them.
//
// # Settings
//
// The provider's hashicorp_vault block is Options. Every attribute falls back
// to LiteLLM's variable, then to Vault's own, then to a default; Options.Resolve
// applies them in one place:
//
//	address               HCP_VAULT_ADDR, VAULT_ADDR, "http://127.0.0.1:8200"
//	token                 HCP_VAULT_TOKEN, VAULT_TOKEN
//	namespace             HCP_VAULT_NAMESPACE, VAULT_NAMESPACE
//	login_namespace       HCP_VAULT_LOGIN_NAMESPACE, then namespace
//	secret_namespace      HCP_VAULT_SECRET_NAMESPACE, then namespace
//	mount                 HCP_VAULT_MOUNT_NAME, "secret"
//	path_prefix           HCP_VAULT_PATH_PREFIX, none
//	data_key              "key"
//	approle.role_id       HCP_VAULT_APPROLE_ROLE_ID
//	approle.secret_id     HCP_VAULT_APPROLE_SECRET_ID
//	approle.mount_path    HCP_VAULT_APPROLE_MOUNT_PATH, "approle"
//	tls.ca_cert_file      VAULT_CACERT, the system roots
//	tls.client_cert_file  HCP_VAULT_CLIENT_CERT
//	tls.client_key_file   HCP_VAULT_CLIENT_KEY
//	tls.cert_role         HCP_VAULT_CERT_ROLE
//	tls.skip_verify       VAULT_SKIP_VERIFY, false
//
// No other variable is read by this package (the HTTP transport honours the
// standard HTTPS_PROXY / NO_PROXY, as every Go client does): the store speaks
// Vault's HTTP API with net/http, so neither VAULT_NAMESPACE, VAULT_HEADERS,
// VAULT_WRAP_TTL nor VAULT_MAX_RETRIES can change what it sends.
//
// # Authentication
//
// As LiteLLM: AppRole when approle.role_id and secret_id are set (a login at
// auth/<approle.mount_path>/login), else TLS certificate login when
// tls.client_cert_file and client_key_file are set (auth/cert/login with
// name = cert_role; the certificate is presented in the TLS handshake), else
// the token. Logins happen lazily, at the first request, so configuring the
// store calls nothing; one login serves the whole run and every concurrent
// request. A login token is renewed (auth/token/renew-self) when it is within
// a tenth of its lease (at most 30s) of expiring, or replaced by a new login
// when it cannot be renewed. A 403 on a login token that turns out to be
// invalid (revoked, expired early) triggers one new login and one repeat of
// the request. Close revokes a login token.
//
// Login and token requests carry the login namespace (X-Vault-Namespace);
// KV requests carry the secret namespace. sys/health goes to the root
// namespace.
//
// # Secrets
//
// A name is the KV path under the mount and path_prefix:
// <mount>/data/<path_prefix>/<name>. The value is the string field data_key
// ("key") of the secret's data, so values must be UTF-8 text (Caps.Binary is
// false). The version is the KV version number. Names are path segments: a
// name must not start or end with "/", contain "//" or a "." segment, or be
// longer than 512 bytes. Names LiteLLM's reader cannot address are refused
// too (see ValidateName): "?", "#", "%", white space at either end, control
// characters. Every other character is escaped in the URL ("a: b" is fine).
//
// Put reads the secret's metadata and the data of its current version, and
// writes the data back with the value (data_key) and the description
// ("description", where LiteLLM's async_write_secret puts it) replaced and
// every other field kept, with check-and-set
// (options.cas = current_version, 0 for a new secret), so two writers never
// silently overwrite each other: the loser gets FailedPrecondition, which the
// layer does not retry. A write on top of a deleted (soft-deleted) latest
// version creates a new version, which is how a soft-deleted name is
// recreated. Get treats a latest version that is deleted or destroyed as
// missing (NotFound).
//
// Delete with DeleteForever deletes the metadata and every version
// (DELETE <mount>/metadata/...); DeleteSoft deletes the latest version
// (DELETE <mount>/data/...), which `vault kv undelete` recovers.
//
// # Description and tags
//
// They live in the secret's custom_metadata: the description under the key
// "description", each tag k under the key "tag:k". The description is also
// written into the data field "description" with each new value. Other custom_metadata keys
// are left as they are. Vault's limits (validateCustomMetadata in the KV
// version 2 plugin) apply and are checked at plan by ValidateWrite, as
// InvalidArgument: at most 64 keys in all, keys of at most 128 bytes (so tag
// names of at most 124), values of 1 to 512 bytes (an empty tag value is
// refused), printable characters only. Keys the secret already has count
// towards the 64; Put checks that once it has read them.
//
// # Policy
//
// What the token's policies need, per operation (with mount "secret"):
//
//	read            read on secret/data/<name>
//	write           read on secret/metadata/<name> (check-and-set) and on
//	                secret/data/<name> (the fields kept),
//	                create (new) / update (existing) on secret/data/<name>,
//	                update on secret/metadata/<name> when description or
//	                tags change
//	delete          delete on secret/metadata/<name>
//	soft_delete     delete on secret/data/<name>
//	health check    auth/token/lookup-self (the default policy) and any
//	                capability under secret/
//
// # Why net/http and not github.com/hashicorp/vault/api
//
// The store needs a dozen endpoints of Vault's JSON-over-HTTP API. The api
// client reads VAULT_* variables on its own (token, namespace, headers,
// wrapping TTL, retries), follows redirects token and all, and retries by
// itself; each of those had to be switched off, and a client kept per
// namespace and token. send sets every header itself (the token, the
// namespace of the request's kind, X-Vault-Request), never follows a
// redirect, and leaves retries to the layer.
//
// # Errors
//
// A 403 names the path and the capability the token's policies lack; a
// sealed or unreachable Vault says so (Unavailable, retried by the layer).
// Error messages never contain a secret value or a token.
package vault

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// Kind is this store's key_management_system value.
const Kind = "hashicorp_vault"

// Custom metadata keys of description and tags.
const (
	descriptionKey = "description"
	tagKeyPrefix   = "tag:"
)

// maxAnswerBytes bounds what is read of one answer.
const maxAnswerBytes = 64 << 20

type backend struct {
	res       Resolved
	addr      *url.URL // res.Address
	http      *http.Client
	transport *http.Transport
	auth      *authenticator

	closeOnce sync.Once
}

var (
	_ backends.Backend           = (*backend)(nil)
	_ backends.NameValidator     = (*backend)(nil)
	_ backends.WriteValidator    = (*backend)(nil)
	_ backends.MetadataUpdater   = (*backend)(nil)
	_ backends.CredentialChecker = (*backend)(nil)
)

// New returns the Vault store. opts nil means everything from the
// environment. It resolves and checks the settings and reads the TLS files,
// but makes no request: the first call logs in.
func New(_ context.Context, opts *Options) (backends.Backend, error) {
	res, err := opts.Resolve()
	if err != nil {
		return nil, err
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	tlsConf, err := res.tlsConfig()
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       tlsConf,
	}
	var rt http.RoundTripper = tr
	if o.WrapTransport != nil {
		rt = o.WrapTransport(tr)
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	addr, err := url.Parse(res.Address) // checked by Resolve
	if err != nil {
		return nil, backends.Errorf(backends.InvalidArgument, "%s: %q is not a URL", res.source("address"), backends.RedactURL(res.Address))
	}
	b := &backend{res: res, addr: addr, transport: tr, http: &http.Client{
		Transport: rt,
		// Covers the whole exchange, the answer's body included.
		Timeout: timeout,
		// Never follow a redirect: it would carry the token (and a write's
		// body) to another address. send reports it instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	b.auth = &authenticator{b: b, method: res.Method, static: res.Token, now: time.Now}
	return b, nil
}

// tlsConfig builds the client TLS configuration from the tls block.
func (r *Resolved) tlsConfig() (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: r.SkipVerify} //nolint:gosec // tls.skip_verify is the user's explicit choice
	if r.CACertFile != "" {
		pem, err := os.ReadFile(r.CACertFile)
		if err != nil {
			return nil, backends.Errorf(backends.InvalidArgument, "%s: reading CA certificates: %w", r.source("tls.ca_cert_file"), err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, backends.Errorf(backends.InvalidArgument, "%s: %s holds no PEM certificate", r.source("tls.ca_cert_file"), r.CACertFile)
		}
		conf.RootCAs = pool
	}
	if r.ClientCertFile != "" && r.ClientKeyFile != "" {
		cert, err := tls.LoadX509KeyPair(r.ClientCertFile, r.ClientKeyFile)
		if err != nil {
			return nil, backends.Errorf(backends.InvalidArgument, "%s and %s: loading the client certificate: %w", r.source("tls.client_cert_file"), r.source("tls.client_key_file"), err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}

// Kind implements backends.Backend.
func (b *backend) Kind() string { return Kind }

// Caps implements backends.Backend.
func (b *backend) Caps() backends.Caps {
	// KV version 2 deletes synchronously: the next read already answers 404.
	return backends.Caps{Write: true, Delete: true, SoftDelete: true, Metadata: true, ImmediateDelete: true}
}

// ValidateName implements backends.NameValidator. Besides Vault's own
// limits on KV paths, it refuses what LiteLLM's reader cannot address: it
// puts the name into the request URL unescaped (after the mount and path
// prefix), so "?" would start a query, "#" a fragment, and "%" an escape
// Vault decodes (or refuses); and it refuses, as LiteLLM's
// raise_if_unsafe_secret_name does, ".." path segments and control
// characters (C0, DEL, C1, U+2028, U+2029). White space at either end is
// refused too: it is lost on the way to LiteLLM (YAML drops it from an
// unquoted os.environ/ reference), so the gateway would ask for another name.
func (b *backend) ValidateName(name string) error {
	return validateName(name)
}

func validateName(name string) error {
	q := backends.QuoteName(name)
	switch {
	case len(name) > maxNameBytes:
		return backends.RuleViolation("the %s store allows secret names of at most %d bytes; %s has %d", Kind, maxNameBytes, q, len(name))
	case strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/"):
		return backends.RuleViolation("the %s store does not accept secret name %s: names are KV paths and must not start or end with %q", Kind, q, "/")
	case strings.Contains(name, "//"):
		return backends.RuleViolation("the %s store does not accept secret name %s: names are KV paths and must not contain %q (an empty path segment)", Kind, q, "//")
	case pyStrip(name) != name:
		return backends.RuleViolation("the %s store does not accept secret name %s: it has white space at its start or end, which is lost on the way to LiteLLM (YAML drops it from an unquoted os.environ/ reference), so the gateway would ask for another name; remove it", Kind, q)
	}
	if i := strings.IndexAny(name, "?#%"); i >= 0 {
		what := map[byte]string{'?': "starts the URL's query string", '#': "starts the URL's fragment", '%': "starts a percent-escape that Vault decodes"}[name[i]]
		return backends.RuleViolation("the %s store does not accept secret name %s: LiteLLM's Vault reader puts the name into the request URL unescaped, where %q %s, so LiteLLM could never read this secret; use a name without %q, %q or %q",
			Kind, q, name[i:i+1], what, "?", "#", "%")
	}
	for i, r := range name {
		if r <= 0x1f || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029 {
			return backends.RuleViolation("the %s store does not accept secret name %s: LiteLLM's Vault reader refuses names with control character %U (at byte %d)", Kind, q, r, i)
		}
	}
	for seg := range strings.SplitSeq(name, "/") {
		if seg == "." || seg == ".." {
			return backends.RuleViolation("the %s store does not accept secret name %s: names are KV paths and must not contain %q as a path segment", Kind, q, seg)
		}
	}
	return nil
}

// kvPath is the API path of name under kind ("data" or "metadata").
func (b *backend) kvPath(kind, name string) string {
	p := b.res.Mount + "/" + kind + "/"
	if b.res.PathPrefix != "" {
		p += b.res.PathPrefix + "/"
	}
	return p + name
}

// versionMeta is the metadata of one KV version.
type versionMeta struct {
	Version        json.Number       `json:"version"`
	CreatedTime    string            `json:"created_time"`
	DeletionTime   string            `json:"deletion_time"`
	Destroyed      bool              `json:"destroyed"`
	CustomMetadata map[string]string `json:"custom_metadata"`
}

// Get implements backends.Backend.
func (b *backend) Get(ctx context.Context, name string) (*backends.Secret, error) {
	p := b.kvPath("data", name)
	ans, err := b.do(ctx, &request{method: http.MethodGet, path: p, capability: "read", ns: nsSecret, auth: true, accept: []int{http.StatusNotFound}})
	if err != nil {
		return nil, err
	}
	if ans.status == http.StatusNotFound {
		return nil, b.notFound(p, ans)
	}
	var rd struct {
		Data *struct {
			Data     map[string]json.RawMessage `json:"data"`
			Metadata *versionMeta               `json:"metadata"`
		} `json:"data"`
	}
	if err := decode(ans.body, &rd); err != nil {
		return nil, backends.Errorf(backends.Internal, "Vault's answer to GET %s is not a KV secret: %w", p, err)
	}
	if rd.Data == nil || rd.Data.Metadata == nil {
		return nil, backends.Errorf(backends.FailedPrecondition, "Vault's answer to GET %s has no KV version 2 metadata: is mount %q a KV version 2 secrets engine?", p, b.res.Mount)
	}
	meta := rd.Data.Metadata
	if meta.Version == "" {
		return nil, backends.Errorf(backends.Internal, "Vault's answer to GET %s has no version", p)
	}
	// Vault answers 404 for a deleted latest version; a 200 with a future
	// deletion_time (delete_version_after) is still readable.
	if rd.Data.Data == nil || meta.Destroyed {
		return nil, b.deleted(p, meta)
	}
	raw, ok := rd.Data.Data[b.res.DataKey]
	if !ok {
		return nil, backends.Errorf(backends.FailedPrecondition, "the secret at %s (version %s) has no field %q (data_key); its fields are %s", p, meta.Version, b.res.DataKey, fieldNames(rd.Data.Data))
	}
	var value string
	if err := json.Unmarshal(raw, &value); err != nil {
		return nil, backends.Errorf(backends.FailedPrecondition, "field %q (data_key) of the secret at %s (version %s) is a JSON %s, not a string", b.res.DataKey, p, meta.Version, jsonKind(raw))
	}
	desc, tags := splitCustom(meta.CustomMetadata)
	return &backends.Secret{Name: name, Value: []byte(value), Version: meta.Version.String(), Description: desc, Tags: tags}, nil
}

// noMount is the error of a request to a mount where Vault has no secrets
// engine: it shows the command that enables one, and the setting that
// names the mount.
func (b *backend) noMount(req, msg string) error {
	return backends.Errorf(backends.FailedPrecondition, "Vault has no secrets engine at mount %q (%s: %s): enable a KV "+
		"version 2 engine there with: vault secrets enable -path=%s kv-v2 (or set hashicorp_vault.mount, or "+
		"HCP_VAULT_MOUNT_NAME, to the mount that holds the secrets)", b.res.Mount, req, msg, b.res.Mount)
}

// notFound explains a 404 of a data read: no secret, a deleted or destroyed
// latest version, or a mount that does not exist.
func (b *backend) notFound(p string, ans *answer) error {
	if msgs := vaultErrors(ans.body); len(msgs) > 0 {
		for _, m := range msgs {
			if strings.Contains(m, "no handler for route") {
				return b.noMount("GET "+p, m)
			}
		}
	}
	var rd struct {
		Data *struct {
			Metadata *versionMeta `json:"metadata"`
		} `json:"data"`
	}
	if decode(ans.body, &rd) == nil && rd.Data != nil && rd.Data.Metadata != nil {
		return b.deleted(p, rd.Data.Metadata)
	}
	return backends.Errorf(backends.NotFound, "no secret at %s", p)
}

func (b *backend) deleted(p string, m *versionMeta) error {
	switch {
	case m.Destroyed:
		return backends.Errorf(backends.NotFound, "the latest version (%s) of the secret at %s is destroyed", m.Version, p)
	case m.DeletionTime != "":
		return backends.Errorf(backends.NotFound, "the latest version (%s) of the secret at %s was deleted at %s (recoverable with vault kv undelete)", m.Version, p, m.DeletionTime)
	}
	return backends.Errorf(backends.NotFound, "the latest version (%s) of the secret at %s has no data", m.Version, p)
}

// kvMetadata is what Put and UpdateMetadata need of a secret's metadata.
type kvMetadata struct {
	exists  bool
	current uint64
	custom  map[string]string
}

// readMetadata reads <mount>/metadata/<name>; a missing secret is not an
// error.
func (b *backend) readMetadata(ctx context.Context, name string) (*kvMetadata, error) {
	p := b.kvPath("metadata", name)
	ans, err := b.do(ctx, &request{method: http.MethodGet, path: p, capability: "read", ns: nsSecret, auth: true, accept: []int{http.StatusNotFound}})
	if err != nil {
		return nil, err
	}
	if ans.status == http.StatusNotFound {
		for _, m := range vaultErrors(ans.body) {
			if strings.Contains(m, "no handler for route") {
				return nil, b.noMount("GET "+p, m)
			}
		}
		return &kvMetadata{}, nil
	}
	var md struct {
		Data *struct {
			CurrentVersion json.Number       `json:"current_version"`
			CustomMetadata map[string]string `json:"custom_metadata"`
		} `json:"data"`
	}
	if err := decode(ans.body, &md); err != nil {
		return nil, backends.Errorf(backends.Internal, "Vault's answer to GET %s is not KV metadata: %w", p, err)
	}
	if md.Data == nil {
		return nil, backends.Errorf(backends.FailedPrecondition, "Vault's answer to GET %s has no data: is mount %q a KV version 2 secrets engine?", p, b.res.Mount)
	}
	m := &kvMetadata{exists: true, custom: md.Data.CustomMetadata}
	if md.Data.CurrentVersion != "" {
		v, err := md.Data.CurrentVersion.Int64()
		if err != nil || v < 0 {
			return nil, backends.Errorf(backends.Internal, "Vault's answer to GET %s has current_version %q, not a version number", p, md.Data.CurrentVersion)
		}
		m.current = uint64(v)
	}
	return m, nil
}

// ValidateWrite implements backends.WriteValidator, so that a description
// or tags Vault would refuse fail at plan (DESIGN.md, How one apply flows):
// KV version 2's custom_metadata limits (see ownCustom), and a value that is
// not UTF-8 text. Keys other tools put on the secret count towards the 64
// too, but only Put, which reads them, can check that.
func (b *backend) ValidateWrite(req backends.WriteRequest) error {
	_, err := checkWrite(req)
	return err
}

// checkWrite is ValidateWrite, returning the custom_metadata of the
// description and tags.
func checkWrite(req backends.WriteRequest) (map[string]string, error) {
	if req.Value != nil && !utf8.Valid(req.Value) {
		return nil, backends.RuleViolation("the %s store does not accept the value of %s: values are kept as JSON strings in KV data, so they must be UTF-8 text, and this one is not", Kind, backends.QuoteName(req.Name))
	}
	own, err := ownCustom(req.Description, req.Tags)
	if err != nil {
		return nil, backends.RuleViolation("the %s store does not accept the description and tags of %s: %w", Kind, backends.QuoteName(req.Name), err)
	}
	return own, nil
}

// Put implements backends.Backend.
func (b *backend) Put(ctx context.Context, req backends.WriteRequest) (string, error) {
	own, err := checkWrite(req)
	if err != nil {
		return "", err
	}
	meta, err := b.readMetadata(ctx, req.Name)
	if err != nil {
		return "", err
	}
	custom, err := b.mergeCustom(req.Name, meta.custom, own)
	if err != nil {
		return "", err
	}
	fields, err := b.readFields(ctx, req.Name, meta)
	if err != nil {
		return "", err
	}
	data, err := b.newData(fields, req, meta.custom[descriptionKey])
	if err != nil {
		return "", err
	}

	p := b.kvPath("data", req.Name)
	capability := "update"
	if !meta.exists {
		capability = "create"
	}
	ans, err := b.do(ctx, &request{
		method:     http.MethodPut,
		path:       p,
		capability: capability,
		ns:         nsSecret,
		auth:       true,
		body: map[string]any{
			"data":    data,
			"options": map[string]any{"cas": meta.current},
		},
	})
	if err != nil {
		if backends.CodeOf(err) == backends.FailedPrecondition {
			var ae *apiError
			if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
				return "", backends.Errorf(backends.FailedPrecondition, "writing %s: another writer changed the secret after version %d was read, and check-and-set kept its version: %w; read the secret again before overwriting it", p, meta.current, err)
			}
		}
		return "", err
	}
	var wr struct {
		Data *versionMeta `json:"data"`
	}
	if len(strings.TrimSpace(string(ans.body))) > 0 { // a KV v1 mount answers 204 without a body
		if err := decode(ans.body, &wr); err != nil {
			return "", backends.Errorf(backends.Internal, "Vault's answer to PUT %s is not KV version metadata: %w", p, err)
		}
	}
	if wr.Data == nil || wr.Data.Version == "" {
		return "", backends.Errorf(backends.FailedPrecondition, "Vault's answer to PUT %s has no version: is mount %q a KV version 2 secrets engine?", p, b.res.Mount)
	}
	if !maps.Equal(custom, meta.custom) {
		if err := b.writeCustom(ctx, req.Name, custom); err != nil {
			return "", fmt.Errorf("version %s written, but setting its description and tags failed: %w", wr.Data.Version, err)
		}
	}
	return wr.Data.Version.String(), nil
}

// readFields returns the data fields of the secret's current version, which
// a write keeps (LiteLLM keeps a description there, other tools their own
// fields). A secret that is new, or whose current version is deleted or
// destroyed, has none. The version is read by number, so a writer that adds
// a version between the metadata read and this one makes the check-and-set
// write fail rather than drop its fields.
func (b *backend) readFields(ctx context.Context, name string, meta *kvMetadata) (map[string]json.RawMessage, error) {
	if !meta.exists || meta.current == 0 {
		return nil, nil
	}
	p := b.kvPath("data", name)
	ans, err := b.do(ctx, &request{
		method: http.MethodGet, path: p, capability: "read", ns: nsSecret, auth: true,
		query:  url.Values{"version": {strconv.FormatUint(meta.current, 10)}},
		accept: []int{http.StatusNotFound},
	})
	if err != nil {
		return nil, fmt.Errorf("reading the fields of version %d to keep them: %w", meta.current, err)
	}
	if ans.status == http.StatusNotFound {
		return nil, nil // deleted or destroyed: nothing to keep
	}
	var rd struct {
		Data *struct {
			Data map[string]json.RawMessage `json:"data"`
		} `json:"data"`
	}
	if err := decode(ans.body, &rd); err != nil {
		return nil, backends.Errorf(backends.Internal, "Vault's answer to GET %s (version %d) is not a KV secret: %w", p, meta.current, err)
	}
	if rd.Data == nil {
		return nil, nil
	}
	return rd.Data.Data, nil
}

// newData is the data of the version a write creates: the fields of the
// current version, the value under data_key, and the description under
// "description", where LiteLLM's async_write_secret puts it. Without a
// description, a "description" field this store wrote (it equals the
// description in custom_metadata) is dropped, and any other one kept.
func (b *backend) newData(fields map[string]json.RawMessage, req backends.WriteRequest, oldDescription string) (map[string]json.RawMessage, error) {
	data := make(map[string]json.RawMessage, len(fields)+2)
	maps.Copy(data, fields)
	enc := func(s string) (json.RawMessage, error) {
		raw, err := json.Marshal(s)
		if err != nil {
			return nil, backends.Errorf(backends.Internal, "encoding a field of %s as JSON failed", b.kvPath("data", req.Name))
		}
		return raw, nil
	}
	if b.res.DataKey != descriptionKey {
		switch {
		case req.Description != "":
			raw, err := enc(req.Description)
			if err != nil {
				return nil, err
			}
			data[descriptionKey] = raw
		case oldDescription != "":
			var cur string
			if json.Unmarshal(data[descriptionKey], &cur) == nil && cur == oldDescription {
				delete(data, descriptionKey)
			}
		}
	}
	raw, err := enc(string(req.Value))
	if err != nil {
		return nil, err
	}
	data[b.res.DataKey] = raw
	return data, nil
}

// UpdateMetadata implements backends.MetadataUpdater.
func (b *backend) UpdateMetadata(ctx context.Context, name, description string, tags map[string]string) error {
	own, err := checkWrite(backends.WriteRequest{Name: name, Description: description, Tags: tags})
	if err != nil {
		return err
	}
	meta, err := b.readMetadata(ctx, name)
	if err != nil {
		return err
	}
	if !meta.exists {
		return backends.Errorf(backends.NotFound, "no secret at %s", b.kvPath("metadata", name))
	}
	custom, err := b.mergeCustom(name, meta.custom, own)
	if err != nil {
		return err
	}
	if maps.Equal(custom, meta.custom) {
		return nil
	}
	return b.writeCustom(ctx, name, custom)
}

// writeCustom replaces the secret's custom_metadata.
func (b *backend) writeCustom(ctx context.Context, name string, custom map[string]string) error {
	if custom == nil {
		custom = map[string]string{}
	}
	_, err := b.do(ctx, &request{
		method:     http.MethodPut,
		path:       b.kvPath("metadata", name),
		capability: "update",
		ns:         nsSecret,
		auth:       true,
		body:       map[string]any{"custom_metadata": custom},
	})
	return err
}

// Delete implements backends.Backend.
func (b *backend) Delete(ctx context.Context, name string, mode backends.DeleteMode) error {
	var p string
	switch mode {
	case backends.DeleteForever:
		p = b.kvPath("metadata", name)
	case backends.DeleteSoft:
		p = b.kvPath("data", name)
	default:
		return nil // Abandon: nothing to do
	}
	_, err := b.do(ctx, &request{method: http.MethodDelete, path: p, capability: "delete", ns: nsSecret, auth: true, accept: []int{http.StatusNotFound}})
	return err
}

// CheckCredentials implements backends.CredentialChecker: it logs in (AppRole,
// certificate) or takes the token, and looks the token up
// (auth/token/lookup-self, which Vault's default policy grants). A token Vault
// calls invalid fails, naming where it came from; a token that works but may
// not look itself up (created without the default policy) passes.
func (b *backend) CheckCredentials(ctx context.Context) error {
	tok, err := b.auth.token(ctx)
	if err != nil {
		return err
	}
	_, err = b.send(ctx, &request{method: http.MethodGet, path: "auth/token/lookup-self", capability: "read", ns: nsLogin}, tok)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusForbidden {
		if !ae.looksLikeBadToken() {
			return nil
		}
		ae.badToken = true
		if b.res.Method == AuthToken {
			ae.hint = tokenHint(b.res)
		}
	}
	return err
}

// Health implements backends.Backend: Vault answers, is unsealed and
// initialised, the credentials work, and the mount is KV version 2.
func (b *backend) Health(ctx context.Context) error {
	ans, err := b.send(ctx, &request{
		method:    http.MethodGet,
		path:      "sys/health",
		ns:        nsRoot,
		query:     url.Values{"standbyok": {"true"}, "perfstandbyok": {"true"}},
		acceptAll: true,
	}, "")
	if err != nil {
		return err
	}
	var h struct {
		Initialized *bool `json:"initialized"`
		Sealed      *bool `json:"sealed"`
	}
	if err := decode(ans.body, &h); err != nil || h.Initialized == nil || h.Sealed == nil {
		return backends.Errorf(backends.Unavailable, "Vault at %s answered %d to sys/health without its health status: is this a Vault server?", b.res.Address, ans.status)
	}
	switch {
	case *h.Sealed:
		return backends.Errorf(backends.Unavailable, "Vault at %s is sealed", b.res.Address)
	case !*h.Initialized:
		return backends.Errorf(backends.FailedPrecondition, "Vault at %s is not initialized", b.res.Address)
	case ans.status != http.StatusOK:
		return backends.Errorf(backends.Unavailable, "Vault at %s answered %d to sys/health", b.res.Address, ans.status)
	}

	if _, err := b.do(ctx, &request{method: http.MethodGet, path: "auth/token/lookup-self", capability: "read", ns: nsLogin, auth: true}); err != nil {
		return fmt.Errorf("checking the %s credentials: %w", b.res.Method, err)
	}

	p := "sys/internal/ui/mounts/" + b.res.Mount
	ans, err = b.do(ctx, &request{method: http.MethodGet, path: p, ns: nsSecret, auth: true})
	if err != nil {
		return fmt.Errorf("checking mount %q (does it exist? enable a KV version 2 engine there with: vault secrets enable -path=%s kv-v2; "+
			"and do the token's policies grant anything under it?): %w", b.res.Mount, b.res.Mount, err)
	}
	var m struct {
		Data *struct {
			Type    string            `json:"type"`
			Path    string            `json:"path"`
			Options map[string]string `json:"options"`
		} `json:"data"`
	}
	if err := decode(ans.body, &m); err != nil || m.Data == nil {
		return backends.Errorf(backends.Internal, "Vault's answer to GET %s does not describe a mount", p)
	}
	if m.Data.Type != "kv" || m.Data.Options["version"] != "2" {
		return backends.Errorf(backends.FailedPrecondition, "mount %q is a %q secrets engine (version %q), not KV version 2; enable one with: vault secrets enable -path=%s kv-v2", b.res.Mount, m.Data.Type, m.Data.Options["version"], b.res.Mount)
	}
	if mp := strings.Trim(m.Data.Path, "/"); mp != "" && mp != b.res.Mount {
		return backends.Errorf(backends.FailedPrecondition, "mount %q is inside the KV engine mounted at %q: set mount = %q and put the rest in path_prefix", b.res.Mount, mp, mp)
	}
	return nil
}

// Close implements backends.Backend: it revokes a login token and closes
// idle connections.
func (b *backend) Close() error {
	b.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		b.auth.revoke(ctx)
		b.transport.CloseIdleConnections()
	})
	return nil
}

// ownCustom is the custom_metadata for description and tags, checked
// against Vault's limits.
func ownCustom(description string, tags map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(tags)+1)
	if description != "" {
		if err := checkCustom("the description", descriptionKey, description); err != nil {
			return nil, err
		}
		out[descriptionKey] = description
	}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		key := tagKeyPrefix + k
		if err := checkCustom(fmt.Sprintf("tag %q", k), key, tags[k]); err != nil {
			return nil, err
		}
		out[key] = tags[k]
	}
	if len(out) > maxCustomMetadataKeys {
		return nil, backends.Errorf(backends.InvalidArgument, "Vault allows at most %d custom_metadata keys per secret; the description and %d tags make %d", maxCustomMetadataKeys, len(tags), len(out))
	}
	return out, nil
}

func checkCustom(what, key, value string) error {
	switch {
	case len(key) > maxCustomMetadataKey:
		return backends.Errorf(backends.InvalidArgument, "Vault custom_metadata keys are at most %d bytes: %s is stored under %q (%d bytes); tag names can have at most %d bytes", maxCustomMetadataKey, what, key[:32]+"...", len(key), maxCustomMetadataKey-len(tagKeyPrefix))
	case !printable(key):
		return backends.Errorf(backends.InvalidArgument, "Vault custom_metadata keys must be printable text: %s contains a control or non-printable character", what)
	case value == "":
		return backends.Errorf(backends.InvalidArgument, "Vault custom_metadata values must not be empty: %s has an empty value", what)
	case len(value) > maxCustomMetadataValue:
		return backends.Errorf(backends.InvalidArgument, "Vault custom_metadata values are at most %d bytes: %s has %d", maxCustomMetadataValue, what, len(value))
	case !printable(value):
		return backends.Errorf(backends.InvalidArgument, "Vault custom_metadata values must be printable text: the value of %s contains a control or non-printable character (newline, tab, ...)", what)
	}
	return nil
}

// printable is Vault's strutil.Printable: valid UTF-8 of printable runes.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// mergeCustom replaces the description and tag keys of the secret's
// custom_metadata (existing) with own, keeping every other key, within
// Vault's limit on their number.
func (b *backend) mergeCustom(name string, existing, own map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(existing)+len(own))
	for k, v := range existing {
		if k != descriptionKey && !strings.HasPrefix(k, tagKeyPrefix) {
			out[k] = v
		}
	}
	maps.Copy(out, own)
	if len(out) > maxCustomMetadataKeys {
		return nil, backends.Errorf(backends.InvalidArgument, "the %s store does not accept the description and tags of %s: Vault allows at most %d custom_metadata keys per secret; its description and tags, with the %d other keys it has, make %d",
			Kind, b.kvPath("metadata", name), maxCustomMetadataKeys, len(out)-len(own), len(out))
	}
	return out, nil
}

// splitCustom reads description and tags back from custom_metadata.
func splitCustom(custom map[string]string) (string, map[string]string) {
	var tags map[string]string
	for k, v := range custom {
		if name, ok := strings.CutPrefix(k, tagKeyPrefix); ok {
			if tags == nil {
				tags = map[string]string{}
			}
			tags[name] = v
		}
	}
	return custom[descriptionKey], tags
}

// decode unmarshals a Vault answer. Its errors describe the shape, never the
// content: a body can hold a secret.
func decode(body []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	err := dec.Decode(v)
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &syn):
		return fmt.Errorf("not valid JSON (at byte %d of %d)", syn.Offset, len(body))
	case errors.As(err, &typ):
		return fmt.Errorf("field %q is a JSON %s, want %s", typ.Field, typ.Value, typ.Type)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("empty or truncated JSON (%d bytes)", len(body))
	}
	return fmt.Errorf("cannot decode JSON (%d bytes)", len(body))
}

// jsonKind names the JSON type of raw.
func jsonKind(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	switch {
	case s == "":
		return "empty value"
	case s == "null":
		return "null"
	case s == "true" || s == "false":
		return "boolean"
	case s[0] == '{':
		return "object"
	case s[0] == '[':
		return "array"
	case s[0] == '"':
		return "string"
	}
	return "number"
}

// fieldNames lists field names (never values) for a message.
func fieldNames(m map[string]json.RawMessage) string {
	if len(m) == 0 {
		return "none"
	}
	names := slices.Sorted(maps.Keys(m))
	const limit = 10
	more := ""
	if len(names) > limit {
		more = fmt.Sprintf(" and %d more", len(names)-limit)
		names = names[:limit]
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = backends.QuoteName(n)
	}
	return strings.Join(q, ", ") + more
}
