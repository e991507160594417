package awssm

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// stagePending labels a version written by PutIf until it becomes
// AWSCURRENT (or loses the race): a version with no label at all may be
// deprecated by Secrets Manager before the stage moves to it.
const stagePending = "LLMSECRET_PENDING"

var _ backends.CASWriter = (*backend)(nil)

// PutIf implements backends.CASWriter. Secrets Manager has no conditional
// put, but moving AWSCURRENT is conditional: UpdateSecretVersionStage with
// RemoveFromVersionId fails when AWSCURRENT is no longer on that version.
// So PutIf writes the value as a new version labelled LLMSECRET_PENDING
// (PutSecretValue, AWSCURRENT untouched, readers see nothing), then moves
// AWSCURRENT from the expected version to it. When someone else moved
// AWSCURRENT first, the new version is left without labels and the write
// reports backends.VersionChanged. With expected "", the name must not hold
// a live secret: CreateSecret, and an existing one is a lost race (a
// soft-deleted one is restored and its current version expected).
//
// The new version's ClientRequestToken is derived from the name, the value
// and the expected version, so a repeated PutIf (a lost answer) makes no
// second version, and a repeated stage move that finds AWSCURRENT already on
// its version reports success.
func (b *backend) PutIf(ctx context.Context, req backends.WriteRequest, expected string) (string, error) {
	if !utf8.Valid(req.Value) {
		return "", backends.Errorf(backends.InvalidArgument, "the %s store keeps values in SecretString, which LiteLLM reads: the value must be UTF-8 text", Kind)
	}
	d, err := b.describe(ctx, req.Name)
	switch {
	case backends.CodeOf(err) == backends.NotFound && expected == "":
		return b.createIf(ctx, req)
	case backends.CodeOf(err) == backends.NotFound:
		return "", backends.VersionChanged(fmt.Sprintf("version %s was read, now the secret does not exist", expected))
	case err != nil:
		return "", err
	}
	current, _ := stages(d.VersionIdsToStages)
	if d.DeletedDate != nil {
		if expected != "" {
			return "", backends.VersionChanged(fmt.Sprintf("version %s was read, now the secret is scheduled for deletion", expected))
		}
		if _, err := b.client.RestoreSecret(ctx, &secretsmanager.RestoreSecretInput{SecretId: aws.String(req.Name)}); err != nil {
			return "", fmt.Errorf("restoring the secret, which is scheduled for deletion: %w", b.fail(err))
		}
		expected = current
	}
	token := b.token(req.Name, req.Value, expected)
	switch {
	case current == token:
		// An earlier attempt of this very write went through.
		return token, b.finish(ctx, req, d, token)
	case expected == "" || current != expected:
		return "", backends.VersionChanged(fmt.Sprintf("version %q was read, now %q is current", expected, current))
	}
	out, err := b.client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(req.Name),
		SecretString:       aws.String(string(req.Value)),
		ClientRequestToken: aws.String(token),
		VersionStages:      []string{stagePending},
	})
	if err != nil {
		return "", b.fail(err)
	}
	version := aws.ToString(out.VersionId)
	_, err = b.client.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId:            aws.String(req.Name),
		VersionStage:        aws.String(stageCurrent),
		MoveToVersionId:     aws.String(version),
		RemoveFromVersionId: aws.String(expected),
	})
	if err != nil && b.ErrorCode(err) == backends.Unsupported {
		return b.putPlain(ctx, req, d, expected)
	}
	if err != nil {
		code := b.ErrorCode(err)
		if code != backends.InvalidArgument && code != backends.NotFound && code != backends.FailedPrecondition {
			return "", b.fail(err) // maybe applied: the layer retries, which finds out
		}
		// AWSCURRENT is no longer on expected: lost, unless an earlier
		// attempt of this write moved it.
		d, derr := b.describe(ctx, req.Name)
		if derr != nil {
			return "", derr
		}
		now, _ := stages(d.VersionIdsToStages)
		if now != version {
			b.unlabel(ctx, req.Name, version)
			return "", backends.VersionChanged(fmt.Sprintf("version %q was read, now %q is current", expected, now))
		}
	}
	return version, b.finish(ctx, req, d, version)
}

// createIf is CreateSecret for PutIf: unlike create, a name taken since
// DescribeSecret is a lost race, never overwritten.
func (b *backend) createIf(ctx context.Context, req backends.WriteRequest) (string, error) {
	out, err := b.client.CreateSecret(ctx, b.createInput(req))
	if err != nil {
		switch b.ErrorCode(err) {
		case backends.AlreadyExists, backends.SoftDeleted:
			return "", backends.VersionChanged("the secret was created by another writer")
		}
		return "", b.fail(err)
	}
	b.replicate(ctx, req.Name, out.ReplicationStatus)
	return aws.ToString(out.VersionId), nil
}

// putPlain completes PutIf on an endpoint without UpdateSecretVersionStage
// (an emulator; Secrets Manager has it): no compare-and-set is possible, so
// the value is written as the current version, as Put does, and a warning
// says that other processes' writes to this secret are not detected.
func (b *backend) putPlain(ctx context.Context, req backends.WriteRequest, d *secretsmanager.DescribeSecretOutput, expected string) (string, error) {
	b.warnf(ctx, "the Secrets Manager endpoint has no UpdateSecretVersionStage, so a write to secret %s cannot check that no other process wrote it since it was read", backends.QuoteName(req.Name))
	out, err := b.client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(req.Name),
		SecretString:       aws.String(string(req.Value)),
		ClientRequestToken: aws.String(b.token(req.Name, req.Value, expected+"\x00unconditional")),
	})
	if err != nil {
		return "", b.fail(err)
	}
	version := aws.ToString(out.VersionId)
	return version, b.finish(ctx, req, d, version)
}

// finish drops the pending label from the version that is now current and
// brings description, tags and replicas up to date, as Put does.
func (b *backend) finish(ctx context.Context, req backends.WriteRequest, d *secretsmanager.DescribeSecretOutput, version string) error {
	b.unlabel(ctx, req.Name, version)
	if err := b.syncMetadata(ctx, req.Name, d, req.Description, req.Tags); err != nil {
		return err
	}
	b.replicate(ctx, req.Name, d.ReplicationStatus)
	return nil
}

// unlabel removes LLMSECRET_PENDING from version, if it is still there. It
// is tidying only: a label left behind is moved by the next PutIf, so an
// error is ignored.
func (b *backend) unlabel(ctx context.Context, name, version string) {
	_, _ = b.client.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId:            aws.String(name),
		VersionStage:        aws.String(stagePending),
		RemoveFromVersionId: aws.String(version),
	})
}
