package backends

import (
	"context"
	"os"
	"time"
)

// StoreOptions configures a *Store or a *Keyring. The zero value gives the
// defaults.
type StoreOptions struct {
	Settings Settings
	// AddressHint says where the store's address is set (settings and
	// variables, as the provider names them), for errors of a store that
	// cannot be reached at all. Empty adds nothing.
	AddressHint string
	// Retry bounds retries of Throttled and Unavailable errors; zero means
	// DefaultRetryPolicy.
	Retry RetryPolicy
	// CallTimeout bounds one attempt of one store call; zero means
	// DefaultCallTimeout.
	CallTimeout time.Duration
	// LookupEnv reads the process environment; nil means os.LookupEnv. Tests
	// inject their own.
	LookupEnv func(string) (string, bool)
	// OnRetry, when set, is told about each retry (for logging). It never sees
	// a secret value.
	OnRetry func(ctx context.Context, op, name string, attempt int, delay time.Duration, err error)
	// Wait waits between retries; nil means a timer under ctx. Tests inject one
	// that records delays instead of waiting.
	Wait func(ctx context.Context, d time.Duration) error
	// Concurrency bounds parallel reads in ReadManyAsGateway; zero means 16.
	Concurrency int
	// CacheReads keeps what ReadStored reads for the life of the *Store (one run of
	// the CLI: the provider configures a new one per command), until the run
	// writes, deletes, rotates or updates that name. Without it only
	// identical concurrent reads share a store call.
	CacheReads bool
}

// withDefaults validates the settings and fills the options' defaults: the
// options of a *Store and of a *Keyring alike.
func (o *StoreOptions) withDefaults() (StoreOptions, error) {
	var d StoreOptions
	if o != nil {
		d = *o
	}
	if err := d.Settings.Validate(); err != nil {
		return d, err
	}
	if d.Retry.MaxAttempts <= 0 {
		d.Retry = DefaultRetryPolicy
	}
	if d.CallTimeout <= 0 {
		d.CallTimeout = DefaultCallTimeout
	}
	if d.LookupEnv == nil {
		d.LookupEnv = os.LookupEnv
	}
	if d.Wait == nil {
		d.Wait = WaitContext
	}
	if d.Concurrency <= 0 {
		d.Concurrency = 16
	}
	return d, nil
}
