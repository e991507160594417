// Package awssm is the AWS Secrets Manager store (key_management_system =
// "aws_secret_manager"): one Secrets Manager secret per name, its value in
// SecretString, as LiteLLM's AWSSecretsManagerV2 reads and writes it.
//
// # Settings
//
// Options.AWS is the configuration block shared with aws_kms (package
// awsconfig: region with the fallbacks AWS_REGION_NAME, AWS_REGION,
// AWS_DEFAULT_REGION; endpoint; profile; static keys; role assumption; SDK
// retries off). This store adds kms_key_id (the KMS key of new secrets; the
// account's aws/secretsmanager key when unset), replica_regions and
// recovery_window_in_days (7 to 30, default 7 as in LiteLLM). None of these
// three reads a variable.
//
// # Names and values
//
// Names are Secrets Manager names: 1 to 512 ASCII letters, digits and
// /_+=.@- characters. Other names (the shared rules allow "a?b=1" and "a: b") are
// refused before any call, naming the store and the rule. Values must be
// UTF-8 text (Caps.Binary is false): LiteLLM reads SecretString. A secret
// written by someone else with SecretBinary only is FailedPrecondition, since
// LiteLLM's reader gets no value from it.
//
// # Writes
//
// Put calls DescribeSecret, then CreateSecret with Description, Tags,
// KmsKeyId and a ClientRequestToken for a new name. When the name exists, it
// calls PutSecretValue for a new version (its VersionId is the version) and
// brings description (UpdateSecret) and tags (TagResource / UntagResource of
// the difference) to the requested ones. When the name is scheduled for
// deletion, Put calls RestoreSecret first, then does the same, so
// re-creating a soft-deleted name succeeds. A name that is still held for a
// moment after a forced delete is Unavailable, which the layer retries.
//
// The layer repeats Put after a timeout or a 5xx whose request may have been
// applied, so writes are idempotent. The ClientRequestToken, which Secrets
// Manager keeps as the new version's VersionId, is derived from the name,
// the value and the version the write replaces (the empty string for a
// create), with an HMAC under a key drawn at random when the store is built:
// a repeated Put sends the same token, which Secrets Manager answers with the
// version it already made, and a Put that finds the secret's AWSCURRENT
// version equal to the token it would have derived from AWSPREVIOUS knows its
// own earlier attempt went through and does not add another version. The key
// keeps the tokens, which anyone allowed to list versions can read, from
// revealing anything about the value.
//
// With replica_regions, a written secret that lacks a replica in one of them
// is replicated there (ReplicateSecretToRegions). A failed replication does
// not fail the write, as in LiteLLM: it is reported through backends.Warn.
//
// # Reads
//
// Get calls DescribeSecret (description, tags, deletion) and GetSecretValue
// (AWSCURRENT). A secret scheduled for deletion is returned with Deleted set.
// GetBatch (llmsecret_secrets) calls BatchGetSecretValue with up to 20 names a
// call; names it could not read are left out, and the layer reads them one by
// one, which reports each name's own error. When BatchGetSecretValue itself
// is denied or unknown, every name is read one by one.
//
// # Deletes
//
// DeleteForever is DeleteSecret with ForceDeleteWithoutRecovery (which also
// purges a secret already scheduled for deletion); DeleteSoft is DeleteSecret
// with RecoveryWindowInDays. Replicas are removed first
// (RemoveRegionsFromReplication), as Secrets Manager requires.
package awssm

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig"
)

// Kind is this store's key_management_system value.
const Kind = "aws_secret_manager"

// Service is the awsconfig service of this store.
var Service = awsconfig.Service{Block: Kind, EndpointVar: "AWS_ENDPOINT_URL_SECRETS_MANAGER"}

