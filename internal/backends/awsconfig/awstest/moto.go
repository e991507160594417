// Package awstest runs the AWS emulators the aws_secret_manager and aws_kms
// tests use: moto in server mode (StartMoto), installed by the project's
// scripts/moto.sh, and a recording proxy that injects faults in front of it
// (NewProxy). Only tests import it.
package awstest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig"
)

// Region is the region tests use.
const Region = "us-east-1"

// Dummy credentials: moto accepts any signature.
const (
	AccessKey = "AKIDLLMSECRETTEST"
	SecretKey = "llmsecret-test-secret-key"
)

// Options returns the shared AWS block for an emulator at endpoint, with
// static dummy credentials, so no test ever reaches the SDK's credential chain
// (instance metadata included).
func Options(endpoint string) awsconfig.Options {
	return awsconfig.Options{Region: Region, Endpoint: endpoint, AccessKey: AccessKey, SecretKey: SecretKey}
}

var (
	installOnce sync.Once
	motoPath    string
	installErr  error
)

// motoServer installs moto once per test process (scripts/moto.sh is fast
// when warm and takes a lock when cold) and returns its moto_server.
func motoServer() (string, error) {
	installOnce.Do(func() {
		root, err := repoRoot()
		if err != nil {
			installErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "moto.sh"))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			installErr = fmt.Errorf("scripts/moto.sh failed (%v): %s", err, stderr.String())
			return
		}
		motoPath = strings.TrimSpace(string(out))
	})
	return motoPath, installErr
}

// repoRoot finds the module root above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			strings.Contains(string(data), "module github.com/llmsecret/terraform-provider-llmsecret") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the repository root (go.mod of github.com/llmsecret/terraform-provider-llmsecret) above the working directory")
		}
		dir = parent
	}
}

// motoPatch starts moto_server with one fix to moto 5.2.5, so that it
// answers as Secrets Manager does: UpdateSecretVersionStage moving
// AWSCURRENT leaves GetSecretValue without VersionStage (LiteLLM's read)
// answering the version AWSCURRENT left (moto does not update its
// default_version_id). The patch updates it, and makes the check of
// RemoveFromVersionId and the move one step (moto's threaded server could
// interleave two of them).
const motoPatch = `
import sys, threading
from moto.secretsmanager import models as m
_orig = m.SecretsManagerBackend.update_secret_version_stage
_lock = threading.Lock()
def update_secret_version_stage(self, secret_id, version_stage, remove_from_version_id, move_to_version_id):
    with _lock:
        out = _orig(self, secret_id, version_stage, remove_from_version_id, move_to_version_id)
        if version_stage == "AWSCURRENT" and move_to_version_id:
            self.secrets[secret_id].set_default_version_id(move_to_version_id)
        return out
m.SecretsManagerBackend.update_secret_version_stage = update_secret_version_stage
from moto.server import main
sys.argv[0] = "moto_server"
sys.exit(main())
`

var runningOn = regexp.MustCompile(`Running on (http://127\.0\.0\.1:\d+)`)

// StartMoto starts a moto server on a free loopback port, waits until it
// answers, stops it when the test ends and returns its endpoint. It fails the
// test (never skips) when moto cannot be installed or started.
func StartMoto(t testing.TB) string {
	t.Helper()
	endpoint, stop, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return endpoint
}

// StartMotoRefusingCredentials is StartMoto with moto checking every
// request's credentials against its own IAM (INITIAL_NO_AUTH_ACTION_COUNT=0),
// which knows no access key: any key is refused with InvalidClientTokenId,
// as AWS refuses a wrong one.
func StartMotoRefusingCredentials(t testing.TB) string {
	t.Helper()
	endpoint, stop, err := Start("INITIAL_NO_AUTH_ACTION_COUNT=0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return endpoint
}

// Start is StartMoto outside a test (for a TestMain that shares one server
// between a package's tests): it returns the endpoint and a function that
// stops the server. env adds variables (NAME=value) to moto's environment.
func Start(env ...string) (endpoint string, stop func(), err error) {
	bin, err := motoServer()
	if err != nil {
		return "", nil, fmt.Errorf("installing moto: %w", err)
	}
	// moto_server's own Python, with motoPatch applied before the server
	// starts.
	cmd := exec.Command(filepath.Join(filepath.Dir(bin), "python"), "-c", motoPatch, "-H", "127.0.0.1", "-p", "0")
	cmd.SysProcAttr = sysProcAttr()
	cmd.Env = append(append(os.Environ(), "PYTHONUNBUFFERED=1"), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	logs := &tail{}
	found := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			logs.add(line)
			if m := runningOn.FindStringSubmatch(line); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			waited := make(chan struct{})
			go func() { _ = cmd.Wait(); close(waited) }()
			select {
			case <-waited:
			case <-time.After(10 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-waited
			}
			<-done
		})
	}
	fail := func(format string, args ...any) (string, func(), error) {
		stop()
		return "", nil, fmt.Errorf(format+"; its output:\n%s", append(args, logs)...)
	}

	deadline := time.Now().Add(90 * time.Second)
	var url string
	select {
	case url = <-found:
	case <-done:
		return fail("moto_server exited before listening")
	case <-time.After(time.Until(deadline)):
		return fail("moto_server did not report its address within 90s")
	}
	// Poll until it answers HTTP.
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return url, stop, nil
			}
		}
		if time.Now().After(deadline) {
			return fail("moto_server at %s does not answer (last error: %v)", url, err)
		}
		select {
		case <-done:
			return fail("moto_server exited")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// tail keeps the last lines of a server's output for failure messages.
type tail struct {
	mu    sync.Mutex
	lines []string
}

func (l *tail) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
	if len(l.lines) > 50 {
		l.lines = l.lines[len(l.lines)-50:]
	}
}

func (l *tail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// CreateKMSKey creates a symmetric KMS key on the emulator at endpoint and
// returns its id.
func CreateKMSKey(t testing.TB, endpoint string) string {
	t.Helper()
	o := Options(endpoint)
	cfg, err := awsconfig.Load(context.Background(), awsconfig.Service{Block: "aws_kms", EndpointVar: "AWS_ENDPOINT_URL_KMS"}, &o,
		func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	client := kms.NewFromConfig(cfg.AWS, func(ko *kms.Options) { ko.BaseEndpoint = cfg.BaseEndpoint() })
	out, err := client.CreateKey(context.Background(), &kms.CreateKeyInput{Description: aws.String(t.Name())})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return aws.ToString(out.KeyMetadata.KeyId)
}
