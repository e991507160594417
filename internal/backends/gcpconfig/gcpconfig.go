// Package gcpconfig is the configuration the Google stores share
// (google_secret_manager in package gcpsm, google_kms in package gcpkms): how
// the client authenticates, where it connects, and how gRPC errors map to the
// layer's codes.
//
// # Credentials
//
// In this order, the first that is set wins:
//
//  1. access_token (Options.AccessToken): an OAuth2 access token, sent as is.
//  2. credentials (Options.Credentials): a credentials JSON document (service
//     account key, authorized user, external account, impersonated service
//     account), given as its content or as the path of a file holding it.
//  3. GOOGLE_OAUTH_ACCESS_TOKEN, then GOOGLE_CREDENTIALS: the variables of
//     Terraform's google provider, with the same meaning as the attributes,
//     then the store's own credentials variables (Options.CredentialsEnv:
//     GCS_PATH_SERVICE_ACCOUNT, LiteLLM's, for google_secret_manager), read
//     like credentials.
//  4. Application Default Credentials, found by the SDK: the file named by
//     GOOGLE_APPLICATION_CREDENTIALS, gcloud's application-default login, or
//     the metadata server on Google Cloud.
//
// Setting both access_token and credentials in the block is an error.
//
// # Endpoint
//
// endpoint (Options.Endpoint) overrides the service's address, for Private
// Service Connect, a regional endpoint or an emulator. "host:port" and
// "https://host[:port]" are reached over TLS with the credentials above (port
// 443 by default). "http://host[:port]", or a loopback host (localhost,
// 127.0.0.0/8, ::1) without a scheme, is reached in plain text without any
// credentials: that is how emulators and the tests' fakes are reached.
//
// # Retries
//
// The SDK's own retries are turned off by the store packages: the layer's
// *backends.Store is the one retry budget. Errors keep their gRPC status;
// Code maps it, and Wrap attaches the delay of a RetryInfo detail so the
// layer waits at least that long.
package gcpconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// Environment variables read by Resolve, beside the SDK's own
// GOOGLE_APPLICATION_CREDENTIALS.
const (
	EnvAccessToken = "GOOGLE_OAUTH_ACCESS_TOKEN"
	EnvCredentials = "GOOGLE_CREDENTIALS"
)

// Options are the attributes every Google block has.
type Options struct {
	// Block is the provider block, "google_secret_manager" or "google_kms",
	// for error messages.
	Block string
	// Credentials is a credentials JSON document or the path of a file that
	// holds one (credentials): GOOGLE_CREDENTIALS.
	Credentials string
	// AccessToken is an OAuth2 access token (access_token):
	// GOOGLE_OAUTH_ACCESS_TOKEN.
	AccessToken string
	// Endpoint overrides the service address (endpoint).
	Endpoint string
	// CredentialsEnv are more variables read like credentials, in order,
	// after GOOGLE_CREDENTIALS: the store's reader's own (LiteLLM's
	// GCS_PATH_SERVICE_ACCOUNT for Secret Manager).
	CredentialsEnv []string
	// LookupEnv reads the environment for the fallbacks; nil means
	// os.LookupEnv. Tests inject their own.
	LookupEnv func(string) (string, bool)
	// DialOptions are added to the gRPC dial (tests trust their own TLS
	// certificate with it).
	DialOptions []grpc.DialOption
}

// AuthMethod says how the client authenticates.
type AuthMethod string

// Auth methods, in priority order.
const (
	AuthAccessToken AuthMethod = "access_token"
	AuthCredentials AuthMethod = "credentials"
	AuthADC         AuthMethod = "application_default_credentials"
	// AuthNone is used for plain-text endpoints (emulators, tests).
	AuthNone AuthMethod = "none"
)

// credentialsTypes are the "type" values of credentials documents the
// provider accepts, each mapped to the SDK's option.
var credentialsTypes = map[string]option.CredentialsType{
	"service_account":                  option.ServiceAccount,
	"authorized_user":                  option.AuthorizedUser,
	"external_account":                 option.ExternalAccount,
	"impersonated_service_account":     option.ImpersonatedServiceAccount,
	"external_account_authorized_user": option.CredentialsType("external_account_authorized_user"),
}

