package backends_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/backendtest"
)

func TestNewStoreDefaults(t *testing.T) {
	m := backendtest.NewMemStore(backendtest.AllCaps)
	s, err := backends.NewStore(m, nil)
	if err != nil {
		t.Fatalf("NewStore(nil options): %v", err)
	}
	if got := s.Settings().AccessMode; got != backends.ReadOnly {
		t.Errorf("default access_mode: got %q, want read_only", got)
	}
	if got := s.Kind(); got != backendtest.MemStoreKind {
		t.Errorf("Kind: got %q, want %q", got, backendtest.MemStoreKind)
	}
	if got := s.Caps(); got != backendtest.AllCaps {
		t.Errorf("Caps: got %+v, want %+v", got, backendtest.AllCaps)
	}
	_, err = backends.NewStore(m, &backends.StoreOptions{Settings: backends.Settings{AccessMode: "rw"}})
	wantCode(t, "NewStore with a bad access_mode", err, backends.InvalidArgument)
}

func TestCheckWritable(t *testing.T) {
	m := backendtest.NewMemStore(backendtest.AllCaps)
	ro, _ := newStore(t, m, func(o *backends.StoreOptions) { o.Settings.AccessMode = backends.ReadOnly })
	err := ro.CheckWritable()
	wantCode(t, "CheckWritable(read_only)", err, backends.PermissionDenied)
	wantContains(t, "CheckWritable(read_only)", err, "access_mode", "read_and_write", "write_only")

	noWrite := backendtest.NewMemStore(backends.Caps{})
	s, _ := newStore(t, noWrite, nil)
	err = s.CheckWritable()
	wantCode(t, "CheckWritable on a store without Write", err, backends.Unsupported)
	wantContains(t, "CheckWritable on a store without Write", err, backendtest.MemStoreKind)
	_, err = s.Write(context.Background(), backends.WriteRequest{Name: "k", Value: []byte("v")})
	wantCode(t, "Write on a store without Write", err, backends.Unsupported)
	if n := noWrite.Calls(backendtest.MethodPut); n != 0 {
		t.Errorf("Put calls: got %d, want 0", n)
	}
}