const (
	// DefaultRecoveryWindowInDays is LiteLLM's recovery window.
	DefaultRecoveryWindowInDays = 7
	// MinRecoveryWindowInDays and MaxRecoveryWindowInDays bound
	// recovery_window_in_days, as Secrets Manager does.
	MinRecoveryWindowInDays = 7
	MaxRecoveryWindowInDays = 30
	// MaxNameLength is Secrets Manager's longest name.
	MaxNameLength = 512
	// BatchSize is the most names BatchGetSecretValue takes in SecretIdList.
	BatchSize = 20
	// MaxValueBytes is the largest SecretString.
	MaxValueBytes = 65536
	// MaxDescription is the longest description, in characters.
	MaxDescription = 2048
	// MaxTags, MaxTagKey and MaxTagValue are Secrets Manager's tag limits
	// (characters).
	MaxTags     = 50
	MaxTagKey   = 128
	MaxTagValue = 256
)

// tagChars is Secrets Manager's pattern for tag keys and values.
var tagChars = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

const (
	stageCurrent  = "AWSCURRENT"
	stagePrevious = "AWSPREVIOUS"
)

// Options configures the store (the provider's aws_secret_manager block).
type Options struct {
	// AWS is the shared AWS configuration.
	AWS awsconfig.Options
	// KMSKeyID is the KMS key of new secrets (kms_key_id); empty means the
	// account's aws/secretsmanager key.
	KMSKeyID string
	// ReplicaRegions are the regions written secrets are replicated to.
	ReplicaRegions []string
	// RecoveryWindowInDays is the recovery window of DeleteSoft; 0 means 7.
	RecoveryWindowInDays int
	// LookupEnv reads the environment for the fallbacks; nil means
	// os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

type backend struct {
	cfg      *awsconfig.Config
	client   *secretsmanager.Client
	kmsKeyID string
	replicas []string
	window   int64
	// tokenKey keys the ClientRequestToken HMAC (see the package comment).
	tokenKey [32]byte
}

var (
	_ backends.Backend         = (*backend)(nil)
	_ backends.NameValidator   = (*backend)(nil)
	_ backends.WriteValidator  = (*backend)(nil)
	_ backends.MetadataUpdater = (*backend)(nil)
	_ backends.BatchGetter     = (*backend)(nil)
	_ backends.EnvOnlyNamer    = (*backend)(nil)
)

// envOnlyNames are the names LiteLLM's AWSSecretsManagerV2.sync_read_secret
// returns from the process environment without asking Secrets Manager (with
// or without a primary secret): it signs and sends its requests with them.
var envOnlyNames = []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION_NAME", "AWS_REGION", "AWS_BEDROCK_RUNTIME_ENDPOINT"}

// EnvOnlyName implements backends.EnvOnlyNamer.
func (b *backend) EnvOnlyName(name string) string {
	if slices.Contains(envOnlyNames, name) {
		return "LiteLLM's aws_secret_manager reader returns " + name + " from the process environment and never asks Secrets Manager for it"
	}
	return ""
}

// New returns the Secrets Manager store. opts nil means the defaults. It
// reads the shared AWS config files but calls no service.
func New(ctx context.Context, opts *Options) (backends.Backend, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.RecoveryWindowInDays == 0 {
		o.RecoveryWindowInDays = DefaultRecoveryWindowInDays
	}
	if o.RecoveryWindowInDays < MinRecoveryWindowInDays || o.RecoveryWindowInDays > MaxRecoveryWindowInDays {
		return nil, backends.Errorf(backends.InvalidArgument, "%s.recovery_window_in_days is %d; Secrets Manager allows %d to %d days",
			Kind, o.RecoveryWindowInDays, MinRecoveryWindowInDays, MaxRecoveryWindowInDays)
	}
	for _, r := range o.ReplicaRegions {
		if strings.TrimSpace(r) == "" {
			return nil, backends.Errorf(backends.InvalidArgument, "%s.replica_regions must not contain an empty region", Kind)
		}
	}
	cfg, err := awsconfig.Load(ctx, Service, &o.AWS, o.LookupEnv)
	if err != nil {
		return nil, err
	}
	for _, r := range o.ReplicaRegions {
		if r == cfg.AWS.Region {
			return nil, backends.Errorf(backends.InvalidArgument, "%s.replica_regions contains %s, the store's own region; list only other regions", Kind, r)
		}
	}
	b := &backend{
		cfg:      cfg,
		kmsKeyID: o.KMSKeyID,
		replicas: slices.Clone(o.ReplicaRegions),
		window:   int64(o.RecoveryWindowInDays),
	}
	if _, err := rand.Read(b.tokenKey[:]); err != nil {
		return nil, fmt.Errorf("drawing the client request token key: %w", err)
	}
	b.client = secretsmanager.NewFromConfig(cfg.AWS, func(so *secretsmanager.Options) {
		so.BaseEndpoint = cfg.BaseEndpoint()
	})
	return b, nil
}

// Kind implements backends.Backend.
func (b *backend) Kind() string { return Kind }

// Caps implements backends.Backend.
func (b *backend) Caps() backends.Caps {
	return backends.Caps{Write: true, Delete: true, SoftDelete: true, Metadata: true, PrimarySecret: true}
}

// ValidateName implements backends.NameValidator: Secrets Manager's own rule.
func (b *backend) ValidateName(name string) error {
	if n := len(name); n > MaxNameLength {
		return backends.RuleViolation("the %s store does not accept secret name %s: it is %d characters; Secrets Manager names are 1 to %d characters",
			Kind, backends.QuoteName(name), n, MaxNameLength)
	}
	for _, r := range name {
		if !nameChar(r) {
			return backends.RuleViolation("the %s store does not accept secret name %s: %q is not allowed; Secrets Manager names are made of ASCII letters, digits and the characters /_+=.@-",
				Kind, backends.QuoteName(name), r)
		}
	}
	return nil
}

// ValidateWrite implements backends.WriteValidator: Secrets Manager's limits
// on the value, the description and tags, checked before any call (and at
// plan, where the value is not known yet).
func (b *backend) ValidateWrite(req backends.WriteRequest) error {
	if len(req.Value) > MaxValueBytes {
		return backends.RuleViolation("the %s store does not accept the value of %s: it is %d bytes; SecretString holds at most %d",
			Kind, backends.QuoteName(req.Name), len(req.Value), MaxValueBytes)
	}
	if n := utf8.RuneCountInString(req.Description); n > MaxDescription {
		return backends.RuleViolation("the %s store does not accept the description of %s: it is %d characters; Secrets Manager allows %d",
			Kind, backends.QuoteName(req.Name), n, MaxDescription)
	}
	if len(req.Tags) > MaxTags {
		return backends.RuleViolation("the %s store does not accept the tags of %s: there are %d; Secrets Manager allows %d per secret",
			Kind, backends.QuoteName(req.Name), len(req.Tags), MaxTags)
	}
	for _, k := range slices.Sorted(maps.Keys(req.Tags)) {
		v := req.Tags[k]
		var rule string
		switch {
		case k == "" || utf8.RuneCountInString(k) > MaxTagKey:
			rule = fmt.Sprintf("keys are 1 to %d characters", MaxTagKey)
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			rule = "keys starting with aws: are reserved for AWS"
		case utf8.RuneCountInString(v) > MaxTagValue:
			rule = fmt.Sprintf("values are at most %d characters", MaxTagValue)
		case !tagChars.MatchString(k) || !tagChars.MatchString(v):
			rule = "keys and values are made of letters, digits, spaces and the characters _.:/=+-@"
		default:
			continue
		}
		return backends.RuleViolation("the %s store does not accept tag %q of %s: Secrets Manager tag %s",
			Kind, k, backends.QuoteName(req.Name), rule)
	}
	return nil
}

func nameChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("/_+=.@-", r)
}

