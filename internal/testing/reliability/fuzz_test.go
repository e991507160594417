package reliability

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig/awstest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awssm"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/azurekv"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/custom"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/cyberark"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpsm"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/local"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/backendtest"
)

// Hostile input, fuzzed. Seed corpora are in testdata/fuzz/<FuzzName>; a
// plain `go test` runs the seeds, `make fuzz` (scripts/fuzz.sh) mutates
// them for FUZZTIME each. Every input gets a clear error or a correct
// answer, never a panic, and no error quotes a secret value.

// maxErrorBytes bounds an error about a name: names are quoted truncated.
const maxErrorBytes = 2048

// nameStores are the stores with their own name rules, each wrapped in the
// layer as the provider uses it. They are built offline: no call is made.
type nameStore struct {
	kind  string
	store *backends.Store
}

func nameStores(t testing.TB) []nameStore {
	ctx := context.Background()
	rw := &backends.StoreOptions{Settings: backends.Settings{AccessMode: backends.ReadAndWrite}, LookupEnv: noEnv}
	var out []nameStore
	add := func(kind string, b backends.Backend, err error) {
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		s, err := backends.NewStore(b, rw)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		out = append(out, nameStore{kind, s})
	}
	b, err := local.New(&local.Options{EnvFile: filepath.Join(t.TempDir(), ".env")})
	add(Local, b, err)
	b, err = vault.New(ctx, &vault.Options{Address: "http://127.0.0.1:9", Token: "t", LookupEnv: noEnv})
	add(Vault, b, err)
	b, err = awssm.New(ctx, &awssm.Options{AWS: awstest.Options("http://127.0.0.1:9"), LookupEnv: noEnv})
	add(AWSSM, b, err)
	b, err = gcpsm.New(ctx, &gcpsm.Options{ProjectID: GoogleProject, Endpoint: "127.0.0.1:9", LookupEnv: noEnv})
	add(GoogleSM, b, err)
	b, err = cyberark.New(&cyberark.Options{URL: "http://127.0.0.1:9", Login: "admin", APIKey: "k", LookupEnv: noEnv})
	add(CyberArk, b, err)
	return out
}

// pathServer records the decoded and escaped path of each request and
// answers 404, so a read of any name is NotFound.
type pathServer struct {
	*httptest.Server
	mu               sync.Mutex
	paths, rawPaths  []string
	answerNotFound   []byte
	answerNotFoundCT string
}

func newPathServer(t testing.TB, body, ctype string) *pathServer {
	p := &pathServer{answerNotFound: []byte(body), answerNotFoundCT: ctype}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.paths = append(p.paths, r.URL.Path)
		p.rawPaths = append(p.rawPaths, r.URL.EscapedPath())
		p.mu.Unlock()
		switch {
		case r.URL.Path == "/capabilities":
			_, _ = io.WriteString(w, `{"operations":["get","put","delete"]}`)
		case strings.HasPrefix(r.URL.Path, "/authn/"):
			_, _ = w.Write(conjurToken())
		default:
			w.Header().Set("Content-Type", p.answerNotFoundCT)
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write(p.answerNotFound)
		}
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *pathServer) take() (paths, raw []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	paths, raw = p.paths, p.rawPaths
	p.paths, p.rawPaths = nil, nil
	return paths, raw
}

// conjurToken is an access token as Conjur answers a login.
func conjurToken() []byte {
	now := time.Now().Unix()
	payload := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, `{"sub":"admin","iat":%d,"exp":%d}`, now, now+480))
	return fmt.Appendf(nil, `{"protected":"e30=","payload":%q,"signature":"c2ln"}`, payload)
}

