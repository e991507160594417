package backends_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/backendtest"
)

// TestList_pagesRetriesAndStops: Store.List walks every page, retries a
// throttled page like any call, and stops asking for pages when the caller
// stops reading.
func TestList_pagesRetriesAndStops(t *testing.T) {
	ctx := context.Background()
	m := backendtest.NewMemStore(backends.Caps{Write: true, Delete: true})
	s, rec := newStore(t, m, nil)
	for i := range 20 {
		if _, err := s.Write(ctx, backends.WriteRequest{Name: fmt.Sprintf("K%02d", i), Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Write(ctx, backends.WriteRequest{Name: "OTHER", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	m.FailNext(backendtest.MethodList, 1, backends.Errorf(backends.Throttled, "slow down"))
	var got []string
	for name, err := range s.List(ctx, "K") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, name)
	}
	if len(got) != 20 || got[0] != "K00" || got[19] != "K19" {
		t.Fatalf("List(K): got %v, want K00..K19", got)
	}
	if len(rec.retries) != 1 {
		t.Errorf("a throttled page was retried %d times, want 1", len(rec.retries))
	}
	m.ResetCalls()
	for _, err := range s.List(ctx, "K") {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	if n := m.Calls(backendtest.MethodList); n != 1 {
		t.Errorf("stopping after the first name: %d pages asked for, want 1", n)
	}
}

// TestList_refusals: a KMS store and a primary secret have nothing to list,
// and say why, with Unsupported.
func TestList_refusals(t *testing.T) {
	ctx := context.Background()
	kms, err := backends.NewKeyring(&fakeKMS{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range kms.List(ctx, "") {
		if backends.CodeOf(err) != backends.Unsupported || !strings.Contains(err.Error(), "KMS store holds no secrets") {
			t.Fatalf("List on a KMS store: %v", err)
		}
	}
	boom := errors.New("boom")
	m := backendtest.NewMemStore(backends.Caps{Write: true})
	m.FailNext(backendtest.MethodList, 1, backends.Wrap(backends.PermissionDenied, boom))
	s, _ := newStore(t, m, nil)
	n := 0
	for name, err := range s.List(ctx, "") {
		n++
		if name != "" || !errors.Is(err, boom) || !strings.Contains(err.Error(), "listing secret") {
			t.Fatalf("List after a refused page: %q, %v", name, err)
		}
	}
	if n != 1 {
		t.Fatalf("a refused page yields %d items, want the error alone", n)
	}
}
