package backends

import "context"

// ReadStoredFresh is ReadStored from the store itself, past the run's read caches (which
// it leaves as they are): the check that a secret has not changed since
// Terraform last read it must see what the store holds now.
func (s *Store) ReadStoredFresh(ctx context.Context, fullName string) (*Secret, error) {
	return s.find(ctx, fullName, true)
}
