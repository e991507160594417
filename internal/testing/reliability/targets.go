// Package reliability proves, across every store, that the provider keeps
// working and loses nothing when a store misbehaves, and that hostile input
// gets a clear error and never a panic.
//
// Its tests (faults_test.go, fuzz_test.go) drive each store's client through
// the layer (*backends.Store) with faults injected between the client and
// the server by internal/testing/faultproxy. This file is the shared part:
// Start runs one store on loopback behind its injector and describes how to
// reach it from a provider block, so the CLI tests of internal/e2e use the
// very same targets.
//
// Covered: local (the dotenv file; its only "network" is the file lock),
// hashicorp_vault (a real Vault dev server, vaulttest, behind an HTTP
// proxy), aws_secret_manager and aws_kms (moto, awstest, behind an HTTP
// proxy that reads the operation and the secret from the JSON request),
// azure_key_vault (kvfake behind a TLS proxy), cyberark (conjurtest behind
// an HTTP proxy), custom (the reference HTTP store behind an HTTP proxy),
// google_secret_manager and google_kms (the gRPC fakes behind a TCP proxy,
// with a call interceptor for per-call faults).
package reliability

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"google.golang.org/grpc/codes"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig/awstest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awskms"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awssm"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/azurekv"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/azurekv/kvfake"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/custom"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/custom/customtest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/cyberark"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/cyberark/conjurtest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpkms"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpkms/gcpkmstest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpsm"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpsm/gcpsmtest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/local"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault/vaulttest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/faultproxy"
)

// Store kinds (key_management_system values) that Start knows.
const (
	Local     = "local"
	Vault     = "hashicorp_vault"
	AWSSM     = "aws_secret_manager"
	AWSKMS    = "aws_kms"
	Azure     = "azure_key_vault"
	CyberArk  = "cyberark"
	Custom    = "custom"
	GoogleSM  = "google_secret_manager"
	GoogleKMS = "google_kms"
)

// Kinds lists every store Start can run, in report order.
var Kinds = []string{Local, Vault, AWSSM, AWSKMS, Azure, CyberArk, Custom, GoogleSM, GoogleKMS}

// Fault is a kind of misbehaviour, applied the way the store's protocol
// allows (see Target.Inject).
type Fault string

// The faults of the issue, in report order.
const (
	Throttle           Fault = "429"
	ThrottleRetryAfter Fault = "429 + Retry-After"
	Error500           Fault = "500"
	Error502           Fault = "502"
	Error503           Fault = "503"
	Drop               Fault = "connection dropped"
	ResetMidBody       Fault = "reset mid-body"
	Hang               Fault = "hang past the per-call timeout"
	Delay              Fault = "delay within the per-call timeout"
	Forbidden          Fault = "403"
)

// Transient lists the faults a store must ride out by retrying.
var Transient = []Fault{Throttle, ThrottleRetryAfter, Error500, Error502, Error503, Drop, ResetMidBody, Hang, Delay}

// RetryAfter is what ThrottleRetryAfter asks for.
const RetryAfter = time.Second

// Op is the store request a fault targets.
type Op int

const (
	// Write is the request that writes a value.
	Write Op = iota
	// Read is the request that reads a value.
	Read
)

func (o Op) String() string {
	if o == Write {
		return "write"
	}
	return "read"
}

