package backends_test

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/backendtest"
)

// checkingStore is a memory store with a credential check that fails with
// err.
type checkingStore struct {
	*backendtest.MemStore
	err   error
	calls int
}

func (c *checkingStore) CheckCredentials(context.Context) error { c.calls++; return c.err }

// TestCheckCredentials: refused credentials and an unreachable store fail
// the check at once (one call, no retry); a passing trouble (throttling, a
// busy server) is left to the operations; a store without a check passes.
func TestCheckCredentials(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, tc := range []struct {
		label string
		err   error
		fails bool
	}{
		{"ok", nil, false},
		{"refused token", backends.Errorf(backends.PermissionDenied, "token refused"), true},
		{"bad setting", backends.Errorf(backends.InvalidArgument, "bad"), true},
		{"connection refused", backends.Errorf(backends.Unavailable, "cannot reach: %w", refused), true},
		{"throttled", backends.Errorf(backends.Throttled, "slow down"), false},
		{"unavailable answer", backends.Errorf(backends.Unavailable, "sealed"), false},
	} {
		b := &checkingStore{MemStore: backendtest.NewMemStore(backendtest.AllCaps), err: tc.err}
		s, _ := newStore(t, b, nil)
		err := s.CheckCredentials(context.Background())
		if (err != nil) != tc.fails || b.calls != 1 {
			t.Errorf("%s: got %v after %d calls; want failure %t after 1 call", tc.label, err, b.calls, tc.fails)
		}
		if err != nil && !errors.Is(err, tc.err) {
			t.Errorf("%s: the error lost its cause: %v", tc.label, err)
		}
	}
	s, _ := newStore(t, backendtest.NewMemStore(backendtest.AllCaps), nil)
	if err := s.CheckCredentials(context.Background()); err != nil {
		t.Errorf("a store without a credential check: %v", err)
	}
	// With primary_secret_name the store's own check still runs.
	b := &checkingStore{MemStore: backendtest.NewMemStore(backendtest.AllCaps), err: backends.Errorf(backends.PermissionDenied, "token refused")}
	ps, _ := newStore(t, b, func(o *backends.StoreOptions) { o.Settings.PrimarySecretName = "primary" })
	if err := ps.CheckCredentials(context.Background()); backends.CodeOf(err) != backends.PermissionDenied || b.calls != 1 {
		t.Errorf("refused credentials with a primary secret: got %v after %d calls; want PermissionDenied after 1 call", err, b.calls)
	}
}

// TestWithAddressHint: a failed connection names the store's address
// settings and variables; a TLS failure, an answer, or a message that names
// them already get nothing added.
func TestWithAddressHint(t *testing.T) {
	refused := backends.Errorf(backends.Unavailable, "cannot reach Vault at http://127.0.0.1:1: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
	const vaultWhere = "hashicorp_vault.address, or HCP_VAULT_ADDR / VAULT_ADDR (default http://127.0.0.1:8200)"
	got := backends.WithAddressHint("hashicorp_vault", vaultWhere, refused)
	wantContains(t, "vault refused", got, "connection refused", "could not be reached: check hashicorp_vault.address, or HCP_VAULT_ADDR / VAULT_ADDR")
	wantCode(t, "vault refused", got, backends.Unavailable)
	if !backends.Unreachable(got) {
		t.Error("the hinted error is no longer Unreachable")
	}
	dns := backends.WithAddressHint("cyberark", "cyberark.url, or CYBERARK_API_BASE / CONJUR_APPLIANCE_URL", &net.DNSError{Err: "no such host", Name: "conjur.invalid", IsNotFound: true})
	wantContains(t, "cyberark dns", dns, "no such host", "check cyberark.url, or CYBERARK_API_BASE / CONJUR_APPLIANCE_URL")
	for label, err := range map[string]error{
		"an answer":           backends.Errorf(backends.Unavailable, "503"),
		"already named":       backends.Errorf(backends.Unavailable, "hashicorp_vault.address: %w", syscall.ECONNREFUSED),
		"a store without one": refused,
	} {
		kind, where := "hashicorp_vault", vaultWhere
		if label == "a store without one" {
			kind, where = "memstore", ""
		}
		if got := backends.WithAddressHint(kind, where, err); got.Error() != err.Error() {
			t.Errorf("%s: got %q, want it unchanged", label, got)
		}
	}
}
