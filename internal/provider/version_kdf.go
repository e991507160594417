package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// stateVersion is the `version` to keep in state after the store reported
// storeVersion for value under name. For stores without version ids the
// store's fast fingerprint never reaches state: it becomes the salted argon2id
// form (see backends.StateVersion), keeping prior's salt while the value is
// unchanged. unchanged reports that the value is the one prior stood for (an
// old-format prior of the same value counts as unchanged: the upgrade is
// silent).
func stateVersion(name string, value []byte, storeVersion string, prior types.String) (v types.String, unchanged bool) {
	s, unchanged := backends.StateVersion(name, value, storeVersion, prior.ValueString())
	return types.StringValue(s), unchanged
}

// versionDescription is the schema description of `version`.
const versionDescription = "The version of the value in the store. For stores with version ids (AWS Secrets Manager, " +
	"Vault KV v2, Azure Key Vault, Google Secret Manager) it is the store's version id. For stores without them (the " +
	"local dotenv file, CyberArk, custom stores, fields of `primary_secret_name`) it is `kdf1$<salt>$<hash>`: argon2id " +
	"(time 1, 16 MiB, 1 thread) of the value with a random 16-byte salt per resource. Refresh recomputes it from the " +
	"value in the store to detect changes made outside Terraform. Anyone holding the state can still test a guessed " +
	"value against it, at the cost of one argon2id per guess (about 10,000 times the cost of the fast hash earlier " +
	"versions kept): a short or guessable secret stays weak. Use high-entropy keys, and `value_wo` so the value " +
	"itself is never in state. A state written by an earlier version is upgraded to this form on refresh without a diff."