func TestFindDeletedAndNil(t *testing.T) {
	ctx := context.Background()
	m := backendtest.NewMemStore(backendtest.AllCaps)
	s, _ := newStore(t, m, nil)
	if _, err := s.Write(ctx, backends.WriteRequest{Name: "k", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "k", backends.DeleteSoft); err != nil {
		t.Fatal(err)
	}
	if raw, ok := m.Raw("k"); !ok || !raw.Deleted {
		t.Fatalf("store after soft delete: got %+v, want the secret marked deleted", raw)
	}
	_, err := s.ReadStored(ctx, "k")
	wantCode(t, "Find of a soft-deleted secret", err, backends.NotFound)
	wantContains(t, "Find of a soft-deleted secret", err, "deleted (recoverable)")

	nilStore, _ := newStore(t, &nilGetter{m}, nil)
	_, err = nilStore.ReadStored(ctx, "k")
	wantCode(t, "Find on a store that answers nothing", err, backends.Internal)
}

// nilGetter answers Get with neither a secret nor an error.
type nilGetter struct{ backends.Backend }

func (nilGetter) Get(context.Context, string) (*backends.Secret, error) { return nil, nil }

func TestLookupModes(t *testing.T) {
	ctx := context.Background()
	env := map[string]string{"ENV_ONLY": "from-env", "BOTH": "both-env", "NOT_HOSTED": "nh-env"}
	seed := func(m *backendtest.MemStore) {
		for n, v := range map[string]string{"BOTH": "both-store", "NOT_HOSTED": "nh-store", "STORE_ONLY": "store"} {
			if _, err := m.Put(ctx, backends.WriteRequest{Name: n, Value: []byte(v)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name     string
		caps     backends.Caps
		settings backends.Settings
		want     map[string]string // name -> value, "" for NotFound
		wantGets int
	}{
		{"ReadAndWrite", backendtest.AllCaps, backends.Settings{AccessMode: backends.ReadAndWrite},
			map[string]string{"ENV_ONLY": "from-env", "BOTH": "both-store", "STORE_ONLY": "store", "NONE": ""}, 4},
		{"ReadOnlyReadsStore", backendtest.AllCaps, backends.Settings{AccessMode: backends.ReadOnly},
			map[string]string{"BOTH": "both-store", "STORE_ONLY": "store"}, 2},
		{"NoEnvFallback", backends.Caps{Write: true, Delete: true}, backends.Settings{AccessMode: backends.ReadAndWrite},
			map[string]string{"ENV_ONLY": "", "BOTH": "both-store"}, 2},
		{"WriteOnly", backendtest.AllCaps, backends.Settings{AccessMode: backends.WriteOnly},
			map[string]string{"ENV_ONLY": "from-env", "BOTH": "both-env", "STORE_ONLY": ""}, 0},
		{"HostedKeys", backendtest.AllCaps, backends.Settings{AccessMode: backends.ReadAndWrite, HostedKeys: []string{"BOTH", "STORE_ONLY"}},
			map[string]string{"BOTH": "both-store", "NOT_HOSTED": "nh-env", "STORE_ONLY": "store", "NONE": ""}, 2},
		{"HostedKeysEmpty", backendtest.AllCaps, backends.Settings{AccessMode: backends.ReadAndWrite, HostedKeys: []string{}},
			map[string]string{"BOTH": "both-env", "STORE_ONLY": ""}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := backendtest.NewMemStore(tc.caps)
			seed(m)
			m.ResetCalls()
			s, _ := newStore(t, m, func(o *backends.StoreOptions) { o.Settings = tc.settings; o.LookupEnv = envOf(env) })
			for name, want := range tc.want {
				sec, err := s.ReadAsGateway(ctx, name, name)
				if want == "" {
					wantCode(t, fmt.Sprintf("ReadAsGateway(%s)", name), err, backends.NotFound)
					wantContains(t, fmt.Sprintf("ReadAsGateway(%s)", name), err, name)
					continue
				}
				if err != nil {
					t.Errorf("ReadAsGateway(%s): got %v, want %q", name, err, want)
				} else if string(sec.Value) != want {
					t.Errorf("ReadAsGateway(%s): got %q, want %q", name, sec.Value, want)
				}
			}
			if got := m.Calls(backendtest.MethodGet); got != tc.wantGets {
				t.Errorf("Get calls: got %d, want %d", got, tc.wantGets)
			}
		})
	}
}

func TestLookupNotHostedNamesSetting(t *testing.T) {
	ctx := context.Background()
	m := backendtest.NewMemStore(backendtest.AllCaps)
	s, _ := newStore(t, m, func(o *backends.StoreOptions) {
		o.Settings.HostedKeys = []string{"X"}
		o.Settings.AccessMode = backends.WriteOnly
	})
	_, err := s.ReadAsGateway(ctx, "Y", "Y")
	wantCode(t, "Lookup with write_only and an unset variable", err, backends.NotFound)
	wantContains(t, "Lookup with write_only and an unset variable", err, "access_mode", "environment")
	s2, _ := newStore(t, m, func(o *backends.StoreOptions) { o.Settings.HostedKeys = []string{"X"} })
	_, err = s2.ReadAsGateway(ctx, "Y", "Y")
	wantCode(t, "Lookup of a non-hosted name with an unset variable", err, backends.NotFound)
	wantContains(t, "Lookup of a non-hosted name with an unset variable", err, "hosted_keys")
}

func TestWriteMergesMetadata(t *testing.T) {
	ctx := context.Background()
	m := backendtest.NewMemStore(backendtest.AllCaps)
	s, _ := newStore(t, m, func(o *backends.StoreOptions) {
		o.Settings.Description = "managed by terraform"
		o.Settings.Tags = map[string]string{"team": "ml", "owner": "default"}
	})
	if _, err := s.Write(ctx, backends.WriteRequest{Name: "k", Value: []byte("v"), Tags: map[string]string{"owner": "platform"}}); err != nil {
		t.Fatal(err)
	}
	raw, _ := m.Raw("k")
	if raw.Description != "managed by terraform" || !maps.Equal(raw.Tags, map[string]string{"team": "ml", "owner": "platform"}) {
		t.Errorf("stored metadata: got (%q, %v), want the settings' under the resource's", raw.Description, raw.Tags)
	}

	if err := s.UpdateMetadata(ctx, "k", "own", map[string]string{"env": "prod"}); err != nil {
		t.Fatalf("UpdateMetadata: %v", err)
	}
	after, _ := m.Raw("k")
	if after.Description != "own" || !maps.Equal(after.Tags, map[string]string{"team": "ml", "owner": "default", "env": "prod"}) {
		t.Errorf("metadata after UpdateMetadata: got (%q, %v)", after.Description, after.Tags)
	}
	if after.Version != raw.Version || m.Calls(backendtest.MethodPut) != 1 {
		t.Errorf("UpdateMetadata wrote a new version: got %q (Put calls %d), want %q", after.Version, m.Calls(backendtest.MethodPut), raw.Version)
	}

	// A store with metadata but no UpdateMetadata: the caller rewrites.
	noUpdater, _ := newStore(t, struct{ backends.Backend }{m}, nil)
	wantCode(t, "UpdateMetadata without MetadataUpdater", noUpdater.UpdateMetadata(ctx, "k", "d", nil), backends.Unsupported)
	// A store without metadata: nothing to do, no call.
	plain := backendtest.NewMemStore(backends.Caps{Write: true, Delete: true})
	ps, _ := newStore(t, plain, nil)
	if err := ps.UpdateMetadata(ctx, "k", "d", nil); err != nil {
		t.Errorf("UpdateMetadata on a store without metadata: got %v, want nil", err)
	}
	if n := plain.Calls(backendtest.MethodUpdateMetadata); n != 0 {
		t.Errorf("UpdateMetadata calls on a store without metadata: got %d, want 0", n)
	}
	ro, _ := newStore(t, m, func(o *backends.StoreOptions) { o.Settings.AccessMode = backends.ReadOnly })
	wantCode(t, "UpdateMetadata with read_only", ro.UpdateMetadata(ctx, "k", "d", nil), backends.PermissionDenied)
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	t.Run("NotFoundIsSuccess", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, m, nil)
		m.FailNext(backendtest.MethodDelete, 1, backends.Errorf(backends.NotFound, "no such secret"))
		if err := s.Delete(ctx, "k", backends.DeleteForever); err != nil {
			t.Errorf("Delete answered NotFound: got %v, want nil", err)
		}
	})
	t.Run("Unsupported", func(t *testing.T) {
		m := backendtest.NewMemStore(backends.Caps{Write: true})
		s, _ := newStore(t, m, nil)
		wantCode(t, "Delete on a store without Delete", s.Delete(ctx, "k", backends.DeleteForever), backends.Unsupported)
		soft := backendtest.NewMemStore(backends.Caps{Write: true, Delete: true})
		s2, _ := newStore(t, soft, nil)
		wantCode(t, "Delete(DeleteSoft) on a store without SoftDelete", s2.Delete(ctx, "k", backends.DeleteSoft), backends.Unsupported)
		if n := m.Calls(backendtest.MethodDelete) + soft.Calls(backendtest.MethodDelete); n != 0 {
			t.Errorf("Delete calls: got %d, want 0", n)
		}
	})
	t.Run("WaitsUntilGone", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		lag := &laggingDeletes{Backend: m, reads: 3}
		s, rec := newStore(t, lag, nil)
		if _, err := s.Write(ctx, backends.WriteRequest{Name: "k", Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "k", backends.DeleteForever); err != nil {
			t.Fatalf("Delete on an eventually consistent store: %v", err)
		}
		waits := rec.Waits()
		if len(waits) != 3 {
			t.Fatalf("polls between reads: got %v, want 3", waits)
		}
		for i := 1; i < len(waits); i++ {
			if waits[i] < waits[i-1] {
				t.Errorf("poll delays: got %v, want non-decreasing", waits)
			}
		}
	})
	t.Run("ImmediateDeleteDoesNotPoll", func(t *testing.T) {
		caps := backendtest.AllCaps
		caps.ImmediateDelete = true
		m := backendtest.NewMemStore(caps)
		s, rec := newStore(t, m, nil)
		if _, err := s.Write(ctx, backends.WriteRequest{Name: "k", Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
		m.ResetCalls()
		if err := s.Delete(ctx, "k", backends.DeleteForever); err != nil {
			t.Fatalf("Delete on a read-after-delete consistent store: %v", err)
		}
		if g, w := m.Calls(backendtest.MethodGet), len(rec.Waits()); g != 0 || w != 0 {
			t.Errorf("reads and waits after the delete: got (%d, %d), want (0, 0)", g, w)
		}
		if _, err := s.ReadStored(ctx, "k"); backends.CodeOf(err) != backends.NotFound {
			t.Errorf("Find after Delete: got %v, want NotFound", err)
		}
	})
	t.Run("GivesUpWaiting", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		lag := &laggingDeletes{Backend: m, reads: 1 << 30}
		s, rec := newStore(t, lag, nil)
		rec.waitErr = func(ctx context.Context) error {
			if len(rec.Waits()) >= 5 {
				return context.DeadlineExceeded
			}
			return nil
		}
		if _, err := s.Write(ctx, backends.WriteRequest{Name: "k", Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
		err := s.Delete(ctx, "k", backends.DeleteForever)
		wantCode(t, "Delete of a secret that stays readable", err, backends.DeadlineExceeded)
		wantContains(t, "Delete of a secret that stays readable", err, "still readable")
	})
	t.Run("ErrorWhileWaiting", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, m, nil)
		if _, err := s.Write(ctx, backends.WriteRequest{Name: "k", Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
		m.FailNext(backendtest.MethodGet, 1, backendtest.ErrDenied)
		err := s.Delete(ctx, "k", backends.DeleteForever)
		wantCode(t, "Delete whose check read is denied", err, backends.PermissionDenied)
		wantContains(t, "Delete whose check read is denied", err, "waiting for secret (k)")
	})
}

// laggingDeletes keeps returning a deleted secret for the next reads Gets.
type laggingDeletes struct {
	backends.Backend
	mu    sync.Mutex
	reads int
	last  map[string]*backends.Secret
}

func (l *laggingDeletes) Put(ctx context.Context, req backends.WriteRequest) (string, error) {
	v, err := l.Backend.Put(ctx, req)
	if err == nil {
		l.mu.Lock()
		if l.last == nil {
			l.last = map[string]*backends.Secret{}
		}
		l.last[req.Name] = &backends.Secret{Name: req.Name, Value: req.Value, Version: v}
		l.mu.Unlock()
	}
	return v, err
}

func (l *laggingDeletes) Get(ctx context.Context, name string) (*backends.Secret, error) {
	sec, err := l.Backend.Get(ctx, name)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil {
		if l.last == nil {
			l.last = map[string]*backends.Secret{}
		}
		l.last[name] = sec
		return sec, nil
	}
	if old, ok := l.last[name]; ok && l.reads > 0 && backends.CodeOf(err) == backends.NotFound {
		l.reads--
		return old, nil
	}
	return sec, err
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	write := func(t *testing.T, s *backends.Store, name, value string) {
		t.Helper()
		if _, err := s.Write(ctx, backends.WriteRequest{Name: name, Value: []byte(value)}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("LiteLLMWay", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, m, nil)
		write(t, s, "old", "v")
		m.ResetCalls()
		v, err := s.Rotate(ctx, "old", backends.WriteRequest{Name: "new", Value: []byte("v")}, backends.DeleteForever)
		if err != nil {
			t.Fatal(err)
		}
		raw, ok := m.Raw("new")
		if !ok || string(raw.Value) != "v" || raw.Version != v {
			t.Errorf("new secret: got %+v, want value v at version %s", raw, v)
		}
		if _, ok := m.Raw("old"); ok {
			t.Errorf("old secret: still there, want it deleted")
		}
		// check the new name is free, write, read back, delete, then
		// confirm the delete
		if p, g, d := m.Calls(backendtest.MethodPut), m.Calls(backendtest.MethodGet), m.Calls(backendtest.MethodDelete); p != 1 || g != 3 || d != 1 {
			t.Errorf("calls (Put, Get, Delete): got (%d, %d, %d), want (1, 3, 1)", p, g, d)
		}
	})
	t.Run("OldSoftDeleted", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, m, nil)
		write(t, s, "old", "v")
		if _, err := s.Rotate(ctx, "old", backends.WriteRequest{Name: "new", Value: []byte("v")}, backends.DeleteSoft); err != nil {
			t.Fatal(err)
		}
		if raw, ok := m.Raw("old"); !ok || !raw.Deleted {
			t.Errorf("old secret after a rotation with DeleteSoft: got %+v, want it soft-deleted", raw)
		}
	})
	t.Run("SameName", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, m, nil)
		write(t, s, "same", "v1")
		if _, err := s.Rotate(ctx, "same", backends.WriteRequest{Name: "same", Value: []byte("v2")}, backends.DeleteForever); err != nil {
			t.Fatalf("Rotate to the same name: %v", err)
		}
		if raw, ok := m.Raw("same"); !ok || string(raw.Value) != "v2" {
			t.Errorf("secret after a rotation to its own name: got %+v, want value v2", raw)
		}
	})
	t.Run("ReadBackFails", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, failReadBack(m, "new"), nil)
		write(t, s, "old", "sk-SECRET-old")
		_, err := s.Rotate(ctx, "old", backends.WriteRequest{Name: "new", Value: []byte("sk-SECRET-new")}, backends.DeleteForever)
		wantCode(t, "Rotate with a failing read-back", err, backends.Internal)
		wantContains(t, "Rotate with a failing read-back", err, "old secret kept", "(old)", "(new)", "deleted again, recoverably")
		if raw, ok := m.Raw("old"); !ok || string(raw.Value) != "sk-SECRET-old" {
			t.Errorf("old secret: got %+v, want it kept", raw)
		}
		// Removed again, but never for good: soft-deleted, recoverable.
		if raw, ok := m.Raw("new"); !ok || !raw.Deleted {
			t.Errorf("new secret: got %+v (present %t), want it soft-deleted", raw, ok)
		}
	})
	t.Run("ReadBackFailsCleanupFails", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, failReadBack(m, "new"), nil)
		write(t, s, "old", "v")
		m.FailNext(backendtest.MethodDelete, 1, backendtest.ErrDenied)
		_, err := s.Rotate(ctx, "old", backends.WriteRequest{Name: "new", Value: []byte("v")}, backends.DeleteForever)
		wantCode(t, "Rotate whose cleanup fails", err, backends.Internal)
		wantContains(t, "Rotate whose cleanup fails", err, "removing it again, recoverably, also failed")
	})
	t.Run("DeleteOldFails", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, m, nil)
		write(t, s, "old", "v")
		m.FailNext(backendtest.MethodDelete, 1, backendtest.ErrDenied)
		v, err := s.Rotate(ctx, "old", backends.WriteRequest{Name: "new", Value: []byte("v")}, backends.DeleteForever)
		wantCode(t, "Rotate whose old-name delete fails", err, backends.PermissionDenied)
		wantContains(t, "Rotate whose old-name delete fails", err, "new secret written")
		if v == "" {
			t.Errorf("version: got empty, want the new secret's version (it exists)")
		}
		if _, ok := m.Raw("new"); !ok {
			t.Errorf("new secret: missing, want it kept")
		}
	})
	t.Run("NativeRotator", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, m.Rotating(), func(o *backends.StoreOptions) { o.Settings.Tags = map[string]string{"team": "ml"} })
		write(t, s, "old", "v")
		m.ResetCalls()
		if _, err := s.Rotate(ctx, "old", backends.WriteRequest{Name: "new", Value: []byte("v")}, backends.DeleteForever); err != nil {
			t.Fatal(err)
		}
		if r, p := m.Calls(backendtest.MethodRotate), m.Calls(backendtest.MethodPut); r != 1 || p != 0 {
			t.Errorf("calls (Rotate, Put): got (%d, %d), want (1, 0)", r, p)
		}
		if raw, ok := m.Raw("new"); !ok || raw.Tags["team"] != "ml" {
			t.Errorf("new secret: got %+v, want it with the settings' tags", raw)
		}
		m.FailNext(backendtest.MethodRotate, 1, backendtest.ErrThrottled)
		if _, err := s.Rotate(ctx, "new", backends.WriteRequest{Name: "third", Value: []byte("v")}, backends.DeleteForever); err != nil {
			t.Errorf("native Rotate after a throttle: got %v, want a retried success", err)
		}
	})
}

