package backends

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
func (s *Store) CheckCredentials(ctx context.Context) error { return s.checkCredentials(ctx, s.b) }

// checkCredentials is CheckCredentials of *Store and *Keyring: store is the
// Backend or Keeper, which may implement CredentialChecker.
func (c *caller) checkCredentials(ctx context.Context, store any) error {
	cc, ok := store.(CredentialChecker)
	if !ok {
		return nil
	}
	actx, cancel := context.WithTimeout(ctx, c.opts.CallTimeout)
	defer cancel()
	err := cc.CheckCredentials(actx)
	if err == nil {
		return nil
	}
	timedOut := errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	err = c.classify(err, timedOut)
	if code := CodeOf(err); !Unreachable(err) && (code.Retryable() || code == DeadlineExceeded) {
		return nil
	}
	return c.withAddressHint(fmt.Errorf("checking the credentials: %w", err))
}

// WithAddressHint adds to an error that says no connection to the store could
// be made (a TLS failure has hints of its own) where the store's address is
// set (where: settings and variables, as the provider names them), unless
// the message names them already or where is empty. The error keeps its
// chain and code.
func WithAddressHint(kind, where string, err error) error {
	if where == "" || !dialFailed(err) {
		return err
	}
	if first, _, _ := strings.Cut(where, ","); strings.Contains(err.Error(), first) {
		return err
	}
	return fmt.Errorf("%w; the %s store could not be reached: check %s, and that the store is up there", err, kind, where)
}
