package vault

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// Defaults of the hashicorp_vault block.
const (
	DefaultAddress         = "http://127.0.0.1:8200"
	DefaultMount           = "secret"
	DefaultDataKey         = "key"
	DefaultAppRoleMount    = "approle"
	DefaultTimeout         = 60 * time.Second
	certLoginMount         = "cert" // LiteLLM logs in at auth/cert/login
	maxNameBytes           = 512
	maxCustomMetadataKeys  = 64
	maxCustomMetadataKey   = 128
	maxCustomMetadataValue = 512
)

// Options configures the store: the provider's hashicorp_vault block. Every
// field is optional; an empty field falls back to LiteLLM's variable, then to
// Vault's own, then to the default (see Resolve). The zero value reads
// everything from the environment.
type Options struct {
	// Address is the Vault URL (address): HCP_VAULT_ADDR, VAULT_ADDR,
	// "http://127.0.0.1:8200".
	Address string
	// Token is a Vault token (token): HCP_VAULT_TOKEN, VAULT_TOKEN, then the
	// file ~/.vault-token that `vault login` writes (read as the Vault CLI
	// reads it; HOME comes from LookupEnv). It is used only when neither
	// AppRole nor certificate login is configured.
	Token string
	// Namespace (namespace: HCP_VAULT_NAMESPACE) is the default of
	// LoginNamespace and SecretNamespace. Namespaces are a Vault Enterprise /
	// HCP Vault feature. Vault's own VAULT_NAMESPACE is never read: LiteLLM
	// does not read it, so it would send writes where the gateway does not
	// look.
	Namespace string
	// LoginNamespace is sent with login and token requests
	// (login_namespace): HCP_VAULT_LOGIN_NAMESPACE, then Namespace. As in
	// LiteLLM, a set but empty value (here or in the variable) is the root
	// namespace; nil is unset.
	LoginNamespace *string
	// SecretNamespace is sent with KV requests (secret_namespace):
	// HCP_VAULT_SECRET_NAMESPACE, then Namespace. As in LiteLLM, a set but
	// empty value (here or in the variable) is the root namespace; nil is
	// unset.
	SecretNamespace *string
	// Mount is the KV version 2 mount (mount): HCP_VAULT_MOUNT_NAME,
	// "secret". As in LiteLLM, white space and then "/" are trimmed from
	// its ends, and a mount left empty is "secret".
	Mount string
	// PathPrefix is put before every secret name (path_prefix):
	// HCP_VAULT_PATH_PREFIX, none. Trimmed as Mount; empty is none.
	PathPrefix string
	// DataKey is the field of the KV data that holds the value (data_key):
	// "key". White space around it is trimmed, as LiteLLM does.
	DataKey string
	// AppRole is the approle block.
	AppRole AppRoleOptions
	// TLS is the tls block.
	TLS TLSOptions

	// LookupEnv reads the environment for the fallbacks; nil means
	// os.LookupEnv. Tests inject their own.
	LookupEnv func(string) (string, bool)
	// WrapTransport, when set, wraps the HTTP transport built from the TLS
	// settings (tests record requests with it).
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// Timeout bounds one HTTP request; zero means 60s. The layer's per-call
	// timeout applies too.
	Timeout time.Duration
}

// AppRoleOptions is the approle block.
type AppRoleOptions struct {
	// RoleID (role_id): HCP_VAULT_APPROLE_ROLE_ID.
	RoleID string
	// SecretID (secret_id): HCP_VAULT_APPROLE_SECRET_ID.
	SecretID string
	// MountPath is the AppRole auth mount (mount_path):
	// HCP_VAULT_APPROLE_MOUNT_PATH, "approle".
	MountPath string
}

// TLSOptions is the tls block.
type TLSOptions struct {
	// CACertFile is a PEM file of CAs that verify Vault's certificate
	// (ca_cert_file): VAULT_CACERT; the system roots when empty.
	CACertFile string
	// ClientCertFile and ClientKeyFile are the PEM client certificate and
	// key for TLS certificate login (client_cert_file: HCP_VAULT_CLIENT_CERT,
	// client_key_file: HCP_VAULT_CLIENT_KEY).
	ClientCertFile string
	ClientKeyFile  string
	// CertRole is the cert auth role to log in with (cert_role):
	// HCP_VAULT_CERT_ROLE; without it Vault tries every role.
	CertRole string
	// SkipVerify disables verification of Vault's certificate
	// (skip_verify): VAULT_SKIP_VERIFY, false.
	SkipVerify *bool
}

