package backends_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/backendtest"
)

// gatedGets reads the store at once but holds every answer until release is
// closed, like a slow store, and signals each Get that started.
type gatedGets struct {
	*backendtest.MemStore
	started chan string
	release chan struct{}
}

func (g *gatedGets) Get(ctx context.Context, name string) (*backends.Secret, error) {
	sec, err := g.MemStore.Get(ctx, name)
	g.started <- name
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return sec, err
}

func cacheReads(o *backends.StoreOptions) { o.CacheReads = true }

func seed(t *testing.T, s *backends.Store, name, value string) {
	t.Helper()
	if _, err := s.Write(context.Background(), backends.WriteRequest{Name: name, Value: []byte(value)}); err != nil {
		t.Fatalf("Write(%s): %v", name, err)
	}
}

func wantValue(t *testing.T, s *backends.Store, name, want string) {
	t.Helper()
	sec, err := s.ReadStored(context.Background(), name)
	if err != nil {
		t.Fatalf("ReadStored(%s): %v", name, err)
	}
	if string(sec.Value) != want {
		t.Errorf("ReadStored(%s): got a value of %d bytes, want the one written last (%d bytes)", name, len(sec.Value), len(want))
	}
}

func TestReadCacheOneStoreReadPerName(t *testing.T) {
	m := backendtest.NewMemStore(backendtest.AllCaps)
	s, _ := newStore(t, m, cacheReads)
	seed(t, s, "A", "a")
	m.ResetCalls()
	for range 5 {
		wantValue(t, s, "A", "a")
	}
	if n := m.Calls(backendtest.MethodGet); n != 1 {
		t.Errorf("store reads for 5 refreshes of one name in one run: got %d, want 1", n)
	}
}

func TestReadCacheOffReadsEveryTime(t *testing.T) {
	m := backendtest.NewMemStore(backendtest.AllCaps)
	s, _ := newStore(t, m, nil)
	seed(t, s, "A", "a")
	m.ResetCalls()
	for range 3 {
		wantValue(t, s, "A", "a")
	}
	if n := m.Calls(backendtest.MethodGet); n != 3 {
		t.Errorf("store reads for 3 sequential reads without CacheReads: got %d, want 3", n)
	}
}

// TestReadCacheSharesConcurrentReads: readers that arrive while the read is
// in flight join it, later ones find the cache filled.
func TestReadCacheSharesConcurrentReads(t *testing.T) {
	m := backendtest.NewMemStore(backendtest.AllCaps)
	g := &gatedGets{MemStore: m, started: make(chan string, 100), release: make(chan struct{})}
	s, _ := newStore(t, g, cacheReads)
	seed(t, s, "A", "a")
	m.ResetCalls()
	const readers = 50
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sec, err := s.ReadStored(context.Background(), "A")
			if err == nil && string(sec.Value) != "a" {
				err = fmt.Errorf("got a value of %d bytes, want 1", len(sec.Value))
			}
			errs <- err
		}()
	}
	<-g.started // the one call the readers share is in flight; readers that
	// come after it answers find the cache filled: either way no second Get
	close(g.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Find: %v", err)
		}
	}
	if n := m.Calls(backendtest.MethodGet); n != 1 {
		t.Errorf("store reads for %d concurrent reads of one name: got %d, want 1", readers, n)
	}
}

func TestReadCacheNeverStaleAfterChange(t *testing.T) {
	ctx := context.Background()
	var m *backendtest.MemStore // the current case's store
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, s *backends.Store)
		check  func(t *testing.T, s *backends.Store)
	}{
		{"write", func(t *testing.T, s *backends.Store) { seed(t, s, "A", "a2") },
			func(t *testing.T, s *backends.Store) { wantValue(t, s, "A", "a2") }},
		{"delete", func(t *testing.T, s *backends.Store) {
			if err := s.Delete(ctx, "A", backends.DeleteForever); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, s *backends.Store) {
			_, err := s.ReadStored(ctx, "A")
			wantCode(t, "Find after Delete", err, backends.NotFound)
		}},
		{"soft delete", func(t *testing.T, s *backends.Store) {
			if err := s.Delete(ctx, "A", backends.DeleteSoft); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, s *backends.Store) {
			_, err := s.ReadStored(ctx, "A")
			wantCode(t, "Find after soft Delete", err, backends.NotFound)
		}},
		{"rotate", func(t *testing.T, s *backends.Store) {
			// B leaves the store behind the cache, which still holds b0: a
			// rotation needs its new name free (checked with a fresh read).
			if err := m.Delete(ctx, "B", backends.DeleteForever); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Rotate(ctx, "A", backends.WriteRequest{Name: "B", Value: []byte("b")}, backends.DeleteForever); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, s *backends.Store) {
			_, err := s.ReadStored(ctx, "A")
			wantCode(t, "Find of the old name after Rotate", err, backends.NotFound)
			wantValue(t, s, "B", "b")
		}},
		{"update metadata", func(t *testing.T, s *backends.Store) {
			if err := s.UpdateMetadata(ctx, "A", "new", map[string]string{"k": "v"}); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, s *backends.Store) {
			sec, err := s.ReadStored(ctx, "A")
			if err != nil {
				t.Fatal(err)
			}
			if sec.Description != "new" || sec.Tags["k"] != "v" {
				t.Errorf("Find after UpdateMetadata: got description %q, tags %v; want %q, map[k:v]", sec.Description, sec.Tags, "new")
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m = backendtest.NewMemStore(backendtest.AllCaps)
			s, _ := newStore(t, m, cacheReads)
			seed(t, s, "A", "a")
			seed(t, s, "B", "b0")
			wantValue(t, s, "A", "a") // cached
			wantValue(t, s, "B", "b0")
			tc.change(t, s)
			tc.check(t, s)
		})
	}
}

