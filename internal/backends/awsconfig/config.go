// Package awsconfig is the configuration block that the aws_secret_manager
// and aws_kms stores share (the attributes of the aws_secret_manager and aws_kms blocks): region, endpoint override,
// credentials and role assumption, turned into one aws.Config with the SDK's
// own retries switched off. It also classifies the errors every AWS service
// returns (throttling, 5xx, transport failures, credentials), so each store's
// ErrorCode only adds its service's own codes.
//
// # Settings and environment
//
// Options.Resolve applies every environment fallback, in one place:
//
//	region                   AWS_REGION_NAME (LiteLLM), AWS_REGION, AWS_DEFAULT_REGION,
//	                         then the region of the shared config profile
//	endpoint                 AWS_ENDPOINT_URL_<SERVICE> (AWS_ENDPOINT_URL_SECRETS_MANAGER,
//	                         AWS_ENDPOINT_URL_KMS), then AWS_ENDPOINT_URL
//	profile                  AWS_PROFILE
//	sts_endpoint             AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL
//	session_name             "terraform-provider-llmsecret"
//
// access_key, secret_key, role_arn, external_id and web_identity_token_file
// have no fallback of their own: without them the SDK's default credential
// chain runs, which reads its standard variables (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; AWS_ROLE_ARN with
// AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_SESSION_NAME; AWS_PROFILE with the
// shared files AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE, including
// their SSO, credential_process and role_arn entries; then ECS and EC2
// instance roles).
//
// # Credentials
//
// In order: access_key + secret_key (both or neither) when set (the profile
// then only supplies settings such as the region), else the profile (when
// set) or the default chain. With role_arn, those credentials
// call STS AssumeRole (session_name, external_id), or, with
// web_identity_token_file, STS AssumeRoleWithWebIdentity with the token in the
// file (re-read at each refresh). Credentials are fetched lazily and cached
// until they expire; Load calls nothing. The provider's configure then checks
// them with one STS GetCallerIdentity (Config.CheckCredentials, which says
// when it is skipped), so wrong credentials fail at plan.
//
// # Retries
//
// The SDK's retryer is aws.NopRetryer with RetryMaxAttempts 1, for every
// client built from the config (STS included): *backends.Store is the one
// retry budget, retrying Throttled and Unavailable errors with backoff and
// honouring Retry-After. Two retry loops would multiply each other (8 layer
// attempts of 3 SDK attempts each) and hide throttling from the layer.
package awsconfig

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// DefaultSessionName is the role session name when session_name is unset.
const DefaultSessionName = "terraform-provider-llmsecret"

// RegionVars are the variables region falls back to, in order.
var RegionVars = []string{"AWS_REGION_NAME", "AWS_REGION", "AWS_DEFAULT_REGION"}

// Options is the shared AWS block (aws_secret_manager, aws_kms). Empty
// strings are unset.
type Options struct {
	Region               string
	Endpoint             string
	Profile              string
	AccessKey            string
	SecretKey            string
	RoleARN              string
	SessionName          string
	ExternalID           string
	WebIdentityTokenFile string
	STSEndpoint          string
}

// Service names the store a configuration is for.
type Service struct {
	// Block is the provider block, e.g. "aws_secret_manager".
	Block string
	// EndpointVar is the service's endpoint variable, e.g.
	// "AWS_ENDPOINT_URL_SECRETS_MANAGER".
	EndpointVar string
}

// Resolve returns o with every environment fallback applied (see the package
// comment) and checks the combinations. lookupEnv nil means os.LookupEnv.
// Region may still be empty: the shared config profile may supply it.
func (o Options) Resolve(svc Service, lookupEnv func(string) (string, bool)) (Options, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	first := func(v string, vars ...string) string {
		if v != "" {
			return v
		}
		for _, name := range vars {
			if e, ok := lookupEnv(name); ok && strings.TrimSpace(e) != "" {
				return strings.TrimSpace(e)
			}
		}
		return ""
	}
	o.Region = first(o.Region, RegionVars...)
	o.Endpoint = first(o.Endpoint, svc.EndpointVar, "AWS_ENDPOINT_URL")
	o.Profile = first(o.Profile, "AWS_PROFILE")
	o.STSEndpoint = first(o.STSEndpoint, "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL")
	if o.SessionName == "" {
		o.SessionName = DefaultSessionName
	}
	b := svc.Block
	if err := checkEndpoint(b+".endpoint", o.Endpoint); err != nil {
		return o, err
	}
	if err := checkEndpoint(b+".sts_endpoint", o.STSEndpoint); err != nil {
		return o, err
	}
	switch {
	case (o.AccessKey == "") != (o.SecretKey == ""):
		return o, backends.Errorf(backends.InvalidArgument, "%[1]s.access_key and %[1]s.secret_key must be set together (or neither, to use the SDK's credential chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, a role)", b)
	case o.WebIdentityTokenFile != "" && o.RoleARN == "":
		return o, backends.Errorf(backends.InvalidArgument, "%[1]s.web_identity_token_file needs %[1]s.role_arn, the role to assume with the token", b)
	case o.WebIdentityTokenFile != "" && o.ExternalID != "":
		return o, backends.Errorf(backends.InvalidArgument, "%[1]s.external_id applies to AssumeRole; AssumeRoleWithWebIdentity (%[1]s.web_identity_token_file) takes none", b)
	case o.ExternalID != "" && o.RoleARN == "":
		return o, backends.Errorf(backends.InvalidArgument, "%[1]s.external_id needs %[1]s.role_arn", b)
	}
	return o, nil
}

