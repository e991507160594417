package provider

import (
	"fmt"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// notFoundDetail is the detail of a data source's read that found no secret:
// the store's message, and how to create the secret. Reads served by the
// process environment (write_only, a name outside hosted_keys) are explained
// by the store's message alone.
func notFoundDetail(store backends.Gateway, name, full string, err error) string {
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
	if cmd := stores()[store.Kind()].createCommand; cmd != "" {
		msg += "; or outside Terraform: " + fmt.Sprintf(cmd, full)
	}
	return msg + "."
}