func TestReadCacheReadRacingAWrite(t *testing.T) {
	// A read that started before a write and answers after it must not leave
	// the old value in the cache for the rest of the run.
	m := backendtest.NewMemStore(backendtest.AllCaps)
	g := &gatedGets{MemStore: m, started: make(chan string, 10), release: make(chan struct{})}
	s, _ := newStore(t, g, cacheReads)
	seed(t, s, "A", "old")
	done := make(chan *backends.Secret)
	go func() {
		sec, err := s.ReadStored(context.Background(), "A")
		if err != nil {
			t.Errorf("Find: %v", err)
		}
		done <- sec
	}()
	<-g.started // the read has the old value and has not answered yet
	seed(t, s, "A", "new")
	close(g.release)
	if sec := <-done; sec != nil && string(sec.Value) != "old" {
		t.Errorf("the racing read: got a value of %d bytes, want the old one", len(sec.Value))
	}
	// The next read must come from the store and see the write.
	wantValue(t, s, "A", "new")
}

func TestReadCacheCopies(t *testing.T) {
	m := backendtest.NewMemStore(backendtest.AllCaps)
	s, _ := newStore(t, m, cacheReads)
	seed(t, s, "A", "value")
	sec, err := s.ReadStored(context.Background(), "A")
	if err != nil {
		t.Fatal(err)
	}
	copy(sec.Value, "XXXXX")
	wantValue(t, s, "A", "value")
}

func TestReadCacheErrorsNotKept(t *testing.T) {
	m := backendtest.NewMemStore(backendtest.AllCaps)
	s, _ := newStore(t, m, cacheReads)
	_, err := s.ReadStored(context.Background(), "A")
	wantCode(t, "ReadStored(missing)", err, backends.NotFound)
	// Written by someone else in the same run (another provider alias).
	if _, err := m.Put(context.Background(), backends.WriteRequest{Name: "A", Value: []byte("a")}); err != nil {
		t.Fatal(err)
	}
	wantValue(t, s, "A", "a")
}

func TestWaitGoneReadsTheStore(t *testing.T) {
	m := backendtest.NewMemStore(backendtest.AllCaps)
	s, _ := newStore(t, m, cacheReads)
	seed(t, s, "A", "a")
	wantValue(t, s, "A", "a")
	m.ResetCalls()
	if err := s.Delete(context.Background(), "A", backends.DeleteForever); err != nil {
		t.Fatal(err)
	}
	if n := m.Calls(backendtest.MethodGet); n != 1 {
		t.Errorf("store reads while waiting for a delete: got %d, want 1 (the cache must not answer)", n)
	}
}

// TestPrimaryOneReadPerPlan is the plan of N resources with
// primary_secret_name: N concurrent refreshes cost one store read.
func TestPrimaryOneReadPerPlan(t *testing.T) {
	for _, n := range []int{1, 100, 2000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			m := backendtest.NewMemStore(backendtest.AllCaps)
			payload := "{"
			for i := range n {
				if i > 0 {
					payload += ","
				}
				payload += fmt.Sprintf("%q:%q", fmt.Sprintf("BENCH_%d", i), fmt.Sprintf("value-%d", i))
			}
			payload += "}"
			if _, err := m.Put(context.Background(), backends.WriteRequest{Name: "primary", Value: []byte(payload)}); err != nil {
				t.Fatal(err)
			}
			s, _ := newStore(t, m, func(o *backends.StoreOptions) { o.Settings.PrimarySecretName = "primary" })
			m.ResetCalls()
			var wg sync.WaitGroup
			sem := make(chan struct{}, 10) // the CLI's -parallelism
			for i := range n {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					sec, err := s.ReadStored(context.Background(), fmt.Sprintf("BENCH_%d", i))
					if err != nil {
						t.Errorf("ReadStored(BENCH_%d): %v", i, err)
						return
					}
					if want := fmt.Sprintf("value-%d", i); string(sec.Value) != want {
						t.Errorf("ReadStored(BENCH_%d): wrong value", i)
					}
				}()
			}
			wg.Wait()
			if got := m.Calls(backendtest.MethodGet); got != 1 {
				t.Errorf("store reads for a plan of %d secrets in one primary secret: got %d, want 1", n, got)
			}
		})
	}
}