// AuthMethod is how the store gets its token.
type AuthMethod string

// Auth methods, in LiteLLM's priority order.
const (
	AuthAppRole AuthMethod = "approle"
	AuthCert    AuthMethod = "cert"
	AuthToken   AuthMethod = "token"
)

// Resolved is Options with every fallback applied. It holds credentials:
// its String and Format redact them.
type Resolved struct {
	Address         string
	Method          AuthMethod
	Token           string
	Namespace       string
	LoginNamespace  string
	SecretNamespace string
	Mount           string
	PathPrefix      string
	DataKey         string
	AppRole         AppRoleOptions
	CACertFile      string
	ClientCertFile  string
	ClientKeyFile   string
	CertRole        string
	SkipVerify      bool
	// Sources says where each attribute came from ("hashicorp_vault.address",
	// "HCP_VAULT_ADDR", "default", ...), for error messages. Only attributes
	// that have a value are present.
	Sources map[string]string
}

// String describes the configuration without credentials.
func (r Resolved) String() string {
	return fmt.Sprintf("Resolved{Address: %q, Method: %s, LoginNamespace: %q, SecretNamespace: %q, Mount: %q, PathPrefix: %q, DataKey: %q, credentials: (redacted)}",
		r.Address, r.Method, r.LoginNamespace, r.SecretNamespace, r.Mount, r.PathPrefix, r.DataKey)
}

// Format makes every fmt verb print String, so formatting never leaks a
// token or secret ID.
func (r Resolved) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, r.String()) }

// resolver applies the fallbacks of one attribute at a time.
type resolver struct {
	lookup  func(string) (string, bool)
	sources map[string]string
}

// pick returns the first non-empty of explicit and the variables, and records
// where it came from under attr.
func (r *resolver) pick(attr, explicit string, vars ...string) string {
	if explicit != "" {
		r.sources[attr] = "hashicorp_vault." + attr
		return explicit
	}
	for _, v := range vars {
		if val, ok := r.lookup(v); ok && val != "" {
			r.sources[attr] = v
			return val
		}
	}
	return ""
}

// pickSet is pick for the attributes where LiteLLM tells a set but empty
// value from an unset one (the login and secret namespaces): explicit when
// not nil, else the first variable that is set, even to "". ok is false when
// nothing is set.
func (r *resolver) pickSet(attr string, explicit *string, vars ...string) (string, bool) {
	if explicit != nil {
		r.sources[attr] = "hashicorp_vault." + attr
		return *explicit, true
	}
	for _, v := range vars {
		if val, ok := r.lookup(v); ok {
			r.sources[attr] = v
			return val, true
		}
	}
	return "", false
}

// orDefault returns v, or def recorded as the default.
func (r *resolver) orDefault(attr, v, def string) string {
	if v != "" {
		return v
	}
	r.sources[attr] = "default"
	return def
}

// source describes where attr came from, for messages.
func (r *Resolved) source(attr string) string {
	switch s := r.Sources[attr]; {
	case s == "":
		return "hashicorp_vault." + attr
	case strings.HasPrefix(s, "hashicorp_vault."), s == "default":
		return s
	default:
		return "hashicorp_vault." + attr + " (from " + s + ")"
	}
}

