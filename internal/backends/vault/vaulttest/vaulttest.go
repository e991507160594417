// Package vaulttest runs a real Vault dev server for tests: the vault store's
// own tests and the provider's acceptance tests.
//
// The binary is the one scripts/tools.sh builds and caches (`scripts/tools.sh
// vault`, found by walking up from the test's working directory to go.mod),
// or $VAULT_BIN when set. Each server listens on a free loopback port with a
// random root token, in memory, and is stopped by t.Cleanup (Start) or Stop
// (Launch). A server that cannot be built or started fails the test with the
// reason: tests never skip for a missing Vault.
//
// Vault's dev server has a KV version 2 engine at secret/. StartTLS serves
// HTTPS with a CA Vault generates (-dev-tls), which TLS certificate login
// needs.
package vaulttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// startTimeout bounds a server's start, from exec to a usable KV engine.
const startTimeout = 60 * time.Second

// Server is a running Vault dev server.
type Server struct {
	// Addr is the server's URL, http://127.0.0.1:<port> (https:// for
	// StartTLS).
	Addr string
	// RootToken is the dev server's root token.
	RootToken string
	// CACertFile is the PEM file of the CA that signed the server's
	// certificate (StartTLS only).
	CACertFile string

	cmd     *exec.Cmd
	dir     string // temporary files: log, TLS
	logPath string
	exited  chan struct{}
	waitErr error

	stopOnce sync.Once
	mu       sync.Mutex // serialises enabling auth methods
	trMu     sync.Mutex
	tr       *http.Transport
}

// Options configures Launch.
type Options struct {
	// TLS serves HTTPS (-dev-tls) with a generated CA in CACertFile.
	TLS bool
}

// Start launches a plain-HTTP server, stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, Options{})
}

// StartTLS launches an HTTPS server, stopped when the test ends.
func StartTLS(t testing.TB) *Server {
	t.Helper()
	return start(t, Options{TLS: true})
}

func start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Launch(opts)
	if err != nil {
		t.Fatalf("starting a Vault dev server: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

var binary struct {
	once sync.Once
	path string
	err  error
}

// Binary returns the path of the vault binary: $VAULT_BIN, else what
// `scripts/tools.sh vault` prints (building it if missing, which takes
// minutes once per machine).
func Binary() (string, error) {
	binary.once.Do(func() { binary.path, binary.err = findBinary() })
	return binary.path, binary.err
}

func findBinary() (string, error) {
	if p := os.Getenv("VAULT_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("VAULT_BIN: %w", err)
		}
		return p, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(filepath.Join(root, "scripts", "tools.sh"), "vault")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("scripts/tools.sh vault: %w\n%s", err, tail(stderr.String(), 40))
	}
	p := strings.TrimSpace(stdout.String())
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("scripts/tools.sh vault printed %q: %w", p, err)
	}
	return p, nil
}

// repoRoot walks up from the working directory to the directory with go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "scripts", "tools.sh")); err == nil {
				return d, nil
			}
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod with scripts/tools.sh above %s; set VAULT_BIN to a vault binary", dir)
		}
	}
}

// Launch starts a server. The caller must Stop it.
func Launch(opts Options) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	var lastErr error
	for range 3 { // a free port can be taken between probe and bind
		s, err := launch(bin, opts)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	return nil, lastErr
}

func launch(bin string, opts Options) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "vaulttest-")
	if err != nil {
		return nil, err
	}
	s := &Server{RootToken: "root-" + randomHex(12), dir: dir, logPath: filepath.Join(dir, "vault.log"), exited: make(chan struct{})}
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	args := []string{
		"server", "-dev",
		"-dev-root-token-id=" + s.RootToken,
		"-dev-listen-address=" + listen,
		"-dev-no-store-token",
	}
	s.Addr = "http://" + listen
	if opts.TLS {
		certDir := filepath.Join(dir, "tls")
		if err := os.Mkdir(certDir, 0o700); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		args = append(args, "-dev-tls", "-dev-tls-cert-dir="+certDir)
		s.Addr = "https://" + listen
		s.CACertFile = filepath.Join(certDir, "vault-ca.pem")
	}
	logf, err := os.Create(s.logPath)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.Env = serverEnv()
	s.cmd.SysProcAttr = sysProcAttr()
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("running %s: %w", bin, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		logf.Close()
		close(s.exited)
	}()
	if err := s.waitReady(); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// serverEnv is the environment without VAULT_* variables, which would
// reconfigure the server.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VAULT_") {
			env = append(env, kv)
		}
	}
	return env
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("listener address %v is not TCP", l.Addr())
	}
	return addr.Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// waitReady polls until the server is unsealed and its KV engine answers,