// Target is one store running on loopback behind a fault injector.
type Target struct {
	Kind string
	// Label names the target in reports, e.g. "custom (HTTP)".
	Label string
	// HTTP is the proxy in front of HTTP stores.
	HTTP *faultproxy.Proxy
	// TCP and GRPC inject faults into gRPC stores: connections and calls.
	TCP  *faultproxy.TCPProxy
	GRPC *faultproxy.GRPCFaults
	// Block is the provider block's store part (key_management_system and
	// the store's attributes, pointing at the injector), without
	// key_management_settings.
	Block string
	// Env is what the provider process needs in its environment besides
	// Block (Azure's authority host and CA bundle).
	Env map[string]string
	// KMS: the store holds no secrets; writes encrypt.
	KMS bool
	// EnvFile is the dotenv file of the local store.
	EnvFile string
	// LockFile is the local store's lock, which a test holds to make writes
	// hang.
	LockFile string
	// LandingWrite is which write request of a new secret's Put carries the
	// value to the server (Conjur answers the first 404 until the variable
	// is declared, so it is the second).
	LandingWrite int

	open func(tb testing.TB, direct bool) backends.Backend
	// openKeeper replaces open on KMS stores.
	openKeeper func(tb testing.TB, direct bool) backends.Keeper
	paths      func(op Op, stored string) (method, path string)
	methods    map[Op]string // gRPC method of each op
	versions   func(stored string) int
	objects    func() []string
}

// Client is a target's store through the layer, as the provider holds it: a
// *backends.Store for a store that holds secrets, a *backends.Keyring for a
// KMS store (Target.KMS); the other is nil.
type Client struct {
	*backends.Store
	Keyring *backends.Keyring
}

// FullName is the store's or the keyring's FullName.
func (c *Client) FullName(name string, prefix *string, virtualKey bool) (string, error) {
	if c.Keyring != nil {
		return c.Keyring.FullName(name, prefix, virtualKey)
	}
	return c.Store.FullName(name, prefix, virtualKey)
}

// Encrypt is the keyring's Encrypt (KMS stores only).
func (c *Client) Encrypt(ctx context.Context, name string, plaintext []byte) (string, error) {
	return c.Keyring.Encrypt(ctx, name, plaintext)
}

// Decrypt is the keyring's Decrypt (KMS stores only).
func (c *Client) Decrypt(ctx context.Context, name, ciphertext string) (*backends.Secret, error) {
	return c.Keyring.Decrypt(ctx, name, ciphertext)
}

// Close closes the store or the keyring.
func (c *Client) Close() error {
	if c.Keyring != nil {
		return c.Keyring.Close()
	}
	return c.Store.Close()
}

