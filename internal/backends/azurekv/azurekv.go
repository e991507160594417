// Package azurekv is the Azure Key Vault store (key_management_system =
// "azure_key_vault"), on azure-sdk-for-go's azsecrets and azidentity.
//
// # Settings
//
// The provider's azure_key_vault block maps to Options; Options.Resolve fills
// what the block leaves empty from the environment, in one place: vault_url
// from AZURE_KEY_VAULT_URI (LiteLLM's variable), tenant_id, client_id,
// client_secret, client_certificate_path and client_certificate_password from
// AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET,
// AZURE_CLIENT_CERTIFICATE_PATH and AZURE_CLIENT_CERTIFICATE_PASSWORD, the
// Entra authority from AZURE_AUTHORITY_HOST and extra trusted certificates
// from SSL_CERT_FILE. The credential is, in this order: managed identity
// (use_managed_identity), workload identity (use_workload_identity), the Azure
// CLI (use_cli), a client secret, a client certificate, else the
// DefaultAzureCredential chain. Key Vault's challenge policy discovers the
// tenant and scope from the vault's 401 challenge and checks that the
// challenge's resource matches the vault's domain.
//
// # Names
//
// Key Vault names are 1 to 127 ASCII letters, digits and '-', compared
// without case. LiteLLM's azure_key_vault reader calls
// SecretClient.get_secret(name) with the name exactly as its config gives it,
// so names are stored as written, never mapped: CheckName (called at plan
// through ValidateName) refuses any other name and suggests the Key Vault
// spelling (OPENAI_API_KEY: use OPENAI-API-KEY, referenced in LiteLLM as
// os.environ/OPENAI-API-KEY).
//
// # Writes, metadata and deletes
//
// Each write is a SetSecret: a new version, whose id is the version. The
// description is the secret's content type and tags are its tags (at most 15,
// keys up to 512 and values up to 256 characters); UpdateMetadata changes them
// with UpdateSecretProperties on the current version, without a new one.
// Values are text: Key Vault holds strings, so a value that is not UTF-8 is
// refused rather than mangled.
//
// Writing a name that only exists as soft-deleted recovers it, waits until it
// reads again and then writes the new version. DeleteSoft deletes (Key Vault
// keeps it recoverable for the vault's retention period); DeleteForever also
// waits for the deletion to complete and purges it. When the vault has purge
// protection, the purge is skipped with a warning (backends.Warn, which the
// user sees as an apply warning) and the secret stays soft-deleted until Key
// Vault purges it. Every wait polls with backoff and gives up after
// Options.PollTimeout with a DeadlineExceeded error.
//
// The SDK's retries are off: *backends.Store retries throttling (429, with
// its Retry-After) and server errors.
package azurekv

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// Kind is the store's key_management_system value.
const Kind = "azure_key_vault"

// Key Vault's limits on metadata.
const (
	MaxTags        = 15
	MaxTagKeyLen   = 512
	MaxTagValueLen = 256
)

// healthName is read by Health: a 404 proves the vault is reachable and the
// credential may read secrets.
const healthName = "llmsecret-health-check"

type backend struct {
	client      *azsecrets.Client
	vaultURL    string
	credName    string
	pollTimeout time.Duration
}

var (
	_ backends.Backend         = (*backend)(nil)
	_ backends.NameValidator   = (*backend)(nil)
	_ backends.MetadataUpdater = (*backend)(nil)
)

