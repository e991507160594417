package awssm

import (
	"context"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// filterValue is what ListSecrets accepts as a filter value (the API
// reference's pattern for Filter.Values). A prefix outside it is filtered
// by the layer instead.
var filterValue = regexp.MustCompile(`^[a-zA-Z0-9 :_@/+=.-]{1,512}$`)

// ListPage implements backends.Lister with ListSecrets. The service's "name"
// filter is a prefix match that ignores case, so it only narrows the pages;
// Store.List keeps the names that match exactly. Secrets scheduled for
// deletion are left out (IncludePlannedDeletion is false).
func (b *backend) ListPage(ctx context.Context, prefix, token string) ([]string, string, error) {
	in := &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(backends.ListPageSize)}
	if token != "" {
		in.NextToken = aws.String(token)
	}
	if filterValue.MatchString(prefix) {
		in.Filters = []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{prefix}}}
	}
	out, err := b.client.ListSecrets(ctx, in)
	if err != nil {
		return nil, "", b.fail(err)
	}
	names := make([]string, 0, len(out.SecretList))
	for _, s := range out.SecretList {
		if s.Name != nil && s.DeletedDate == nil {
			names = append(names, *s.Name)
		}
	}
	return names, aws.ToString(out.NextToken), nil
}