// Resolve applies the fallbacks, in one place: explicit attribute, then
// LiteLLM's variable (HCP_VAULT_*), then Vault's own (VAULT_*), then the
// default (and for the token, last, ~/.vault-token as the Vault CLI reads it). It
// checks the result, reads no other file and calls nothing. Errors are
// InvalidArgument and name the attribute and the variables that could supply
// it.
func (o *Options) Resolve() (Resolved, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	r := &resolver{lookup: lookup, sources: map[string]string{}}
	res := Resolved{Sources: r.sources}

	res.Address = r.orDefault("address", r.pick("address", opts.Address, "HCP_VAULT_ADDR", "VAULT_ADDR"), DefaultAddress)
	res.Token = r.pick("token", opts.Token, "HCP_VAULT_TOKEN", "VAULT_TOKEN")
	// Namespaces as LiteLLM reads them: HCP_VAULT_NAMESPACE is the default
	// of the login and secret namespaces, each of which, when set at all
	// (even empty, which is the root namespace), replaces it. VAULT_NAMESPACE
	// is not read, here or by the HTTP client (see send).
	res.Namespace = trimPath(r.pick("namespace", opts.Namespace, "HCP_VAULT_NAMESPACE"))
	res.LoginNamespace = res.Namespace
	if v, ok := r.pickSet("login_namespace", opts.LoginNamespace, "HCP_VAULT_LOGIN_NAMESPACE"); ok {
		res.LoginNamespace = trimPath(v)
	}
	res.SecretNamespace = res.Namespace
	if v, ok := r.pickSet("secret_namespace", opts.SecretNamespace, "HCP_VAULT_SECRET_NAMESPACE"); ok {
		res.SecretNamespace = trimPath(v)
	}
	// LiteLLM trims white space then "/" from the mount and the path prefix,
	// and uses "secret" for a mount left empty.
	res.Mount = r.orDefault("mount", trimPath(r.pick("mount", opts.Mount, "HCP_VAULT_MOUNT_NAME")), DefaultMount)
	res.PathPrefix = trimPath(r.pick("path_prefix", opts.PathPrefix, "HCP_VAULT_PATH_PREFIX"))
	res.DataKey = r.orDefault("data_key", r.pick("data_key", opts.DataKey), DefaultDataKey)
	res.AppRole.RoleID = r.pick("approle.role_id", opts.AppRole.RoleID, "HCP_VAULT_APPROLE_ROLE_ID")
	res.AppRole.SecretID = r.pick("approle.secret_id", opts.AppRole.SecretID, "HCP_VAULT_APPROLE_SECRET_ID")
	res.AppRole.MountPath = r.orDefault("approle.mount_path", r.pick("approle.mount_path", opts.AppRole.MountPath, "HCP_VAULT_APPROLE_MOUNT_PATH"), DefaultAppRoleMount)
	res.CACertFile = r.pick("tls.ca_cert_file", opts.TLS.CACertFile, "VAULT_CACERT")
	res.ClientCertFile = r.pick("tls.client_cert_file", opts.TLS.ClientCertFile, "HCP_VAULT_CLIENT_CERT")
	res.ClientKeyFile = r.pick("tls.client_key_file", opts.TLS.ClientKeyFile, "HCP_VAULT_CLIENT_KEY")
	res.CertRole = r.pick("tls.cert_role", opts.TLS.CertRole, "HCP_VAULT_CERT_ROLE")
	if opts.TLS.SkipVerify != nil {
		res.SkipVerify = *opts.TLS.SkipVerify
		r.sources["tls.skip_verify"] = "hashicorp_vault.tls.skip_verify"
	} else if v := r.pick("tls.skip_verify", "", "VAULT_SKIP_VERIFY"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Resolved{}, backends.Errorf(backends.InvalidArgument, "hashicorp_vault.tls.skip_verify: VAULT_SKIP_VERIFY=%q is not a boolean (true, false, 1, 0)", v)
		}
		res.SkipVerify = b
	}

	if res.Token == "" && res.AppRole.RoleID == "" && res.AppRole.SecretID == "" && res.ClientCertFile == "" && res.ClientKeyFile == "" {
		tok, err := r.tokenFile()
		if err != nil {
			return Resolved{}, err
		}
		res.Token = tok
	}

	if err := res.check(); err != nil {
		return Resolved{}, err
	}
	return res, nil
}

// TokenFileName is the file in the home directory where `vault login`
// (Vault's default token helper) keeps the token.
const TokenFileName = ".vault-token"

// tokenFile is the last fallback of the token, as the Vault CLI has it: the
// content of ~/.vault-token, white space trimmed; "" when there is no such
// file. HOME is read through the resolver's lookup, so tests point it at a
// directory of their own.
func (r *resolver) tokenFile() (string, error) {
	home, ok := r.lookup("HOME")
	if !ok || home == "" {
		return "", nil
	}
	p := filepath.Join(home, TokenFileName)
	b, err := os.ReadFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", nil
	case err != nil:
		return "", backends.Errorf(backends.InvalidArgument, "reading the Vault token from %s (written by vault login): %v; set hashicorp_vault.token, HCP_VAULT_TOKEN or VAULT_TOKEN instead", p, err)
	}
	tok := strings.TrimSpace(string(b))
	if tok != "" {
		r.sources["token"] = "~/" + TokenFileName
	}
	return tok, nil
}

// trimPath trims a namespace, mount or path prefix as LiteLLM's
// _sanitize_path_component does: Python's str.strip() (white space), then
// strip("/"). " /ns1/team/ " is "ns1/team"; " / " is empty.
func trimPath(p string) string { return strings.Trim(pyStrip(p), "/") }

// pyStrip is Python's str.strip() without arguments: it trims the runes
// Python's str.isspace() accepts, which are Go's unicode.IsSpace plus the
// separators U+001C to U+001F.
func pyStrip(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) })
}

