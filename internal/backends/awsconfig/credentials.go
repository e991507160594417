package awsconfig

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// checkTimeout bounds the credential check: STS answers in well under a
// second, and a network that cannot reach it should not hold up every plan.
const checkTimeout = 10 * time.Second

// CheckCredentials asks STS whose the credentials are (GetCallerIdentity,
// which AWS answers for any valid credentials whatever their policies), so
// that a wrong or expired key fails at plan, when the provider is
// configured, naming the store, where the credentials came from and how to
// set them; the Vault store's token lookup does the same. Both stores
// (aws_secret_manager, aws_kms) implement backends.CredentialChecker with it.
//
// STS is asked where the store's own calls would find AWS: the region's STS
// endpoint, or sts_endpoint / AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL (moto
// and LocalStack serve STS there too). When only the service's endpoint is
// overridden (endpoint, AWS_ENDPOINT_URL_SECRETS_MANAGER or
// AWS_ENDPOINT_URL_KMS: a VPC endpoint, an emulator of that one service),
// no STS is known to stand beside it: the public one may be unreachable from
// there, or judge credentials the emulator would accept, so the check is
// skipped and the first store call reports a refused credential.
//
// It fails only on what AWS or the credential chain says about the
// credentials themselves (PermissionDenied). An STS that cannot be reached,
// is slow or throttles proves nothing either way: nil, and the operations,
// which retry, report what they meet.
func (c *Config) CheckCredentials(ctx context.Context) error {
	if c.Endpoint != "" && c.Options.STSEndpoint == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	client := sts.NewFromConfig(c.AWS, func(so *sts.Options) {
		if c.Options.STSEndpoint != "" {
			so.BaseEndpoint = aws.String(c.Options.STSEndpoint)
		}
	})
	_, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err == nil || ErrorCode(err, nil) != backends.PermissionDenied {
		return nil
	}
	var ce *CredentialsError
	if errors.As(err, &ce) {
		// No source in the chain, a refused AssumeRole: its message says
		// what to set.
		return backends.Wrap(backends.PermissionDenied, err)
	}
	where := "the region's STS endpoint"
	if c.Options.STSEndpoint != "" {
		where = backends.RedactURL(c.Options.STSEndpoint)
	}
	return backends.Errorf(backends.PermissionDenied, "%s: AWS refused the credentials (STS GetCallerIdentity at %s answered %s: %s): they came from %s; %s",
		c.block, where, APIErrorCode(err), apiMessage(err), c.credentialsSource(ctx), credentialsFix(c.block))
}

// apiMessage is the message of AWS's answer, without the SDK's request
// details.
func apiMessage(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "api error "); i >= 0 {
		msg = msg[i+len("api error "):]
		if _, rest, ok := strings.Cut(msg, ": "); ok {
			return rest
		}
	}
	return msg
}

// credentialsSource says where the credentials came from, by the block's
// settings, else by what the SDK's default chain reports (never the key).
func (c *Config) credentialsSource(ctx context.Context) string {
	b, o := c.block, c.Options
	switch {
	case o.RoleARN != "":
		return fmt.Sprintf("the role %s.role_arn, assumed with the credentials below it", b)
	case o.AccessKey != "":
		return fmt.Sprintf("%[1]s.access_key and %[1]s.secret_key", b)
	case o.Profile != "":
		return fmt.Sprintf("profile %q of the shared config and credentials files (%s.profile or AWS_PROFILE)", o.Profile, b)
	}
	var src string
	if creds, err := c.AWS.Credentials.Retrieve(ctx); err == nil {
		src = creds.Source
	}
	switch {
	case src == config.CredentialsSourceName:
		return "the variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)"
	case strings.HasPrefix(src, "SharedConfigCredentials"):
		return "the default profile of the shared credentials file (" + strings.TrimSpace(strings.TrimPrefix(src, "SharedConfigCredentials:")) + ")"
	case src != "":
		return "the SDK's default credential chain (" + src + ")"
	}
	return "the SDK's default credential chain"
}

// credentialsFix lists the ways to give the store credentials.
func credentialsFix(block string) string {
	return fmt.Sprintf("set valid ones in %[1]s.access_key and %[1]s.secret_key, %[1]s.profile or %[1]s.role_arn, or in "+
		"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN for temporary keys) or AWS_PROFILE", block)
}
