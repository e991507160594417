package cyberark

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// ListPage implements backends.Lister with Conjur's resource listing, GET
// /resources/{account}/variable?limit=&offset= (Conjur shows only the
// resources the login may read). The token is the offset of the next page.
// Names are the variables under the policy branch, relative to it, as the
// store reads them; variables elsewhere in the account are not listed.
func (b *backend) ListPage(ctx context.Context, prefix, token string) ([]string, string, error) {
	offset := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 {
			return nil, "", backends.Errorf(backends.Internal, "listing variables: bad page token")
		}
		offset = n
	}
	path := "/resources/" + segment(b.cfg.account) + "/variable?limit=" + strconv.Itoa(backends.ListPageSize) + "&offset=" + strconv.Itoa(offset)
	body, err := b.request(ctx, http.MethodGet, path, nil, "", "listing variables", prefix+"*")
	if err != nil {
		return nil, "", err
	}
	var resources []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &resources); err != nil {
		return nil, "", backends.Errorf(backends.Internal, "listing variables: Conjur answered with JSON this provider cannot read: %v", err)
	}
	under := b.cfg.account + ":variable:"
	if b.cfg.policyBranch != DefaultPolicyBranch {
		under += b.cfg.policyBranch + "/"
	}
	names := make([]string, 0, len(resources))
	for _, r := range resources {
		if name, ok := strings.CutPrefix(r.ID, under); ok && name != "" {
			names = append(names, name)
		}
	}
	if len(resources) < backends.ListPageSize {
		return names, "", nil
	}
	return names, strconv.Itoa(offset + len(resources)), nil
}