// FuzzNames: any name, through the shared rules (backends.ValidateName) and
// every store's own (NameValidator), as the provider
// applies them at plan (Store.FullName). A name is refused with a short
// InvalidArgument error that names the store when the store's own rule
// refuses it; an accepted name keeps the shared invariants (no "..", "."
// or empty path segment where names are paths, no control character, valid
// UTF-8) and reaches the store's server as exactly one object: the path the
// server decodes is the name, and where names are one URL segment (Conjur,
// custom stores) it stays one segment.
func FuzzNames(f *testing.F) {
	stores := nameStores(f)
	vaultSrv := newPathServer(f, `{"errors":[]}`, "application/json")
	conjurSrv := newPathServer(f, `{"error":{"code":"not_found","message":"no"}}`, "application/json")
	customSrv := newPathServer(f, `{"error":{"code":"not_found","message":"no"}}`, "application/json")
	ctx := context.Background()
	rw := &backends.StoreOptions{Settings: backends.Settings{AccessMode: backends.ReadAndWrite}, LookupEnv: noEnv, Retry: backends.RetryPolicy{MaxAttempts: 1}}
	open := func(b backends.Backend, err error) *backends.Store {
		if err != nil {
			f.Fatal(err)
		}
		s, err := backends.NewStore(b, rw)
		if err != nil {
			f.Fatal(err)
		}
		return s
	}
	vaultStore := open(vault.New(ctx, &vault.Options{Address: vaultSrv.URL, Token: "t", LookupEnv: noEnv}))
	conjurStore := open(cyberark.New(&cyberark.Options{URL: conjurSrv.URL, Login: "admin", APIKey: "k", LookupEnv: noEnv}))
	customStore := open(custom.New(ctx, &custom.Options{URL: customSrv.URL}))
	customSrv.take()

	f.Add("OPENAI_API_KEY")
	f.Add("../etc/passwd")
	f.Fuzz(func(t *testing.T, name string) {
		shared := backends.ValidateName(name)
		checkNameError(t, "shared rules", name, shared, "")
		if shared == nil {
			checkSharedInvariants(t, name)
		}
		for _, s := range stores {
			full, err := s.store.FullName(name, nil, false)
			if shared != nil && err == nil {
				t.Fatalf("%s accepted a name the shared rules refuse (%v)", s.kind, shared)
			}
			if err != nil {
				want := ""
				if shared == nil {
					want = s.kind // the store's own rule: it must say which store
				}
				checkNameError(t, s.kind, name, err, want)
				continue
			}
			if full != name {
				t.Fatalf("%s: %q is stored as %q; LiteLLM reads the name as given", s.kind, name, full)
			}
			if err := backends.ValidateName(full); err != nil {
				t.Fatalf("%s: the stored name fails the shared rules: %v", s.kind, err)
			}
			if again, err := s.store.FullName(full, nil, false); err != nil || again != full {
				t.Fatalf("%s: the stored name does not map to itself: %q, %v", s.kind, again, err)
			}
		}
		// Key Vault: names are never respelled; a refused name's suggested
		// spelling is one Key Vault accepts.
		if err := azurekv.CheckName(name); err != nil {
			if sug := azurekv.SuggestName(name); sug != "" {
				if err := azurekv.CheckName(sug); err != nil {
					t.Fatalf("azure_key_vault: the suggested spelling %q of %q is refused: %v", sug, name, err)
				}
			}
		}
		// The object the server sees.
		checkPath(t, "hashicorp_vault", vaultStore, vaultSrv, name, false, "/v1/secret/data/", "/v1/secret/metadata/")
		checkPath(t, "cyberark", conjurStore, conjurSrv, name, true, "/secrets/default/variable/", "/resources/default/variable/")
		checkPath(t, "custom", customStore, customSrv, name, true, "/secrets/")
	})
}

// checkNameError: a refusal is InvalidArgument, short, and names the store
// when want is set.
func checkNameError(t *testing.T, who, name string, err error, want string) {
	t.Helper()
	if err == nil {
		return
	}
	if c := backends.CodeOf(err); c != backends.InvalidArgument {
		t.Fatalf("%s: refusing %q: code %v, want InvalidArgument (%v)", who, name, c, err)
	}
	msg := err.Error()
	if len(msg) > maxErrorBytes {
		t.Fatalf("%s: the error about a %d-byte name is %d bytes long", who, len(name), len(msg))
	}
	if !utf8.ValidString(msg) {
		t.Fatalf("%s: the error is not valid UTF-8: %q", who, msg)
	}
	for _, r := range msg {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029 {
			t.Fatalf("%s: the error carries control character %U raw: %q", who, r, msg)
		}
	}
	if want != "" && !strings.Contains(msg, want) {
		t.Fatalf("%s: the error %q does not name the store", who, msg)
	}
}