// check validates the resolved values and picks the auth method.
func (r *Resolved) check() error {
	u, err := url.Parse(r.Address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return backends.Errorf(backends.InvalidArgument, "%s: %q is not a Vault URL: want http(s)://host[:port], e.g. %s", r.source("address"), backends.RedactURL(r.Address), DefaultAddress)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return backends.Errorf(backends.InvalidArgument, "%s: %q must not have a query or fragment", r.source("address"), backends.RedactURL(r.Address))
	}
	r.Address = strings.TrimRight(r.Address, "/")

	for _, p := range []struct {
		attr     string
		v        *string
		optional bool
	}{
		{"mount", &r.Mount, false},
		{"path_prefix", &r.PathPrefix, true},
		{"approle.mount_path", &r.AppRole.MountPath, false},
	} {
		clean, err := cleanPath(*p.v)
		if err == nil && clean == "" && !p.optional {
			err = fmt.Errorf("must not be empty")
		}
		if err != nil {
			return backends.Errorf(backends.InvalidArgument, "%s %q: %v", r.source(p.attr), *p.v, err)
		}
		*p.v = clean
	}
	if r.DataKey = pyStrip(r.DataKey); r.DataKey == "" {
		return backends.Errorf(backends.InvalidArgument, "%s must not be blank", r.source("data_key"))
	}

	// LiteLLM's priority: AppRole, then TLS certificate, then token.
	switch {
	case r.AppRole.RoleID != "" || r.AppRole.SecretID != "":
		if r.AppRole.RoleID == "" {
			return backends.Errorf(backends.InvalidArgument, "hashicorp_vault.approle.role_id is required when approle.secret_id is set (%s): set it or HCP_VAULT_APPROLE_ROLE_ID", r.source("approle.secret_id"))
		}
		if r.AppRole.SecretID == "" {
			return backends.Errorf(backends.InvalidArgument, "hashicorp_vault.approle.secret_id is required when approle.role_id is set (%s): set it or HCP_VAULT_APPROLE_SECRET_ID", r.source("approle.role_id"))
		}
		r.Method = AuthAppRole
	case r.ClientCertFile != "" || r.ClientKeyFile != "":
		if r.ClientCertFile == "" {
			return backends.Errorf(backends.InvalidArgument, "hashicorp_vault.tls.client_cert_file is required when tls.client_key_file is set (%s): set it or HCP_VAULT_CLIENT_CERT", r.source("tls.client_key_file"))
		}
		if r.ClientKeyFile == "" {
			return backends.Errorf(backends.InvalidArgument, "hashicorp_vault.tls.client_key_file is required when tls.client_cert_file is set (%s): set it or HCP_VAULT_CLIENT_KEY", r.source("tls.client_cert_file"))
		}
		r.Method = AuthCert
	case r.Token != "":
		r.Method = AuthToken
	case r.CertRole != "":
		return backends.Errorf(backends.InvalidArgument, "hashicorp_vault.tls.cert_role is set (%s) but certificate login also needs tls.client_cert_file and tls.client_key_file (or HCP_VAULT_CLIENT_CERT and HCP_VAULT_CLIENT_KEY)", r.source("tls.cert_role"))
	default:
		return backends.Errorf(backends.InvalidArgument, "hashicorp_vault has no credentials: set one of "+
			"hashicorp_vault.token (or HCP_VAULT_TOKEN, VAULT_TOKEN, or ~/.vault-token from vault login); "+
			"hashicorp_vault.approle.role_id and approle.secret_id (or HCP_VAULT_APPROLE_ROLE_ID and HCP_VAULT_APPROLE_SECRET_ID); "+
			"hashicorp_vault.tls.client_cert_file and tls.client_key_file (or HCP_VAULT_CLIENT_CERT and HCP_VAULT_CLIENT_KEY)")
	}
	return nil
}

// cleanPath trims slashes around p and refuses empty, "." and ".." segments
// inside it, and "?", "#" and "%", which LiteLLM's reader would put into its
// request URL unescaped.
func cleanPath(p string) (string, error) {
	p = strings.Trim(p, "/")
	if p == "" {
		return "", nil
	}
	if i := strings.IndexAny(p, "?#%"); i >= 0 {
		return "", fmt.Errorf("must not contain %q: LiteLLM puts it into the request URL unescaped", p[i:i+1])
	}
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "":
			return "", fmt.Errorf("must not contain %q", "//")
		case ".", "..":
			return "", fmt.Errorf("must not contain %q as a path segment", seg)
		}
	}
	return p, nil
}
