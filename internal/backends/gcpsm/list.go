package gcpsm

import (
	"context"
	"strings"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/iterator"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpconfig"
)

// ListPage implements backends.Lister with ListSecrets under the project (or
// location), one page of backends.ListPageSize per call. The API's filter
// matches substrings, not prefixes, so the prefix is left to Store.List.
func (b *backend) ListPage(ctx context.Context, _, token string) ([]string, string, error) {
	it := b.c.ListSecrets(ctx, &secretmanagerpb.ListSecretsRequest{Parent: b.r.Parent})
	var page []*secretmanagerpb.Secret
	next, err := iterator.NewPager(it, backends.ListPageSize, token).NextPage(&page)
	if err != nil {
		return nil, "", gcpconfig.Wrap(err)
	}
	names := make([]string, 0, len(page))
	for _, s := range page {
		if id, ok := strings.CutPrefix(s.GetName(), b.r.Parent+"/secrets/"); ok {
			names = append(names, id)
		}
	}
	return names, next, nil
}