// Get implements backends.Backend.
func (b *backend) Get(ctx context.Context, name string) (*backends.Secret, error) {
	d, err := b.describe(ctx, name)
	if err != nil {
		return nil, err
	}
	sec := &backends.Secret{Name: name, Description: aws.ToString(d.Description), Tags: tagMap(d.Tags)}
	if d.DeletedDate != nil {
		sec.Deleted = true
		return sec, nil
	}
	v, err := b.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if err != nil {
		if b.ErrorCode(err) == backends.SoftDeleted { // deleted since DescribeSecret
			sec.Deleted = true
			return sec, nil
		}
		return nil, b.fail(err)
	}
	sec.Value, err = secretValue(name, v.SecretString, v.SecretBinary)
	if err != nil {
		return nil, err
	}
	sec.Version = aws.ToString(v.VersionId)
	return sec, nil
}

// GetBatch implements backends.BatchGetter with BatchGetSecretValue, up to
// BatchSize names a call.
func (b *backend) GetBatch(ctx context.Context, names []string) (map[string]*backends.Secret, error) {
	out := make(map[string]*backends.Secret, len(names))
	for chunk := range slices.Chunk(names, BatchSize) {
		in := &secretsmanager.BatchGetSecretValueInput{SecretIdList: chunk}
		for {
			r, err := b.client.BatchGetSecretValue(ctx, in)
			if err != nil {
				switch b.ErrorCode(err) {
				case backends.PermissionDenied, backends.Unsupported:
					// A role allowed GetSecretValue but not the batch call,
					// or an endpoint without it: the layer reads each name.
					b.warnf(ctx, "BatchGetSecretValue failed, so %d secrets are read one at a time: %v", len(names), err)
					return map[string]*backends.Secret{}, nil
				}
				return nil, b.fail(err)
			}
			for _, sv := range r.SecretValues {
				name := aws.ToString(sv.Name)
				if !slices.Contains(chunk, name) {
					continue // asked by name, so every answer names one of them
				}
				if sv.SecretString == nil {
					continue // read alone, which reports why
				}
				value, err := secretValue(name, sv.SecretString, sv.SecretBinary)
				if err != nil {
					return nil, err
				}
				out[name] = &backends.Secret{Name: name, Value: value, Version: aws.ToString(sv.VersionId)}
			}
			// r.Errors (missing, scheduled for deletion, denied, undecryptable)
			// are left out: the layer reads those names alone and reports
			// each one's own error.
			if aws.ToString(r.NextToken) == "" {
				break
			}
			in.NextToken = r.NextToken
		}
	}
	return out, nil
}

