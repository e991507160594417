package backends

import (
	"context"
	"iter"
	"strings"
)

// Lister is implemented by stores that can enumerate the names they hold, for
// `terraform query` (DESIGN.md, "Adopting a store"). ListPage returns one page
// of names that start with prefix (the store may return more; Store.List
// filters), in any order, and the token of the next page ("" after the last).
// Names are the store's own full names, as Get takes them. Deleted but
// recoverable secrets are not listed. A page is one call: Store retries it
// like any other.
type Lister interface {
	ListPage(ctx context.Context, prefix, token string) (names []string, next string, err error)
}

// ListPageSize is the page size stores ask for where the API takes one: large
// enough that 10,000 secrets take few calls, small enough that one page is
// one quick answer.
const ListPageSize = 100

// CanList reports whether the store can enumerate its secrets, and why not.
func (s *Store) CanList() (bool, string) {
	if e, ok := s.b.(NoListExplainer); ok {
		return false, e.NoListReason()
	}
	if _, ok := s.b.(Lister); !ok {
		return false, "the store's API offers no listing"
	}
	return true, ""
}

// List streams the full names in the store that start with prefix, page by
// page: a store of 10,000 secrets is never held in memory at once. Each page
// is one call with the layer's retries and per-call timeout. The sequence
// ends after the first error, which it yields with an empty name. Names the
// provider could not manage (the shared name rules or the store's own refuse
// them) are skipped: importing them would fail.
func (s *Store) List(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if ok, why := s.CanList(); !ok {
			yield("", Errorf(Unsupported, "listing secrets in %s: %s", s.Kind(), why))
			return
		}
		l, _ := s.b.(Lister)
		token := ""
		for {
			var names []string
			var next string
			err := s.call(ctx, "listing", prefix+"*", func(ctx context.Context) error {
				var err error
				names, next, err = l.ListPage(ctx, prefix, token)
				return err
			})
			if err != nil {
				yield("", err)
				return
			}
			for _, n := range names {
				if !strings.HasPrefix(n, prefix) || s.ValidateName(n) != nil {
					continue
				}
				if !yield(n, nil) {
					return
				}
			}
			if next == "" || next == token {
				return
			}
			token = next
		}
	}
}
