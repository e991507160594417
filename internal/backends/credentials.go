package backends

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
)

// CredentialChecker is implemented by stores with a cheap call that proves
// the credentials work (Vault: a token lookup), so that wrong credentials
// fail when the provider is configured, that is at plan, rather than halfway
// through an apply.
type CredentialChecker interface {
	// CheckCredentials makes that call. It returns nil when the store cannot
	// tell (the credentials may lack the right to make it).
	CheckCredentials(ctx context.Context) error
}

// CheckCredentials runs the store's credential check, where it has one: one
// attempt, bounded by the per-call timeout. It fails on what no retry would
// mend (refused credentials, a bad setting) and on an unreachable store; a
// passing trouble (throttling, a sealed or busy server, a slow answer) is
// left to the operations, which retry.
func (s *Store) CheckCredentials(ctx context.Context) error {
	cc, ok := s.b.(CredentialChecker)
	if !ok {
		return nil
	}
	actx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
	defer cancel()
	err := cc.CheckCredentials(actx)
	if err == nil {
		return nil
	}
	timedOut := errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	err = s.classify(err, timedOut)
	if code := CodeOf(err); !Unreachable(err) && (code.Retryable() || code == DeadlineExceeded) {
		return nil
	}
	return s.withAddressHint(fmt.Errorf("checking the credentials: %w", err))
}

// addressSettings names, per store, the settings that say where the store is:
// what to check when it cannot be reached at all.
var addressSettings = map[string]string{
	"hashicorp_vault":       "hashicorp_vault.address, or HCP_VAULT_ADDR / VAULT_ADDR (default http://127.0.0.1:8200)",
	"custom":                "custom.url (or, with custom.command, the address your program calls)",
	"cyberark":              "cyberark.url, or CYBERARK_API_BASE / CONJUR_APPLIANCE_URL",
	"azure_key_vault":       "azure_key_vault.vault_url, or AZURE_KEY_VAULT_URI",
	"aws_secret_manager":    "aws_secret_manager.region and endpoint, or AWS_REGION_NAME / AWS_REGION and AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL",
	"aws_kms":               "aws_kms.region and endpoint, or AWS_REGION_NAME / AWS_REGION and AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL",
	"google_secret_manager": "google_secret_manager.endpoint (unset: Google's public endpoint)",
	"google_kms":            "google_kms.endpoint (unset: Google's public endpoint)",
}

// withAddressHint is WithAddressHint for this store.
func (s *Store) withAddressHint(err error) error { return WithAddressHint(s.Kind(), err) }

// WithAddressHint adds to an error that says no connection to the store could
// be made (a TLS failure has hints of its own) which settings give the store's address, unless the
// message names them already. The error keeps its chain and code.
func WithAddressHint(kind string, err error) error {
	settings, ok := addressSettings[kind]
	if !ok || !dialFailed(err) {
		return err
	}
	if first, _, _ := strings.Cut(settings, ","); strings.Contains(err.Error(), first) {
		return err
	}
	return fmt.Errorf("%w; the %s store could not be reached: check %s, and that the store is up there", err, kind, settings)
}

// dialFailed reports whether err says no connection was made: refused, no
// route, a host name that does not resolve, a failed dial.
func dialFailed(err error) bool {
	var (
		dns *net.DNSError
		op  *net.OpError
	)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.As(err, &dns):
		return true
	case errors.As(err, &op):
		return op.Op == "dial"
	}
	return false
}