// Put implements backends.Backend (see the package comment).
func (b *backend) Put(ctx context.Context, req backends.WriteRequest) (string, error) {
	if !utf8.Valid(req.Value) {
		return "", backends.Errorf(backends.InvalidArgument, "the %s store keeps values in SecretString, which LiteLLM reads: the value must be UTF-8 text", Kind)
	}
	d, err := b.describe(ctx, req.Name)
	switch {
	case backends.CodeOf(err) == backends.NotFound:
		return b.create(ctx, req)
	case err != nil:
		return "", err
	}
	return b.update(ctx, req, d)
}

// createInput is the CreateSecret request of req: value, tags, description,
// the store's KMS key, and a ClientRequestToken derived from the content.
func (b *backend) createInput(req backends.WriteRequest) *secretsmanager.CreateSecretInput {
	in := &secretsmanager.CreateSecretInput{
		Name:               aws.String(req.Name),
		SecretString:       aws.String(string(req.Value)),
		ClientRequestToken: aws.String(b.token(req.Name, req.Value, "")),
		Tags:               tagList(req.Tags),
	}
	if req.Description != "" {
		in.Description = aws.String(req.Description)
	}
	if b.kmsKeyID != "" {
		in.KmsKeyId = aws.String(b.kmsKeyID)
	}
	return in
}

// create makes a new secret. Its ClientRequestToken makes a repeated create
// (a lost answer) return the version the first one made.
func (b *backend) create(ctx context.Context, req backends.WriteRequest) (string, error) {
	out, err := b.client.CreateSecret(ctx, b.createInput(req))
	if err == nil {
		b.replicate(ctx, req.Name, out.ReplicationStatus)
		return aws.ToString(out.VersionId), nil
	}
	code := b.ErrorCode(err)
	if code != backends.AlreadyExists && code != backends.SoftDeleted {
		return "", b.fail(err)
	}
	// Created or scheduled for deletion since DescribeSecret (AWS answers
	// InvalidRequestException for the latter, some emulators
	// ResourceExistsException).
	d, derr := b.describe(ctx, req.Name)
	if backends.CodeOf(derr) == backends.NotFound {
		// A force-deleted name stays taken for a moment: worth a retry.
		return "", backends.Errorf(backends.Unavailable, "the name is still held by a secret being deleted: %w", err)
	}
	if derr != nil {
		return "", derr
	}
	return b.update(ctx, req, d)
}

