package local_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// Store-level benchmarks over the 10,000-line file of BenchmarkGet10000 and
// BenchmarkPut10000 (local_test.go): what a refresh costs through the layer.

func benchStore(b *testing.B, cache bool) *backends.Store {
	b.Helper()
	s, err := backends.NewStore(benchBackend(b), &backends.StoreOptions{
		Settings:   backends.Settings{AccessMode: backends.ReadAndWrite},
		LookupEnv:  func(string) (string, bool) { return "", false },
		CacheReads: cache,
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkStoreFind10000 is one refresh: the file is read and parsed.
func BenchmarkStoreFind10000(b *testing.B) {
	s := benchStore(b, false)
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.ReadStored(ctx, "KEY_09999"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStoreFindCached10000 is a repeated read of a name in one run.
func BenchmarkStoreFindCached10000(b *testing.B) {
	s := benchStore(b, true)
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.ReadStored(ctx, "KEY_09999"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLookupMany1000of10000 is llmsecret_secrets of 1,000 names: one
// GetBatch, so one read and parse of the file.
func BenchmarkLookupMany1000of10000(b *testing.B) {
	s := benchStore(b, false)
	names := make([]string, 1000)
	for i := range names {
		names[i] = fmt.Sprintf("KEY_%05d", i*10)
	}
	ctx := context.Background()
	for b.Loop() {
		got, err := s.ReadManyAsGateway(ctx, names, names)
		if err != nil || len(got) != len(names) {
			b.Fatalf("ReadManyAsGateway: %d values, %v", len(got), err)
		}
	}
}