// the process exits, or startTimeout passes.
func (s *Server) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	client, err := s.newClient()
	if err != nil {
		return err
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		last = s.ready(ctx, client)
		if last == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("vault server exited during start-up (%v); its log:\n%s", s.waitErr, s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("vault server at %s not ready after %s (last check: %v); its log:\n%s", s.Addr, startTimeout, last, s.logTail())
		case <-tick.C:
		}
	}
}

func (s *Server) ready(ctx context.Context, client *api.Client) error {
	h, err := client.Sys().HealthWithContext(ctx)
	if err != nil {
		return err
	}
	if !h.Initialized || h.Sealed {
		return fmt.Errorf("initialized=%t sealed=%t", h.Initialized, h.Sealed)
	}
	// The KV v2 engine upgrades its storage right after mounting.
	_, err = client.Logical().ReadWithContext(ctx, "secret/config")
	return err
}

// Stop stops the server and removes its files. It is safe to call twice.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.cmd != nil && s.cmd.Process != nil {
			_ = s.cmd.Process.Signal(os.Interrupt)
			select {
			case <-s.exited:
			case <-time.After(10 * time.Second):
				_ = s.cmd.Process.Kill()
				<-s.exited
			}
		}
		_ = os.RemoveAll(s.dir)
		s.trMu.Lock()
		if s.tr != nil {
			s.tr.CloseIdleConnections()
		}
		s.trMu.Unlock()
	})
}

func (s *Server) logTail() string {
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return tail(string(data), 40)
}

