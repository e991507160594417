package awskms

import (
	"context"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

var _ backends.CredentialChecker = (*backend)(nil)

// CheckCredentials implements backends.CredentialChecker with STS
// GetCallerIdentity (see awsconfig.Config.CheckCredentials).
func (b *backend) CheckCredentials(ctx context.Context) error { return b.cfg.CheckCredentials(ctx) }
