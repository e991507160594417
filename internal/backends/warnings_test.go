package backends_test

import (
	"context"
	"slices"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

func TestWarnings(t *testing.T) {
	if backends.Warn(context.Background(), "nobody listens") {
		t.Error("Warn without a collector: got true, want false")
	}
	ctx, w := backends.WithWarnings(context.Background())
	if !backends.Warn(ctx, "replication to eu-west-1 failed") || !backends.Warn(ctx, "purge refused") {
		t.Error("Warn with a collector: got false, want true")
	}
	if got, want := w.Messages(), []string{"replication to eu-west-1 failed", "purge refused"}; !slices.Equal(got, want) {
		t.Errorf("Messages: got %q, want %q", got, want)
	}
}
