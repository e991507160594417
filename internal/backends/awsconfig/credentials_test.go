package awsconfig

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// fakeSTS answers GetCallerIdentity with status and body, and counts the
// calls.
type fakeSTS struct {
	status int
	body   string

	mu    sync.Mutex
	calls []string
}

func (f *fakeSTS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.calls = append(f.calls, string(b))
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(f.status)
	_, _ = io.WriteString(w, f.body)
}

func (f *fakeSTS) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func startSTS(t *testing.T, status int, body string) (*fakeSTS, string) {
	f := &fakeSTS{status: status, body: body}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

const (
	stsIdentity = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
		`<Arn>arn:aws:iam::123456789012:user/litellm</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account>` +
		`</GetCallerIdentityResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`
	stsInvalidToken = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>` +
		`<Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message>` +
		`</Error><RequestId>r2</RequestId></ErrorResponse>`
	stsThrottled = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>` +
		`<Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r3</RequestId></ErrorResponse>`
)

// TestCheckCredentials: STS refusing the credentials fails the check with a
// message naming the block, AWS's reason, where the credentials came from
// and what to set, and never the key; an identity passes; an STS that
// throttles, fails or cannot be reached proves nothing and passes.
func TestCheckCredentials(t *testing.T) {
	isolate(t)
	ctx := context.Background()
	const key, secret = "AKIDWRONGKEY0001", "wrong-secret-key-0001"
	load := func(t *testing.T, o Options, vars map[string]string) *Config {
		t.Helper()
		o.Region = "us-east-1"
		cfg, err := Load(ctx, testService, &o, env(vars))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cfg.Close)
		return cfg
	}

	t.Run("Refused", func(t *testing.T) {
		f, url := startSTS(t, http.StatusForbidden, stsInvalidToken)
		err := load(t, Options{STSEndpoint: url, AccessKey: key, SecretKey: secret}, nil).CheckCredentials(ctx)
		if backends.CodeOf(err) != backends.PermissionDenied {
			t.Fatalf("CheckCredentials refused by STS: got %v, want PermissionDenied", err)
		}
		for _, want := range []string{"aws_secret_manager: AWS refused the credentials", "GetCallerIdentity", "InvalidClientTokenId",
			"The security token included in the request is invalid", "came from aws_secret_manager.access_key and aws_secret_manager.secret_key",
			"AWS_ACCESS_KEY_ID", "AWS_PROFILE"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message %q lacks %q", err, want)
			}
		}
		if strings.Contains(err.Error(), key) || strings.Contains(err.Error(), secret) {
			t.Errorf("message %q shows the credentials", err)
		}
		if f.count() != 1 || !strings.Contains(f.calls[0], "Action=GetCallerIdentity") {
			t.Errorf("STS calls: got %q, want one GetCallerIdentity", f.calls)
		}
	})

	t.Run("RefusedFromEnvironment", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", key)
		t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
		_, url := startSTS(t, http.StatusForbidden, stsInvalidToken)
		// AWS_ENDPOINT_URL puts every service there, STS included.
		err := load(t, Options{}, map[string]string{"AWS_ENDPOINT_URL": url}).CheckCredentials(ctx)
		if backends.CodeOf(err) != backends.PermissionDenied || !strings.Contains(err.Error(), "came from the variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") {
			t.Errorf("CheckCredentials with refused keys from the environment: got %v, want PermissionDenied naming the variables", err)
		}
	})

	t.Run("Valid", func(t *testing.T) {
		f, url := startSTS(t, http.StatusOK, stsIdentity)
		if err := load(t, Options{STSEndpoint: url, AccessKey: key, SecretKey: secret}, nil).CheckCredentials(ctx); err != nil || f.count() != 1 {
			t.Errorf("CheckCredentials answered with an identity: got %v after %d calls, want nil after 1", err, f.count())
		}
	})

	t.Run("SkippedBesideServiceEndpoint", func(t *testing.T) {
		f, url := startSTS(t, http.StatusForbidden, stsInvalidToken)
		if err := load(t, Options{Endpoint: url, AccessKey: key, SecretKey: secret}, nil).CheckCredentials(ctx); err != nil || f.count() != 0 {
			t.Errorf("CheckCredentials with only the service endpoint set: got %v after %d calls, want nil and no call", err, f.count())
		}
		// With an STS endpoint beside it, STS is asked.
		if err := load(t, Options{Endpoint: url, STSEndpoint: url, AccessKey: key, SecretKey: secret}, nil).CheckCredentials(ctx); err == nil || f.count() != 1 {
			t.Errorf("CheckCredentials with endpoint and sts_endpoint set: got %v after %d calls, want the refusal after 1", err, f.count())
		}
	})

	t.Run("NothingProven", func(t *testing.T) {
		_, throttled := startSTS(t, http.StatusBadRequest, stsThrottled)
		_, broken := startSTS(t, http.StatusServiceUnavailable, "")
		down := httptest.NewServer(http.NotFoundHandler())
		down.Close()
		for what, url := range map[string]string{"throttling": throttled, "a 503": broken, "no server": down.URL} {
			if err := load(t, Options{STSEndpoint: url, AccessKey: key, SecretKey: secret}, nil).CheckCredentials(ctx); err != nil {
				t.Errorf("CheckCredentials with an STS answering %s: got %v, want nil", what, err)
			}
		}
	})
}
