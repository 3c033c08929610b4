// Package edge holds decorators of remote service clients for the process serving HTTP: what
// never changes once written is kept in memory there, so a page costs fewer RPC hops.
package edge

import (
	"context"
	"time"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/ids"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

// Profiles is a user service client that answers MGetUsers from an in-process cache of the
// profiles it has seen, asking the remote service only for the others. A profile never changes
// once an account exists (no call edits or deletes one), so a copy is never stale for anyone,
// its owner included, whichever gateway replica serves them. Only the user service's display
// defaults (applied to unset fields) can change, with its configuration: copies follow within
// the TTL. Register and Login go to the remote service unchanged.
type Profiles struct {
	userapi.UserService
	cache *cache.LocalRecords[*userapi.UserProfile]
}

var _ userapi.UserService = (*Profiles)(nil)

// NewProfiles wraps remote with a cache of at most maxEntries profiles, each kept for ttl
// (with jitter); lookups are counted by o under "edge:profiles" when o is not nil.
func NewProfiles(remote userapi.UserService, ttl time.Duration, maxEntries int, o cache.LookupObserver) *Profiles {
	c := cache.NewLocalRecords("edge:profiles", ttl, maxEntries, func(p *userapi.UserProfile) int64 { return p.Id })
	if o != nil {
		c.Observe(o)
	}
	return &Profiles{UserService: remote, cache: c}
}

// MGetUsers returns the cached profiles among the ids and asks the remote service for the
// rest in one call. The profiles returned are shared with the cache: callers only read them.
func (p *Profiles) MGetUsers(ctx context.Context, req *userapi.MGetUsersRequest) (*userapi.MGetUsersResponse, error) {
	want := ids.Unique(req.GetUserIds())
	if len(want) > ids.MaxBatch {
		// Too many ids: the service refuses, whatever the cache holds.
		return p.UserService.MGetUsers(ctx, req)
	}
	found, missing, err := p.cache.MGet(ctx, want)
	if err != nil || len(missing) == 0 {
		return &userapi.MGetUsersResponse{Users: found}, err
	}
	resp, err := p.UserService.MGetUsers(ctx, &userapi.MGetUsersRequest{UserIds: missing})
	if err != nil {
		return nil, err
	}
	fetched := make([]*userapi.UserProfile, 0, len(resp.Users))
	for id, profile := range resp.Users {
		found[id] = profile
		if profile != nil && profile.Id == id { // the cache keys a profile by its own id
			fetched = append(fetched, profile)
		}
	}
	// Unknown ids stay uncached: an account registered later must show up at once.
	if err := p.cache.MSet(ctx, fetched); err != nil {
		return nil, err
	}
	return &userapi.MGetUsersResponse{Users: found}, nil
}

// Sizes reports the profiles held against the bound.
func (p *Profiles) Sizes() []cache.Size { return p.cache.Sizes() }
