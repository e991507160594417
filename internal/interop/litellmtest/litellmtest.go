// Package litellmtest runs LiteLLM itself (the pinned litellm package from
// PyPI, installed by scripts/litellm.sh into the user cache directory) as a
// test client, so interop tests can prove that the LiteLLM proxy finds what
// the provider wrote, and that the provider reads what LiteLLM wrote.
//
// Python is a test client only: nothing here is part of the provider binary.
// A test hands Run a Python snippet; Run prepends a preamble that makes
// LiteLLM importable offline and without the proxy extras, runs it with a
// controlled environment and decodes the one JSON document the snippet
// prints last.
package litellmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
)

var (
	once    sync.Once
	python  string
	install error
)

// Python returns the interpreter of the pinned LiteLLM environment,
// installing it on first use (a few minutes on a cold machine, nothing on a
// warm one). It fails the test, never skips it, when the install fails.
func Python(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		// internal/interop/litellmtest -> module root.
		root := filepath.Join(filepath.Dir(file), "..", "..", "..")
		cmd := exec.Command(filepath.Join(root, "scripts", "litellm.sh"))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			install = fmt.Errorf("scripts/litellm.sh: %w", err)
			return
		}
		python = strings.TrimSpace(string(out))
	})
	if install != nil {
		t.Fatal(install)
	}
	return python
}

// Preamble is prepended to every snippet. It
//   - keeps `import litellm` offline (LITELLM_LOCAL_MODEL_COST_MAP, set in
//     the environment by Run);
//   - puts a stand-in for litellm.proxy.proxy_server in sys.modules with
//     premium_user = True: several readers check LiteLLM's enterprise licence
//     through that module, which does not import without the proxy extras.
//     The readers' own read and write code stays LiteLLM's;
//   - defines emit(obj), which prints the snippet's result as one JSON line.
const Preamble = `
import sys, types, enum, json, os, asyncio
class _CommonProxyErrors(enum.Enum):
    not_premium_user = "stand-in: premium_user is True in this test"
_ps = types.ModuleType("litellm.proxy.proxy_server")
_ps.premium_user = True
_ps.CommonProxyErrors = _CommonProxyErrors
import litellm
import litellm.proxy
sys.modules["litellm.proxy.proxy_server"] = _ps
litellm.proxy.proxy_server = _ps

def emit(obj):
    sys.stdout.write("\n@@RESULT@@" + json.dumps(obj) + "\n")
    sys.stdout.flush()
`

// Run runs snippet (Python, after Preamble) with exactly env plus PATH, HOME
// and LITELLM_LOCAL_MODEL_COST_MAP=True, so no variable of the test process
// (a stray VAULT_TOKEN, AWS_PROFILE) changes what LiteLLM does. It decodes
// into out the JSON the snippet passed to emit(). Python's output is shown
// only when the run fails; snippets must not print secret values except
// through emit.
func Run(t testing.TB, env map[string]string, snippet string, out any) {
	t.Helper()
	py := Python(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "snippet.py")
	if err := os.WriteFile(file, []byte(Preamble+"\n"+snippet), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, file)
	cmd.Dir = dir
	cmd.Env = Environ(env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("LiteLLM snippet failed: %v\nstdout:\n%s\nstderr:\n%s", err, tail(stdout.String()), tail(stderr.String()))
	}
	_, result, ok := strings.Cut(stdout.String(), "\n@@RESULT@@")
	if !ok {
		t.Fatalf("LiteLLM snippet emitted no result\nstdout:\n%s\nstderr:\n%s", tail(stdout.String()), tail(stderr.String()))
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(result)), out); err != nil {
		t.Fatalf("decoding the LiteLLM snippet's result: %v", err)
	}
}

// Environ returns the environment of a LiteLLM run: env, sorted, plus the
// few variables a Python process needs.
func Environ(env map[string]string) []string {
	base := map[string]string{
		"PATH":                         os.Getenv("PATH"),
		"HOME":                         os.Getenv("HOME"),
		"LITELLM_LOCAL_MODEL_COST_MAP": "True",
		"PYTHONDONTWRITEBYTECODE":      "",
		"NO_PROXY":                     "127.0.0.1,localhost",
	}
	for k, v := range env {
		base[k] = v
	}
	out := make([]string, 0, len(base))
	for k, v := range base {
		if v == "" && k == "PYTHONDONTWRITEBYTECODE" {
			continue
		}
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// tail keeps the end of long Python output.
func tail(s string) string {
	const limit = 6000
	if len(s) > limit {
		return "..." + s[len(s)-limit:]
	}
	return s
}
