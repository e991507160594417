package backends

// Writes into names the provider does not own yet: a resource's create and
// a rotation to a new name. Neither ever overwrites a secret someone else
// wrote (DESIGN.md, Objects).

import (
	"context"
	"fmt"
)

func (s *Store) Create(ctx context.Context, req WriteRequest) (string, error) {
	if err := s.CheckWritable(); err != nil {
		return "", err
	}
	if err := s.ValidateName(req.Name); err != nil {
		return "", err
	}
	if _, err := s.claim(ctx, req.Name, req.Value, "it", func(err error) error {
		return fmt.Errorf("creating secret (%s) in %s: %w", req.Name, s.Kind(), err)
	}); err != nil {
		return "", err
	}
	return s.Write(ctx, req)
}

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

func (s *Store) Rotate(ctx context.Context, oldName string, req WriteRequest, oldMode DeleteMode) (string, error) {
	if err := s.CheckWritable(); err != nil {
		return "", err
	}
	if err := s.ValidateName(req.Name); err != nil {
		return "", err
	}
	if oldName == req.Name {
		// Nothing moves: deleting the old name would delete the new one.
		return s.Write(ctx, req)
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
	version, err := s.Write(ctx, req)
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
