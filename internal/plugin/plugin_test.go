package plugin

import (
	"context"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// retaining is a downstream that keeps every request's context for good, as
// terraform-plugin-framework's proto6server does (registerContext).
type retaining struct {
	tfprotov6.ProviderServer
	kept []context.Context
	seen func(ctx context.Context)
}

func (r *retaining) ReadResource(ctx context.Context, _ *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	ctx, cancel := context.WithCancel(ctx)
	_ = cancel // kept until StopProvider, like the framework
	r.kept = append(r.kept, ctx)
	if r.seen != nil {
		r.seen(ctx)
	}
	return &tfprotov6.ReadResourceResponse{}, nil
}

type bigKey struct{}

// big is a request value large enough that keeping it would show.
type big struct{ _ [1 << 20]byte }

func TestDetachReleasesRequestContexts(t *testing.T) {
	down := &retaining{}
	s := Detach(down)
	var freed atomic.Int64
	const requests = 20
	for range requests {
		v := &big{}
		runtime.SetFinalizer(v, func(*big) { freed.Add(1) })
		ctx := context.WithValue(context.Background(), bigKey{}, v)
		if _, err := s.ReadResource(ctx, &tfprotov6.ReadResourceRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for freed.Load() < requests && time.Now().Before(deadline) {
		runtime.GC()
		runtime.Gosched()
	}
	if n := freed.Load(); n < requests {
		t.Errorf("request values freed after %d requests whose contexts the framework keeps: got %d, want %d", requests, n, requests)
	}
	if len(down.kept) != requests {
		t.Fatalf("downstream saw %d requests, want %d", len(down.kept), requests)
	}
	// What the framework kept no longer reaches the request's values.
	if down.kept[0].Value(bigKey{}) != nil {
		t.Error("a kept context still reaches the request's values after the request returned")
	}
}

func TestDetachDuringRequest(t *testing.T) {
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), bigKey{}, "v"))
	deadline, cancelDeadline := context.WithDeadline(parent, time.Now().Add(time.Hour))
	defer cancelDeadline()
	down := &retaining{seen: func(ctx context.Context) {
		if got := ctx.Value(bigKey{}); got != "v" {
			t.Errorf("Value during the request: got %v, want %q", got, "v")
		}
		if _, ok := ctx.Deadline(); !ok {
			t.Error("Deadline during the request: the request's deadline is lost")
		}
		if ctx.Err() != nil {
			t.Errorf("Err during the request: %v", ctx.Err())
		}
		// A cancellation of the request (the CLI gave up, StopProvider)
		// reaches what the framework derived from it.
		cancel()
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			t.Error("canceling the request did not cancel the context the framework derived")
		}
	}}
	if _, err := Detach(down).ReadResource(deadline, &tfprotov6.ReadResourceRequest{}); err != nil {
		t.Fatal(err)
	}
}

func TestQuietUnlessLogging(t *testing.T) {
	vars := []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PROVIDER_LLMSECRET"}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // of every var above ("" = left unset)
	}{
		{"no logging asked", nil, "off"},
		{"TF_LOG=off", map[string]string{"TF_LOG": "off"}, "off"},
		{"TF_LOG=TRACE", map[string]string{"TF_LOG": "TRACE"}, ""},
		{"TF_LOG_PROVIDER=debug", map[string]string{"TF_LOG_PROVIDER": "debug"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range append([]string{"TF_LOG", "TF_LOG_PROVIDER"}, vars...) {
				t.Setenv(v, "")
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			for _, v := range vars {
				// t.Setenv restores at the end; unset for the test itself.
				unsetenv(t, v)
			}
			QuietUnlessLogging()
			for _, v := range vars {
				if got := getenv(v); got != tc.want {
					t.Errorf("%s: got %q, want %q", v, got, tc.want)
				}
			}
		})
	}
	t.Run("a level the user set is kept", func(t *testing.T) {
		t.Setenv("TF_LOG", "")
		t.Setenv("TF_LOG_PROVIDER", "")
		t.Setenv("TF_LOG_SDK_FRAMEWORK", "trace")
		QuietUnlessLogging()
		if got := getenv("TF_LOG_SDK_FRAMEWORK"); got != "trace" {
			t.Errorf("TF_LOG_SDK_FRAMEWORK: got %q, want the user's %q", got, "trace")
		}
	})
}

func getenv(k string) string { return os.Getenv(k) }

func unsetenv(t *testing.T, k string) {
	t.Helper()
	if err := os.Unsetenv(k); err != nil {
		t.Fatal(err)
	}
}

// gcSettings is the process's GOGC percentage and soft memory limit.
func gcSettings() (percent int, limit int64) {
	percent = debug.SetGCPercent(100)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1)
}

func TestTuneGC(t *testing.T) {
	percent, limit := gcSettings()
	t.Cleanup(func() { debug.SetGCPercent(percent); debug.SetMemoryLimit(limit) })

	t.Run("defaults when the environment is silent", func(t *testing.T) {
		unsetEnv(t, "GOGC")
		unsetEnv(t, "GOMEMLIMIT")
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(math.MaxInt64)
		TuneGC()
		if p, l := gcSettings(); p != gcPercent || l != memoryLimit {
			t.Fatalf("GOGC %d, memory limit %d; want %d and %d", p, l, gcPercent, memoryLimit)
		}
	})
	t.Run("the user's GOGC and GOMEMLIMIT win", func(t *testing.T) {
		t.Setenv("GOGC", "50")
		t.Setenv("GOMEMLIMIT", "1GiB")
		debug.SetGCPercent(50)
		debug.SetMemoryLimit(1 << 30)
		TuneGC()
		if p, l := gcSettings(); p != 50 || l != 1<<30 {
			t.Fatalf("GOGC %d, memory limit %d; want the user's 50 and %d", p, l, 1<<30)
		}
	})
}

// unsetEnv removes name from the environment for the test.
func unsetEnv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "") // restores the old value after the test
	if err := os.Unsetenv(name); err != nil {
		t.Fatal(err)
	}
}
