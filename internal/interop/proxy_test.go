package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig/awstest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/interop/litellmtest"
)

// The LiteLLM proxy itself (`litellm --config config.yaml`, installed by
// scripts/litellm-proxy.sh) started on what the provider wrote to AWS Secrets
// Manager (moto), serving a chat completion to a fake OpenAI-compatible
// upstream that records the key it was called with. The config and the
// environment are the ones the AWS Secrets Manager guide shows.

// proxyConfig is the proxy's config.yaml; %s is the upstream's api_base.
const proxyConfig = `model_list:
  - model_name: gpt-test
    litellm_params:
      model: openai/gpt-test
      api_base: %s
      api_key: os.environ/OPENAI_API_KEY

general_settings:
  master_key: sk-test-master
  key_management_system: aws_secret_manager
  key_management_settings:
    hosted_keys: ["OPENAI_API_KEY"]
`

// proxyEnv is the proxy's whole environment besides PATH and HOME: AWS
// credentials and region, LiteLLM's Secrets Manager endpoint override, and
// no OPENAI_API_KEY, so the key can only come from the store.
func proxyEnv(endpoint string) map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID":            awstest.AccessKey,
		"AWS_SECRET_ACCESS_KEY":        awstest.SecretKey,
		"AWS_REGION_NAME":              awstest.Region,
		"AWS_BEDROCK_RUNTIME_ENDPOINT": endpoint,
		"LITELLM_LOCAL_MODEL_COST_MAP": "True",
	}
}

var (
	proxyOnce sync.Once
	proxyBin  string
	proxyErr  error
)

// litellmProxy returns the pinned proxy executable, installing it on first
// use. A failed install fails the test.
func litellmProxy(t *testing.T) string {
	t.Helper()
	proxyOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		cmd := exec.Command(filepath.Join(filepath.Dir(file), "..", "..", "scripts", "litellm-proxy.sh"))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			proxyErr = fmt.Errorf("scripts/litellm-proxy.sh: %w", err)
			return
		}
		proxyBin = strings.TrimSpace(string(out))
	})
	if proxyErr != nil {
		t.Fatal(proxyErr)
	}
	return proxyBin
}

// fakeOpenAI is an OpenAI-compatible upstream that answers chat completions
// and records the Authorization header of each.
type fakeOpenAI struct {
	*httptest.Server
	mu    sync.Mutex
	auths []string
}

func newFakeOpenAI(t *testing.T) *fakeOpenAI {
	f := &fakeOpenAI{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || (r.URL.Path != "/chat/completions" && r.URL.Path != "/v1/chat/completions") {
			http.NotFound(w, r)
			return
		}
		f.mu.Lock()
		f.auths = append(f.auths, r.Header.Get("Authorization"))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"chatcmpl-test","object":"chat.completion","created":1700000000,"model":"gpt-test",`+
			`"choices":[{"index":0,"message":{"role":"assistant","content":"pong"},"finish_reason":"stop"}],`+
			`"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	t.Cleanup(f.Close)
	return f
}

// last returns the Authorization header of the most recent chat completion.
func (f *fakeOpenAI) last() (string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.auths) == 0 {
		return "", 0
	}
	return f.auths[len(f.auths)-1], len(f.auths)
}

// runningProxy is one started `litellm --config` process.
type runningProxy struct {
	url    string
	cmd    *exec.Cmd
	log    *bytes.Buffer
	exited chan struct{}
}

// stop kills the proxy's process group (uvicorn and its workers).
func (p *runningProxy) stop() {
	if p.cmd.Process != nil {
		killGroup(p.cmd.Process)
	}
	<-p.exited
}

