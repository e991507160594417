package custom_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/custom"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/custom/customtest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/faultproxy"
)

// retryingStore is the reference HTTP store behind a fault proxy, with the
// layer's retries on (no waits between them).
func retryingStore(t *testing.T) (*backends.Store, *faultproxy.Proxy) {
	t.Helper()
	proxy := faultproxy.New(t, customtest.StartHTTP(t), nil)
	b, err := custom.New(context.Background(), &custom.Options{URL: proxy.URL()})
	if err != nil {
		t.Fatalf("custom.New: %v", err)
	}
	s, err := backends.NewStore(b, &backends.StoreOptions{
		Settings: backends.Settings{AccessMode: backends.ReadAndWrite},
		Retry:    backends.RetryPolicy{MaxAttempts: 4},
		Wait:     func(context.Context, time.Duration) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, proxy
}

const rotatePath = `/rotate$`

// A rotate whose answer is lost after the store rotated (a 503 from a proxy
// once the store has acted) succeeds: the provider sees the new name holds
// the value it wrote and the old name is gone, instead of retrying the rotate
// blindly into a 404 and failing an apply whose rotation happened.
func TestRotateAnswerLostAfterRotating(t *testing.T) {
	ctx := context.Background()
	s, proxy := retryingStore(t)
	if _, err := s.Write(ctx, backends.WriteRequest{Name: "OLD_KEY", Value: []byte("sk-old")}); err != nil {
		t.Fatal(err)
	}
	proxy.Add(faultproxy.Rule{Method: http.MethodPost, Path: rotatePath, Fault: faultproxy.Status(503).AfterForward()})

	version, err := s.Rotate(ctx, "OLD_KEY", backends.WriteRequest{Name: "NEW_KEY", Value: []byte("sk-new")}, backends.DeleteForever)
	if err != nil {
		t.Fatalf("Rotate with its answer lost after the store rotated: %v; want success, the store holds the new value", err)
	}
	got, err := s.ReadStored(ctx, "NEW_KEY")
	if err != nil || string(got.Value) != "sk-new" || got.Version != version {
		t.Errorf("NEW_KEY after the rotate: got %v, %v; want sk-new at version %q", got, err, version)
	}
	if _, err := s.ReadStored(ctx, "OLD_KEY"); backends.CodeOf(err) != backends.NotFound {
		t.Errorf("OLD_KEY after the rotate: got %v, want not found", err)
	}
	if n := proxy.Count(http.MethodPost, rotatePath); n != 1 {
		t.Errorf("rotate requests: got %d, want 1 (the rotation happened; no second rotate)", n)
	}
}

// A 503 before the store acted (the rotation did not happen) is still
// retried, and the retry rotates.
func TestRotateRefusedBeforeRotatingIsRetried(t *testing.T) {
	ctx := context.Background()
	s, proxy := retryingStore(t)
	if _, err := s.Write(ctx, backends.WriteRequest{Name: "OLD_KEY", Value: []byte("sk-old")}); err != nil {
		t.Fatal(err)
	}
	proxy.Add(faultproxy.Rule{Method: http.MethodPost, Path: rotatePath, Fault: faultproxy.Status(503)})

	if _, err := s.Rotate(ctx, "OLD_KEY", backends.WriteRequest{Name: "NEW_KEY", Value: []byte("sk-new")}, backends.DeleteForever); err != nil {
		t.Fatalf("Rotate after a 503 that did not reach the store: %v", err)
	}
	if n := proxy.Count(http.MethodPost, rotatePath); n != 2 {
		t.Errorf("rotate requests: got %d, want 2 (refused, then retried)", n)
	}
	if got, err := s.ReadStored(ctx, "NEW_KEY"); err != nil || string(got.Value) != "sk-new" {
		t.Errorf("NEW_KEY after the rotate: got %v, %v; want sk-new", got, err)
	}
}

// A rotate of an old name that does not exist still fails as not found: the
// check never turns a real failure into a success. A new name that already
// holds someone else's value is refused before any rotate, untouched.
func TestRotateOfMissingNameStillFails(t *testing.T) {
	ctx := context.Background()
	s, _ := retryingStore(t)
	_, err := s.Rotate(ctx, "NO_SUCH_KEY", backends.WriteRequest{Name: "NEW_KEY", Value: []byte("sk-new")}, backends.DeleteForever)
	wantCode(t, "Rotate of a missing name", err, backends.NotFound)
	if got, err := s.ReadStored(ctx, "NEW_KEY"); backends.CodeOf(err) != backends.NotFound {
		t.Errorf("NEW_KEY after a failed rotate: got %v, %v; want nothing written", got, err)
	}

	if _, err := s.Write(ctx, backends.WriteRequest{Name: "TAKEN_KEY", Value: []byte("sk-other")}); err != nil {
		t.Fatal(err)
	}
	_, err = s.Rotate(ctx, "NO_SUCH_KEY", backends.WriteRequest{Name: "TAKEN_KEY", Value: []byte("sk-new")}, backends.DeleteForever)
	wantCode(t, "Rotate onto a taken name", err, backends.AlreadyExists)
	if got, err := s.ReadStored(ctx, "TAKEN_KEY"); err != nil || string(got.Value) != "sk-other" {
		t.Errorf("TAKEN_KEY after a refused rotate: got %v, %v; want sk-other untouched", got, err)
	}
}