func checkSharedInvariants(t *testing.T, name string) {
	t.Helper()
	if name == "" || !utf8.ValidString(name) {
		t.Fatalf("accepted an empty or non-UTF-8 name %q", name)
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == ".." {
			t.Fatalf("accepted %q with a \"..\" segment", name)
		}
	}
	for _, r := range name {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029 {
			t.Fatalf("accepted %q with control character %U", name, r)
		}
	}
}

// checkPath reads name through s and checks what reached srv: each decoded
// path is one of the prefixes followed by name, and with oneSegment the
// name is one escaped segment.
func checkPath(t *testing.T, kind string, s *backends.Store, srv *pathServer, name string, oneSegment bool, prefixes ...string) {
	t.Helper()
	if s.ValidateName(name) != nil {
		return
	}
	_, err := s.ReadStored(context.Background(), name)
	if c := backends.CodeOf(err); c != backends.NotFound {
		t.Fatalf("%s: reading %q from a server that answers 404: got %v, want NotFound", kind, name, err)
	}
	paths, raw := srv.take()
	found := false
	for i, p := range paths {
		if strings.HasPrefix(p, "/authn/") {
			continue
		}
		ok := false
		for _, prefix := range prefixes {
			if p != prefix+name {
				continue
			}
			ok = true
			if oneSegment {
				rest, cut := strings.CutPrefix(raw[i], prefix)
				if !cut || strings.Contains(rest, "/") {
					t.Fatalf("%s: %q reached the server as several path segments: %s", kind, name, raw[i])
				}
				if u, err := url.PathUnescape(rest); err != nil || u != name {
					t.Fatalf("%s: %q reached the server as %s", kind, name, raw[i])
				}
			}
		}
		if !ok {
			t.Fatalf("%s: reading %q reached the server at %q (escaped %s), want one of %q followed by the name", kind, name, p, raw[i], prefixes)
		}
		found = true
	}
	if !found {
		t.Fatalf("%s: reading %q made no request for it (paths %q)", kind, name, paths)
	}
}

