package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// kmsPath is llmsecret_secret on a KMS store (aws_kms, google_kms): there is
// no remote object (DESIGN.md, Objects). A write encrypts the value into
// ciphertext, refresh keeps state (the ciphertext in state is the truth),
// destroy only forgets, and there is nothing to import.
type kmsPath struct {
	store *backends.Keyring
}

var _ secretPath = kmsPath{}

// planWrite: the ciphertext is known only once apply has encrypted. The
// value is not checked at plan: a KMS key takes any bytes.
func (kmsPath) planWrite(_ context.Context, _ tfsdk.Config, plan *SecretResourceModel, _ *diag.Diagnostics) bool {
	plan.Version = types.StringUnknown()
	plan.Ciphertext = types.StringUnknown()
	return true
}

// checkMetadata: a KMS store writes no description or tags, so it has no
// rules on them.
func (kmsPath) checkMetadata(*SecretResourceModel, *diag.Diagnostics) bool { return true }

// refuseDeletion: nothing remote to delete, so every policy is fine.
func (kmsPath) refuseDeletion(string, bool) string { return "" }

// create encrypts the value into the plan's ciphertext.
func (p kmsPath) create(ctx context.Context, wr backends.WriteRequest, plan *SecretResourceModel, limit time.Duration) diag.Diagnostics {
	return p.encrypt(ctx, wr, plan, "create", limit)
}

// update encrypts again only when the value or the name changed: a change of
// metadata alone keeps the ciphertext.
func (p kmsPath) update(ctx context.Context, wr backends.WriteRequest, plan, state *SecretResourceModel, limit time.Duration) diag.Diagnostics {
	if !writesValue(plan, state) {
		return nil
	}
	return p.encrypt(ctx, wr, plan, "update", limit)
}

// read keeps state: the ciphertext in state is the truth.
func (kmsPath) read(context.Context, resource.ReadRequest, *resource.ReadResponse, *SecretResourceModel) {
}

// delete only forgets the ciphertext.
func (kmsPath) delete(context.Context, *SecretResourceModel, *diag.Diagnostics) {}

// importState: there is no remote object to adopt.
func (kmsPath) importState(string) (SecretResourceModel, error) {
	return SecretResourceModel{}, errors.New("a KMS store holds no secrets, so there is nothing to import; declare the resource and apply it to encrypt the value")
}

// defaultDeletionPolicy: delete, since destroy only forgets the ciphertext.
func (kmsPath) defaultDeletionPolicy() string { return policyDelete }

// keepsMetadata: a KMS store writes no description or tags.
func (kmsPath) keepsMetadata() bool { return false }

// envOnlyName: LiteLLM reads every hosted name through the KMS.
func (kmsPath) envOnlyName(string) string { return "" }

// encrypt sets the plan's ciphertext from the KMS store. KMS stores have no
// version ids: version is null.
func (p kmsPath) encrypt(ctx context.Context, wr backends.WriteRequest, plan *SecretResourceModel, op string, limit time.Duration) diag.Diagnostics {
	var diags diag.Diagnostics
	ct, err := p.store.Encrypt(ctx, wr.Name, wr.Value)
	if err != nil {
		addStoreError(ctx, &diags, fmt.Sprintf("encrypting secret (%s) with %s", wr.Name, p.store.Kind()), op, limit, err)
		return diags
	}
	plan.Ciphertext = types.StringValue(ct)
	plan.Version = types.StringNull()
	setUseAWSKMSEnv(p.store.Kind(), plan)
	return diags
}
