package backends

import "context"

// ReadStoredFresh is ReadStored from the store itself, past the run's read
// caches (the read cache is left as it is; a backend's own copy, the primary
// secret's, may be refreshed by what it reads): the check that a secret has not changed since
// Terraform last read it must see what the store holds now.
func (s *Store) ReadStoredFresh(ctx context.Context, fullName string) (*Secret, error) {
	return s.find(ctx, fullName, true)
}
