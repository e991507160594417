package interop

import (
	"bufio"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpsm/gcpsmtest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/interop/litellmtest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/testpki"
)

// Google Secret Manager: LiteLLM's reader is its own GoogleSecretManager
// (litellm/secret_managers/google_secret_manager.py), not the Python SDK:
// it GETs https://secretmanager.googleapis.com/v1/projects/<p>/secrets/<name>/versions/latest:access
// with httpx, host hard-coded, with a bearer token minted by google-auth from
// GCS_PATH_SERVICE_ACCOUNT. The provider speaks gRPC to the Secret Manager
// fake (gcpsmtest). To run LiteLLM's reader unmodified against the same
// fake, the test serves the two Google hosts LiteLLM talks to behind an
// HTTPS proxy, which LiteLLM and google-auth honour (HTTPS_PROXY): a plain
// CONNECT tunnel to a loopback TLS server whose certificate (from a test
// CA, trusted through SSL_CERT_FILE and REQUESTS_CA_BUNDLE) names
// secretmanager.googleapis.com and oauth2.googleapis.com. That server
// answers the token exchange of the service account (the JWT bearer grant)
// and Secret Manager's REST access call by calling the fake's own
// AccessSecretVersion and rendering the response as Google's REST mapping
// does (protojson). LiteLLM's URL, headers and parsing are LiteLLM's.

const gsmInteropProject = "interop-project"

// googleFront is the loopback stand-in for secretmanager.googleapis.com
// and oauth2.googleapis.com.
type googleFront struct {
	srv   *gcpsmtest.Server
	ca    string // CA file
	proxy string // HTTPS_PROXY
	sa    string // service account JSON file

	mu       sync.Mutex
	token    string
	accessed []string // resource names LiteLLM asked for
	tunnels  []string // CONNECT targets
}

func startGoogleFront(t *testing.T, srv *gcpsmtest.Server) *googleFront {
	t.Helper()
	f := &googleFront{srv: srv}
	cert, caPEM, err := testpki.LocalhostCert("interop Google CA", "secretmanager.googleapis.com", "oauth2.googleapis.com")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f.ca = filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(f.ca, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	api.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	api.StartTLS()
	t.Cleanup(api.Close)
	apiAddr := api.Listener.Addr().String()

	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.Host)
		f.mu.Lock()
		f.tunnels = append(f.tunnels, r.Host)
		f.mu.Unlock()
		if r.Method != http.MethodConnect || (host != "secretmanager.googleapis.com" && host != "oauth2.googleapis.com") {
			http.Error(w, "this proxy only tunnels to the Google hosts LiteLLM reads from", http.StatusForbidden)
			return
		}
		up, err := net.Dial("tcp", apiAddr)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		hj, ok := w.(http.Hijacker)
		if !ok {
			_ = up.Close()
			http.Error(w, "no hijacking", http.StatusInternalServerError)
			return
		}
		conn, buf, err := hj.Hijack()
		if err != nil {
			_ = up.Close()
			return
		}
		_, _ = conn.Write([]byte("HTTP/1.1 200 Connection Established\r\n\r\n"))
		go func() {
			_, _ = io.Copy(up, bufio.NewReader(buf))
			_ = up.Close()
		}()
		_, _ = io.Copy(conn, up)
		_ = conn.Close()
	}))
	t.Cleanup(proxy.Close)
	f.proxy = proxy.URL

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     gsmInteropProject,
		"private_key_id": "interop-key",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   "litellm@" + gsmInteropProject + ".iam.gserviceaccount.com",
		"client_id":      "1234567890",
		"token_uri":      "https://oauth2.googleapis.com/token",
	})
	if err != nil {
		t.Fatal(err)
	}
	f.sa = filepath.Join(dir, "litellm-sa.json")
	if err := os.WriteFile(f.sa, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	f.token = "ya29.interop-" + hex.EncodeToString(b)
	return f
}

// env is LiteLLM's environment for the google_secret_manager reader, as a
// proxy deployment sets it, plus the proxy and the test CA.
func (f *googleFront) env() map[string]string {
	return map[string]string{
		"GOOGLE_SECRET_MANAGER_PROJECT_ID": gsmInteropProject,
		"GCS_PATH_SERVICE_ACCOUNT":         f.sa,
		"HTTPS_PROXY":                      f.proxy,
		"SSL_CERT_FILE":                    f.ca,
		"REQUESTS_CA_BUNDLE":               f.ca,
	}
}