func TestHealth(t *testing.T) {
	ctx := context.Background()
	m := backendtest.NewMemStore(backendtest.AllCaps)
	s, _ := newStore(t, m, nil)
	if err := s.Health(ctx); err != nil {
		t.Errorf("Health: %v", err)
	}
	m.FailNext(backendtest.MethodHealth, 1, backendtest.ErrDenied)
	err := s.Health(ctx)
	wantCode(t, "Health with bad credentials", err, backends.PermissionDenied)
	wantContains(t, "Health with bad credentials", err, "memstore")
}

func TestLookupMany(t *testing.T) {
	ctx := context.Background()
	seed := func(t *testing.T, m *backendtest.MemStore, names ...string) {
		t.Helper()
		for _, n := range names {
			if _, err := m.Put(ctx, backends.WriteRequest{Name: n, Value: []byte("value of " + n)}); err != nil {
				t.Fatal(err)
			}
		}
		m.ResetCalls()
	}
	t.Run("Batch", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		seed(t, m, "A", "B", "C")
		s, _ := newStore(t, m.Batch(), nil)
		got, err := s.ReadManyAsGateway(ctx, []string{"A", "B", "C"}, []string{"A", "B", "C"})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"A", "B", "C"} {
			if string(got[n].Value) != "value of "+n {
				t.Errorf("ReadManyAsGateway[%s]: got %q", n, got[n].Value)
			}
		}
		if b, g := m.Calls(backendtest.MethodGetBatch), m.Calls(backendtest.MethodGet); b != 1 || g != 0 {
			t.Errorf("calls (GetBatch, Get): got (%d, %d), want (1, 0)", b, g)
		}
	})
	t.Run("BatchMissingAndDeleted", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		seed(t, m, "A", "SOFT")
		if err := m.Delete(ctx, "SOFT", backends.DeleteSoft); err != nil {
			t.Fatal(err)
		}
		s, _ := newStore(t, m.Batch(), func(o *backends.StoreOptions) { o.LookupEnv = envOf(map[string]string{"ENV": "from-env"}) })
		got, err := s.ReadManyAsGateway(ctx, []string{"A", "ENV"}, []string{"A", "ENV"})
		if err != nil {
			t.Fatalf("ReadManyAsGateway with an env fallback: %v", err)
		}
		if string(got["ENV"].Value) != "from-env" {
			t.Errorf("ReadManyAsGateway[ENV]: got %q, want from-env", got["ENV"].Value)
		}
		_, err = s.ReadManyAsGateway(ctx, []string{"A", "SOFT"}, []string{"A", "SOFT"})
		wantCode(t, "ReadManyAsGateway with a soft-deleted name", err, backends.NotFound)
		wantContains(t, "ReadManyAsGateway with a soft-deleted name", err, "SOFT")
	})
	t.Run("BatchSkipsNonHosted", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		seed(t, m, "A", "B")
		s, _ := newStore(t, m.Batch(), func(o *backends.StoreOptions) {
			o.Settings.HostedKeys = []string{"A"}
			o.LookupEnv = envOf(map[string]string{"B": "b-env"})
		})
		got, err := s.ReadManyAsGateway(ctx, []string{"A", "B"}, []string{"A", "B"})
		if err != nil {
			t.Fatal(err)
		}
		if string(got["A"].Value) != "value of A" || string(got["B"].Value) != "b-env" {
			t.Errorf("ReadManyAsGateway: got A=%q B=%q, want the store's A and the environment's B", got["A"].Value, got["B"].Value)
		}
		ws, _ := newStore(t, m.Batch(), func(o *backends.StoreOptions) {
			o.Settings.AccessMode = backends.WriteOnly
			o.LookupEnv = envOf(map[string]string{"A": "a-env"})
		})
		m.ResetCalls()
		if got, err := ws.ReadManyAsGateway(ctx, []string{"A"}, []string{"A"}); err != nil || string(got["A"].Value) != "a-env" {
			t.Errorf("ReadManyAsGateway with write_only: got (%v, %v), want a-env", got, err)
		}
		if n := m.Calls(backendtest.MethodGetBatch) + m.Calls(backendtest.MethodGet); n != 0 {
			t.Errorf("store calls with write_only: got %d, want 0", n)
		}
	})
	t.Run("BatchError", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		seed(t, m, "A")
		s, _ := newStore(t, m.Batch(), nil)
		m.FailNext(backendtest.MethodGetBatch, 10, backendtest.ErrDenied)
		_, err := s.ReadManyAsGateway(ctx, []string{"A"}, []string{"A"})
		wantCode(t, "ReadManyAsGateway with a failing batch", err, backends.PermissionDenied)
	})
	t.Run("BoundedConcurrency", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		var names []string
		for i := range 40 {
			names = append(names, fmt.Sprintf("K%02d", i))
		}
		seed(t, m, names...)
		c := &concurrencyMeter{Backend: m}
		s, _ := newStore(t, c, func(o *backends.StoreOptions) { o.Concurrency = 3 })
		got, err := s.ReadManyAsGateway(ctx, names, names)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(names) {
			t.Errorf("ReadManyAsGateway: got %d results, want %d", len(got), len(names))
		}
		if peak := c.max.Load(); peak > 3 || peak < 1 {
			t.Errorf("concurrent Gets: got at most %d, want between 1 and 3", peak)
		}
	})
	t.Run("PrefixedNames", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		seed(t, m, "litellm/A")
		s, _ := newStore(t, m, func(o *backends.StoreOptions) { o.Settings.StoreVirtualKeys = true })
		full := s.Settings().FullName("A", nil, true)
		got, err := s.ReadManyAsGateway(ctx, []string{"A"}, []string{full})
		if err != nil {
			t.Fatal(err)
		}
		if sec, ok := got["A"]; !ok || string(sec.Value) != "value of litellm/A" {
			t.Errorf("ReadManyAsGateway keyed by name: got %v, want A -> value of litellm/A", got)
		}
	})
	t.Run("LengthMismatch", func(t *testing.T) {
		s, _ := newStore(t, backendtest.NewMemStore(backendtest.AllCaps), nil)
		_, err := s.ReadManyAsGateway(ctx, []string{"A", "B"}, []string{"A"})
		wantCode(t, "ReadManyAsGateway with unequal slices", err, backends.InvalidArgument)
	})
	t.Run("Empty", func(t *testing.T) {
		s, _ := newStore(t, backendtest.NewMemStore(backendtest.AllCaps), nil)
		got, err := s.ReadManyAsGateway(ctx, nil, nil)
		if err != nil || len(got) != 0 {
			t.Errorf("ReadManyAsGateway(nothing): got (%v, %v), want an empty map", got, err)
		}
	})
}

