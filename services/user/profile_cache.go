package user

import (
	"context"
)

// ProfileCache keeps the profile columns of accounts in front of SQL. It is only a cache:
// profiles missing from it are read from SQL, and the service stays correct when it is empty.
type ProfileCache interface {
	// MGet returns the cached accounts among ids and, in request order, the ids it lacks.
	MGet(ctx context.Context, ids []int64) (found map[int64]Account, missing []int64, err error)
	// MSet caches the profile columns of accounts (never their password hashes).
	MSet(ctx context.Context, accounts []Account) error
	// Delete drops the cached profiles of ids, for writers that change a profile.
	Delete(ctx context.Context, ids []int64) error
}