func (f *googleFront) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Host == "oauth2.googleapis.com" && r.Method == http.MethodPost && r.URL.Path == "/token":
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || r.PostForm.Get("assertion") == "" {
			writeGoogleJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_grant"})
			return
		}
		writeGoogleJSON(w, http.StatusOK, map[string]any{"access_token": f.token, "expires_in": 3600, "token_type": "Bearer"})
	case r.Host == "secretmanager.googleapis.com" && r.Method == http.MethodGet &&
		strings.HasPrefix(r.URL.Path, "/v1/") && strings.HasSuffix(r.URL.Path, ":access"):
		if r.Header.Get("Authorization") != "Bearer "+f.token {
			writeGoogleError(w, status.New(codes.Unauthenticated, "Request had invalid authentication credentials."))
			return
		}
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1/"), ":access")
		f.mu.Lock()
		f.accessed = append(f.accessed, name)
		f.mu.Unlock()
		resp, err := f.srv.AccessSecretVersion(r.Context(), &secretmanagerpb.AccessSecretVersionRequest{Name: name})
		if err != nil {
			writeGoogleError(w, status.Convert(err))
			return
		}
		body, err := protojson.Marshal(resp)
		if err != nil {
			writeGoogleError(w, status.New(codes.Internal, err.Error()))
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		_, _ = w.Write(body)
	default:
		writeGoogleError(w, status.Newf(codes.NotFound, "%s %s%s is not served here", r.Method, r.Host, r.URL.Path))
	}
}

// writeGoogleError renders a status as Google's REST APIs do.
func writeGoogleError(w http.ResponseWriter, st *status.Status) {
	code := map[codes.Code]int{
		codes.NotFound: 404, codes.PermissionDenied: 403, codes.Unauthenticated: 401, codes.InvalidArgument: 400,
		codes.FailedPrecondition: 400, codes.AlreadyExists: 409, codes.ResourceExhausted: 429,
	}[st.Code()]
	if code == 0 {
		code = 500
	}
	writeGoogleJSON(w, code, map[string]any{"error": map[string]any{
		"code": code, "message": st.Message(), "status": strings.ToUpper(strings.ReplaceAll(codeName(st.Code()), " ", "_")),
	}})
}

func codeName(c codes.Code) string {
	// codes.Code.String gives "NotFound"; Google's status is NOT_FOUND.
	s := c.String()
	var out strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			out.WriteByte('_')
		}
		out.WriteRune(r)
	}
	return out.String()
}

func writeGoogleJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *googleFront) accessedNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.accessed)
}

// googleReaderPy builds LiteLLM's reader as the proxy does for
// key_management_system: google_secret_manager (initialize_secret_manager
// calls GoogleSecretManager(), which installs itself as LiteLLM's secret
// manager) with default key_management_settings.
const googleReaderPy = `
from litellm.secret_managers.google_secret_manager import GoogleSecretManager
from litellm.secret_managers.main import get_secret
from litellm.types.secret_managers.main import KeyManagementSettings
reader = GoogleSecretManager()
litellm._key_management_settings = KeyManagementSettings()

def read(name):
    try:
        direct = reader.get_secret_from_google_secret_manager(name)
        err = None
    except Exception as e:
        direct, err = None, type(e).__name__ + ": " + str(e)[:300]
    return {"reader": direct, "error": err, "get_secret": get_secret("os.environ/" + name)}
`

