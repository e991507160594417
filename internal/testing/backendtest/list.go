package backendtest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// listCount is how many secrets testList writes: more than one page of
// backends.ListPageSize, so every lister's paging is exercised.
const listCount = backends.ListPageSize + 5

// testList: a store that lists (backends.Lister) streams exactly the names
// under a prefix, across pages, and nothing else; a store that cannot says
// so with Unsupported. This is what `terraform query` adopts from (DESIGN.md,
// "Adopting a store").
func testList(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	s := f.store(nil, rw(), nil)
	if _, ok := f.b.(backends.Lister); !ok {
		for _, err := range s.List(f.ctx, f.uniq) {
			wantCode(t, "List on a store without a listing", err, backends.Unsupported)
		}
		return
	}
	if !f.caps.Write {
		// Nothing to write and list back: a store that holds nothing of
		// ours lists without error, or says it cannot (Unsupported).
		for _, err := range s.List(f.ctx, f.uniq) {
			if err != nil && backends.CodeOf(err) != backends.Unsupported {
				t.Fatalf("List on a read-only store: %v", err)
			}
			if err == nil {
				t.Fatalf("List(%s) on a read-only store found a name under a prefix nobody wrote", f.uniq)
			}
		}
		return
	}
	var want []string
	var wg sync.WaitGroup
	errs := make(chan error, listCount+1)
	write := func(name string) {
		defer wg.Done()
		if _, err := s.Write(f.ctx, backends.WriteRequest{Name: name, Value: []byte("v")}); err != nil {
			errs <- fmt.Errorf("Write(%s): %w", name, err)
		}
	}
	sem := make(chan struct{}, 8)
	for i := range listCount {
		name := f.name(fmt.Sprintf("L%03d", i))
		want = append(want, name)
		wg.Add(1)
		sem <- struct{}{}
		go func() { defer func() { <-sem }(); write(name) }()
	}
	other := f.track("other" + f.uniq)
	wg.Add(1)
	write(other)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var got []string
	for name, err := range s.List(f.ctx, f.uniq+"-L") {
		if err != nil {
			t.Fatalf("List(%s-L): %v", f.uniq, err)
		}
		got = append(got, name)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("List(%s-L): got %d names, want %d: first got %v, first want %v", f.uniq, len(got), len(want), got[:min(3, len(got))], want[:3])
	}
	// Stopping early stops the listing: no further page is needed.
	n := 0
	for _, err := range s.List(f.ctx, f.uniq) {
		if err != nil {
			t.Fatalf("List(%s): %v", f.uniq, err)
		}
		if n++; n == 2 {
			break
		}
	}
}
