package backends

// Writes into names the provider does not own yet: a resource's create and
// a rotation to a new name. Neither ever overwrites a secret someone else
// wrote (DESIGN.md, Objects).

import (
	"context"
	"fmt"
)

// Create writes a secret the provider does not manage yet (a resource's
// create) and returns its version. Before the first write it checks, once,
// that the name holds no live secret (claim): a secret someone else wrote is
// never adopted and overwritten; the error says to import it instead. A
// soft-deleted secret does not count (the write recovers or overwrites it),
// and neither does one that already holds exactly the value being written (a
// write of ours whose answer was lost: retrying it overwrites nothing). The
// check runs before the write's retry loop, so the layer's own retry of a
// Put after a lost answer never meets it.
func (s *Store) Create(ctx context.Context, req WriteRequest) (string, error) {
	if err := s.checkWrite(req.Name); err != nil {
		return "", err
	}
	if _, err := s.claim(ctx, req.Name, req.Value, "it", func(err error) error {
		return fmt.Errorf("creating secret (%s) in %s: %w", req.Name, s.Kind(), err)
	}); err != nil {
		return "", err
	}
	return s.put(ctx, req)
}

// holder says what held a name when claim looked at it.
type holder int

const (
	// heldByNone: no live secret (missing, or deleted but recoverable).
	heldByNone holder = iota
	// heldBySame: a live secret holding exactly the value to be written.
	heldBySame
	// heldUnknown: the credential may not read (access_mode write_only and
	// a read refused with PermissionDenied).
	heldUnknown
)

// claim checks, once and before any write, that fullName holds no live secret
// other than value. A live secret with another value fails with
// AlreadyExists ("<subject> already exists"), wrapped by wrap. A name that
// holds a value no write of ours could have made (foreignValue: a field of
// the primary secret that is not a JSON string) is taken too. Under
// access_mode write_only a read refused with PermissionDenied does not
// block the write (the credential may be allowed to write only); it is
// reported as a warning. Any other failed read fails the claim: nothing is
// written on a guess.
func (s *Store) claim(ctx context.Context, fullName string, value []byte, subject string, wrap func(error) error) (holder, error) {
	sec, err := s.find(ctx, fullName, true)
	switch code := CodeOf(err); {
	case code == NotFound:
		return heldByNone, nil
	case code == PermissionDenied && s.settings.AccessMode == WriteOnly:
		Warn(ctx, fmt.Sprintf("could not check whether secret (%s) already exists in %s before writing it: the credential may not read it (access_mode %q): %v", fullName, s.Kind(), WriteOnly, err))
		return heldUnknown, nil
	case isForeignValue(err):
	case err != nil:
		return heldByNone, wrap(fmt.Errorf("checking whether the name is free before writing: %w", err))
	case string(sec.Value) == string(value):
		return heldBySame, nil
	}
	where := ""
	if l, ok := s.b.(Locator); ok {
		where = " " + l.Locate(fullName)
	}
	return heldByNone, wrap(Errorf(AlreadyExists, "%s already exists%s; to manage it, import it (import block id = %q)", subject, where, fullName))
}

// Rotate moves a secret to a new name LiteLLM's way: write the new name, read
// it back and compare, then delete the old name. oldMode says how the old
// name goes (Abandon keeps it).
//
// The new name must be free (claim): a live secret there with another value
// is someone else's, and the rotation fails before writing anything. If the
// write or the read-back fails, the old secret stays; the new name is removed
// again only if this rotation wrote it into a free name, and only
// recoverably (soft delete) where the store can: a store that can only
// delete for good keeps it, and the error says so. Under access_mode
// write_only there is no read-back (the credential may not read): the
// store's acknowledgement of the write stands for it.
func (s *Store) Rotate(ctx context.Context, oldName string, req WriteRequest, oldMode DeleteMode) (string, error) {
	if err := s.checkWrite(req.Name); err != nil {
		return "", err
	}
	if oldName == req.Name {
		// Nothing moves: deleting the old name would delete the new one.
		return s.put(ctx, req)
	}
	fail := func(err error) error {
		return fmt.Errorf("rotating secret (%s) to (%s) in %s: old secret kept, nothing written: %w", oldName, req.Name, s.Kind(), err)
	}
	held, err := s.claim(ctx, req.Name, req.Value, fmt.Sprintf("the new name (%s)", req.Name), fail)
	if err != nil {
		return "", err
	}
	// A native rotation retires the old name, so it serves only when the old
	// name is to be deleted.
	if r, ok := s.b.(Rotator); ok && oldMode != Abandon {
		req.Description, req.Tags = s.settings.Merge(req.Description, req.Tags)
		if err := s.validateWrite(req); err != nil {
			return "", err
		}
		s.cache.invalidate(oldName, req.Name)
		defer s.cache.invalidate(oldName, req.Name)
		var version string
		err := s.call(ctx, "rotating", oldName, func(ctx context.Context) error {
			var err error
			version, err = r.Rotate(ctx, oldName, req)
			return err
		})
		return version, err
	}
	version, err := s.put(ctx, req)
	if err != nil {
		return "", fmt.Errorf("rotating secret (%s) to (%s) in %s: old secret kept: %w", oldName, req.Name, s.Kind(), err)
	}
	if s.settings.AccessMode != WriteOnly {
		got, err := s.find(ctx, req.Name, true)
		if err == nil && string(got.Value) != string(req.Value) {
			err = Errorf(FailedPrecondition, "the value read back from (%s) differs from the value written", req.Name)
		}
		if err != nil {
			return "", fmt.Errorf("rotating secret (%s) to (%s) in %s: read-back failed, old secret kept%s: %w", oldName, req.Name, s.Kind(), s.undoNewName(ctx, req.Name, held), err)
		}
	}
	if err := s.Delete(ctx, oldName, oldMode); err != nil {
		return version, fmt.Errorf("rotating secret (%s) to (%s) in %s: new secret written, deleting the old one failed: %w", oldName, req.Name, s.Kind(), err)
	}
	return version, nil
}

// undoNewName removes the new name of a failed rotation, if this rotation
// wrote it into a free name, and only recoverably. It returns what happened,
// for the error message.
func (s *Store) undoNewName(ctx context.Context, newName string, held holder) string {
	caps := s.Caps()
	switch {
	case held != heldByNone:
		return fmt.Sprintf("; the new name (%s) was left as it is: it held this value before the rotation wrote it", newName)
	case !caps.Delete || !caps.SoftDelete:
		return fmt.Sprintf("; the new name (%s) was left in the store: the %s store cannot delete it recoverably, and a rotation never deletes a name for good; remove it yourself if it is not wanted", newName, s.Kind())
	}
	if err := s.Delete(ctx, newName, DeleteSoft); err != nil {
		return fmt.Sprintf("; the new name (%s) is still in the store (removing it again, recoverably, also failed: %v)", newName, err)
	}
	return fmt.Sprintf("; the new name (%s) was deleted again, recoverably", newName)
}