// New returns the store. opts may be nil: everything then comes from the
// environment, and vault_url must be there.
func New(opts *Options) (backends.Backend, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if err := o.Resolve(); err != nil {
		return nil, err
	}
	transport := o.Transport
	if transport == nil {
		c, err := newTransport(o.CABundle)
		if err != nil {
			return nil, err
		}
		transport = c
	}
	cred, err := o.credential(transport)
	if err != nil {
		return nil, fmt.Errorf("azure_key_vault credential (%s): %w", o.CredentialName(), err)
	}
	client, err := azsecrets.NewClient(o.VaultURL, cred, &azsecrets.ClientOptions{
		ClientOptions: azcore.ClientOptions{
			Transport: transport,
			Retry:     policy.RetryOptions{MaxRetries: -1},
			Telemetry: policy.TelemetryOptions{ApplicationID: "terraform-provider-llmsecret"},
		},
	})
	if err != nil {
		return nil, backends.Errorf(backends.InvalidArgument, "azure_key_vault: %v", err)
	}
	return &backend{
		client:      client,
		vaultURL:    o.VaultURL,
		credName:    o.CredentialName(),
		pollTimeout: o.PollTimeout,
	}, nil
}

// Kind implements backends.Backend.
func (b *backend) Kind() string { return Kind }

// Caps implements backends.Backend.
func (b *backend) Caps() backends.Caps {
	return backends.Caps{Write: true, Delete: true, SoftDelete: true, Metadata: true}
}

// Close implements backends.Backend.
func (b *backend) Close() error { return nil }

// Health implements backends.Backend: it reads a secret that does not exist,
// which needs the vault reachable, a token and the get permission.
func (b *backend) Health(ctx context.Context) error {
	_, err := b.client.GetSecret(ctx, healthName, "", nil)
	if err == nil || b.ErrorCode(err) == backends.NotFound {
		return nil
	}
	return b.fail(opGet, healthName, err)
}

// Get implements backends.Backend. A soft-deleted secret reads as NotFound,
// as Key Vault answers.
func (b *backend) Get(ctx context.Context, name string) (*backends.Secret, error) {
	kv, err := kvName(name)
	if err != nil {
		return nil, err
	}
	resp, err := b.client.GetSecret(ctx, kv, "", nil)
	if err != nil {
		return nil, b.fail(opGet, name, err)
	}
	if resp.Value == nil || resp.ID == nil {
		return nil, backends.Errorf(backends.Internal, "reading secret %s in Key Vault %s: the answer has no value or no id", backends.QuoteName(name), b.vaultURL)
	}
	return &backends.Secret{
		Name:        name,
		Value:       []byte(*resp.Value),
		Version:     resp.ID.Version(),
		Description: deref(resp.ContentType),
		Tags:        fromTags(resp.Tags),
	}, nil
}

// ValidateWrite checks a write against Key Vault's limits before any call:
// text values, at most 15 tags, tag keys up to 512 and values up to 256
// characters. *Store calls Put with tags already merged with
// key_management_settings.tags, so the count is the merged one.
func (b *backend) ValidateWrite(req backends.WriteRequest) error {
	if !utf8.Valid(req.Value) {
		return backends.RuleViolation("the azure_key_vault store holds text values: the value of %s is not valid UTF-8", backends.QuoteName(req.Name))
	}
	return validateTags(req.Name, req.Tags)
}

func validateTags(name string, tags map[string]string) error {
	if len(tags) > MaxTags {
		return backends.RuleViolation(
			"the azure_key_vault store allows at most %d tags per secret, and %s would have %d (the resource's tags merged with key_management_settings.tags)",
			MaxTags, backends.QuoteName(name), len(tags))
	}
	for k, v := range tags {
		if k == "" || utf8.RuneCountInString(k) > MaxTagKeyLen {
			return backends.RuleViolation("the azure_key_vault store allows tag keys of 1 to %d characters; %s has a tag key of %d", MaxTagKeyLen, backends.QuoteName(name), utf8.RuneCountInString(k))
		}
		if utf8.RuneCountInString(v) > MaxTagValueLen {
			return backends.RuleViolation("the azure_key_vault store allows tag values of at most %d characters; tag %q of %s has %d", MaxTagValueLen, k, backends.QuoteName(name), utf8.RuneCountInString(v))
		}
	}
	return nil
}