// concurrencyMeter records the most Gets in flight at once.
type concurrencyMeter struct {
	backends.Backend
	now, max atomic.Int32
}

func (c *concurrencyMeter) Get(ctx context.Context, name string) (*backends.Secret, error) {
	n := c.now.Add(1)
	defer c.now.Add(-1)
	for {
		m := c.max.Load()
		if n <= m || c.max.CompareAndSwap(m, n) {
			break
		}
	}
	for range 100 {
		runtime.Gosched()
	}
	return c.Backend.Get(ctx, name)
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	m := backendtest.NewMemStore(backendtest.AllCaps)
	s, _ := newStore(t, m, nil)
	if _, err := s.Write(ctx, backends.WriteRequest{Name: "k", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	if n := m.Calls(backendtest.MethodClose); n != 1 {
		t.Errorf("backend Close calls: got %d, want 1", n)
	}
	m.ResetCalls()
	ops := map[string]func() error{
		"Find":   func() error { _, err := s.ReadStored(ctx, "k"); return err },
		"Lookup": func() error { _, err := s.ReadAsGateway(ctx, "k", "k"); return err },
		"ReadManyAsGateway": func() error {
			_, err := s.ReadManyAsGateway(ctx, []string{"k"}, []string{"k"})
			return err
		},
		"Write": func() error {
			_, err := s.Write(ctx, backends.WriteRequest{Name: "k", Value: []byte("v")})
			return err
		},
		"Delete": func() error { return s.Delete(ctx, "k", backends.DeleteForever) },
		"Rotate": func() error {
			_, err := s.Rotate(ctx, "k", backends.WriteRequest{Name: "k2", Value: []byte("v")}, backends.DeleteForever)
			return err
		},
		"UpdateMetadata": func() error { return s.UpdateMetadata(ctx, "k", "d", nil) },
		"Health":         func() error { return s.Health(ctx) },
	}
	for name, op := range ops {
		err := op()
		wantCode(t, name+" after Close", err, backends.FailedPrecondition)
		wantContains(t, name+" after Close", err, "closed")
	}
	for _, method := range []string{backendtest.MethodGet, backendtest.MethodPut, backendtest.MethodDelete, backendtest.MethodHealth, backendtest.MethodUpdateMetadata} {
		if n := m.Calls(method); n != 0 {
			t.Errorf("%s calls after Close: got %d, want 0", method, n)
		}
	}
}

func TestClosePrimaryCached(t *testing.T) {
	ctx := context.Background()
	m := backendtest.NewMemStore(backendtest.AllCaps)
	s, _ := newStore(t, m, func(o *backends.StoreOptions) { o.Settings.PrimarySecretName = "primary" })
	if _, err := s.Write(ctx, backends.WriteRequest{Name: "A", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadAsGateway(ctx, "A", "A"); err != nil { // warm the cache
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := s.ReadAsGateway(ctx, "A", "A")
	wantCode(t, "Lookup of a cached primary field after Close", err, backends.FailedPrecondition)
	_, err = s.Write(ctx, backends.WriteRequest{Name: "B", Value: []byte("v")})
	wantCode(t, "Write of a primary field after Close", err, backends.FailedPrecondition)
}

// TestPrimarySecretOnlyWhereLiteLLMReadsIt: LiteLLM reads a primary secret
// only from AWS Secrets Manager; on any other store NewStore refuses
// primary_secret_name, naming the setting, the store and the reason.
func TestPrimarySecretOnlyWhereLiteLLMReadsIt(t *testing.T) {
	caps := backendtest.AllCaps
	caps.PrimarySecret = false
	_, err := backends.NewStore(backendtest.NewMemStore(caps), &backends.StoreOptions{Settings: backends.Settings{PrimarySecretName: "litellm-keys"}})
	wantCode(t, "NewStore(primary_secret_name) on a store without a LiteLLM primary-secret reader", err, backends.InvalidArgument)
	for _, want := range []string{"primary_secret_name", "LiteLLM reads primary secrets only from AWS Secrets Manager", `"aws_secret_manager"`, "the " + backendtest.MemStoreKind + " store"} {
		wantContains(t, "NewStore(primary_secret_name)", err, want)
	}
	if _, err := backends.NewStore(backendtest.NewMemStore(backendtest.AllCaps), &backends.StoreOptions{Settings: backends.Settings{PrimarySecretName: "litellm-keys"}}); err != nil {
		t.Errorf("NewStore(primary_secret_name) on a store with Caps.PrimarySecret: %v", err)
	}
}

func TestPrimarySecret(t *testing.T) {
	ctx := context.Background()
	primary := func(o *backends.StoreOptions) { o.Settings.PrimarySecretName = "primary" }
	t.Run("Caps", func(t *testing.T) {
		s, _ := newStore(t, backendtest.NewMemStore(backendtest.AllCaps), primary)
		want := backendtest.AllCaps
		want.Metadata, want.SoftDelete, want.Binary, want.ImmediateDelete = false, false, false, true
		if got := s.Caps(); got != want {
			t.Errorf("Caps with a primary secret: got %+v, want %+v", got, want)
		}
		s2, _ := newStore(t, backendtest.NewMemStore(backends.Caps{Write: true, PrimarySecret: true}), primary)
		if !s2.Caps().Delete {
			t.Errorf("Caps().Delete with a primary secret on a writable store without Delete: got false, want true (a field delete is a write)")
		}
		err := s2.Delete(ctx, "A", backends.DeleteSoft)
		wantCode(t, "Delete(DeleteSoft) of a primary field", err, backends.Unsupported)
	})
	t.Run("ReadsCachedWritesFresh", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		if _, err := m.Put(ctx, backends.WriteRequest{Name: "primary", Value: []byte(`{"A":"a","B":"b"}`)}); err != nil {
			t.Fatal(err)
		}
		m.ResetCalls()
		s, _ := newStore(t, m, primary)
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if sec, err := s.ReadAsGateway(ctx, "A", "A"); err != nil || string(sec.Value) != "a" {
					t.Errorf("ReadAsGateway(A): got (%v, %v), want a", sec, err)
				}
			})
		}
		wg.Wait()
		if n := m.Calls(backendtest.MethodGet); n != 1 {
			t.Errorf("Get calls for 20 lookups: got %d, want 1", n)
		}
		// Someone else changes the object: a write re-reads before it writes.
		if _, err := m.Put(ctx, backends.WriteRequest{Name: "primary", Value: []byte(`{"A":"a","B":"b","C":"c"}`)}); err != nil {
			t.Fatal(err)
		}
		v, err := s.Write(ctx, backends.WriteRequest{Name: "D", Value: []byte("d")})
		if err != nil {
			t.Fatal(err)
		}
		if v != backends.Fingerprint("D", []byte("d")) {
			t.Errorf("field version: got %q, want its fingerprint", v)
		}
		raw, _ := m.Raw("primary")
		var fields map[string]string
		if err := json.Unmarshal(raw.Value, &fields); err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{"A": "a", "B": "b", "C": "c", "D": "d"}; !maps.Equal(fields, want) {
			t.Errorf("primary object: got %v, want %v", fields, want)
		}
		sec, err := s.ReadStored(ctx, "C")
		if err != nil || string(sec.Value) != "c" {
			t.Errorf("ReadStored(C) after the write: got (%v, %v), want c", sec, err)
		}
	})
	t.Run("DeleteAbsentCreatesNothing", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, m, primary)
		if err := s.Delete(ctx, "A", backends.DeleteForever); err != nil {
			t.Fatalf("Delete of a field of a missing primary secret: %v", err)
		}
		if n := m.Calls(backendtest.MethodPut); n != 0 {
			t.Errorf("Put calls: got %d, want 0", n)
		}
		if _, ok := m.Raw("primary"); ok {
			t.Errorf("primary secret: created by a delete, want none")
		}
		if _, err := s.Write(ctx, backends.WriteRequest{Name: "A", Value: []byte("a")}); err != nil {
			t.Fatal(err)
		}
		m.ResetCalls()
		if err := s.Delete(ctx, "NOT_THERE", backends.DeleteForever); err != nil {
			t.Fatal(err)
		}
		if n := m.Calls(backendtest.MethodPut); n != 0 {
			t.Errorf("Put calls for deleting an absent field: got %d, want 0", n)
		}
	})
	t.Run("FailedWriteRereads", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, m, primary)
		if _, err := s.Write(ctx, backends.WriteRequest{Name: "A", Value: []byte("a")}); err != nil {
			t.Fatal(err)
		}
		m.FailNext(backendtest.MethodPut, 1, backends.Errorf(backends.InvalidArgument, "too large"))
		_, err := s.Write(ctx, backends.WriteRequest{Name: "B", Value: []byte("b")})
		wantCode(t, "Write whose store write fails", err, backends.InvalidArgument)
		m.ResetCalls()
		_, err = s.ReadAsGateway(ctx, "B", "B")
		wantCode(t, "Lookup of the field whose write failed", err, backends.NotFound)
		if n := m.Calls(backendtest.MethodGet); n != 1 {
			t.Errorf("Get calls after a failed write: got %d, want 1 (the cache is dropped)", n)
		}
	})
	t.Run("DeletedPrimary", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		if _, err := m.Put(ctx, backends.WriteRequest{Name: "primary", Value: []byte(`{"A":"a"}`)}); err != nil {
			t.Fatal(err)
		}
		if err := m.Delete(ctx, "primary", backends.DeleteSoft); err != nil {
			t.Fatal(err)
		}
		s, _ := newStore(t, m, primary)
		_, err := s.ReadAsGateway(ctx, "A", "A")
		wantCode(t, "Lookup in a soft-deleted primary secret", err, backends.NotFound)
	})
	t.Run("ReadErrorNotCached", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		if _, err := m.Put(ctx, backends.WriteRequest{Name: "primary", Value: []byte(`{"A":"a"}`)}); err != nil {
			t.Fatal(err)
		}
		s, _ := newStore(t, m, primary)
		m.FailNext(backendtest.MethodGet, 1, backendtest.ErrDenied)
		_, err := s.ReadAsGateway(ctx, "A", "A")
		wantCode(t, "Lookup with a denied read", err, backends.PermissionDenied)
		if sec, err := s.ReadAsGateway(ctx, "A", "A"); err != nil || string(sec.Value) != "a" {
			t.Errorf("Lookup after the denied read: got (%v, %v), want a", sec, err)
		}
	})
	t.Run("StaleReadDoesNotHideWrite", func(t *testing.T) {
		// A read that started before a write must not cache the old object
		// over the one the write cached.
		m := backendtest.NewMemStore(backendtest.AllCaps)
		if _, err := m.Put(ctx, backends.WriteRequest{Name: "primary", Value: []byte(`{"A":"a"}`)}); err != nil {
			t.Fatal(err)
		}
		g := &gatedFirstGet{Backend: m, read: make(chan struct{}), release: make(chan struct{})}
		s, _ := newStore(t, g, primary)
		done := make(chan error)
		go func() {
			_, err := s.ReadAsGateway(ctx, "A", "A") // reads {"A"}, then waits at the gate
			done <- err
		}()
		<-g.read
		if _, err := s.Write(ctx, backends.WriteRequest{Name: "B", Value: []byte("b")}); err != nil {
			t.Fatal(err)
		}
		close(g.release)
		if err := <-done; err != nil {
			t.Fatalf("ReadAsGateway(A): %v", err)
		}
		sec, err := s.ReadAsGateway(ctx, "B", "B")
		if err != nil || string(sec.Value) != "b" {
			t.Errorf("ReadAsGateway(B) after writing it: got (%v, %v), want b", sec, err)
		}
	})
}

