package awsconfig

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

var testService = Service{Block: "aws_secret_manager", EndpointVar: "AWS_ENDPOINT_URL_SECRETS_MANAGER"}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// isolate points the SDK's shared files at an empty directory, so the
// machine's ~/.aws cannot change a test's outcome.
func isolate(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	for _, v := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
}

func TestRegionFallbacks(t *testing.T) {
	isolate(t)
	cases := []struct {
		label string
		attr  string
		env   map[string]string
		want  string
	}{
		{"AttributeWins", "eu-central-1", map[string]string{"AWS_REGION_NAME": "us-west-1", "AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "ap-south-1"}, "eu-central-1"},
		{"RegionNameFirst", "", map[string]string{"AWS_REGION_NAME": "us-west-1", "AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "ap-south-1"}, "us-west-1"},
		{"RegionNameAlone", "", map[string]string{"AWS_REGION_NAME": "us-west-1"}, "us-west-1"},
		{"RegionSecond", "", map[string]string{"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "ap-south-1"}, "us-west-2"},
		{"DefaultRegionLast", "", map[string]string{"AWS_DEFAULT_REGION": "ap-south-1"}, "ap-south-1"},
		{"BlankIsUnset", "", map[string]string{"AWS_REGION_NAME": "  ", "AWS_REGION": "us-west-2"}, "us-west-2"},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			o, err := Options{Region: tc.attr}.Resolve(testService, env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if o.Region != tc.want {
				t.Errorf("Resolve: got region %q, want %q", o.Region, tc.want)
			}
			// Load uses it, whatever the SDK's own reading of the variables.
			cfg, err := Load(context.Background(), testService, &Options{Region: tc.attr, AccessKey: "a", SecretKey: "b"}, env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.AWS.Region != tc.want {
				t.Errorf("Load: got region %q, want %q", cfg.AWS.Region, tc.want)
			}
		})
	}

	t.Run("Missing", func(t *testing.T) {
		_, err := Load(context.Background(), testService, &Options{AccessKey: "a", SecretKey: "b"}, env(nil))
		if backends.CodeOf(err) != backends.InvalidArgument {
			t.Fatalf("Load without a region: got %v, want InvalidArgument", err)
		}
		for _, want := range []string{"aws_secret_manager.region", "AWS_REGION_NAME", "AWS_REGION", "AWS_DEFAULT_REGION"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Load without a region: message %q lacks %q", err, want)
			}
		}
	})

	t.Run("FromProfile", func(t *testing.T) {
		dir := t.TempDir()
		cfgFile := filepath.Join(dir, "config")
		if err := os.WriteFile(cfgFile, []byte("[profile litellm]\nregion = sa-east-1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("AWS_CONFIG_FILE", cfgFile)
		cfg, err := Load(context.Background(), testService, &Options{Profile: "litellm", AccessKey: "a", SecretKey: "b"}, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.AWS.Region != "sa-east-1" {
			t.Errorf("region from the profile: got %q, want sa-east-1", cfg.AWS.Region)
		}
		_, err = Load(context.Background(), testService, &Options{Profile: "missing"}, env(nil))
		if backends.CodeOf(err) != backends.InvalidArgument || !strings.Contains(err.Error(), "missing") {
			t.Errorf("Load with an unknown profile: got %v, want InvalidArgument naming it", err)
		}
	})
}

func TestOtherFallbacks(t *testing.T) {
	o, err := Options{}.Resolve(testService, env(map[string]string{
		"AWS_ENDPOINT_URL":                 "http://generic",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://sm",
		"AWS_ENDPOINT_URL_STS":             "http://sts",
		"AWS_PROFILE":                      "litellm",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if o.Endpoint != "http://sm" || o.STSEndpoint != "http://sts" || o.Profile != "litellm" || o.SessionName != DefaultSessionName {
		t.Errorf("Resolve: got %+v", o)
	}
	o, err = Options{Endpoint: "http://attr"}.Resolve(testService, env(map[string]string{"AWS_ENDPOINT_URL": "http://generic"}))
	if err != nil {
		t.Fatal(err)
	}
	if o.Endpoint != "http://attr" || o.STSEndpoint != "http://generic" {
		t.Errorf("Resolve: got endpoint %q sts %q, want the attribute and AWS_ENDPOINT_URL", o.Endpoint, o.STSEndpoint)
	}
}

func TestResolveRefuses(t *testing.T) {
	cases := map[string]struct {
		o    Options
		want []string
	}{
		"AccessKeyAlone":        {Options{AccessKey: "a"}, []string{"access_key", "secret_key"}},
		"SecretKeyAlone":        {Options{SecretKey: "b"}, []string{"access_key", "secret_key"}},
		"TokenFileWithoutRole":  {Options{WebIdentityTokenFile: "/t"}, []string{"web_identity_token_file", "role_arn"}},
		"ExternalIDWithoutRole": {Options{ExternalID: "x"}, []string{"external_id", "role_arn"}},
		"ExternalIDWithToken":   {Options{RoleARN: "arn", WebIdentityTokenFile: "/t", ExternalID: "x"}, []string{"external_id", "web_identity_token_file"}},
	}
	for label, tc := range cases {
		_, err := tc.o.Resolve(testService, env(nil))
		if backends.CodeOf(err) != backends.InvalidArgument {
			t.Errorf("%s: got %v, want InvalidArgument", label, err)
			continue
		}
		for _, w := range append(tc.want, "aws_secret_manager.") {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: message %q lacks %q", label, err, w)
			}
		}
	}
}

func TestRetriesOff(t *testing.T) {
	isolate(t)
	cfg, err := Load(context.Background(), testService, &Options{Region: "us-east-1", AccessKey: "a", SecretKey: "b"}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.AWS.Retryer()
	if _, ok := r.(aws.NopRetryer); !ok {
		t.Errorf("retryer: got %T, want aws.NopRetryer", r)
	}
	if cfg.AWS.RetryMaxAttempts != 1 || r.MaxAttempts() != 1 {
		t.Errorf("max attempts: got %d and %d, want 1", cfg.AWS.RetryMaxAttempts, r.MaxAttempts())
	}
	cfg.Close()
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := map[string]time.Duration{
		"3":                             3 * time.Second,
		" 10 ":                          10 * time.Second,
		"0":                             0,
		"-1":                            0,
		"soon":                          0,
		"":                              0,
		"Fri, 02 Jan 2026 03:04:35 GMT": 30 * time.Second,
		"Fri, 02 Jan 2026 03:00:00 GMT": 0,
	}
	for in, want := range cases {
		got, ok := backends.ParseRetryAfter(in, now)
		if got != want || ok != (want > 0) {
			t.Errorf("parseRetryAfter(%q): got %v, %t; want %v", in, got, ok, want)
		}
	}
	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": []string{"4"}}}
	err := &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: resp}, Err: errors.New("throttled")}
	var e *backends.Error
	if got := Annotate(err, backends.Throttled); !errors.As(got, &e) || e.RetryAfter != 4*time.Second {
		t.Errorf("Annotate(429 with Retry-After: 4): got %#v, want RetryAfter 4s", got)
	}
	if got := Annotate(err, backends.InvalidArgument); got != error(err) {
		t.Errorf("Annotate of a code that is not retried: got %v, want the error unchanged", got)
	}
}

func TestCredentialsErrorCode(t *testing.T) {
	inner := errors.New("no EC2 IMDS role found")
	err := &CredentialsError{block: "aws_kms", err: inner}
	if got := ErrorCode(err, nil); got != backends.PermissionDenied {
		t.Errorf("ErrorCode(credentials failure): got %v, want PermissionDenied", got)
	}
	if !strings.Contains(err.Error(), "aws_kms") || !errors.Is(err, inner) {
		t.Errorf("credentials error %q: want it to name the block and wrap the cause", err)
	}
	sendErr := &CredentialsError{block: "aws_kms", err: &smithyhttp.RequestSendError{Err: errors.New("connection reset")}}
	if got := ErrorCode(sendErr, nil); got != backends.Unavailable {
		t.Errorf("ErrorCode(STS unreachable): got %v, want Unavailable", got)
	}
}