// Resolved is Options with every fallback applied. It holds credentials:
// String and Format redact them.
type Resolved struct {
	Block string
	// Endpoint is host:port, or empty for the service's default.
	Endpoint string
	// Plaintext: no TLS and no credentials.
	Plaintext bool
	Auth      AuthMethod
	// Source says where the credentials came from ("google_kms.credentials",
	// "GOOGLE_CREDENTIALS", ...); empty for ADC and none.
	Source          string
	accessToken     string
	credentialsJSON []byte
	credentialsType option.CredentialsType
	dialOptions     []grpc.DialOption
}

// String describes the configuration without credentials.
func (r Resolved) String() string {
	return fmt.Sprintf("Resolved{Block: %s, Endpoint: %q, Plaintext: %t, Auth: %s, Source: %q, credentials: (redacted)}",
		r.Block, r.Endpoint, r.Plaintext, r.Auth, r.Source)
}

// Format makes every fmt verb print String, so formatting never leaks a
// token or a key.
func (r Resolved) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, r.String()) }

// CredentialsType returns the "type" of the credentials document, for
// AuthCredentials.
func (r Resolved) CredentialsType() string { return string(r.credentialsType) }

// Lookup returns the value of the first variable of vars that is set and not
// empty, with its name.
func (o *Options) Lookup(vars ...string) (value, name string) {
	lookup := os.LookupEnv
	if o != nil && o.LookupEnv != nil {
		lookup = o.LookupEnv
	}
	for _, v := range vars {
		if val, ok := lookup(v); ok && strings.TrimSpace(val) != "" {
			return strings.TrimSpace(val), v
		}
	}
	return "", ""
}

// Resolve applies the fallbacks, in one place, and checks the result. It
// reads the credentials file when credentials is a path, but calls nothing.
// Errors are InvalidArgument and name the attribute.
func (o *Options) Resolve() (Resolved, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	r := Resolved{Block: opts.Block, dialOptions: opts.DialOptions}
	endpoint, plaintext, err := ParseEndpoint(opts.Endpoint)
	if err != nil {
		return Resolved{}, backends.Errorf(backends.InvalidArgument, "%s.endpoint: %w", opts.Block, err)
	}
	r.Endpoint, r.Plaintext = endpoint, plaintext
	token, creds := strings.TrimSpace(opts.AccessToken), strings.TrimSpace(opts.Credentials)
	if token != "" && creds != "" {
		return Resolved{}, backends.Errorf(backends.InvalidArgument, "%[1]s: set only one of %[1]s.access_token and %[1]s.credentials", opts.Block)
	}
	switch {
	case r.Plaintext:
		r.Auth = AuthNone
		return r, nil
	case token != "":
		r.Auth, r.Source, r.accessToken = AuthAccessToken, opts.Block+".access_token", token
		return r, nil
	case creds != "":
		r.Source = opts.Block + ".credentials"
	default:
		if v, name := opts.Lookup(EnvAccessToken); v != "" {
			r.Auth, r.Source, r.accessToken = AuthAccessToken, name, v
			return r, nil
		}
		if v, name := opts.Lookup(append([]string{EnvCredentials}, opts.CredentialsEnv...)...); v != "" {
			creds, r.Source = v, name
		}
	}
	if creds == "" {
		r.Auth = AuthADC
		return r, nil
	}
	r.Auth = AuthCredentials
	r.credentialsJSON, r.credentialsType, err = loadCredentials(creds)
	if err != nil {
		return Resolved{}, backends.Errorf(backends.InvalidArgument, "%s: %w", r.sourceAttr(), err)
	}
	return r, nil
}

// sourceAttr names where the credentials came from in a message.
func (r Resolved) sourceAttr() string {
	if strings.HasPrefix(r.Source, r.Block+".") {
		return r.Source
	}
	return r.Block + ".credentials (from " + r.Source + ")"
}

// loadCredentials reads a credentials document given as content (it starts
// with "{") or as a file path, and returns it with its type. Messages never
// quote the document nor the path: what looks like a path may be the key
// itself in another form (base64, a PEM body), and the document holds a
// private key.
func loadCredentials(s string) ([]byte, option.CredentialsType, error) {
	data := []byte(s)
	if !strings.HasPrefix(s, "{") {
		var err error
		data, err = os.ReadFile(s)
		if err != nil {
			return nil, "", fmt.Errorf("not a JSON document, and not a readable file (%s): give the document itself, "+
				"starting with \"{\", or the path of a file holding it; base64 is not accepted, decode it first", fileErrorWithoutPath(err))
		}
	}
	var doc struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, "", fmt.Errorf("the credentials are not valid JSON: %s", jsonErrorWithoutContent(err))
	}
	t, ok := credentialsTypes[doc.Type]
	if !ok {
		return nil, "", fmt.Errorf("the credentials document has %s; want one of service_account, authorized_user, external_account, impersonated_service_account, external_account_authorized_user", describeType(doc.Type))
	}
	return data, t, nil
}

