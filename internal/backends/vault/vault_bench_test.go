package vault_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault/vaulttest"
)

// Benchmarks of the layer's overhead over a bare vault/api call, against
// the shared dev server (go test -bench . ./internal/backends/vault/). Each
// pair reads the same KV secret: Raw is the SDK's Logical().Read,
// StoreFind is backends.Store.ReadStored through this package (auth, namespaces,
// answer parsing, error classification, retries, read cache off).

func benchSecret(b *testing.B, s *vaulttest.Server) string {
	b.Helper()
	name := uniq(b, "bench")
	if _, err := s.Client(b).Logical().Write("secret/data/"+name, map[string]any{"data": map[string]any{"key": "value-abcdefghijklmnopqrstuvwxyz"}}); err != nil {
		b.Fatal(err)
	}
	return name
}

func BenchmarkRawRead(b *testing.B) {
	s := plainServer(b)
	name := benchSecret(b, s)
	c := s.Client(b)
	ctx := context.Background()
	for b.Loop() {
		sec, err := c.Logical().ReadWithContext(ctx, "secret/data/"+name)
		if err != nil || sec == nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStoreFind(b *testing.B) {
	s := plainServer(b)
	name := benchSecret(b, s)
	store := newStore(b, newBackend(b, tokenOptions(s)), 1)
	ctx := context.Background()
	for b.Loop() {
		if _, err := store.ReadStored(ctx, name); err != nil {
			b.Fatal(err)
		}
	}
}

// The same at the CLI's -parallelism=10 (5 goroutines per CPU on 2 CPUs).

func BenchmarkRawReadParallel(b *testing.B) {
	s := plainServer(b)
	name := benchSecret(b, s)
	c := s.Client(b)
	b.SetParallelism(5)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Logical().ReadWithContext(context.Background(), "secret/data/"+name); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkStoreFindParallel(b *testing.B) {
	s := plainServer(b)
	name := benchSecret(b, s)
	store := newStore(b, newBackend(b, tokenOptions(s)), 1)
	b.SetParallelism(5)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := store.ReadStored(context.Background(), name); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkStoreFindCached is a repeated read in one run with the provider's
// read cache (StoreOptions.CacheReads): no request at all.
func BenchmarkStoreFindCached(b *testing.B) {
	s := plainServer(b)
	name := benchSecret(b, s)
	store, err := backends.NewStore(newBackend(b, tokenOptions(s)), &backends.StoreOptions{
		Settings: backends.Settings{AccessMode: backends.ReadAndWrite}, LookupEnv: noEnv, CacheReads: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := store.ReadStored(ctx, name); err != nil {
			b.Fatal(err)
		}
	}
}

// connCounter is a loopback TCP proxy that counts the connections made
// through it.
type connCounter struct {
	ln    net.Listener
	conns atomic.Int64
	wg    sync.WaitGroup
}

func newConnCounter(t testing.TB, target string) *connCounter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &connCounter{ln: ln}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			c.conns.Add(1)
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				defer in.Close()
				out, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer out.Close()
				go func() { _, _ = io.Copy(out, in); out.Close() }()
				_, _ = io.Copy(in, out)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return c
}

// TestConnectionsReusedAtCLIParallelism: the store keeps one HTTP client per
// provider instance whose pool holds enough idle keep-alive connections for
// the CLI's parallelism, so a refresh of many secrets with 10 concurrent
// reads opens about 10 connections, not one per read.
func TestConnectionsReusedAtCLIParallelism(t *testing.T) {
	s := plainServer(t)
	name := uniq(t, "conn")
	proxy := newConnCounter(t, strings.TrimPrefix(s.Addr, "http://"))
	opts := tokenOptions(s)
	opts.Address = "http://" + proxy.ln.Addr().String()
	b, err := vault.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	store := newStore(t, b, 1)
	const parallelism, reads = 10, 500
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallelism)
	for i := range reads {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			// Distinct names (missing ones: a 404 is an answer too), so no
			// two reads share a call.
			_, err := store.ReadStored(context.Background(), fmt.Sprintf("%s-%d", name, i))
			if backends.CodeOf(err) != backends.NotFound {
				t.Errorf("Find: got %v, want NotFound", err)
			}
		}()
	}
	wg.Wait()
	t.Logf("%d connections for %d reads at parallelism %d", proxy.conns.Load(), reads, parallelism)
	if n := proxy.conns.Load(); n > parallelism+2 {
		t.Errorf("connections for %d reads at parallelism %d: got %d, want at most %d (keep-alive: one per concurrent read, kept idle between reads)", reads, parallelism, n, parallelism+2)
	}
}