// gatedFirstGet lets its first Get read the store, then holds the answer
// until release is closed.
type gatedFirstGet struct {
	backends.Backend
	once          sync.Once
	read, release chan struct{}
}

func (g *gatedFirstGet) Get(ctx context.Context, name string) (*backends.Secret, error) {
	sec, err := g.Backend.Get(ctx, name)
	first := false
	g.once.Do(func() { first = true })
	if first {
		close(g.read)
		<-g.release
	}
	return sec, err
}

// TestErrorsNeverContainValues drives every failing path with a recognisable
// value and checks no error message (nor OnRetry error) holds it.
func TestErrorsNeverContainValues(t *testing.T) {
	ctx := context.Background()
	const secret = "sk-SECRET-4f9a2c"
	value := []byte(secret)
	var errs []error
	collect := func(what string, err error) {
		if err == nil {
			t.Errorf("%s: got nil error, want a failure", what)
			return
		}
		errs = append(errs, fmt.Errorf("%s: %w", what, err))
	}

	m := backendtest.NewMemStore(backendtest.AllCaps)
	s, rec := newStore(t, m, func(o *backends.StoreOptions) { o.CallTimeout = time.Millisecond })

	m.FailNext(backendtest.MethodPut, 1, backends.Errorf(backends.InvalidArgument, "value rejected"))
	_, err := s.Write(ctx, backends.WriteRequest{Name: "k", Value: value})
	collect("Write rejected", err)

	m.FailNext(backendtest.MethodPut, testPolicy.MaxAttempts, backendtest.ErrThrottled)
	_, err = s.Write(ctx, backends.WriteRequest{Name: "k", Value: value})
	collect("Write throttled", err)

	m.BlockNext(backendtest.MethodPut, testPolicy.MaxAttempts)
	_, err = s.Write(ctx, backends.WriteRequest{Name: "k", Value: value})
	collect("Write timed out", err)

	if _, err := s.Write(ctx, backends.WriteRequest{Name: "k", Value: value}); err != nil {
		t.Fatal(err)
	}
	m.FailNext(backendtest.MethodGet, 1, backends.Errorf(backends.Internal, "garbled"))
	_, err = s.Rotate(ctx, "k", backends.WriteRequest{Name: "k2", Value: value}, backends.DeleteForever)
	collect("Rotate read-back failed", err)

	tamper := &tamperingGet{Backend: m, name: "k3", value: []byte(secret + "-tampered")}
	ts, _ := newStore(t, tamper, nil)
	_, err = ts.Rotate(ctx, "k", backends.WriteRequest{Name: "k3", Value: value}, backends.DeleteForever)
	collect("Rotate read-back differs", err)

	ro, _ := newStore(t, m, func(o *backends.StoreOptions) { o.Settings.AccessMode = backends.ReadOnly })
	_, err = ro.Write(ctx, backends.WriteRequest{Name: "k", Value: value})
	collect("Write read_only", err)

	_, err = s.Write(ctx, backends.WriteRequest{Name: "bad\x00name", Value: value})
	collect("Write bad name", err)

	// Primary secrets: payloads are secrets.
	for i, payload := range []string{secret, `{"A":"` + secret, `"` + secret + `"`, `["` + secret + `"]`, `{"A":{"x":"` + secret + `"}}`, `{"A":` + "1" + `, "` + secret + `": 2}`} {
		name := fmt.Sprintf("primary%d", i)
		if _, err := m.Put(ctx, backends.WriteRequest{Name: name, Value: []byte(payload)}); err != nil {
			t.Fatal(err)
		}
		ps, _ := newStore(t, m, func(o *backends.StoreOptions) { o.Settings.PrimarySecretName = name })
		_, err := ps.ReadAsGateway(ctx, "A", "A")
		collect("Lookup in a malformed primary", err)
		if i < 4 {
			_, err = ps.Write(ctx, backends.WriteRequest{Name: "B", Value: value})
			collect("Write into a malformed primary", err)
		}
	}
	ps, _ := newStore(t, m, func(o *backends.StoreOptions) { o.Settings.PrimarySecretName = "primary-ok" })
	_, err = ps.Write(ctx, backends.WriteRequest{Name: "BIN", Value: append([]byte(secret), 0xff)})
	collect("Write of a non-UTF-8 value into the primary", err)

	for _, e := range rec.Retries() {
		errs = append(errs, e.err)
	}
	for _, err := range errs {
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("error message holds a secret value: %q", err)
		}
	}
	if len(errs) < 15 {
		t.Errorf("failing paths checked: got %d, want at least 15", len(errs))
	}
}