// update writes a new version of an existing secret, restoring it first when
// it is scheduled for deletion, and brings its metadata up to date.
func (b *backend) update(ctx context.Context, req backends.WriteRequest, d *secretsmanager.DescribeSecretOutput) (string, error) {
	if d.DeletedDate != nil {
		if _, err := b.client.RestoreSecret(ctx, &secretsmanager.RestoreSecretInput{SecretId: aws.String(req.Name)}); err != nil {
			return "", fmt.Errorf("restoring the secret, which is scheduled for deletion: %w", b.fail(err))
		}
	}
	current, previous := stages(d.VersionIdsToStages)
	version := current
	if !b.applied(req, current, previous) {
		out, err := b.client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId:           aws.String(req.Name),
			SecretString:       aws.String(string(req.Value)),
			ClientRequestToken: aws.String(b.token(req.Name, req.Value, current)),
		})
		if err != nil {
			return "", b.fail(err)
		}
		version = aws.ToString(out.VersionId)
	}
	if err := b.syncMetadata(ctx, req.Name, d, req.Description, req.Tags); err != nil {
		return "", err
	}
	b.replicate(ctx, req.Name, d.ReplicationStatus)
	return version, nil
}

// applied reports whether the current version is the one an earlier attempt
// of this write made on top of one of the previous versions.
func (b *backend) applied(req backends.WriteRequest, current string, previous []string) bool {
	if current == "" {
		return false
	}
	if len(previous) == 0 {
		previous = []string{""} // the version CreateSecret made
	}
	for _, p := range previous {
		if hmac.Equal([]byte(current), []byte(b.token(req.Name, req.Value, p))) {
			return true
		}
	}
	return false
}

// UpdateMetadata implements backends.MetadataUpdater: UpdateSecret for the
// description, TagResource and UntagResource for the tags. No new version.
func (b *backend) UpdateMetadata(ctx context.Context, name, description string, tags map[string]string) error {
	d, err := b.describe(ctx, name)
	if err != nil {
		return err
	}
	if d.DeletedDate != nil {
		return backends.Errorf(backends.SoftDeleted, "secret %s is scheduled for deletion; write its value to restore it", backends.QuoteName(name))
	}
	return b.syncMetadata(ctx, name, d, description, tags)
}

// syncMetadata brings description and tags from d to the wanted ones. Tags
// with the reserved aws: prefix are left alone.
func (b *backend) syncMetadata(ctx context.Context, name string, d *secretsmanager.DescribeSecretOutput, description string, tags map[string]string) error {
	if aws.ToString(d.Description) != description {
		_, err := b.client.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{SecretId: aws.String(name), Description: aws.String(description)})
		if err != nil {
			return fmt.Errorf("updating the description: %w", b.fail(err))
		}
	}
	have := tagMap(d.Tags)
	var remove []string
	for k := range have {
		if _, keep := tags[k]; !keep && !strings.HasPrefix(k, "aws:") {
			remove = append(remove, k)
		}
	}
	add := map[string]string{}
	for k, v := range tags {
		if hv, ok := have[k]; !ok || hv != v {
			add[k] = v
		}
	}
	if len(remove) > 0 {
		slices.Sort(remove)
		_, err := b.client.UntagResource(ctx, &secretsmanager.UntagResourceInput{SecretId: aws.String(name), TagKeys: remove})
		if err != nil {
			return fmt.Errorf("removing tags %s: %w", strings.Join(remove, ", "), b.fail(err))
		}
	}
	if len(add) > 0 {
		_, err := b.client.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String(name), Tags: tagList(add)})
		if err != nil {
			return fmt.Errorf("setting tags %s: %w", strings.Join(slices.Sorted(maps.Keys(add)), ", "), b.fail(err))
		}
	}
	return nil
}

