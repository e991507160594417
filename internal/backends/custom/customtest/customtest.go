// Package customtest runs the reference custom stores of
// examples/custom-stores for the custom store's tests and the provider's
// acceptance tests.
//
// StartHTTP builds the reference HTTP server once per source version (cached
// in the user cache directory, under terraform-provider-llmsecret/, keyed by
// a hash of its source) and runs one instance per call on a free loopback
// port, stopped when the test ends. ExecCommand returns the command of the
// reference exec store (its store.sh wrapper, which builds its helper into
// its own cache on first use) over a fresh file.
package customtest

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Root returns the module's root directory.
func Root() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("customtest: cannot locate the source file")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", "..", ".."))
}

// ExecScript is the path of the reference exec store's wrapper script.
func ExecScript() string {
	return filepath.Join(Root(), "examples", "custom-stores", "exec", "store.sh")
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// httpServerBinary builds examples/custom-stores/http into the cache.
func httpServerBinary() (string, error) {
	buildOnce.Do(func() {
		src := filepath.Join(Root(), "examples", "custom-stores", "http")
		data, err := os.ReadFile(filepath.Join(src, "main.go"))
		if err != nil {
			buildErr = err
			return
		}
		sum := sha256.Sum256(data)
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir := filepath.Join(cache, "terraform-provider-llmsecret", "custom-store-http-"+hex.EncodeToString(sum[:8]))
		bin := filepath.Join(dir, "custom-store-http")
		if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() {
			builtBin = bin
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			buildErr = err
			return
		}
		tmp := fmt.Sprintf("%s.%d.tmp", bin, os.Getpid())
		cmd := exec.Command("go", "build", "-o", tmp, ".")
		cmd.Dir = src
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building the reference HTTP store (%s): %v\n%s", src, err, out)
			return
		}
		if err := os.Rename(tmp, bin); err != nil {
			buildErr = err
			return
		}
		builtBin = bin
	})
	return builtBin, buildErr
}

// StartHTTP runs the reference HTTP store with args (e.g. "-read-only",
// "-token", "t") and returns its base URL. The server stops when the test
// ends.
func StartHTTP(t testing.TB, args ...string) string {
	t.Helper()
	bin, err := httpServerBinary()
	if err != nil {
		t.Fatalf("reference HTTP store: %v", err)
	}
	cmd := exec.Command(bin, append([]string{"-listen", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the reference HTTP store: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		if s.Scan() {
			line <- s.Text()
		}
		close(line)
	}()
	select {
	case l, ok := <-line:
		url, found := strings.CutPrefix(l, "listening on ")
		if !ok || !found {
			_ = cmd.Process.Kill()
			_ = cmd.Wait() // stderr is complete once Wait returns
			t.Fatalf("reference HTTP store did not start: stdout %q, stderr %q", l, stderr.String())
		}
		return url
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("reference HTTP store printed no address within 30s (stderr %q)", stderr.String())
	}
	return ""
}

// ExecCommand returns the command of the reference exec store over a new
// file in a temporary directory, with extra args (e.g. "-read-only").
func ExecCommand(t testing.TB, args ...string) []string {
	t.Helper()
	return ExecCommandFile(filepath.Join(t.TempDir(), "secrets.json"), args...)
}

// ExecCommandFile is ExecCommand over file.
func ExecCommandFile(file string, args ...string) []string {
	return append([]string{ExecScript(), "-file", file}, args...)
}
