package user

import (
	"context"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

// MGetUsers returns the profiles of the ids that exist, with defaults filled in.
func (s *Service) MGetUsers(ctx context.Context, req *userapi.MGetUsersRequest) (*userapi.MGetUsersResponse, error) {
	userIDs := ids.Unique(req.GetUserIds())
	if len(userIDs) > ids.MaxBatch {
		return nil, errs.Invalid("user_ids must hold at most %d ids", ids.MaxBatch)
	}
	resp := &userapi.MGetUsersResponse{Users: make(map[int64]*userapi.UserProfile, len(userIDs))}
	if len(userIDs) == 0 {
		return resp, nil
	}
	accounts, err := s.accountsByIDs(ctx, userIDs)
	if err != nil {
		return nil, err
	}
	profiles := make([]userapi.UserProfile, len(accounts)) // one allocation for every profile
	for i, a := range accounts {
		s.fillProfile(&profiles[i], a)
		resp.Users[a.ID] = &profiles[i]
	}
	return resp, nil
}

// fillProfile sets *p to the profile of a, defaults filled in.
func (s *Service) fillProfile(p *userapi.UserProfile, a Account) {
	*p = userapi.UserProfile{
		Id:              a.ID,
		Name:            a.Name,
		Avatar:          orDefault(a.Avatar, s.cfg.DefaultAvatar),
		BackgroundImage: orDefault(a.BackgroundImage, s.cfg.DefaultBackgroundImage),
		Signature:       orDefault(a.Signature, s.cfg.DefaultSignature),
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// accountsByIDs is the cache-aside read: cached profiles first, the misses from SQL in one
// query, then the misses written back. A failing cache costs speed, never the answer.
// orderedProfileCache is a ProfileCache that reads profiles straight into a slice
// (MemoryProfileCache): a page's profiles are not copied into a map and out again.
type orderedProfileCache interface {
	LookupInOrder(ids []int64, dst []Account) ([]Account, []int64)
}

func (s *Service) accountsByIDs(ctx context.Context, ids []int64) ([]Account, error) {
	if s.profiles == nil {
		return s.store.AccountsByIDs(ctx, ids)
	}
	var out []Account
	var missing []int64
	if oc, ok := s.profiles.(orderedProfileCache); ok {
		out, missing = oc.LookupInOrder(ids, make([]Account, 0, len(ids)))
	} else {
		found, m, err := s.profiles.MGet(ctx, ids)
		if err != nil {
			s.log.WarnContext(ctx, "profile cache read failed; reading SQL", "err", err)
			found, m = nil, ids
		}
		out, missing = make([]Account, 0, len(ids)), m
		for _, a := range found {
			out = append(out, a)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	loaded, err := s.store.AccountsByIDs(ctx, missing)
	if err != nil {
		return nil, err
	}
	if len(loaded) > 0 {
		if err := s.profiles.MSet(ctx, loaded); err != nil {
			s.log.WarnContext(ctx, "profile cache fill failed", "err", err)
		}
	}
	return append(out, loaded...), nil
}