// replicate adds the configured replica regions a secret lacks. Failures are
// warnings: the secret is written in the primary region.
func (b *backend) replicate(ctx context.Context, name string, have []types.ReplicationStatusType) {
	var missing []types.ReplicaRegionType
	for _, r := range b.replicas {
		if !slices.ContainsFunc(have, func(s types.ReplicationStatusType) bool { return aws.ToString(s.Region) == r }) {
			missing = append(missing, types.ReplicaRegionType{Region: aws.String(r)})
		}
	}
	if len(missing) == 0 {
		return
	}
	out, err := b.client.ReplicateSecretToRegions(ctx, &secretsmanager.ReplicateSecretToRegionsInput{
		SecretId:          aws.String(name),
		AddReplicaRegions: missing,
	})
	if err != nil {
		b.warnf(ctx, "secret %s is written in %s, but replicating it to %s failed (the next write tries again): %v",
			backends.QuoteName(name), b.cfg.AWS.Region, strings.Join(b.replicas, ", "), err)
		return
	}
	for _, s := range out.ReplicationStatus {
		if s.Status == types.StatusTypeFailed {
			b.warnf(ctx, "secret %s is written in %s, but its replica in %s failed: %s",
				backends.QuoteName(name), b.cfg.AWS.Region, aws.ToString(s.Region), aws.ToString(s.StatusMessage))
		}
	}
}

// Delete implements backends.Backend.
func (b *backend) Delete(ctx context.Context, name string, mode backends.DeleteMode) error {
	d, err := b.describe(ctx, name)
	if backends.CodeOf(err) == backends.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	in := &secretsmanager.DeleteSecretInput{SecretId: aws.String(name)}
	switch mode {
	case backends.DeleteForever:
		in.ForceDeleteWithoutRecovery = aws.Bool(true)
	case backends.DeleteSoft:
		if d.DeletedDate != nil {
			return nil // already scheduled for deletion
		}
		in.RecoveryWindowInDays = aws.Int64(b.window)
	default:
		return nil
	}
	if len(d.ReplicationStatus) > 0 {
		var regions []string
		for _, s := range d.ReplicationStatus {
			regions = append(regions, aws.ToString(s.Region))
		}
		_, err := b.client.RemoveRegionsFromReplication(ctx, &secretsmanager.RemoveRegionsFromReplicationInput{
			SecretId: aws.String(name), RemoveReplicaRegions: regions,
		})
		if err != nil {
			return fmt.Errorf("removing its replicas in %s first: %w", strings.Join(regions, ", "), b.fail(err))
		}
	}
	_, err = b.client.DeleteSecret(ctx, in)
	if err != nil && b.ErrorCode(err) != backends.NotFound {
		return b.fail(err)
	}
	return nil
}

// Health implements backends.Backend: one ListSecrets call.
func (b *backend) Health(ctx context.Context) error {
	_, err := b.client.ListSecrets(ctx, &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(1)})
	return b.fail(err)
}

// errorCodes maps Secrets Manager's error codes; awsconfig.CommonCodes covers
// throttling, 5xx, credentials and validation codes every service shares.
var errorCodes = map[string]backends.Code{
	"ResourceNotFoundException":        backends.NotFound,
	"ResourceExistsException":          backends.AlreadyExists,
	"InvalidParameterException":        backends.InvalidArgument,
	"InvalidNextTokenException":        backends.InvalidArgument,
	"MalformedPolicyDocumentException": backends.InvalidArgument,
	// InvalidRequestException is SoftDeleted when the secret is scheduled
	// for deletion (see ErrorCode), else the secret's state forbids the call.
	"InvalidRequestException":     backends.FailedPrecondition,
	"PreconditionNotMetException": backends.FailedPrecondition,
	"PublicPolicyException":       backends.FailedPrecondition,
	"LimitExceededException":      backends.FailedPrecondition, // a quota, not a rate
	"EncryptionFailure":           backends.FailedPrecondition, // the KMS key is disabled or not usable
	"DecryptionFailure":           backends.FailedPrecondition,
	"InternalServiceError":        backends.Unavailable,
	"AccessDeniedException":       backends.PermissionDenied,
	"ThrottlingException":         backends.Throttled,
	"TooManyRequestsException":    backends.Throttled,
}