// FuzzPrimarySecret: whatever the store holds under primary_secret_name
// (not JSON, truncated JSON, an array, null, fields that are numbers,
// objects or null), a read of a field and a write of another get a value or
// a clear FailedPrecondition/NotFound, the write never overwrites an object
// it cannot parse, and no error quotes the payload.
func FuzzPrimarySecret(f *testing.F) {
	f.Add([]byte(`{"OPENAI_API_KEY":"sk-1"}`))
	f.Add([]byte(`{"OPENAI_API_KEY":1}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		m := backendtest.NewMemStore(backends.Caps{Write: true, Delete: true, Binary: true, PrimarySecret: true})
		ctx := context.Background()
		raw, err := backends.NewStore(m, &backends.StoreOptions{Settings: backends.Settings{AccessMode: backends.ReadAndWrite}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Write(ctx, backends.WriteRequest{Name: "PRIMARY", Value: payload}); err != nil {
			t.Fatal(err)
		}
		s, err := backends.NewStore(m, &backends.StoreOptions{Settings: backends.Settings{AccessMode: backends.ReadAndWrite, PrimarySecretName: "PRIMARY"}})
		if err != nil {
			t.Fatal(err)
		}
		var fields map[string]any
		// An empty value is an empty object, as LiteLLM's
		// _parse_primary_secret reads it.
		object := len(payload) == 0 || json.Unmarshal(payload, &fields) == nil && fields != nil
		for _, field := range []string{"OPENAI_API_KEY", "A"} {
			sec, err := s.ReadStored(ctx, field)
			checkPrimaryError(t, "reading "+field, payload, err)
			if err == nil {
				v, ok := fields[field].(string)
				if !object || !ok || v != string(sec.Value) {
					t.Fatalf("reading %s: got a value the object does not hold as a string", field)
				}
			}
		}
		_, err = s.Write(ctx, backends.WriteRequest{Name: "NEW_FIELD", Value: []byte("v")})
		checkPrimaryError(t, "writing NEW_FIELD", payload, err)
		after, _ := raw.ReadStored(ctx, "PRIMARY")
		if err != nil && !bytes.Equal(after.Value, payload) {
			t.Fatal("a failed write changed the primary secret")
		}
		if err == nil {
			var now map[string]json.RawMessage
			if json.Unmarshal(after.Value, &now) != nil || string(now["NEW_FIELD"]) != `"v"` {
				t.Fatal("a write succeeded but the primary secret does not hold the field")
			}
			if !object {
				t.Fatal("a write succeeded over a primary secret that is not a JSON object")
			}
		}
	})
}

func checkPrimaryError(t *testing.T, what string, payload []byte, err error) {
	t.Helper()
	if err == nil {
		return
	}
	switch backends.CodeOf(err) {
	case backends.NotFound, backends.FailedPrecondition:
	default:
		t.Fatalf("%s: code %v, want NotFound or FailedPrecondition: %v", what, backends.CodeOf(err), err)
	}
	if len(payload) >= 12 && strings.Contains(err.Error(), string(payload)) {
		t.Fatalf("%s: the error quotes the primary secret's content", what)
	}
}

// responseMarker is a secret value in the seeds' answers: an error about a
// broken success answer that holds it must not quote it.
const responseMarker = "sk-fuzz-marker-0123456789"

// Response kinds of FuzzStoreResponses: which store, and which of its
// answers is the hostile one.
const (
	respCustomGet = iota
	respCustomCapabilities
	respAzureGet
	respConjurLogin
	respConjurVersions
	respVaultGet
	respAWSGet
	respKinds
)

var respStore = map[int]string{
	respCustomGet: Custom, respCustomCapabilities: Custom, respAzureGet: Azure, respConjurLogin: CyberArk,
	respConjurVersions: CyberArk, respVaultGet: Vault, respAWSGet: AWSSM,
}

// answer is the hostile answer of the current input.
type answer struct {
	kind   int
	status int
	body   []byte
}

// hostile serves the current answer where the input's kind says, and
// well-formed answers elsewhere (a Conjur login, a custom store's
// capabilities), so each input reaches the answer it targets.
type hostile struct {
	mu  sync.Mutex
	cur answer
}

func (h *hostile) set(a answer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cur = a
}

func (h *hostile) get() answer {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cur
}

func (h *hostile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := h.get()
	fuzzed := true
	switch {
	case r.URL.Path == "/capabilities":
		fuzzed = a.kind == respCustomCapabilities
		if !fuzzed {
			_, _ = io.WriteString(w, `{"operations":["get","put","delete"]}`)
		}
	case strings.HasPrefix(r.URL.Path, "/authn/"):
		fuzzed = a.kind == respConjurLogin
		if !fuzzed {
			_, _ = w.Write(conjurToken())
		}
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/secrets/"):
		fuzzed = false
		w.WriteHeader(http.StatusCreated)
	}
	if !fuzzed {
		return
	}
	switch a.kind {
	case respAWSGet:
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	default:
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// RoundTrip serves the answer to the Key Vault client (policy.Transporter).
func (h *hostile) Do(r *http.Request) (*http.Response, error) {
	a := h.get()
	return &http.Response{
		StatusCode: a.status, Status: fmt.Sprintf("%d %s", a.status, http.StatusText(a.status)),
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(a.body)),
		ContentLength: int64(len(a.body)), Request: r, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}, nil
}

var _ policy.Transporter = (*hostile)(nil)

// staticToken is a credential that needs no network.
type staticToken struct{}

func (staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "fuzz", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// FuzzStoreResponses: answers that are truncated, not JSON, JSON of the
// wrong shape, or of any status, from each HTTP store the provider parses
// JSON from: custom HTTP stores (a read, the capabilities call), Key Vault
// (a read), Conjur (the login's access token, the version list read after a
// write), Vault (a read) and AWS Secrets Manager (a read). Each gets a
// value or an error that names the store and the secret, never a panic, and
// an error about a broken success answer does not quote the value in it.
func FuzzStoreResponses(f *testing.F) {
	h := &hostile{}
	srv := httptest.NewUnstartedServer(h)
	// Each input builds fresh clients: the server closes every connection
	// after its answer, so none piles up over millions of inputs.
	srv.Config.SetKeepAlivesEnabled(false)
	srv.Start()
	f.Cleanup(srv.Close)
	ctx := context.Background()
	opts := &backends.StoreOptions{
		Settings: backends.Settings{AccessMode: backends.ReadAndWrite}, LookupEnv: noEnv,
		Retry: backends.RetryPolicy{MaxAttempts: 1}, CallTimeout: 5 * time.Second,
	}
	wrap := func(b backends.Backend, err error) *backends.Store {
		if err != nil {
			f.Fatal(err)
		}
		s, err := backends.NewStore(b, opts)
		if err != nil {
			f.Fatal(err)
		}
		return s
	}
	azure := wrap(azurekv.New(&azurekv.Options{VaultURL: "https://fuzz.vault.azure.net/", Transport: h, Credential: staticToken{}, LookupEnv: noEnv}))
	aws := wrap(awssm.New(ctx, &awssm.Options{AWS: awstest.Options(srv.URL), LookupEnv: noEnv}))
	vaultStore := wrap(vault.New(ctx, &vault.Options{Address: srv.URL, Token: "t", LookupEnv: noEnv}))

	f.Add(uint8(respCustomGet), uint16(200), []byte(`{"value":"`+responseMarker))
	f.Fuzz(func(t *testing.T, kind uint8, status uint16, body []byte) {
		// Final statuses only: a 1xx is not an answer, the client waits on.
		a := answer{kind: int(kind) % respKinds, status: 200 + int(status)%400, body: body}
		h.set(a)
		var (
			s   *backends.Store
			err error
		)
		switch a.kind {
		case respCustomGet, respCustomCapabilities:
			var b backends.Backend
			b, err = custom.New(ctx, &custom.Options{URL: srv.URL, Timeout: 5 * time.Second})
			if err != nil {
				checkResponseError(t, a, Custom, "", err)
				return
			}
			s = wrap(b, nil)
			defer s.Close()
		case respAzureGet:
			s = azure
		case respConjurLogin, respConjurVersions:
			s = wrap(cyberark.New(&cyberark.Options{URL: srv.URL, Login: "admin", APIKey: "k", LookupEnv: noEnv}))
			defer s.Close()
		case respVaultGet:
			s = vaultStore
		case respAWSGet:
			s = aws
		}
		const name = "FUZZ_SECRET"
		start := time.Now()
		defer func() {
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("a %d answer to the %s store took %s to handle", a.status, respStore[a.kind], d)
			}
		}()
		if a.kind == respConjurVersions {
			_, err = s.Write(ctx, backends.WriteRequest{Name: name, Value: []byte(responseMarker)})
		} else {
			_, err = s.ReadStored(ctx, s.Kind()+"-"+name)
			if a.kind == respAzureGet {
				_, err = s.ReadStored(ctx, "FUZZ-SECRET")
			}
		}
		if err != nil {
			checkResponseError(t, a, respStore[a.kind], name, err)
		}
	})
}

// checkResponseError: the error names the store (and the secret, when one
// was asked for), has a code, and does not quote a value from a success
// answer.
func checkResponseError(t *testing.T, a answer, kind, name string, err error) {
	t.Helper()
	msg := err.Error()
	if backends.CodeOf(err) == backends.OK {
		t.Fatalf("error without a code: %v", err)
	}
	if !strings.Contains(msg, kind) && (kind != Custom || !strings.Contains(msg, "custom store")) {
		t.Fatalf("the error does not name the %s store: %q", kind, msg)
	}
	if name != "" && !strings.Contains(strings.ReplaceAll(msg, "-", "_"), name) {
		t.Fatalf("the error does not name the secret: %q", msg)
	}
	if a.status/100 == 2 && bytes.Contains(a.body, []byte(responseMarker)) && strings.Contains(msg, responseMarker) {
		t.Fatalf("the error about a broken %d answer quotes the value in it: %q", a.status, msg)
	}
}