// tamperingGet returns value instead of what the store holds for name.
type tamperingGet struct {
	backends.Backend
	name  string
	value []byte
}

func (g *tamperingGet) Get(ctx context.Context, name string) (*backends.Secret, error) {
	sec, err := g.Backend.Get(ctx, name)
	if err == nil && name == g.name {
		sec.Value = g.value
	}
	return sec, err
}

// readBackFailer fails the first Get of one name after a Put of it: the
// read-back of a rotation, not the check that the name is free.
type readBackFailer struct {
	*backendtest.MemStore
	name    string
	mu      sync.Mutex
	written bool
	failed  bool
}

func failReadBack(m *backendtest.MemStore, name string) *readBackFailer {
	return &readBackFailer{MemStore: m, name: name}
}

func (f *readBackFailer) Put(ctx context.Context, req backends.WriteRequest) (string, error) {
	v, err := f.MemStore.Put(ctx, req)
	f.mu.Lock()
	f.written = f.written || req.Name == f.name && err == nil
	f.mu.Unlock()
	return v, err
}

func (f *readBackFailer) Get(ctx context.Context, name string) (*backends.Secret, error) {
	f.mu.Lock()
	fail := name == f.name && f.written && !f.failed
	f.failed = f.failed || fail
	f.mu.Unlock()
	if fail {
		return nil, backends.Errorf(backends.Internal, "truncated answer")
	}
	return f.MemStore.Get(ctx, name)
}