// fileErrorWithoutPath describes why a file could not be read without its
// path (an *fs.PathError quotes it).
func fileErrorWithoutPath(err error) string {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no file has that path"
	case errors.Is(err, fs.ErrPermission):
		return "the file it names cannot be read: permission denied"
	case errors.As(err, &pe):
		return "the file it names cannot be read: " + pe.Err.Error()
	}
	return "the file it names cannot be read"
}

// describeType names the "type" of a credentials document only when it looks
// like one (a short lower-case identifier): anything else may be a secret
// pasted in the wrong field.
func describeType(t string) string {
	if t == "" {
		return "no \"type\""
	}
	if len(t) <= 40 && strings.Trim(t, "abcdefghijklmnopqrstuvwxyz_") == "" {
		return fmt.Sprintf("type %q", t)
	}
	return "a \"type\" that is not a credentials type"
}

// jsonErrorWithoutContent describes a JSON error by its kind and offset,
// never the bytes around it.
func jsonErrorWithoutContent(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("syntax error at byte %d", e.Offset)
	case *json.UnmarshalTypeError:
		return fmt.Sprintf("want an object, got a JSON %s", e.Value)
	}
	return "malformed document"
}

// ParseEndpoint turns an endpoint attribute into a gRPC address and says
// whether it is reached in plain text: http:// or a loopback host without a
// scheme. Empty means the service's default.
func ParseEndpoint(s string) (addr string, plaintext bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false, nil
	}
	hostport, scheme := s, ""
	if i := strings.Index(s, "://"); i >= 0 {
		u, err := url.Parse(s)
		if err != nil {
			// *url.Error quotes the whole URL, user info included.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return "", false, fmt.Errorf("%q is not a URL: %w", backends.RedactURL(s), err)
		}
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return "", false, fmt.Errorf("%q: want scheme://host[:port] without path, query or user", backends.RedactURL(s))
		}
		scheme, hostport = u.Scheme, u.Host
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.Trim(hostport, "[]"), ""
	}
	if host == "" || strings.ContainsAny(host, "/ @") {
		return "", false, fmt.Errorf("%q: want host:port, https://host[:port] or http://host[:port]", backends.RedactURL(s))
	}
	switch scheme {
	case "":
		plaintext = isLoopback(host)
	case "http":
		plaintext = true
	case "https":
	default:
		return "", false, fmt.Errorf("%q: the scheme must be http or https", backends.RedactURL(s))
	}
	if port == "" {
		port = "443"
		if plaintext && scheme == "http" {
			port = "80"
		}
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return "", false, fmt.Errorf("%q: port %q is not a number between 1 and 65535", backends.RedactURL(s), port)
	}
	return net.JoinHostPort(host, port), plaintext, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ClientOptions returns the SDK options for r. defaultEndpoint replaces the
// SDK's own when r has no endpoint and it is not empty (regional endpoints).
func (r Resolved) ClientOptions(defaultEndpoint string) []option.ClientOption {
	var opts []option.ClientOption
	switch {
	case r.Endpoint != "":
		opts = append(opts, option.WithEndpoint(r.Endpoint))
	case defaultEndpoint != "":
		opts = append(opts, option.WithEndpoint(defaultEndpoint))
	}
	switch r.Auth {
	case AuthNone:
		opts = append(opts, option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	case AuthAccessToken:
		opts = append(opts, option.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: r.accessToken, TokenType: "Bearer"})))
	case AuthCredentials:
		opts = append(opts, option.WithAuthCredentialsJSON(r.credentialsType, r.credentialsJSON))
	}
	for _, d := range r.dialOptions {
		opts = append(opts, option.WithGRPCDialOption(d))
	}
	// The SDK logs request and response bodies, values included, when
	// GOOGLE_SDK_GO_LOGGING_LEVEL is set: its logger discards everything.
	return append(opts, option.WithTelemetryDisabled(), option.WithLogger(slog.New(slog.DiscardHandler)))
}