// Put implements backends.Backend: one SetSecret, a new version. A name held
// by a soft-deleted secret is recovered first; a name whose delete, purge or
// recovery is still in progress is waited for.
func (b *backend) Put(ctx context.Context, req backends.WriteRequest) (string, error) {
	kv, err := kvName(req.Name)
	if err != nil {
		return "", err
	}
	if err := b.ValidateWrite(req); err != nil {
		return "", err
	}
	value := string(req.Value)
	params := azsecrets.SetSecretParameters{Value: &value, ContentType: optional(req.Description), Tags: toTags(req.Tags)}
	w := b.newWaiter(ctx)
	for {
		resp, err := b.client.SetSecret(ctx, kv, params, nil)
		if err == nil {
			if resp.ID == nil || resp.ID.Version() == "" {
				return "", backends.Errorf(backends.Internal, "writing secret %s in Key Vault %s: the answer has no version id", backends.QuoteName(req.Name), b.vaultURL)
			}
			return resp.ID.Version(), nil
		}
		switch conflictOf(err) {
		case conflictDeleted:
			if err := b.recover(ctx, w, req.Name, kv); err != nil {
				return "", err
			}
			continue
		case conflictBusy:
			if err := w.wait(ctx, fmt.Sprintf("writing secret %s in Key Vault %s: a delete, purge or recovery of the name is still in progress", backends.QuoteName(req.Name), b.vaultURL)); err != nil {
				return "", err
			}
			continue
		}
		return "", b.fail(opSet, req.Name, err)
	}
}

// recover recovers a soft-deleted secret and waits until it reads again.
func (b *backend) recover(ctx context.Context, w *waiter, name, kv string) error {
	what := fmt.Sprintf("recovering soft-deleted secret %s in Key Vault %s", backends.QuoteName(name), b.vaultURL)
	for {
		_, err := b.client.RecoverDeletedSecret(ctx, kv, nil)
		if err == nil {
			break
		}
		switch {
		case conflictOf(err) == conflictBusy:
			// Still being deleted: it can be recovered once that completes.
		case b.ErrorCode(err) == backends.NotFound:
			// Recovered or purged meanwhile, or its deletion has not
			// completed yet: the caller's write decides.
			return nil
		default:
			return b.fail(opRecover, name, err)
		}
		if err := w.wait(ctx, what+": the deletion is still in progress"); err != nil {
			return err
		}
	}
	for {
		_, err := b.client.GetSecret(ctx, kv, "", nil)
		if err == nil {
			return nil
		}
		if b.ErrorCode(err) != backends.NotFound {
			return b.fail(opGet, name, err)
		}
		if err := w.wait(ctx, what+": recovery started but the secret does not read yet (Key Vault recovers asynchronously)"); err != nil {
			return err
		}
	}
}

// UpdateMetadata implements backends.MetadataUpdater: content type (the
// description) and tags of the current version, without a new version.
func (b *backend) UpdateMetadata(ctx context.Context, name, description string, tags map[string]string) error {
	kv, err := kvName(name)
	if err != nil {
		return err
	}
	if err := validateTags(name, tags); err != nil {
		return err
	}
	ct := description
	t := toTags(tags)
	if t == nil {
		t = map[string]*string{} // an empty object clears the tags; null would keep them
	}
	_, err = b.client.UpdateSecretProperties(ctx, kv, "", azsecrets.UpdateSecretPropertiesParameters{ContentType: &ct, Tags: t}, nil)
	return b.fail(opUpdate, name, err)
}

// Delete implements backends.Backend.
func (b *backend) Delete(ctx context.Context, name string, mode backends.DeleteMode) error {
	if mode == backends.Abandon {
		return nil
	}
	kv, err := kvName(name)
	if err != nil {
		return err
	}
	resp, err := b.client.DeleteSecret(ctx, kv, nil)
	deleted := err == nil
	switch {
	case err == nil, conflictOf(err) == conflictBusy:
		deleted = true
	case b.ErrorCode(err) == backends.NotFound:
		// Missing, or already soft-deleted: DeleteForever purges it below.
	default:
		return b.fail(opDelete, name, err)
	}
	if err == nil && resp.RecoveryID == nil {
		if mode == backends.DeleteSoft {
			backends.Warn(ctx, fmt.Sprintf("secret %s was deleted for good: Key Vault %s has soft delete off, so deletion_policy soft_delete could not keep it recoverable", backends.QuoteName(name), b.vaultURL))
		}
		return nil
	}
	if mode == backends.DeleteSoft {
		return nil
	}
	return b.purge(ctx, name, kv, deleted)
}