// lostAnswer applies the first Put, then answers it as Unavailable, as a
// store whose answer was lost on the way back.
type lostAnswer struct {
	*backendtest.MemStore
	lost atomic.Bool
}

func (l *lostAnswer) Put(ctx context.Context, req backends.WriteRequest) (string, error) {
	v, err := l.MemStore.Put(ctx, req)
	if err == nil && !l.lost.Swap(true) {
		return "", backendtest.ErrUnavailable
	}
	return v, err
}

// TestCreateRefusesExisting: Create never adopts a live secret someone else
// wrote; it says to import it, before writing anything.
func TestCreateRefusesExisting(t *testing.T) {
	ctx := context.Background()
	req := backends.WriteRequest{Name: "OPENAI_API_KEY", Value: []byte("sk-SECRET-mine")}
	t.Run("Foreign", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, m, nil)
		seed(t, s, req.Name, "sk-SECRET-theirs")
		m.ResetCalls()
		_, err := s.Create(ctx, req)
		wantCode(t, "Create over a live secret", err, backends.AlreadyExists)
		const want = `creating secret (OPENAI_API_KEY) in memstore: it already exists; to manage it, import it (import block id = "OPENAI_API_KEY")`
		if err == nil || err.Error() != want {
			t.Errorf("Create over a live secret: got %v, want %q", err, want)
		}
		if n := m.Calls(backendtest.MethodPut); n != 0 {
			t.Errorf("Put calls: got %d, want 0", n)
		}
		wantValue(t, s, req.Name, "sk-SECRET-theirs")
	})
	t.Run("Free", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, m, nil)
		if _, err := s.Create(ctx, req); err != nil {
			t.Fatal(err)
		}
		wantValue(t, s, req.Name, "sk-SECRET-mine")
	})
	t.Run("SoftDeletedIsRecovered", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, m, nil)
		seed(t, s, req.Name, "sk-SECRET-old")
		if err := s.Delete(ctx, req.Name, backends.DeleteSoft); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Create(ctx, req); err != nil {
			t.Fatalf("Create over a soft-deleted secret: %v", err)
		}
		wantValue(t, s, req.Name, "sk-SECRET-mine")
	})
	t.Run("OwnWriteWhoseAnswerWasLost", func(t *testing.T) {
		// The layer retries the Put after the lost answer: the check that
		// the name is free ran once, before it, so the retry never meets
		// its own first write.
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, rec := newStore(t, &lostAnswer{MemStore: m}, nil)
		if _, err := s.Create(ctx, req); err != nil {
			t.Fatalf("Create whose first answer was lost: %v", err)
		}
		if p, g := m.Calls(backendtest.MethodPut), m.Calls(backendtest.MethodGet); p != 2 || g != 1 {
			t.Errorf("calls (Put, Get): got (%d, %d), want (2, 1)", p, g)
		}
		if len(rec.Retries()) != 1 {
			t.Errorf("retries: got %d, want 1", len(rec.Retries()))
		}
		// An apply that failed after its write landed is retried by the
		// next apply: the name holds exactly this value, so it is ours.
		if _, err := s.Create(ctx, req); err != nil {
			t.Errorf("Create again after a write of the same value landed: %v", err)
		}
	})
	t.Run("CheckFails", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, m, nil)
		m.FailNext(backendtest.MethodGet, 1, backends.Errorf(backends.Internal, "truncated answer"))
		_, err := s.Create(ctx, req)
		wantCode(t, "Create whose check fails", err, backends.Internal)
		wantContains(t, "Create whose check fails", err, "creating secret (OPENAI_API_KEY) in memstore", "checking whether the name is free")
		if n := m.Calls(backendtest.MethodPut); n != 0 {
			t.Errorf("Put calls: got %d, want 0 (nothing is written on a guess)", n)
		}
	})
	t.Run("ReadDenied", func(t *testing.T) {
		// read_and_write: the credential must read (refresh reads), so a
		// denied check fails the create.
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, m, nil)
		m.FailNext(backendtest.MethodGet, 1, backendtest.ErrDenied)
		_, err := s.Create(ctx, req)
		wantCode(t, "Create whose check is denied (read_and_write)", err, backends.PermissionDenied)
		if n := m.Calls(backendtest.MethodPut); n != 0 {
			t.Errorf("Put calls: got %d, want 0", n)
		}
		// write_only: the credential may be allowed to write only; a
		// denied check does not block the create, and a warning says so.
		m = backendtest.NewMemStore(backendtest.AllCaps)
		s, _ = newStore(t, m, func(o *backends.StoreOptions) { o.Settings.AccessMode = backends.WriteOnly })
		m.FailNext(backendtest.MethodGet, 1, backendtest.ErrDenied)
		wctx, warnings := backends.WithWarnings(ctx)
		if _, err := s.Create(wctx, req); err != nil {
			t.Fatalf("Create whose check is denied (write_only): %v", err)
		}
		if raw, ok := m.Raw(req.Name); !ok || string(raw.Value) != "sk-SECRET-mine" {
			t.Errorf("secret after a write_only create: got %+v, want it written", raw)
		}
		if msgs := warnings.Messages(); len(msgs) != 1 || !strings.Contains(msgs[0], "could not check whether secret (OPENAI_API_KEY) already exists") {
			t.Errorf("warnings: got %q, want one saying the check could not be made", msgs)
		}
	})
	t.Run("WriteOnlyReadableForeign", func(t *testing.T) {
		// write_only with a credential that can read: the check still
		// protects a foreign secret.
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, m, func(o *backends.StoreOptions) { o.Settings.AccessMode = backends.WriteOnly })
		if _, err := m.Put(ctx, backends.WriteRequest{Name: req.Name, Value: []byte("sk-SECRET-theirs")}); err != nil {
			t.Fatal(err)
		}
		_, err := s.Create(ctx, req)
		wantCode(t, "Create over a live secret (write_only)", err, backends.AlreadyExists)
	})
	t.Run("PrimarySecretField", func(t *testing.T) {
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, m, func(o *backends.StoreOptions) { o.Settings.PrimarySecretName = "litellm-primary" })
		if _, err := m.Put(ctx, backends.WriteRequest{Name: "litellm-primary", Value: []byte(`{"OPENAI_API_KEY":"sk-SECRET-theirs","OTHER":"x"}`)}); err != nil {
			t.Fatal(err)
		}
		_, err := s.Create(ctx, req)
		wantCode(t, "Create over a field of the primary secret", err, backends.AlreadyExists)
		wantContains(t, "Create over a field of the primary secret", err, "primary secret (litellm-primary)", `import block id = "OPENAI_API_KEY"`)
		// Another field is free, although the primary secret exists.
		if _, err := s.Create(ctx, backends.WriteRequest{Name: "NEW_KEY", Value: []byte("v")}); err != nil {
			t.Fatalf("Create of a new field: %v", err)
		}
		raw, _ := m.Raw("litellm-primary")
		var fields map[string]string
		if err := json.Unmarshal(raw.Value, &fields); err != nil || fields["OPENAI_API_KEY"] != "sk-SECRET-theirs" || fields["NEW_KEY"] != "v" {
			t.Errorf("primary secret after the refused create: want the foreign field kept and NEW_KEY added (err %v)", err)
		}
	})
}

