// Package gcpsm is the Google Secret Manager store (key_management_system =
// "google_secret_manager"), on cloud.google.com/go/secretmanager over gRPC.
//
// It reads the google_secret_manager block: project_id (else
// GOOGLE_SECRET_MANAGER_PROJECT_ID, LiteLLM's variable, else
// GOOGLE_CLOUD_PROJECT), location, and the credentials, access_token and
// endpoint that every Google store shares (package gcpconfig). LiteLLM's
// credentials variable GCS_PATH_SERVICE_ACCOUNT is read like credentials,
// after GOOGLE_OAUTH_ACCESS_TOKEN and GOOGLE_CREDENTIALS.
//
// LiteLLM's reader accesses only global secrets,
// projects/<p>/secrets/<name>/versions/latest: a regional secret (location
// set) is invisible to it, so the provider warns when location is set.
//
// # Secrets
//
// A secret name is the secret ID: letters, digits, "_" and "-", at most 255
// characters. ValidateName refuses anything else, "/" included; prefixes
// are joined with "/", so names under store_virtual_keys or a non-empty
// prefix are refused. Without location a secret is global,
// projects/<p>/secrets/<id>, created with automatic replication; with
// location it is a regional secret,
// projects/<p>/locations/<l>/secrets/<id>, reached through the regional
// endpoint secretmanager.<l>.rep.googleapis.com unless endpoint is set.
//
// A write creates the secret if needed, then adds a version: the version is
// the new version's number. A read accesses versions/latest and reads the
// secret's labels and annotations. A secret whose latest version is
// DISABLED (soft-deleted) reads as deleted but recoverable; one whose latest
// version is DESTROYED, or that has no version, as missing.
//
// Tags are the secret's labels. Google's label rules apply, and a write that
// breaks them is refused before any call, at plan time in the provider: at
// most 64 labels; keys of 1 to 63 characters that start with a lowercase
// letter; keys and values made of lowercase letters, digits, "_" and "-",
// values at most 63 characters. The description is the annotation
// "description"; other annotations are kept as they are.
//
// Delete with DeleteForever deletes the secret and every version;
// DeleteSoft disables the latest version and keeps the secret, so a later
// write (a new enabled version) brings it back.
package gcpsm

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpconfig"
)

// Kind is this store's key_management_system value.
const Kind = "google_secret_manager"

// Environment variables for project_id, in order.
const (
	EnvProjectID      = "GOOGLE_SECRET_MANAGER_PROJECT_ID"
	EnvCloudProjectID = "GOOGLE_CLOUD_PROJECT"
	// EnvLiteLLMCredentials is LiteLLM's credentials variable for its
	// Secret Manager reader (a service account JSON file, or its content):
	// a fallback after credentials, access_token, GOOGLE_OAUTH_ACCESS_TOKEN
	// and GOOGLE_CREDENTIALS, before Application Default Credentials.
	EnvLiteLLMCredentials = "GCS_PATH_SERVICE_ACCOUNT"
	DescriptionKey        = "description"
	maxSecretIDLength     = 255
	maxLabels             = 64
	maxLabelLength        = 63
	maxLabelBytes         = 128
	maxAnnotationBytes    = 16 * 1024
)

// Options configures the store: the provider's google_secret_manager block.
type Options struct {
	// ProjectID (project_id): GOOGLE_SECRET_MANAGER_PROJECT_ID, then
	// GOOGLE_CLOUD_PROJECT. Required.
	ProjectID string
	// Location (location) makes secrets regional secrets in that location.
	Location string
	// Credentials, AccessToken and Endpoint are the shared Google
	// attributes (see gcpconfig).
	Credentials string
	AccessToken string
	Endpoint    string
	// LookupEnv reads the environment for the fallbacks; nil means
	// os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// DialOptions are added to the gRPC dial (tests trust their own TLS
	// certificate with it).
	DialOptions []grpc.DialOption
}

// Resolved is Options with every fallback applied.
type Resolved struct {
	ProjectID string
	Location  string
	// Parent is projects/<p> or projects/<p>/locations/<l>.
	Parent string
	// Endpoint is the address the client dials: the override, the regional
	// endpoint, or empty for the SDK's default.
	Endpoint string
	Google   gcpconfig.Resolved
}

