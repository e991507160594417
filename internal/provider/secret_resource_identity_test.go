package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// TestIdentityType: the identity setIdentity builds by hand has the type of
// the identity schema the CLI is told about.
func TestIdentityType(t *testing.T) {
	ctx := context.Background()
	var resp resource.IdentitySchemaResponse
	(&SecretResource{}).IdentitySchema(ctx, resource.IdentitySchemaRequest{}, &resp)
	if got := resp.IdentitySchema.Type().TerraformType(ctx); !got.Equal(identityType) {
		t.Fatalf("identity schema type %s, setIdentity builds %s", got, identityType)
	}
}
