package backends_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/backendtest"
)

// casStore is a MemStore with a compare-and-set write. Before each PutIf
// it runs foreign (if set), which stands for another process writing the
// secret between this writer's read and its write.
type casStore struct {
	*backendtest.MemStore
	mu      sync.Mutex
	foreign func(call int) // called with the 1-based PutIf count
	calls   int
}

func (c *casStore) PutIf(ctx context.Context, req backends.WriteRequest, expected string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.foreign != nil {
		c.foreign(c.calls)
	}
	current := ""
	if sec, ok := c.Raw(req.Name); ok {
		current = sec.Version
	}
	if current != expected {
		return "", backends.VersionChanged("version " + expected + " was read, now " + current + " is current")
	}
	return c.Put(ctx, req)
}

// TestPrimaryCASRetries: a write to the primary secret that loses to
// another writer's (its version moved between the read and the write) is
// read again and merged: neither writer's field is lost.
func TestPrimaryCASRetries(t *testing.T) {
	mem := backendtest.NewMemStore(backends.Caps{Write: true, PrimarySecret: true})
	c := &casStore{MemStore: mem}
	ctx := context.Background()
	c.foreign = func(call int) {
		if call > 2 {
			return
		}
		sec, _ := mem.Raw("primary")
		fields := map[string]string{}
		if sec != nil {
			_ = json.Unmarshal(sec.Value, &fields)
		}
		fields["FOREIGN_"+string(rune('0'+call))] = "theirs"
		v, _ := json.Marshal(fields)
		if _, err := mem.Put(ctx, backends.WriteRequest{Name: "primary", Value: v}); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := newStore(t, c, func(o *backends.StoreOptions) { o.Settings.PrimarySecretName = "primary" })
	if _, err := s.Write(ctx, backends.WriteRequest{Name: "MINE", Value: []byte("ours")}); err != nil {
		t.Fatalf("Write(MINE): %v", err)
	}
	sec, _ := mem.Raw("primary")
	var fields map[string]string
	if err := json.Unmarshal(sec.Value, &fields); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"FOREIGN_1": "theirs", "FOREIGN_2": "theirs", "MINE": "ours"}
	if len(fields) != len(want) || fields["FOREIGN_1"] != "theirs" || fields["FOREIGN_2"] != "theirs" || fields["MINE"] != "ours" {
		t.Errorf("primary secret after two lost rounds: got fields %v, want %v", fields, want)
	}
	if c.calls != 3 {
		t.Errorf("PutIf calls: got %d, want 3 (two lost rounds, then the write)", c.calls)
	}
}

// TestPrimaryCASGivesUp: a primary secret that changes before every write
// fails the write after a bounded number of rounds, saying why.
func TestPrimaryCASGivesUp(t *testing.T) {
	mem := backendtest.NewMemStore(backends.Caps{Write: true, PrimarySecret: true})
	ctx := context.Background()
	c := &casStore{MemStore: mem, foreign: func(int) {
		if _, err := mem.Put(ctx, backends.WriteRequest{Name: "primary", Value: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}}
	s, _ := newStore(t, c, func(o *backends.StoreOptions) { o.Settings.PrimarySecretName = "primary" })
	_, err := s.Write(ctx, backends.WriteRequest{Name: "MINE", Value: []byte("ours")})
	if err == nil || !strings.Contains(err.Error(), "writing secret (MINE) in memstore: primary secret (primary) kept changing under 20 attempts") {
		t.Errorf("Write under endless contention: got %v, want an error saying the primary secret kept changing", err)
	}
	if c.calls != 20 {
		t.Errorf("PutIf calls: got %d, want 20", c.calls)
	}
}
