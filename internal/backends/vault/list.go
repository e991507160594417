package vault

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// ListPage implements backends.Lister with KV version 2's metadata LIST, one
// folder per call: names are the folder's keys, and its sub-folders go into
// the token (a JSON list of the folders still to list), so a tree of any
// size is walked without holding it in memory. Only the folders that can
// hold names starting with prefix are listed. Vault lists a secret whose
// latest version is deleted too; its import then reads it as missing.
func (b *backend) ListPage(ctx context.Context, prefix, token string) ([]string, string, error) {
	var pending []string
	if token != "" {
		if err := json.Unmarshal([]byte(token), &pending); err != nil {
			return nil, "", backends.Errorf(backends.Internal, "listing secrets: bad page token")
		}
	} else {
		// The deepest folder every match lives in: "apps/llm/OPENAI" lists
		// "apps/llm/" only.
		root := ""
		if i := strings.LastIndex(prefix, "/"); i >= 0 {
			root = prefix[:i+1]
		}
		pending = []string{root}
	}
	if len(pending) == 0 {
		return nil, "", nil
	}
	folder, pending := pending[0], pending[1:]
	p := strings.TrimSuffix(b.kvPath("metadata", folder), "/")
	ans, err := b.do(ctx, &request{method: http.MethodGet, path: p, query: url.Values{"list": {"true"}},
		capability: "list", ns: nsSecret, auth: true, accept: []int{http.StatusNotFound}})
	if err != nil {
		return nil, "", err
	}
	var names []string
	if ans.status != http.StatusNotFound {
		var ld struct {
			Data *struct {
				Keys []string `json:"keys"`
			} `json:"data"`
		}
		if err := decode(ans.body, &ld); err != nil || ld.Data == nil {
			return nil, "", backends.Errorf(backends.Internal, "Vault's answer to LIST %s is not a key list", p)
		}
		for _, k := range ld.Data.Keys {
			full := folder + k
			switch {
			case strings.HasSuffix(k, "/"):
				// A folder can hold matches if one starts with the other.
				if strings.HasPrefix(full, prefix) || strings.HasPrefix(prefix, full) {
					pending = append(pending, full)
				}
			case strings.HasPrefix(full, prefix):
				names = append(names, full)
			}
		}
	}
	if len(pending) == 0 {
		return names, "", nil
	}
	next, err := json.Marshal(pending)
	if err != nil {
		return nil, "", backends.Errorf(backends.Internal, "listing secrets: %v", err)
	}
	return names, string(next), nil
}