// purge waits until the deletion of kv has completed and purges it, unless
// the vault has purge protection.
func (b *backend) purge(ctx context.Context, name, kv string, justDeleted bool) error {
	w := b.newWaiter(ctx)
	what := fmt.Sprintf("purging secret %s in Key Vault %s", backends.QuoteName(name), b.vaultURL)
	var level string
	for {
		resp, err := b.client.GetDeletedSecret(ctx, kv, nil)
		if err == nil {
			if resp.Attributes != nil {
				level = deref(resp.Attributes.RecoveryLevel)
			}
			break
		}
		if b.ErrorCode(err) != backends.NotFound {
			return b.fail(opDeleted, name, err)
		}
		if !justDeleted {
			return nil // neither live nor soft-deleted: nothing to do
		}
		if err := w.wait(ctx, what+": the deletion has not completed yet (Key Vault deletes asynchronously)"); err != nil {
			return err
		}
	}
	if level != "" && !strings.Contains(level, "Purgeable") {
		b.warnProtected(ctx, name, level)
		return nil
	}
	for {
		_, err := b.client.PurgeDeletedSecret(ctx, kv, nil)
		switch {
		case err == nil, b.ErrorCode(err) == backends.NotFound:
			return nil
		case isPurgeProtected(err):
			b.warnProtected(ctx, name, level)
			return nil
		case conflictOf(err) == conflictBusy:
			if err := w.wait(ctx, what+": Key Vault is still deleting it"); err != nil {
				return err
			}
			continue
		}
		return b.fail(opPurge, name, err)
	}
}

func (b *backend) warnProtected(ctx context.Context, name, level string) {
	msg := fmt.Sprintf("secret %s is deleted but not purged: Key Vault %s has purge protection", backends.QuoteName(name), b.vaultURL)
	if level != "" {
		msg += " (recovery level " + level + ")"
	}
	msg += "; it stays soft-deleted until its scheduled purge date, and creating the same name before then recovers it"
	backends.Warn(ctx, msg)
}

// waiter polls Key Vault's asynchronous state changes with backoff, within
// PollTimeout and the caller's deadline.
type waiter struct {
	deadline time.Time
	bound    time.Duration
	delay    time.Duration
}

func (b *backend) newWaiter(ctx context.Context) *waiter {
	bound := b.pollTimeout
	if d, ok := ctx.Deadline(); ok {
		// Leave time to report: the layer retries an attempt that ran out
		// of time, but a wait that gave up is an answer.
		if left := time.Until(d) * 9 / 10; left < bound {
			bound = left
		}
	}
	return &waiter{deadline: time.Now().Add(bound), bound: bound, delay: 50 * time.Millisecond}
}

// wait waits before the next poll, or fails with DeadlineExceeded saying what
// did not happen in time.
func (w *waiter) wait(ctx context.Context, what string) error {
	left := time.Until(w.deadline)
	if left <= 0 {
		return backends.Errorf(backends.DeadlineExceeded, "%s; gave up after %s. Run the apply again once Key Vault has finished", what, w.bound.Round(time.Millisecond))
	}
	d := min(w.delay, left)
	w.delay = min(2*w.delay, 2*time.Second)
	return backends.WaitContext(ctx, d)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func toTags(tags map[string]string) map[string]*string {
	if len(tags) == 0 {
		return nil
	}
	out := make(map[string]*string, len(tags))
	for k, v := range tags {
		out[k] = &v
	}
	return out
}

func fromTags(tags map[string]*string) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	out := make(map[string]string, len(tags))
	for k, v := range tags {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}