// TestRotateNeverDestroysForeign: a rename refuses a new name that holds
// someone else's secret before writing, and the cleanup of a failed
// read-back never deletes for good.
func TestRotateNeverDestroysForeign(t *testing.T) {
	ctx := context.Background()
	noSoftDelete := backends.Caps{Write: true, Delete: true, ImmediateDelete: true}
	for _, tc := range []struct {
		name string
		caps backends.Caps
		wrap func(*backendtest.MemStore) backends.Backend
	}{
		{"LiteLLMWay", backendtest.AllCaps, func(m *backendtest.MemStore) backends.Backend { return failReadBack(m, "B") }},
		{"NoSoftDelete", noSoftDelete, func(m *backendtest.MemStore) backends.Backend { return failReadBack(m, "B") }},
		{"NativeRotator", backendtest.AllCaps, func(m *backendtest.MemStore) backends.Backend { return m.Rotating() }},
	} {
		t.Run(tc.name+"/NewNameTaken", func(t *testing.T) {
			// The case: A is mine, B someone else's; rename A to B
			// (with a read-back that would fail).
			m := backendtest.NewMemStore(tc.caps)
			s, _ := newStore(t, tc.wrap(m), nil)
			seed(t, s, "A", "sk-SECRET-mine")
			if _, err := m.Put(ctx, backends.WriteRequest{Name: "B", Value: []byte("sk-SECRET-someone-elses")}); err != nil {
				t.Fatal(err)
			}
			m.ResetCalls()
			_, err := s.Rotate(ctx, "A", backends.WriteRequest{Name: "B", Value: []byte("sk-SECRET-mine")}, backends.DeleteForever)
			wantCode(t, "Rotate to a taken name", err, backends.AlreadyExists)
			wantContains(t, "Rotate to a taken name", err, "rotating secret (A) to (B) in memstore: old secret kept, nothing written: the new name (B) already exists", `import block id = "B"`)
			if p, d, r := m.Calls(backendtest.MethodPut), m.Calls(backendtest.MethodDelete), m.Calls(backendtest.MethodRotate); p+d+r != 0 {
				t.Errorf("calls (Put, Delete, Rotate): got (%d, %d, %d), want none", p, d, r)
			}
			if raw, ok := m.Raw("B"); !ok || raw.Deleted || string(raw.Value) != "sk-SECRET-someone-elses" {
				t.Errorf("B: got %+v, want someone else's secret untouched", raw)
			}
			if raw, ok := m.Raw("A"); !ok || raw.Deleted || string(raw.Value) != "sk-SECRET-mine" {
				t.Errorf("A: got %+v, want it kept", raw)
			}
		})
	}
	t.Run("ReadBackFailsNoSoftDelete", func(t *testing.T) {
		// A store that can only delete for good keeps the new name and
		// says so: it may have become someone else's since the check.
		m := backendtest.NewMemStore(noSoftDelete)
		s, _ := newStore(t, failReadBack(m, "B"), nil)
		seed(t, s, "A", "sk-SECRET-mine")
		m.ResetCalls()
		_, err := s.Rotate(ctx, "A", backends.WriteRequest{Name: "B", Value: []byte("sk-SECRET-mine")}, backends.DeleteForever)
		wantCode(t, "Rotate with a failing read-back", err, backends.Internal)
		wantContains(t, "Rotate with a failing read-back", err, "old secret kept", "new name (B) was left in the store", "cannot delete it recoverably")
		if n := m.Calls(backendtest.MethodDelete); n != 0 {
			t.Errorf("Delete calls: got %d, want 0 (never a hard delete)", n)
		}
		if _, ok := m.Raw("B"); !ok {
			t.Errorf("B: gone, want it left in the store")
		}
		if raw, ok := m.Raw("A"); !ok || string(raw.Value) != "sk-SECRET-mine" {
			t.Errorf("A: got %+v, want it kept", raw)
		}
	})
	t.Run("ReadBackFailsNameHeldTheValue", func(t *testing.T) {
		// B held this very value before (an earlier rename whose apply
		// failed): the rotation did not create it, so it leaves it.
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, failReadBack(m, "B"), nil)
		seed(t, s, "A", "v")
		if _, err := m.Put(ctx, backends.WriteRequest{Name: "B", Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
		m.ResetCalls()
		_, err := s.Rotate(ctx, "A", backends.WriteRequest{Name: "B", Value: []byte("v")}, backends.DeleteForever)
		wantContains(t, "Rotate with a failing read-back", err, "new name (B) was left as it is")
		if n := m.Calls(backendtest.MethodDelete); n != 0 {
			t.Errorf("Delete calls: got %d, want 0", n)
		}
		if raw, ok := m.Raw("B"); !ok || raw.Deleted {
			t.Errorf("B: got %+v, want it live", raw)
		}
	})
	t.Run("WriteOnlyNoReadBack", func(t *testing.T) {
		// A write_only credential that may not read: the rename checks
		// what it can, writes, and trusts the store's acknowledgement.
		m := backendtest.NewMemStore(backendtest.AllCaps)
		s, _ := newStore(t, m, func(o *backends.StoreOptions) { o.Settings.AccessMode = backends.WriteOnly })
		seed(t, s, "A", "sk-SECRET-mine")
		m.ResetCalls()
		m.FailNext(backendtest.MethodGet, 100, backendtest.ErrDenied)
		wctx, warnings := backends.WithWarnings(ctx)
		v, err := s.Rotate(wctx, "A", backends.WriteRequest{Name: "B", Value: []byte("sk-SECRET-mine")}, backends.DeleteSoft)
		if err != nil {
			t.Fatalf("write_only rename with reads denied: %v", err)
		}
		if raw, ok := m.Raw("B"); !ok || raw.Version != v || string(raw.Value) != "sk-SECRET-mine" {
			t.Errorf("B: got %+v, want the value at version %s", raw, v)
		}
		if raw, ok := m.Raw("A"); !ok || !raw.Deleted {
			t.Errorf("A: got %+v, want it soft-deleted", raw)
		}
		if len(warnings.Messages()) != 1 {
			t.Errorf("warnings: got %q, want one saying the new name could not be checked", warnings.Messages())
		}
	})
}