// TestInteropGoogle_LiteLLMReadsOurSecrets: values the resource wrote
// through the CLI (global secrets, no location) are what LiteLLM's
// GoogleSecretManager returns for the same names, directly and through
// get_secret with the os.environ/ references of a LiteLLM config; it asks
// for projects/<p>/secrets/<name>/versions/latest. A secret the provider
// wrote with location (a regional secret) is invisible to it: LiteLLM misses
// it and falls back to its (empty) environment, which is why the provider
// warns when location is set.
func TestInteropGoogle_LiteLLMReadsOurSecrets(t *testing.T) {
	acc(t)
	srv := gcpsmtest.Start(t)
	front := startGoogleFront(t, srv)
	secrets := map[string]string{
		"OPENAI_API_KEY":    "sk-openai-gsm-0001",
		"anthropic-api-key": "sk-ant-gsm \"quoted\" ünïcode\nsecond line",
	}
	const regional, regionalValue = "REGIONAL_KEY", "sk-regional-invisible"
	// Two steps, not two provider aliases: the in-process provider serves
	// every configuration of one provider from one instance. The regional
	// secret is abandoned when step 2 drops it, so it stays in the store.
	regionalConfig := fmt.Sprintf(`
provider "llmsecret" {
  key_management_system   = "google_secret_manager"
  key_management_settings = { access_mode = "read_and_write" }
  google_secret_manager = {
    project_id = %[1]q
    location   = "us-east1"
    endpoint   = %[2]q
  }
}

resource "llmsecret_secret" "regional" {
  name             = %[3]q
  value_wo         = %[4]q
  value_wo_version = 1
  deletion_policy  = "abandon"
}
`, gsmInteropProject, srv.Endpoint(), regional, regionalValue)
	config := fmt.Sprintf(`
provider "llmsecret" {
  key_management_system   = "google_secret_manager"
  key_management_settings = { access_mode = "read_and_write" }
  google_secret_manager = {
    project_id = %[1]q
    endpoint   = %[2]q
  }
}
`, gsmInteropProject, srv.Endpoint())
	i := 0
	names := make([]string, 0, len(secrets))
	for name, value := range secrets {
		i++
		names = append(names, name)
		config += fmt.Sprintf(`
resource "llmsecret_secret" "s%d" {
  name             = %q
  value_wo         = %q
  value_wo_version = 1
}
`, i, name, value)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{{
			Config: regionalConfig,
		}, {
			Config: config,
			Check: func(*terraform.State) error {
				if _, ok := srv.Secret("projects/" + gsmInteropProject + "/locations/us-east1/secrets/" + regional); !ok {
					return fmt.Errorf("the provider did not write the regional secret (the fake holds %q)", srv.SecretNames())
				}
				var got map[string]struct {
					Reader    *string `json:"reader"`
					Error     *string `json:"error"`
					GetSecret *string `json:"get_secret"`
				}
				litellmtest.Run(t, front.env(), googleReaderPy+fmt.Sprintf(`
emit({name: read(name) for name in %s + [%q]})
`, pyStrList(names), regional), &got)
				for name, want := range secrets {
					g := got[name]
					if g.Reader == nil || *g.Reader != want {
						return fmt.Errorf("GoogleSecretManager.get_secret_from_google_secret_manager(%q): got %s (error %s), want the value the provider wrote", name, azDeref(g.Reader), azDeref(g.Error))
					}
					if g.GetSecret == nil || *g.GetSecret != want {
						return fmt.Errorf("litellm get_secret(os.environ/%s): got %s, want the value the provider wrote", name, azDeref(g.GetSecret))
					}
				}
				if g := got[regional]; g.Reader != nil || g.GetSecret != nil || g.Error == nil {
					return fmt.Errorf("LiteLLM read the regional secret %s (reader %s, get_secret %s); it reads only global secrets", regional, azDeref(g.Reader), azDeref(g.GetSecret))
				}
				want := []string{}
				for _, n := range append(slices.Clone(names), regional) {
					want = append(want, "projects/"+gsmInteropProject+"/secrets/"+n+"/versions/latest")
				}
				asked := front.accessedNames()
				for _, w := range want {
					if !slices.Contains(asked, w) {
						return fmt.Errorf("LiteLLM asked Secret Manager for %q, want each of %q", asked, want)
					}
				}
				return nil
			},
		}},
	})
}

// TestInteropGoogle_WeReadOtherClientsSecrets: LiteLLM's Google reader
// never writes, so the reverse direction uses the official Python SDK
// (google-cloud-secret-manager, over gRPC to the same fake): a secret and a
// version it created are read by the data source and the ephemeral
// resource by the same name.
func TestInteropGoogle_WeReadOtherClientsSecrets(t *testing.T) {
	acc(t)
	srv := gcpsmtest.Start(t)
	const name, value = "WRITTEN_BY_PYTHON", "sk-python-sdk-wrote-0007"
	var wrote struct {
		Version string `json:"version"`
	}
	litellmtest.Run(t, map[string]string{}, fmt.Sprintf(`
import grpc
from google.cloud import secretmanager
from google.cloud.secretmanager_v1.services.secret_manager_service.transports import SecretManagerServiceGrpcTransport
client = secretmanager.SecretManagerServiceClient(transport=SecretManagerServiceGrpcTransport(channel=grpc.insecure_channel(%q)))
parent = "projects/%s"
client.create_secret(request={"parent": parent, "secret_id": %q, "secret": {"replication": {"automatic": {}}}})
v = client.add_secret_version(request={"parent": parent + "/secrets/" + %q, "payload": {"data": %q.encode()}})
emit({"version": v.name.rsplit("/", 1)[1]})
`, srv.Endpoint(), gsmInteropProject, name, name, value), &wrote)
	if wrote.Version == "" {
		t.Fatal("the Python SDK returned no version")
	}
	provider := fmt.Sprintf(`
provider "llmsecret" {
  key_management_system = "google_secret_manager"
  google_secret_manager = {
    project_id = %q
    endpoint   = %q
  }
}
`, gsmInteropProject, srv.Endpoint())
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps:                    readBackSteps(provider, name, value, wrote.Version),
	})
}
