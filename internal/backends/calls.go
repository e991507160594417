package backends

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// caller is the call machinery *Store and *Keyring share: one store call
// with the per-call timeout, classified errors, retries of Throttled and
// Unavailable with backoff, the closed state, and the run's "store down"
// short cut. Its messages name the operation, the name and the store.
type caller struct {
	kind      string
	errorCode func(error) Code
	opts      *StoreOptions
	closed    atomic.Bool
	// down is the first error of a call that found the store unreachable
	// (refused, unresolvable, no TLS) after spending its retries. Later calls
	// of the run fail at once with it, instead of each spending the whole
	// retry budget on a store that is not there.
	down atomic.Pointer[error]
}

func newCaller(kind string, errorCode func(error) Code, opts *StoreOptions) *caller {
	return &caller{kind: kind, errorCode: errorCode, opts: opts}
}

// call runs one store operation with the per-call timeout, classifies its
// error and retries Throttled and Unavailable errors (and attempts that timed
// out) with backoff. Stores must make Put safe to repeat.
func (c *caller) call(ctx context.Context, op, name string, fn func(context.Context) error) error {
	if c.closed.Load() {
		return Errorf(FailedPrecondition, "%s secret (%s) in %s: provider store is closed", op, name, c.kind)
	}
	if down := c.down.Load(); down != nil {
		return fmt.Errorf("%s secret (%s) in %s: not tried, the store was unreachable earlier in this run: %w", op, name, c.kind, *down)
	}
	p := c.opts.Retry
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, c.opts.CallTimeout)
		deadline, _ := actx.Deadline()
		err := fn(actx)
		timedOut := err != nil && actx.Err() == context.DeadlineExceeded && ctx.Err() == nil
		cancel()
		if err == nil {
			return nil
		}
		err = c.classify(err, timedOut)
		code := CodeOf(err)
		// A server that enforces the deadline the call carried (gRPC) may
		// answer DeadlineExceeded a moment before the attempt's own timer
		// fires: that is the per-call timeout running out too.
		if code == DeadlineExceeded && !timedOut && ctx.Err() == nil && time.Until(deadline) <= c.opts.CallTimeout/10 {
			timedOut = true
		}
		retry := (code.Retryable() || code == DeadlineExceeded && timedOut) && ctx.Err() == nil
		if !retry || attempt >= p.MaxAttempts {
			if retry || attempt > 1 {
				err = fmt.Errorf("%s secret (%s) in %s: gave up after %d attempts: %w", op, name, c.kind, attempt, err)
			} else {
				err = fmt.Errorf("%s secret (%s) in %s: %w", op, name, c.kind, err)
			}
			if Unreachable(err) && ctx.Err() == nil {
				err = c.withAddressHint(err)
				c.down.CompareAndSwap(nil, &err)
			}
			return err
		}
		delay := p.backoff(attempt, retryAfterOf(err), jitter)
		if c.opts.OnRetry != nil {
			c.opts.OnRetry(ctx, op, name, attempt, delay, err)
		}
		if werr := c.opts.Wait(ctx, delay); werr != nil {
			return fmt.Errorf("%s secret (%s) in %s: %w (while retrying: %w)", op, name, c.kind, c.classify(werr, false), err)
		}
	}
}

// callOnce runs fn once, with call's closed check and error prefix but no
// timeout or retry of its own: an operation made of store calls that each go
// through call (a Composite backend's).
func (c *caller) callOnce(ctx context.Context, op, name string, fn func(context.Context) error) error {
	if c.closed.Load() {
		return Errorf(FailedPrecondition, "%s secret (%s) in %s: provider store is closed", op, name, c.kind)
	}
	if err := fn(ctx); err != nil {
		return fmt.Errorf("%s secret (%s) in %s: %w", op, name, c.kind, err)
	}
	return nil
}

// classify tags err with a code: its own if it is already an *Error, a
// deadline code for an attempt that ran out of time, else the store's mapping.
func (c *caller) classify(err error, timedOut bool) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if timedOut {
		return &Error{Code: DeadlineExceeded, msg: fmt.Sprintf("no answer within the per-call timeout of %s", c.opts.CallTimeout), err: err}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return Wrap(Canceled, err)
	case errors.Is(err, context.DeadlineExceeded):
		return Wrap(DeadlineExceeded, err)
	}
	return Wrap(c.errorCode(err), err)
}

// withAddressHint is WithAddressHint with this store's StoreOptions.AddressHint.
func (c *caller) withAddressHint(err error) error {
	return WithAddressHint(c.kind, c.opts.AddressHint, err)
}

// closeOnce marks the caller closed and runs closeFn the first time only.
// Calls after it fail with FailedPrecondition.
func (c *caller) closeOnce(closeFn func() error) error {
	if c.closed.Swap(true) {
		return nil
	}
	return closeFn()
}

// readConcurrently reads the names at the indexes pending with read, at most
// concurrency at a time, into out (keyed by name): the one-at-a-time part of
// ReadManyAsGateway. The first error wins.
func readConcurrently(ctx context.Context, concurrency int, out map[string]*Secret, names, fullNames []string, pending []int,
	read func(ctx context.Context, name, fullName string) (*Secret, error),
) (map[string]*Secret, error) {
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, concurrency)
	)
	for _, i := range pending {
		name := names[i]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			sec, err := read(ctx, name, fullNames[i])
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			out[name] = sec
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// envSecret is a read served by the process environment (LiteLLM's fallback):
// the variable called name, NotFound saying why when it is not set.
func envSecret(lookup func(string) (string, bool), name, why string) (*Secret, error) {
	v, ok := lookup(name)
	if !ok {
		return nil, Errorf(NotFound, "reading secret (%s): environment variable %s is not set (%s)", name, quoteName(name), why)
	}
	return &Secret{Name: name, Value: []byte(v)}, nil
}

// fullNameWith is FullName of *Store and *Keyring: the settings' join, then
// validate (the store's name rules), with the virtual key prefix explained.
func fullNameWith(settings *Settings, name string, prefix *string, virtualKey bool, validate func(string) error) (string, error) {
	full := settings.FullName(name, prefix, virtualKey)
	if err := validate(full); err != nil {
		if settings.PrefixesVirtualKey(prefix, virtualKey) {
			err = fmt.Errorf("%w (the name is key_management_settings.prefix_for_stored_virtual_keys %q joined with %s as LiteLLM joins it, because virtual_key is true)",
				err, settings.VirtualKeyPrefix(), quoteName(name))
		}
		return "", err
	}
	return full, nil
}

// checkWritable is the access_mode part of CheckWritable.
func (s *Settings) checkWritable() error {
	if !s.CanWrite() {
		return Errorf(PermissionDenied, "key_management_settings.access_mode is %q, which only reads secrets; set access_mode = %q or %q to manage secrets with llmsecret_secret", s.AccessMode, ReadAndWrite, WriteOnly)
	}
	return nil
}
