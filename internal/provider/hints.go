package provider

import (
	"fmt"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// storeCreateCommand is, per store, how a secret is created without
// Terraform, with %[1]s the full name.
var storeCreateCommand = map[string]string{
	kindLocal:     "add the line %[1]s=\"<value>\" to the dotenv file (local.env_file)",
	kindVault:     "vault kv put -mount=<mount> <path_prefix/>%[1]s key=<value> (with the block's mount, path_prefix and data_key)",
	kindAWSSM:     "aws secretsmanager create-secret --name %[1]s --secret-string <value>",
	kindAzureKV:   "az keyvault secret set --vault-name <vault> --name %[1]s --value <value>",
	kindGoogleSM:  "gcloud secrets create %[1]s, then gcloud secrets versions add %[1]s --data-file=-",
	kindCyberArk:  "conjur variable set -i %[1]s -v <value> (the variable must be declared in a policy first)",
	kindCustom:    "your store's own tooling",
	kindAWSKMS:    "",
	kindGoogleKMS: "",
}

// notFoundDetail is the detail of a data source's read that found no secret:
// the store's message, and how to create the secret. Reads served by the
// process environment (write_only, a name outside hosted_keys) are explained
// by the store's message alone.
func notFoundDetail(store *backends.Store, name, full string, err error) string {
	msg := "secret not found"
	if err != nil {
		msg = err.Error()
	}
	s := store.Settings()
	if s.AccessMode == backends.WriteOnly || !s.Hosted(name, full) {
		return msg
	}
	msg += fmt.Sprintf(". Create it with an llmsecret_secret resource (name = %q), applied before this read: in the same "+
		"configuration, set this data source's name from the resource (name = llmsecret_secret.<label>.full_name) so "+
		"the read waits for the write", name)
	if cmd := storeCreateCommand[store.Kind()]; cmd != "" {
		msg += "; or outside Terraform: " + fmt.Sprintf(cmd, full)
	}
	return msg + "."
}