// Open returns a store client through the injector (direct false) or
// straight to the server, with opts (Settings.AccessMode defaults to
// read_and_write). It is closed when the test ends.
func (t *Target) Open(tb testing.TB, direct bool, opts *backends.StoreOptions) *Client {
	tb.Helper()
	var o backends.StoreOptions
	if opts != nil {
		o = *opts
	}
	if o.Settings.AccessMode == "" {
		o.Settings.AccessMode = backends.ReadAndWrite
	}
	if o.LookupEnv == nil {
		o.LookupEnv = func(string) (string, bool) { return "", false }
	}
	c := &Client{}
	var err error
	if t.openKeeper != nil {
		c.Keyring, err = backends.NewKeyring(t.openKeeper(tb, direct), &o)
	} else {
		c.Store, err = backends.NewStore(t.open(tb, direct), &o)
	}
	if err != nil {
		tb.Fatalf("%s: %v", t.Label, err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Stored is the stored spelling of a name (Key Vault maps "_" to "-").
func (t *Target) Stored(tb testing.TB, name string) string {
	tb.Helper()
	full, err := t.Open(tb, true, nil).FullName(name, nil, false)
	if err != nil {
		tb.Fatalf("%s: %v", t.Label, err)
	}
	return full
}

// Versions returns how many versions the server holds under a stored name:
// 0 when it holds none, -1 when the store keeps no versions.
func (t *Target) Versions(stored string) int {
	if t.versions == nil {
		return -1
	}
	return t.versions(stored)
}

// Objects returns the stored names of every object the server holds, with
// a value or without one (a declared Conjur variable, a Secret Manager
// secret without versions), nil for the KMS stores.
func (t *Target) Objects() []string {
	if t.objects == nil {
		return nil
	}
	return t.objects()
}

// Injected sums what the injectors did.
func (t *Target) Injected() faultproxy.Stats {
	var s faultproxy.Stats
	if t.HTTP != nil {
		s = s.Add(t.HTTP.Stats())
	}
	if t.TCP != nil {
		s = s.Add(t.TCP.Stats())
	}
	if t.GRPC != nil {
		s = s.Add(t.GRPC.Stats())
	}
	return s
}

// Requests counts the requests of op on a stored name that reached the
// injector (attempts, retries included).
func (t *Target) Requests(op Op, stored string) int {
	switch {
	case t.HTTP != nil:
		m, p := t.paths(op, stored)
		return t.HTTP.Count(m, p)
	case t.GRPC != nil:
		return t.GRPC.Count(t.methods[op], t.targetRE(stored))
	}
	return 0
}

// Touches counts every request that names a stored secret, whatever the
// operation (a retried write may read before it writes again).
func (t *Target) Touches(stored string) int {
	switch {
	case t.HTTP != nil:
		return t.HTTP.Count("", `(?i)(^|/)`+regexp.QuoteMeta(url.PathEscape(stored))+`(/|$)`)
	case t.GRPC != nil:
		return t.GRPC.Count("", t.targetRE(stored))
	}
	return 0
}

// Supports reports whether the target can inject f.
func (t *Target) Supports(f Fault) bool {
	if t.Kind == Local {
		return f == Hang
	}
	return true
}

// Inject makes the requests of op on a stored name misbehave: the nth
// matching request from now (1 = the next), for times requests
// (faultproxy.Forever: every one). forwarded lets the request reach the
// server first, so a write lands and only its answer is lost. For the local
// store only Hang exists, and it is the test's to make (hold LockFile).
func (t *Target) Inject(tb testing.TB, op Op, stored string, f Fault, nth, times int, forwarded bool) {
	tb.Helper()
	switch {
	case t.HTTP != nil:
		m, p := t.paths(op, stored)
		var ff faultproxy.Fault
		switch f {
		case Throttle:
			ff = faultproxy.Throttle("")
		case ThrottleRetryAfter:
			ff = faultproxy.Throttle(strconv.Itoa(int(RetryAfter / time.Second)))
		case Error500:
			ff = faultproxy.Status(500)
		case Error502:
			ff = faultproxy.Status(502)
		case Error503:
			ff = faultproxy.Status(503)
		case Forbidden:
			ff = faultproxy.Status(403)
		case Drop:
			ff = faultproxy.Drop()
		case ResetMidBody:
			ff = faultproxy.ResetMidBody()
		case Hang:
			ff = faultproxy.Hang()
		case Delay:
			ff = faultproxy.Delay(50 * time.Millisecond)
		default:
			tb.Fatalf("unknown fault %q", f)
		}
		ff.Forwarded = ff.Forwarded || forwarded
		t.HTTP.Add(faultproxy.Rule{Method: m, Path: p, Nth: nth, Times: times, Fault: ff})
	case t.GRPC != nil:
		var cf faultproxy.CallFault
		switch f {
		case Throttle:
			cf.Code = codes.ResourceExhausted
		case ThrottleRetryAfter:
			cf.Code, cf.RetryAfter = codes.ResourceExhausted, RetryAfter
		case Error500:
			cf.Code = codes.Internal
		case Error502, Error503:
			cf.Code = codes.Unavailable
		case Forbidden:
			cf.Code = codes.PermissionDenied
		case Drop:
			cf.Cut = true
		case ResetMidBody:
			cf.Cut, cf.Forwarded = true, true
		case Hang:
			cf.Hang = true
		case Delay:
			cf.Delay = 50 * time.Millisecond
		default:
			tb.Fatalf("unknown fault %q", f)
		}
		cf.Forwarded = cf.Forwarded || forwarded
		cf.Net = t.TCP
		t.GRPC.Add(faultproxy.CallRule{Method: t.methods[op], Target: t.targetRE(stored), Nth: nth, Times: times, CallFault: cf})
	default:
		tb.Fatalf("%s: faults are injected by holding %s", t.Label, t.LockFile)
	}
}

// Clear removes every injected fault.
func (t *Target) Clear() {
	if t.HTTP != nil {
		t.HTTP.Clear()
	}
	if t.GRPC != nil {
		t.GRPC.Clear()
	}
	if t.TCP != nil {
		t.TCP.Clear()
	}
}

// targetRE matches a gRPC request naming a secret id. KMS requests name
// the key, not the secret: every call matches.
func (t *Target) targetRE(stored string) string {
	if t.KMS {
		return ""
	}
	return `(^|/| )` + regexp.QuoteMeta(stored) + `($| |/versions/)`
}

// noEnv is the LookupEnv of every client: targets never read the
// environment of the test process.
func noEnv(string) (string, bool) { return "", false }

// Start runs a store of kind on loopback behind its fault injector; it
// stops when the test ends.
func Start(tb testing.TB, kind string) *Target {
	tb.Helper()
	switch kind {
	case Local:
		return startLocal(tb)
	case Vault:
		return startVault(tb)
	case AWSSM:
		return startAWSSM(tb)
	case AWSKMS:
		return startAWSKMS(tb)
	case Azure:
		return startAzure(tb)
	case CyberArk:
		return startCyberArk(tb)
	case Custom:
		return startCustom(tb)
	case GoogleSM:
		return startGoogleSM(tb)
	case GoogleKMS:
		return startGoogleKMS(tb)
	}
	tb.Fatalf("reliability: unknown store %q", kind)
	return nil
}

func startLocal(tb testing.TB) *Target {
	env := filepath.Join(tb.TempDir(), ".env")
	t := &Target{Kind: Local, Label: "local (dotenv)", EnvFile: env, LockFile: env + ".lock"}
	t.Block = fmt.Sprintf("key_management_system = %q\n  local = {\n    env_file = %q\n  }", Local, env)
	t.open = func(tb testing.TB, _ bool) backends.Backend {
		b, err := local.New(&local.Options{EnvFile: env})
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	return t
}

func startAzure(tb testing.TB) *Target {
	fake := kvfake.New(tb, nil)
	u, err := url.Parse(fake.VaultURL())
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(fake.CAPEM())
	// The proxy's port differs from the fake's, and the fake names its own
	// (the bearer challenge's resource, which the SDK checks against the
	// vault's host and port, and the Entra endpoints): the proxy rewrites
	// it, and Entra is reached through the proxy too so the token's scope
	// is rewritten back.
	proxy, err := faultproxy.Start("https://127.0.0.1:"+u.Port(), &faultproxy.Options{
		TLS: true, UpstreamTLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(proxy.Close)
	proxy.SetRewrite(faultproxy.RewritePort("localhost", u.Port(), proxy.Port()))
	// The client trusts both: the proxy (vault) and the fake (Entra).
	bundle := filepath.Join(tb.TempDir(), "ca-bundle.pem")
	if err := os.WriteFile(bundle, append(append([]byte{}, proxy.CAPEM()...), fake.CAPEM()...), 0o600); err != nil {
		tb.Fatal(err)
	}
	o := fake.Options()
	proxied := "https://" + kvfake.VaultHost + ":" + proxy.Port() + "/"
	authority := "https://" + kvfake.AuthorityHostName + ":" + proxy.Port() + "/"
	t := &Target{Kind: Azure, Label: "azure_key_vault (kvfake)", HTTP: proxy,
		Env: map[string]string{"AZURE_AUTHORITY_HOST": authority, "SSL_CERT_FILE": bundle}}
	t.Block = fmt.Sprintf("key_management_system = %q\n  azure_key_vault = {\n    vault_url     = %q\n    tenant_id     = %q\n    client_id     = %q\n    client_secret = %q\n  }",
		Azure, proxied, o.TenantID, o.ClientID, o.ClientSecret)
	t.open = func(tb testing.TB, direct bool) backends.Backend {
		vault, auth := proxied, authority
		if direct {
			vault, auth = fake.VaultURL(), fake.AuthorityHost()
		}
		b, err := azurekv.New(&azurekv.Options{
			VaultURL: vault, TenantID: o.TenantID, ClientID: o.ClientID, ClientSecret: o.ClientSecret,
			AuthorityHost: auth, CABundle: bundle, LookupEnv: noEnv,
		})
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	t.paths = func(op Op, stored string) (string, string) {
		if op == Write {
			return "PUT", `(?i)^/secrets/` + regexp.QuoteMeta(stored) + `$`
		}
		return "GET", `(?i)^/secrets/` + regexp.QuoteMeta(stored) + `/?$`
	}
	t.versions = fake.Versions
	t.objects = fake.Names
	return t
}

func startCyberArk(tb testing.TB) *Target {
	fake := conjurtest.New(tb, conjurtest.Options{})
	proxy := faultproxy.New(tb, fake.URL, nil)
	t := &Target{Kind: CyberArk, Label: "cyberark (conjurtest)", HTTP: proxy, LandingWrite: 2}
	t.Block = fmt.Sprintf("key_management_system = %q\n  cyberark = {\n    url     = %q\n    login   = %q\n    api_key = %q\n  }",
		CyberArk, proxy.URL(), conjurtest.AdminLogin, conjurtest.AdminAPIKey)
	t.open = func(tb testing.TB, direct bool) backends.Backend {
		u := proxy.URL()
		if direct {
			u = fake.URL
		}
		b, err := cyberark.New(&cyberark.Options{URL: u, Login: conjurtest.AdminLogin, APIKey: conjurtest.AdminAPIKey, LookupEnv: noEnv})
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	t.paths = func(op Op, stored string) (string, string) {
		p := `^/secrets/[^/]+/variable/` + regexp.QuoteMeta(url.PathEscape(stored)) + `$`
		if op == Write {
			return "POST", p
		}
		return "GET", p
	}
	t.versions = func(stored string) int {
		_, n, ok := fake.Value(stored)
		if !ok {
			return 0
		}
		return n
	}
	t.objects = func() []string {
		var out []string
		for _, r := range fake.Policies() {
			for line := range strings.Lines(r) {
				if id, ok := strings.CutPrefix(strings.TrimSpace(line), "- !variable "); ok {
					id = strings.Trim(id, `"'`)
					if fake.Declared(id) && !slices.Contains(out, id) {
						out = append(out, id)
					}
				}
			}
		}
		slices.Sort(out)
		return out
	}
	return t
}

func startCustom(tb testing.TB) *Target {
	server := customtest.StartHTTP(tb)
	proxy := faultproxy.New(tb, server, nil)
	t := &Target{Kind: Custom, Label: "custom (reference HTTP store)", HTTP: proxy}
	t.Block = fmt.Sprintf("key_management_system = %q\n  custom = {\n    url = %q\n  }", Custom, proxy.URL())
	t.open = func(tb testing.TB, direct bool) backends.Backend {
		u := proxy.URL()
		if direct {
			u = server
		}
		b, err := custom.New(context.Background(), &custom.Options{URL: u})
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	t.paths = func(op Op, stored string) (string, string) {
		p := `^/secrets/` + regexp.QuoteMeta(url.PathEscape(stored)) + `$`
		if op == Write {
			return "PUT", p
		}
		return "GET", p
	}
	// The reference store numbers versions by writes, and a GET shows the
	// latest number.
	t.versions = func(stored string) int {
		s, err := backends.NewStore(t.open(tb, true), &backends.StoreOptions{Settings: backends.Settings{AccessMode: backends.ReadAndWrite}})
		if err != nil {
			return 0
		}
		defer s.Close()
		sec, err := s.ReadStored(context.Background(), stored)
		if err != nil {
			return 0
		}
		n, _ := strconv.Atoi(sec.Version)
		return n
	}
	return t
}

// GoogleProject is the project of the Secret Manager target.
const GoogleProject = "reliability-project"

// GoogleKey is the crypto key of the KMS target.
const GoogleKey = "projects/reliability-project/locations/global/keyRings/ring/cryptoKeys/key"

func startGoogleSM(tb testing.TB) *Target {
	g := faultproxy.NewGRPC()
	fake := gcpsmtest.Start(tb, g.ServerOption())
	tcp := faultproxy.NewTCP(tb, fake.Endpoint())
	t := &Target{Kind: GoogleSM, Label: "google_secret_manager (gRPC fake)", TCP: tcp, GRPC: g,
		methods: map[Op]string{Write: "AddSecretVersion", Read: "AccessSecretVersion"}}
	t.Block = fmt.Sprintf("key_management_system = %q\n  google_secret_manager = {\n    project_id = %q\n    endpoint   = %q\n  }", GoogleSM, GoogleProject, tcp.Addr())
	t.open = func(tb testing.TB, direct bool) backends.Backend {
		ep := tcp.Addr()
		if direct {
			ep = fake.Endpoint()
		}
		b, err := gcpsm.New(context.Background(), &gcpsm.Options{ProjectID: GoogleProject, Endpoint: ep, LookupEnv: noEnv})
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	full := func(stored string) string { return "projects/" + GoogleProject + "/secrets/" + stored }
	t.versions = func(stored string) int {
		info, ok := fake.Secret(full(stored))
		if !ok {
			return 0
		}
		return len(info.Versions)
	}
	t.objects = func() []string {
		var out []string
		for _, n := range fake.SecretNames() {
			out = append(out, n[strings.LastIndex(n, "/")+1:])
		}
		return out
	}
	return t
}

func startGoogleKMS(tb testing.TB) *Target {
	g := faultproxy.NewGRPC()
	fake := gcpkmstest.Start(tb, g.ServerOption())
	if err := fake.AddKey(GoogleKey); err != nil {
		tb.Fatal(err)
	}
	tcp := faultproxy.NewTCP(tb, fake.Endpoint())
	t := &Target{Kind: GoogleKMS, Label: "google_kms (gRPC fake)", TCP: tcp, GRPC: g, KMS: true,
		methods: map[Op]string{Write: "Encrypt", Read: "Decrypt"}}
	t.Block = fmt.Sprintf("key_management_system = %q\n  google_kms = {\n    key_name = %q\n    endpoint = %q\n  }", GoogleKMS, GoogleKey, tcp.Addr())
	t.openKeeper = func(tb testing.TB, direct bool) backends.Keeper {
		ep := tcp.Addr()
		if direct {
			ep = fake.Endpoint()
		}
		b, err := gcpkms.New(context.Background(), &gcpkms.Options{KeyName: GoogleKey, Endpoint: ep, LookupEnv: noEnv})
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	return t
}

func startVault(tb testing.TB) *Target {
	srv := vaulttest.Start(tb)
	proxy := faultproxy.New(tb, srv.Addr, nil)
	t := &Target{Kind: Vault, Label: "hashicorp_vault (real Vault dev server)", HTTP: proxy}
	t.Block = fmt.Sprintf("key_management_system = %q\n  hashicorp_vault = {\n    address = %q\n    token   = %q\n  }", Vault, proxy.URL(), srv.RootToken)
	t.open = func(tb testing.TB, direct bool) backends.Backend {
		addr := proxy.URL()
		if direct {
			addr = srv.Addr
		}
		b, err := vault.New(context.Background(), &vault.Options{Address: addr, Token: srv.RootToken, LookupEnv: noEnv})
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	t.paths = func(op Op, stored string) (string, string) {
		p := `^/v1/secret/data/` + regexp.QuoteMeta(stored) + `$`
		if op == Write {
			return "PUT", p
		}
		return "GET", p
	}
	t.versions = func(stored string) int {
		n, _ := srv.KVVersion(tb, stored)
		return n
	}
	t.objects = func() []string {
		sec, err := srv.Client(tb).Logical().List("secret/metadata/")
		if err != nil || sec == nil {
			return []string{}
		}
		keys, _ := sec.Data["keys"].([]any)
		out := []string{}
		for _, k := range keys {
			if s, ok := k.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return t
}

// describeAWS names an AWS JSON request "/<operation>/<secret or key>", from
// X-Amz-Target and the body's SecretId, Name or KeyId (never a value).
func describeAWS(r *http.Request, body []byte) string {
	op := r.Header.Get("X-Amz-Target")
	if _, after, ok := strings.Cut(op, "."); ok {
		op = after
	}
	var in struct{ SecretId, Name, KeyId string }
	_ = json.Unmarshal(body, &in)
	name := in.SecretId
	if name == "" {
		name = in.Name
	}
	if name == "" {
		name = in.KeyId
	}
	return "/" + op + "/" + name
}

func awsBlock(kind, endpoint, extra string) string {
	return fmt.Sprintf("key_management_system = %q\n  %s = {\n    region     = %q\n    endpoint   = %q\n    access_key = %q\n    secret_key = %q\n%s  }",
		kind, kind, awstest.Region, endpoint, awstest.AccessKey, awstest.SecretKey, extra)
}

func startAWSSM(tb testing.TB) *Target {
	endpoint := awstest.StartMoto(tb)
	proxy := faultproxy.New(tb, endpoint, &faultproxy.Options{Describe: describeAWS})
	t := &Target{Kind: AWSSM, Label: "aws_secret_manager (moto)", HTTP: proxy}
	t.Block = awsBlock(AWSSM, proxy.URL(), "")
	t.open = func(tb testing.TB, direct bool) backends.Backend {
		ep := proxy.URL()
		if direct {
			ep = endpoint
		}
		b, err := awssm.New(context.Background(), &awssm.Options{AWS: awstest.Options(ep), LookupEnv: noEnv})
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	t.paths = func(op Op, stored string) (string, string) {
		if op == Write {
			return "POST", `^/(CreateSecret|PutSecretValue)/` + regexp.QuoteMeta(stored) + `$`
		}
		return "POST", `^/GetSecretValue/` + regexp.QuoteMeta(stored) + `$`
	}
	client := func(tb testing.TB) *secretsmanager.Client {
		o := awstest.Options(endpoint)
		cfg, err := awsconfig.Load(context.Background(), awsconfig.Service{Block: AWSSM}, &o, noEnv)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { cfg.Close() })
		return secretsmanager.NewFromConfig(cfg.AWS, func(so *secretsmanager.Options) { so.BaseEndpoint = cfg.BaseEndpoint() })
	}
	t.versions = func(stored string) int {
		out, err := client(tb).ListSecretVersionIds(context.Background(), &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(stored)})
		if err != nil {
			return 0
		}
		return len(out.Versions)
	}
	t.objects = func() []string {
		out := []string{}
		res, err := client(tb).ListSecrets(context.Background(), &secretsmanager.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)})
		if err != nil {
			return out
		}
		for _, e := range res.SecretList {
			out = append(out, aws.ToString(e.Name))
		}
		return out
	}
	return t
}

func startAWSKMS(tb testing.TB) *Target {
	endpoint := awstest.StartMoto(tb)
	key := awstest.CreateKMSKey(tb, endpoint)
	proxy := faultproxy.New(tb, endpoint, &faultproxy.Options{Describe: describeAWS})
	t := &Target{Kind: AWSKMS, Label: "aws_kms (moto)", HTTP: proxy, KMS: true}
	t.Block = awsBlock(AWSKMS, proxy.URL(), fmt.Sprintf("    key_id     = %q\n", key))
	t.openKeeper = func(tb testing.TB, direct bool) backends.Keeper {
		ep := proxy.URL()
		if direct {
			ep = endpoint
		}
		b, err := awskms.New(context.Background(), &awskms.Options{AWS: awstest.Options(ep), KeyID: key, LookupEnv: noEnv})
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	t.paths = func(op Op, _ string) (string, string) {
		if op == Write {
			return "POST", `^/Encrypt/`
		}
		return "POST", `^/Decrypt/`
	}
	return t
}