// Config is a loaded configuration.
type Config struct {
	// AWS is the SDK configuration: region, credentials, retries off.
	AWS aws.Config
	// Endpoint is the service endpoint override ("" for the SDK's own).
	Endpoint string
	// Options are the resolved settings.
	Options Options

	block      string // the provider block, for messages
	httpClient *http.Client
}

// Load resolves o (nil means all defaults) and builds the SDK configuration.
// It reads the shared config files but calls no service.
func Load(ctx context.Context, svc Service, o *Options, lookupEnv func(string) (string, bool)) (*Config, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	opts, err := opts.Resolve(svc, lookupEnv)
	if err != nil {
		return nil, err
	}
	loads := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
	}
	if opts.Region != "" {
		loads = append(loads, config.WithRegion(opts.Region))
	}
	if opts.Profile != "" {
		loads = append(loads, config.WithSharedConfigProfile(opts.Profile))
	}
	if opts.AccessKey != "" {
		loads = append(loads, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(opts.AccessKey, opts.SecretKey, "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return nil, backends.Errorf(backends.InvalidArgument, "%s: loading the AWS configuration: %w", svc.Block, err)
	}
	// One attempt per call, whatever AWS_MAX_ATTEMPTS or the profile's
	// max_attempts say: the layer retries.
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	cfg.RetryMaxAttempts = 1
	// Freeze the HTTP client the config built (custom CA bundle included)
	// into a plain *http.Client, so Close can release its connections.
	var httpClient *http.Client
	if bc, ok := cfg.HTTPClient.(*awshttp.BuildableClient); ok {
		frozen := bc.Freeze()
		cfg.HTTPClient = frozen
		httpClient, _ = frozen.(*http.Client)
	}
	if cfg.Region == "" {
		return nil, backends.Errorf(backends.InvalidArgument, "%s.region is not set: set it, or one of the variables %s, or a region in the shared config profile", svc.Block, strings.Join(RegionVars, ", "))
	}
	if opts.RoleARN != "" {
		stsClient := sts.NewFromConfig(cfg, func(so *sts.Options) {
			if opts.STSEndpoint != "" {
				so.BaseEndpoint = aws.String(opts.STSEndpoint)
			}
		})
		var p aws.CredentialsProvider
		if opts.WebIdentityTokenFile != "" {
			p = stscreds.NewWebIdentityRoleProvider(stsClient, opts.RoleARN, stscreds.IdentityTokenFile(opts.WebIdentityTokenFile),
				func(wo *stscreds.WebIdentityRoleOptions) { wo.RoleSessionName = opts.SessionName })
		} else {
			p = stscreds.NewAssumeRoleProvider(stsClient, opts.RoleARN, func(ao *stscreds.AssumeRoleOptions) {
				ao.RoleSessionName = opts.SessionName
				if opts.ExternalID != "" {
					ao.ExternalID = aws.String(opts.ExternalID)
				}
			})
		}
		cfg.Credentials = aws.NewCredentialsCache(p)
	}
	if cfg.Credentials != nil {
		cfg.Credentials = &taggedCredentials{inner: cfg.Credentials, block: svc.Block}
	}
	return &Config{AWS: cfg, Endpoint: opts.Endpoint, Options: opts, block: svc.Block, httpClient: httpClient}, nil
}

// Close releases idle connections.
func (c *Config) Close() {
	if c.httpClient != nil {
		c.httpClient.CloseIdleConnections()
	}
}

// BaseEndpoint returns the endpoint override for a service client's
// BaseEndpoint option (nil for the SDK's own endpoint).
func (c *Config) BaseEndpoint() *string {
	if c.Endpoint == "" {
		return nil
	}
	return aws.String(c.Endpoint)
}

// CredentialsError is a failure to obtain credentials (no source in the
// chain, a refused AssumeRole, an unreadable token file), as opposed to a
// refusal by the service itself.
type CredentialsError struct {
	block string
	err   error
}

// Error implements error.
func (e *CredentialsError) Error() string {
	return fmt.Sprintf("no usable AWS credentials for %s (set access_key and secret_key, profile or role_arn, or the SDK's variables): %v", e.block, e.err)
}

// Unwrap returns the underlying error.
func (e *CredentialsError) Unwrap() error { return e.err }

// taggedCredentials wraps the credentials provider so a failure to get
// credentials can be told apart from a service error.
type taggedCredentials struct {
	inner aws.CredentialsProvider
	block string
}

// Retrieve implements aws.CredentialsProvider.
func (t *taggedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := t.inner.Retrieve(ctx)
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return c, &CredentialsError{block: t.block, err: err}
	}
	return c, err
}

// checkEndpoint refuses an endpoint override that is not an http(s) URL with
// a host, before the SDK does: its error ("Failed to parse uri: ...") quotes
// the URL, user info included.
func checkEndpoint(attr, endpoint string) error {
	if endpoint == "" {
		return nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return backends.Errorf(backends.InvalidArgument, "%s: %q is not an endpoint URL: want http(s)://host[:port], e.g. https://vpce-0abc.secretsmanager.us-east-1.vpce.amazonaws.com",
			attr, backends.RedactURL(endpoint))
	}
	return nil
}