// deletedMessage matches InvalidRequestException's wording for a secret that
// is scheduled for deletion ("...because it was marked for deletion",
// "...scheduled for deletion", "...currently marked deleted").
var deletedMessage = regexp.MustCompile(`(?i)(marked|scheduled) for deletion|marked deleted`)

// ErrorCode implements backends.Backend.
func (b *backend) ErrorCode(err error) backends.Code {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "InvalidRequestException" && deletedMessage.MatchString(apiErr.ErrorMessage()) {
		return backends.SoftDeleted
	}
	return awsconfig.ErrorCode(err, errorCodes)
}

// Close implements backends.Backend.
func (b *backend) Close() error {
	b.cfg.Close()
	return nil
}

// fail prepares an SDK error for the layer: the Retry-After the answer asked
// for, if any. Its code comes from ErrorCode.
func (b *backend) fail(err error) error {
	if err == nil {
		return nil
	}
	return awsconfig.Annotate(err, b.ErrorCode(err))
}

// describe is DescribeSecret, with a not-found error tagged NotFound. An
// answer for another secret (a name read as a partial ARN) is not found.
func (b *backend) describe(ctx context.Context, name string) (*secretsmanager.DescribeSecretOutput, error) {
	d, err := b.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil {
		if b.ErrorCode(err) == backends.NotFound {
			return nil, backends.Wrap(backends.NotFound, err)
		}
		return nil, b.fail(err)
	}
	if got := aws.ToString(d.Name); got != name {
		return nil, backends.Errorf(backends.NotFound, "Secrets Manager answered for secret %s when asked for %s (a name ending in a hyphen and six characters reads as a partial ARN)",
			backends.QuoteName(got), backends.QuoteName(name))
	}
	return d, nil
}

// warnf reports through the layer's channel (DESIGN.md, Layers): the
// provider turns it into a warning diagnostic. It never holds a value.
func (b *backend) warnf(ctx context.Context, format string, args ...any) {
	backends.Warn(ctx, fmt.Sprintf(format, args...))
}

// token derives the ClientRequestToken of writing value to name on top of
// version after ("" for a create): an HMAC shaped as a UUID (36 characters;
// Secrets Manager takes 32 to 64).
func (b *backend) token(name string, value []byte, after string) string {
	m := hmac.New(sha256.New, b.tokenKey[:])
	for _, part := range [][]byte{[]byte(name), value, []byte(after)} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		m.Write(n[:])
		m.Write(part)
	}
	u := m.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x80 // version 8: custom
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	h := hex.EncodeToString(u)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// stages returns the AWSCURRENT version and the AWSPREVIOUS ones (one on
// AWS; some emulators leave several).
func stages(versions map[string][]string) (current string, previous []string) {
	for id, st := range versions {
		if slices.Contains(st, stageCurrent) {
			current = id
		}
		if slices.Contains(st, stagePrevious) {
			previous = append(previous, id)
		}
	}
	slices.Sort(previous)
	return current, previous
}

func secretValue(name string, s *string, bin []byte) ([]byte, error) {
	switch {
	case s != nil:
		return []byte(*s), nil
	case bin != nil:
		// LiteLLM's reader takes SecretString only: it returns no value.
		return nil, backends.Errorf(backends.FailedPrecondition, "secret %s holds SecretBinary, not SecretString: LiteLLM's aws_secret_manager reader reads only SecretString, so the proxy gets no value for it; write it as text", backends.QuoteName(name))
	}
	return nil, backends.Errorf(backends.Internal, "Secrets Manager returned neither SecretString nor SecretBinary for secret %s", backends.QuoteName(name))
}

func tagMap(tags []types.Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func tagList(tags map[string]string) []types.Tag {
	if len(tags) == 0 {
		return nil
	}
	out := make([]types.Tag, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}