func tail(s string, lines int) string {
	all := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// newClient returns a root-token client that trusts the server's CA and
// reads nothing from the environment.
func (s *Server) newClient() (*api.Client, error) {
	tr, err := s.httpTransport()
	if err != nil {
		return nil, err
	}
	return s.finishClient(&api.Config{Address: s.Addr, HttpClient: &http.Client{Transport: tr, Timeout: 30 * time.Second}})
}

// httpTransport returns the transport all of the server's clients share.
func (s *Server) httpTransport() (*http.Transport, error) {
	s.trMu.Lock()
	defer s.trMu.Unlock()
	if s.tr != nil {
		return s.tr, nil
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     30 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	if s.CACertFile != "" {
		// The CA file appears once the server has generated it.
		if err := waitFile(s.CACertFile, s.exited); err != nil {
			return nil, fmt.Errorf("%w; its log:\n%s", err, s.logTail())
		}
		pem, err := os.ReadFile(s.CACertFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no PEM certificate in %s", s.CACertFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	s.tr = tr
	return tr, nil
}

func (s *Server) finishClient(conf *api.Config) (*api.Client, error) {
	conf.Timeout = 0 // the http.Client's timeout covers the exchange, body included
	conf.MaxRetries = 0
	c, err := api.NewClient(conf)
	if err != nil {
		return nil, err
	}
	c.SetHeaders(http.Header{api.RequestHeaderName: []string{"true"}})
	c.ClearNamespace()
	c.SetToken(s.RootToken)
	c.SetWrappingLookupFunc(func(string, string) string { return "" })
	return c, nil
}

func waitFile(path string, exited <-chan struct{}) error {
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("vault server exited before writing %s", path)
		case <-deadline.C:
			return fmt.Errorf("vault server did not write %s within %s", path, startTimeout)
		case <-tick.C:
		}
	}
}

// Client returns a client with the root token, for setting up and checking
// state behind the store's back.
func (s *Server) Client(t testing.TB) *api.Client {
	t.Helper()
	c, err := s.newClient()
	if err != nil {
		t.Fatalf("vault client for %s: %v", s.Addr, err)
	}
	return c
}

// WritePolicy creates or replaces the ACL policy name.
func (s *Server) WritePolicy(t testing.TB, name, hcl string) {
	t.Helper()
	if err := s.Client(t).Sys().PutPolicy(name, hcl); err != nil {
		t.Fatalf("writing Vault policy %q: %v", name, err)
	}
}

// enableAuth enables auth method typ at path unless something is mounted
// there already.
func (s *Server) enableAuth(t testing.TB, c *api.Client, path, typ string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	auths, err := c.Sys().ListAuth()
	if err != nil {
		t.Fatalf("listing Vault auth methods: %v", err)
	}
	if _, ok := auths[path+"/"]; ok {
		return
	}
	if err := c.Sys().EnableAuthWithOptions(path, &api.EnableAuthOptions{Type: typ}); err != nil {
		t.Fatalf("enabling Vault auth method %s at %s: %v", typ, path, err)
	}
}

// EnableAppRole enables AppRole at auth/approle (once) and creates a role
// whose tokens get policy, returning its role ID and a new secret ID.
func (s *Server) EnableAppRole(t testing.TB, policy string) (roleID, secretID string) {
	t.Helper()
	return s.AppRole(t, "approle", policy, nil)
}

// AppRole enables AppRole at auth/<mount> (once) and creates a role with
// token_policies = policy and the given extra role parameters (token_ttl,
// token_max_ttl, ...), returning its role ID and a new secret ID.
func (s *Server) AppRole(t testing.TB, mount, policy string, params map[string]any) (roleID, secretID string) {
	t.Helper()
	c := s.Client(t)
	s.enableAuth(t, c, mount, "approle")
	role := "role-" + randomHex(6)
	data := map[string]any{"token_policies": policy}
	for k, v := range params {
		data[k] = v
	}
	rolePath := "auth/" + mount + "/role/" + role
	if _, err := c.Logical().Write(rolePath, data); err != nil {
		t.Fatalf("creating AppRole role %s: %v", rolePath, err)
	}
	sec, err := c.Logical().Read(rolePath + "/role-id")
	if err != nil || sec == nil {
		t.Fatalf("reading %s/role-id: %v", rolePath, err)
	}
	roleID, _ = sec.Data["role_id"].(string)
	sec, err = c.Logical().Write(rolePath+"/secret-id", nil)
	if err != nil || sec == nil {
		t.Fatalf("creating a secret ID for %s: %v", rolePath, err)
	}
	secretID, _ = sec.Data["secret_id"].(string)
	if roleID == "" || secretID == "" {
		t.Fatalf("AppRole role %s: empty role_id or secret_id in Vault's answers", rolePath)
	}
	return roleID, secretID
}

// CertLogin is what TLS certificate login needs.
type CertLogin struct {
	// CertFile and KeyFile are the PEM client certificate and key.
	CertFile, KeyFile string
	// Role is the cert auth role (auth/cert/certs/<Role>).
	Role string
	// CAFile is the CA that signed the client certificate.
	CAFile string
}

// EnableCert enables cert auth at auth/cert (once), generates a CA and a
// client certificate in a temporary directory and creates a role that trusts
// the CA and gives policy. It needs a StartTLS server: Vault reads the client
// certificate from the TLS handshake.
func (s *Server) EnableCert(t testing.TB, policy string) CertLogin {
	t.Helper()
	return s.CertRole(t, policy, nil)
}

// CertRole is EnableCert with extra role parameters (token_ttl, ...).
func (s *Server) CertRole(t testing.TB, policy string, params map[string]any) CertLogin {
	t.Helper()
	if s.CACertFile == "" {
		t.Fatalf("vaulttest: cert auth needs a server from StartTLS (Vault reads the client certificate from the TLS handshake)")
	}
	// The files live as long as the server: a role may serve many tests.
	dir, err := os.MkdirTemp(s.dir, "cert-") //nolint:usetesting // the files must live as long as the server, not the test
	if err != nil {
		t.Fatalf("creating a directory for the client certificate: %v", err)
	}
	pki, err := newClientPKI(dir)
	if err != nil {
		t.Fatalf("generating a client certificate: %v", err)
	}
	c := s.Client(t)
	s.enableAuth(t, c, "cert", "cert")
	role := "cert-" + randomHex(6)
	data := map[string]any{"certificate": pki.caPEM, "token_policies": policy}
	for k, v := range params {
		data[k] = v
	}
	if _, err := c.Logical().Write("auth/cert/certs/"+role, data); err != nil {
		t.Fatalf("creating cert auth role %s: %v", role, err)
	}
	return CertLogin{CertFile: pki.certFile, KeyFile: pki.keyFile, Role: role, CAFile: pki.caFile}
}

// Seal seals the server.
func (s *Server) Seal(t testing.TB) {
	t.Helper()
	if err := s.Client(t).Sys().Seal(); err != nil {
		t.Fatalf("sealing Vault: %v", err)
	}
}

// KVVersion returns the latest version of the KV v2 secret at secret/<path>
// and its data, read with the root token; version 0 means none.
func (s *Server) KVVersion(t testing.TB, path string) (int, map[string]any) {
	t.Helper()
	sec, err := s.Client(t).KVv2("secret").Get(context.Background(), path)
	if errors.Is(err, api.ErrSecretNotFound) {
		return 0, nil
	}
	if err != nil {
		t.Fatalf("reading secret/data/%s: %v", path, err)
	}
	return sec.VersionMetadata.Version, sec.Data
}

// String describes the server without its root token.
func (s *Server) String() string { return "vaulttest.Server{" + s.Addr + "}" }
