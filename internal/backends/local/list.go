package local

import (
	"context"
	"sort"
	"strings"
)

// ListPage implements backends.Lister: the keys the file binds (a bare "KEY"
// line sets nothing, so it is not listed), sorted, in one page. The process
// environment is not listed: it is not the store, only where reads fall back.
func (b *backend) ListPage(ctx context.Context, prefix, _ string) ([]string, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	doc, err := b.load()
	if err != nil || doc == nil {
		return nil, "", err
	}
	seen := make(map[string]bool, len(doc.entries))
	var names []string
	for _, e := range doc.entries {
		if e.hasValue && strings.HasPrefix(e.key, prefix) && !seen[e.key] {
			seen[e.key] = true
			names = append(names, e.key)
		}
	}
	sort.Strings(names)
	return names, "", nil
}
