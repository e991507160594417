package backends_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/backendtest"
)

// Benchmarks of the primary-secret merge (primary_secret_name): every name
// is a field of one JSON object of 2,000 fields.

const primaryFields = 2000

func primaryStore(b *testing.B) (*backends.Store, *backendtest.MemStore) {
	b.Helper()
	m := backendtest.NewMemStore(backendtest.AllCaps)
	var sb strings.Builder
	sb.WriteString("{")
	for i := range primaryFields {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, "%q:%q", fmt.Sprintf("BENCH_%d", i), fmt.Sprintf("value-%d-abcdefghijklmnopqrstuvwxyz", i))
	}
	sb.WriteString("}")
	if _, err := m.Put(context.Background(), backends.WriteRequest{Name: "primary", Value: []byte(sb.String())}); err != nil {
		b.Fatal(err)
	}
	s, err := backends.NewStore(m, &backends.StoreOptions{
		Settings:  backends.Settings{AccessMode: backends.ReadAndWrite, PrimarySecretName: "primary"},
		LookupEnv: envOf(nil),
	})
	if err != nil {
		b.Fatal(err)
	}
	return s, m
}

// BenchmarkPrimaryRefresh is a plan's refresh of every field: one store
// read and 2,000 lookups in the parsed object.
func BenchmarkPrimaryRefresh(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		s, _ := primaryStore(b)
		for i := range primaryFields {
			if _, err := s.ReadStored(ctx, fmt.Sprintf("BENCH_%d", i)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkPrimaryWriteSerial is one field written at a time: a
// read-modify-write of the whole object each.
func BenchmarkPrimaryWriteSerial(b *testing.B) {
	s, _ := primaryStore(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		if _, err := s.Write(ctx, backends.WriteRequest{Name: fmt.Sprintf("BENCH_%d", i%primaryFields), Value: []byte(fmt.Sprint(i))}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPrimaryWriteParallel10 is an apply at -parallelism=10: writers
// that queue while one commits are merged into its next write. It reports
// the store writes per field written.
func BenchmarkPrimaryWriteParallel10(b *testing.B) {
	s, m := primaryStore(b)
	ctx := context.Background()
	m.ResetCalls()
	var (
		wg    sync.WaitGroup
		sem   = make(chan struct{}, 10)
		field int
	)
	for b.Loop() {
		field++
		name := fmt.Sprintf("BENCH_%d", field%primaryFields)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := s.Write(ctx, backends.WriteRequest{Name: name, Value: []byte("new")}); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(m.Calls(backendtest.MethodPut))/float64(field), "puts/field")
}