// startProxy starts the proxy on config in dir with exactly env, and waits
// until /health/liveliness answers (or the proxy exits, which fails the test
// with its output).
func startProxy(t *testing.T, dir string, env map[string]string) *runningProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr, ok := l.Addr().(*net.TCPAddr)
	l.Close()
	if !ok {
		t.Fatalf("listener address %v is not TCP", l.Addr())
	}
	port := addr.Port
	p := &runningProxy{url: fmt.Sprintf("http://127.0.0.1:%d", port), log: &bytes.Buffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(litellmProxy(t), "--config", "config.yaml", "--host", "127.0.0.1", "--port", fmt.Sprint(port))
	p.cmd.Dir = dir
	p.cmd.Env = litellmtest.Environ(env)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.SysProcAttr = groupAttr()
	began := time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting the LiteLLM proxy: %v", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.stop)
	deadline := time.After(3 * time.Minute)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.exited:
			t.Fatalf("the LiteLLM proxy exited before serving:\n%s", tailOf(p.log.String()))
		case <-deadline:
			t.Fatalf("the LiteLLM proxy did not answer /health/liveliness within 3m:\n%s", tailOf(p.log.String()))
		case <-tick.C:
			resp, err := http.Get(p.url + "/health/liveliness")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					t.Logf("LiteLLM proxy answered /health/liveliness %s after start", time.Since(began).Round(100*time.Millisecond))
					return p
				}
			}
		}
	}
}

// chat sends one chat completion through the proxy with the master key.
func (p *runningProxy) chat() error {
	body := `{"model":"gpt-test","messages":[{"role":"user","content":"ping"}]}`
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, p.url+"/chat/completions", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer sk-test-master")
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		return fmt.Errorf("chat completion through the LiteLLM proxy: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil || len(out.Choices) != 1 || out.Choices[0].Message.Content != "pong" {
		return fmt.Errorf("chat completion through the LiteLLM proxy: HTTP %d: %s\nproxy log:\n%s", resp.StatusCode, tailOf(string(b)), tailOf(p.log.String()))
	}
	return nil
}

func tailOf(s string) string {
	const limit = 4000
	if len(s) > limit {
		return "..." + s[len(s)-limit:]
	}
	return s
}

// TestInteropProxy_servesWithStoredKey: OPENAI_API_KEY written by our
// resource (value_wo) to AWS Secrets Manager is the key the LiteLLM proxy,
// configured with key_management_system aws_secret_manager and hosted_keys,
// sends upstream; nothing named OPENAI_API_KEY is in its environment. After
// a rotation (new value_wo, value_wo_version bumped) the running proxy still
// sends the key it read at config load, and a restarted proxy sends the new
// one: a rotated key needs a proxy restart.
func TestInteropProxy_servesWithStoredKey(t *testing.T) {
	acc(t)
	litellmProxy(t) // install before the steps, outside the CLI's timeouts
	endpoint := awstest.StartMoto(t)
	upstream := newFakeOpenAI(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(fmt.Sprintf(proxyConfig, upstream.URL+"/v1")), 0o600); err != nil {
		t.Fatal(err)
	}
	const key1, key2 = "sk-proxy-interop-key-1", "sk-proxy-interop-key-2"
	label := map[string]string{"Bearer " + key1: "the first key", "Bearer " + key2: "the rotated key", "": "no Authorization"}
	// served checks that p's next chat completion reached the upstream with want.
	served := func(p *runningProxy, want string) error {
		_, before := upstream.last()
		if err := p.chat(); err != nil {
			return err
		}
		got, n := upstream.last()
		if n != before+1 {
			return fmt.Errorf("the upstream got %d chat completions, want 1", n-before)
		}
		if got != "Bearer "+want {
			l, ok := label[got]
			if !ok {
				l = "another value"
			}
			return fmt.Errorf("the upstream was called with %s, want %s", l, label["Bearer "+want])
		}
		return nil
	}
	config := func(value string, version int) string {
		return awsProvider("aws_secret_manager", endpoint, "", "") + fmt.Sprintf(`
resource "llmsecret_secret" "openai" {
  name             = "OPENAI_API_KEY"
  value_wo         = %q
  value_wo_version = %d
}
`, value, version)
	}
	var first *runningProxy
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{
			{
				Config: config(key1, 1),
				Check: func(*terraform.State) error {
					first = startProxy(t, dir, proxyEnv(endpoint))
					return served(first, key1)
				},
			},
			{
				Config: config(key2, 2),
				Check: func(*terraform.State) error {
					// Keys are read once, at config load.
					if err := served(first, key1); err != nil {
						return fmt.Errorf("the proxy started before the rotation: %w", err)
					}
					first.stop()
					restarted := startProxy(t, dir, proxyEnv(endpoint))
					if err := served(restarted, key2); err != nil {
						return fmt.Errorf("the proxy restarted after the rotation: %w", err)
					}
					return nil
				},
			},
		},
	})
}