var (
	locationRE  = regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$`)
	projectRE   = regexp.MustCompile(`^([a-z][a-z0-9.-]*[a-z0-9]:)?[a-z0-9][a-z0-9-]*[a-z0-9]$`)
	secretIDRE  = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	versionIDRE = regexp.MustCompile(`/versions/([0-9]+)$`)
)

// Resolve applies the fallbacks, in one place, and checks the result. It
// calls nothing. Errors are InvalidArgument and name the attribute and the
// variables that could supply it.
func (o *Options) Resolve() (Resolved, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	g := gcpconfig.Options{
		Block: Kind, Credentials: opts.Credentials, AccessToken: opts.AccessToken, Endpoint: opts.Endpoint,
		CredentialsEnv: []string{EnvLiteLLMCredentials}, LookupEnv: opts.LookupEnv, DialOptions: opts.DialOptions,
	}
	google, err := g.Resolve()
	if err != nil {
		return Resolved{}, err
	}
	r := Resolved{Google: google, Location: strings.TrimSpace(opts.Location), ProjectID: strings.TrimSpace(opts.ProjectID)}
	source := Kind + ".project_id"
	if r.ProjectID == "" {
		var name string
		r.ProjectID, name = g.Lookup(EnvProjectID, EnvCloudProjectID)
		source = fmt.Sprintf("%s.project_id (from %s)", Kind, name)
	}
	switch {
	case r.ProjectID == "":
		return Resolved{}, backends.Errorf(backends.InvalidArgument, "%s.project_id is required: set it, or the environment variable %s or %s", Kind, EnvProjectID, EnvCloudProjectID)
	case !projectRE.MatchString(r.ProjectID):
		return Resolved{}, backends.Errorf(backends.InvalidArgument, "%s %q is not a Google Cloud project ID or number", source, r.ProjectID)
	}
	r.Parent = "projects/" + r.ProjectID
	r.Endpoint = google.Endpoint
	if r.Location != "" {
		if !locationRE.MatchString(r.Location) {
			return Resolved{}, backends.Errorf(backends.InvalidArgument, "%s.location %q is not a Google Cloud location such as us-central1", Kind, r.Location)
		}
		r.Parent += "/locations/" + r.Location
		if r.Endpoint == "" {
			r.Endpoint = "secretmanager." + r.Location + ".rep.googleapis.com:443"
		}
	}
	return r, nil
}

type backend struct {
	r Resolved
	c *secretmanager.Client
}

var (
	_ backends.Backend         = (*backend)(nil)
	_ backends.NameValidator   = (*backend)(nil)
	_ backends.WriteValidator  = (*backend)(nil)
	_ backends.MetadataUpdater = (*backend)(nil)
)

// New returns the Secret Manager store. It resolves the options and creates
// the client; the connection is made on the first call.
func New(ctx context.Context, opts *Options) (backends.Backend, error) {
	r, err := opts.Resolve()
	if err != nil {
		return nil, err
	}
	c, err := secretmanager.NewClient(ctx, r.Google.ClientOptions(r.Endpoint)...)
	if err != nil {
		return nil, backends.Errorf(backends.InvalidArgument, "creating the Secret Manager client (%s auth): %w", r.Google.Auth, err)
	}
	// The layer's *Store is the one retry budget: no SDK retries, and no
	// SDK timeouts under the layer's per-call timeout.
	c.CallOptions = &secretmanager.CallOptions{}
	return &backend{r: r, c: c}, nil
}

// Kind implements backends.Backend.
func (b *backend) Kind() string { return Kind }

// Caps implements backends.Backend.
func (b *backend) Caps() backends.Caps {
	return backends.Caps{Write: true, Delete: true, SoftDelete: true, Metadata: true, Binary: true}
}

// ValidateName implements backends.NameValidator.
func (b *backend) ValidateName(name string) error {
	if len(name) > maxSecretIDLength {
		return backends.RuleViolation("the %s store does not accept secret name %s: secret IDs are at most %d characters, this one has %d",
			Kind, backends.QuoteName(name), maxSecretIDLength, len(name))
	}
	if !secretIDRE.MatchString(name) {
		bad := ""
		for _, r := range name {
			if !secretIDRE.MatchString(string(r)) {
				bad = string(r)
				break
			}
		}
		return backends.RuleViolation("the %s store does not accept secret name %s: secret IDs may contain only letters, digits, \"_\" and \"-\" (at most %d characters), not %q",
			Kind, backends.QuoteName(name), maxSecretIDLength, bad)
	}
	return nil
}

// ValidateWrite implements backends.WriteValidator: Google's label rules for
// tags, and the annotation size limit for the description.
func (b *backend) ValidateWrite(req backends.WriteRequest) error {
	if len(req.Tags) > maxLabels {
		return backends.RuleViolation("the %s store keeps tags as labels, at most %d per secret; got %d tags", Kind, maxLabels, len(req.Tags))
	}
	for _, k := range slices.Sorted(maps.Keys(req.Tags)) {
		if err := validateLabel(k, req.Tags[k]); err != nil {
			return backends.RuleViolation("the %s store keeps tags as labels: tag %q: %s", Kind, k, err)
		}
	}
	if n := len(DescriptionKey) + len(req.Description); n > maxAnnotationBytes {
		return backends.RuleViolation("the %s store keeps the description as an annotation, and annotations are at most %d bytes; this description is %d bytes", Kind, maxAnnotationBytes, len(req.Description))
	}
	return nil
}

// validateLabel applies Google's label rules to one tag.
func validateLabel(k, v string) error {
	switch {
	case k == "":
		return errors.New("label keys must not be empty")
	case utf8.RuneCountInString(k) > maxLabelLength || len(k) > maxLabelBytes:
		return fmt.Errorf("label keys are at most %d characters", maxLabelLength)
	case utf8.RuneCountInString(v) > maxLabelLength || len(v) > maxLabelBytes:
		return fmt.Errorf("label values are at most %d characters", maxLabelLength)
	}
	first, _ := utf8.DecodeRuneInString(k)
	if !unicode.IsLower(first) {
		return errors.New("label keys must start with a lowercase letter")
	}
	for _, part := range []struct{ what, s string }{{"keys", k}, {"values", v}} {
		for _, r := range part.s {
			if !unicode.IsLower(r) && !unicode.IsDigit(r) && r != '_' && r != '-' {
				return fmt.Errorf("label %s may contain only lowercase letters, digits, \"_\" and \"-\", not %q", part.what, string(r))
			}
		}
	}
	return nil
}

// secretName is the resource name of a secret ID.
func (b *backend) secretName(id string) string { return b.r.Parent + "/secrets/" + id }

// replication is automatic for global secrets; regional secrets have none.
func (b *backend) replication() *secretmanagerpb.Replication {
	if b.r.Location != "" {
		return nil
	}
	return &secretmanagerpb.Replication{Replication: &secretmanagerpb.Replication_Automatic_{Automatic: &secretmanagerpb.Replication_Automatic{}}}
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func crc32c(data []byte) int64 { return int64(crc32.Checksum(data, crcTable)) }

// versionID returns the number of a version resource name.
func versionID(name string) (string, error) {
	m := versionIDRE.FindStringSubmatch(name)
	if m == nil {
		return "", backends.Errorf(backends.Internal, "the store answered with version name %q, which does not end in /versions/<number>", name)
	}
	return m[1], nil
}

// Get implements backends.Backend: it accesses versions/latest, then reads
// the secret's labels and annotations.
func (b *backend) Get(ctx context.Context, id string) (*backends.Secret, error) {
	name := b.secretName(id)
	acc, err := b.c.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: name + "/versions/latest"})
	if gcpconfig.Code(err) == backends.FailedPrecondition {
		return b.unreadableLatest(ctx, id, err)
	}
	if err != nil {
		return nil, gcpconfig.Wrap(err)
	}
	payload := acc.GetPayload()
	if payload.DataCrc32C != nil && crc32c(payload.GetData()) != payload.GetDataCrc32C() {
		return nil, backends.Errorf(backends.Unavailable, "the payload of %s failed its CRC32C check (corrupted in transit)", acc.GetName())
	}
	version, err := versionID(acc.GetName())
	if err != nil {
		return nil, err
	}
	sec := &backends.Secret{Name: id, Value: payload.GetData(), Version: version}
	meta, err := b.c.GetSecret(ctx, &secretmanagerpb.GetSecretRequest{Name: name})
	switch gcpconfig.Code(err) {
	case backends.OK:
		sec.Description = meta.GetAnnotations()[DescriptionKey]
		sec.Tags = meta.GetLabels()
	case backends.PermissionDenied:
		// A reader with only secretmanager.versions.access (the Secret
		// Manager Secret Accessor role, as LiteLLM runs) reads the value
		// without the metadata.
	default:
		return nil, gcpconfig.Wrap(err)
	}
	return sec, nil
}

// unreadableLatest explains a FAILED_PRECONDITION from accessing
// versions/latest: a DISABLED latest version is a soft-deleted secret, a
// DESTROYED one a missing secret.
func (b *backend) unreadableLatest(ctx context.Context, id string, accessErr error) (*backends.Secret, error) {
	v, err := b.c.GetSecretVersion(ctx, &secretmanagerpb.GetSecretVersionRequest{Name: b.secretName(id) + "/versions/latest"})
	if err != nil {
		return nil, gcpconfig.Wrap(accessErr)
	}
	switch v.GetState() {
	case secretmanagerpb.SecretVersion_DISABLED:
		version, _ := versionID(v.GetName())
		return &backends.Secret{Name: id, Version: version, Deleted: true}, nil
	case secretmanagerpb.SecretVersion_DESTROYED:
		return nil, backends.Errorf(backends.NotFound, "the latest version of the secret, %s, is destroyed", v.GetName())
	}
	return nil, gcpconfig.Wrap(accessErr)
}

// Put implements backends.Backend: it creates the secret with its labels and
// description (or brings an existing secret's metadata in line), then adds
// a version. Repeating it after a lost answer adds a second version with the
// same value, never a second secret. When it created the secret and the
// first version fails, it removes the secret again (removeEmpty).
func (b *backend) Put(ctx context.Context, req backends.WriteRequest) (string, error) {
	if err := b.ValidateWrite(req); err != nil {
		return "", err
	}
	name := b.secretName(req.Name)
	secret := &secretmanagerpb.Secret{Replication: b.replication(), Labels: req.Tags}
	if req.Description != "" {
		secret.Annotations = map[string]string{DescriptionKey: req.Description}
	}
	created, err := b.c.CreateSecret(ctx, &secretmanagerpb.CreateSecretRequest{Parent: b.r.Parent, SecretId: req.Name, Secret: secret})
	switch gcpconfig.Code(err) {
	case backends.OK:
	case backends.AlreadyExists:
		created = nil
		if err := b.UpdateMetadata(ctx, req.Name, req.Description, req.Tags); err != nil {
			return "", err
		}
	default:
		return "", gcpconfig.Wrap(err)
	}
	crc := crc32c(req.Value)
	v, err := b.c.AddSecretVersion(ctx, &secretmanagerpb.AddSecretVersionRequest{
		Parent:  name,
		Payload: &secretmanagerpb.SecretPayload{Data: req.Value, DataCrc32C: &crc},
	})
	if err != nil {
		if created != nil {
			return "", b.removeEmpty(ctx, created, gcpconfig.Wrap(err))
		}
		return "", gcpconfig.Wrap(err)
	}
	return versionID(v.GetName())
}

// cleanupTimeout bounds the removal of a secret whose first version failed;
// it runs even when the write's own deadline is what failed it.
const cleanupTimeout = 30 * time.Second

// removeEmpty deletes a secret this Put created when its first version could
// not be added, so a failed write leaves no empty secret behind (LiteLLM and
// every reader would find a secret without a value). It deletes only when the
// secret still has no version (the failed add may have been written, its
// answer lost, or another writer may have added one) and only at the etag
// CreateSecret returned (nobody changed it since). addErr, the failure, is
// returned with its code, so the layer retries a transient one.
func (b *backend) removeEmpty(ctx context.Context, created *secretmanagerpb.Secret, addErr error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	it := b.c.ListSecretVersions(ctx, &secretmanagerpb.ListSecretVersionsRequest{Parent: created.GetName(), PageSize: 1})
	_, err := it.Next()
	switch {
	case errors.Is(err, iterator.Done):
	case err == nil:
		return addErr // a version is there: the secret is not empty
	default:
		return fmt.Errorf("%w; the secret this write created, still without a version, could not be checked for removal: %v", addErr, err)
	}
	err = b.c.DeleteSecret(ctx, &secretmanagerpb.DeleteSecretRequest{Name: created.GetName(), Etag: created.GetEtag()})
	if err != nil && gcpconfig.Code(err) != backends.NotFound {
		return fmt.Errorf("%w; the secret this write created, still without a version, could not be removed: %v", addErr, err)
	}
	return addErr
}

// UpdateMetadata implements backends.MetadataUpdater: the labels become
// tags, the "description" annotation the description; other annotations
// stay. Nothing is written when they already match.
func (b *backend) UpdateMetadata(ctx context.Context, id, description string, tags map[string]string) error {
	if err := b.ValidateWrite(backends.WriteRequest{Name: id, Description: description, Tags: tags}); err != nil {
		return err
	}
	name := b.secretName(id)
	cur, err := b.c.GetSecret(ctx, &secretmanagerpb.GetSecretRequest{Name: name})
	if err != nil {
		return gcpconfig.Wrap(err)
	}
	annotations := maps.Clone(cur.GetAnnotations())
	if annotations == nil {
		annotations = map[string]string{}
	}
	if description == "" {
		delete(annotations, DescriptionKey)
	} else {
		annotations[DescriptionKey] = description
	}
	var paths []string
	if !maps.Equal(cur.GetLabels(), tags) {
		paths = append(paths, "labels")
	}
	if !maps.Equal(cur.GetAnnotations(), annotations) {
		paths = append(paths, "annotations")
	}
	if len(paths) == 0 {
		return nil
	}
	_, err = b.c.UpdateSecret(ctx, &secretmanagerpb.UpdateSecretRequest{
		Secret:     &secretmanagerpb.Secret{Name: name, Labels: tags, Annotations: annotations, Etag: cur.GetEtag()},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: paths},
	})
	return gcpconfig.Wrap(err)
}

// Delete implements backends.Backend. DeleteForever deletes the secret;
// DeleteSoft disables its latest version.
func (b *backend) Delete(ctx context.Context, id string, mode backends.DeleteMode) error {
	name := b.secretName(id)
	switch mode {
	case backends.DeleteForever:
		return gcpconfig.Wrap(b.c.DeleteSecret(ctx, &secretmanagerpb.DeleteSecretRequest{Name: name}))
	case backends.DeleteSoft:
		v, err := b.c.GetSecretVersion(ctx, &secretmanagerpb.GetSecretVersionRequest{Name: name + "/versions/latest"})
		if err != nil {
			return gcpconfig.Wrap(err)
		}
		if v.GetState() != secretmanagerpb.SecretVersion_ENABLED {
			return nil // already disabled or destroyed
		}
		_, err = b.c.DisableSecretVersion(ctx, &secretmanagerpb.DisableSecretVersionRequest{Name: v.GetName(), Etag: v.GetEtag()})
		return gcpconfig.Wrap(err)
	}
	return nil // Abandon: the layer never calls it
}

// Health implements backends.Backend: it lists at most one secret of the
// project (or location).
func (b *backend) Health(ctx context.Context) error {
	it := b.c.ListSecrets(ctx, &secretmanagerpb.ListSecretsRequest{Parent: b.r.Parent, PageSize: 1})
	_, err := it.Next()
	if errors.Is(err, iterator.Done) {
		return nil
	}
	return gcpconfig.Wrap(err)
}

// ErrorCode implements backends.Backend: the gRPC status code, by table.
func (b *backend) ErrorCode(err error) backends.Code { return gcpconfig.Code(err) }

// Close implements backends.Backend.
func (b *backend) Close() error { return b.c.Close() }
