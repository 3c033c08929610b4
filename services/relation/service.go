// Package relation is the relation service: follows, followers, friends (mutual follows) and
// their counters.
package relation

import (
	"context"
	"log/slog"

	"github.com/douyin-backend/douyin/internal/activity"
	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	"github.com/douyin-backend/douyin/kitex_gen/event"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

// listLimit caps follow, follower and friend lists at the newest entries: the app has no
// paging, so a list is one response and must stay bounded.
const listLimit = 1000

// followeeIDsLimit caps the author set of the following feed: far above what people follow,
// and small enough for one index-only IN query in the video service.
const followeeIDsLimit = 10000

// Service implements the relation service.
type Service struct {
	store Store
	users userapi.UserService
	// cache serves counters and is_follow; nil in the embedded mode.
	cache Cache
	// activity tells the recommender about follows (nil: no events).
	activity *activity.Publisher
	log      *slog.Logger
}

var _ relationapi.RelationService = (*Service)(nil)

// New returns the relation service; users is asked whether a followed user exists. opts add
// a cache (production) or a logger.
func New(store Store, users userapi.UserService, opts ...Option) *Service {
	s := &Service{store: store, users: users, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	return s
}

// RelationAction follows or unfollows to_user_id. Repeating either action succeeds and
// changes nothing.
func (s *Service) RelationAction(ctx context.Context, req *relationapi.RelationActionRequest) (*relationapi.RelationActionResponse, error) {
	from, to := req.GetUserId(), req.GetToUserId()
	if from <= 0 {
		return nil, errs.Invalid("user_id must be a positive id")
	}
	if to <= 0 {
		return nil, errs.Invalid("to_user_id must be a positive id")
	}
	action := req.GetActionType()
	if action != relationapi.RelationActionType_Follow && action != relationapi.RelationActionType_Unfollow {
		return nil, errs.Invalid("action_type must be 1 (follow) or 2 (unfollow)")
	}
	if from == to {
		return nil, errs.New(base.ErrCode_FollowSelf, "you cannot follow yourself")
	}
	if err := s.requireUser(ctx, to); err != nil {
		return nil, err
	}
	var (
		changed bool
		err     error
	)
	follow := action == relationapi.RelationActionType_Follow
	if follow {
		changed, err = s.store.Follow(ctx, from, to)
	} else {
		changed, err = s.store.Unfollow(ctx, from, to)
	}
	if err != nil {
		return nil, err
	}
	if changed && s.cache != nil {
		s.syncCommitted(ctx, from, to, follow)
	}
	if changed {
		kind := event.ActivityUnfollowed
		if follow {
			kind = event.ActivityFollowed
		}
		s.activity.Notify(ctx, s.log, &event.ActivityEvent{Kind: kind, UserId: from, AuthorId: to, At: db.NowMillis()})
	}
	return &relationapi.RelationActionResponse{}, nil
}

func (s *Service) requireUser(ctx context.Context, id int64) error {
	resp, err := s.users.MGetUsers(ctx, &userapi.MGetUsersRequest{UserIds: []int64{id}})
	if err != nil {
		return err
	}
	if resp.GetUsers()[id] == nil {
		return errs.New(base.ErrCode_UserNotFound, "user not found")
	}
	return nil
}

// FollowList returns the ids user_id follows, newest follow first.
func (s *Service) FollowList(ctx context.Context, req *relationapi.ListRequest) (*relationapi.ListResponse, error) {
	return s.list(ctx, req, s.store.FolloweeIDs)
}

// FollowerList returns the ids following user_id, newest follow first.
func (s *Service) FollowerList(ctx context.Context, req *relationapi.ListRequest) (*relationapi.ListResponse, error) {
	return s.list(ctx, req, s.store.FollowerIDs)
}

// FriendList returns the ids user_id follows that follow back, newest friendship first.
func (s *Service) FriendList(ctx context.Context, req *relationapi.ListRequest) (*relationapi.ListResponse, error) {
	return s.list(ctx, req, s.store.FriendIDs)
}

// FolloweeIDs returns the ids user_id follows, the newest followeeIDsLimit follows at most:
// the authors of the following feed.
func (s *Service) FolloweeIDs(ctx context.Context, req *relationapi.FolloweeIDsRequest) (*relationapi.FolloweeIDsResponse, error) {
	if req.GetUserId() <= 0 {
		return nil, errs.Invalid("user_id must be a positive id")
	}
	userIDs, err := s.store.FolloweeIDs(ctx, req.GetUserId(), followeeIDsLimit)
	if err != nil {
		return nil, err
	}
	if userIDs == nil {
		userIDs = []int64{}
	}
	return &relationapi.FolloweeIDsResponse{UserIds: userIDs}, nil
}

func (s *Service) list(ctx context.Context, req *relationapi.ListRequest,
	read func(ctx context.Context, userID int64, limit int) ([]int64, error)) (*relationapi.ListResponse, error) {
	if req.GetUserId() <= 0 {
		return nil, errs.Invalid("user_id must be a positive id")
	}
	userIDs, err := read(ctx, req.GetUserId(), listLimit)
	if err != nil {
		return nil, err
	}
	if userIDs == nil {
		userIDs = []int64{}
	}
	return &relationapi.ListResponse{UserIds: userIDs}, nil
}

// MGetRelations returns the counters of every requested user (zeros when unknown) and whether
// viewer_id follows them, in at most two store reads.
func (s *Service) MGetRelations(ctx context.Context, req *relationapi.MGetRelationsRequest) (*relationapi.MGetRelationsResponse, error) {
	userIDs := ids.Unique(req.GetUserIds())
	if len(userIDs) > ids.MaxBatch {
		return nil, errs.Invalid("user_ids must hold at most %d ids", ids.MaxBatch)
	}
	viewer := req.GetViewerId()
	if viewer < 0 {
		return nil, errs.Invalid("viewer_id must not be negative")
	}
	resp := &relationapi.MGetRelationsResponse{Users: make(map[int64]*relationapi.UserRelationInfo, len(userIDs))}
	if len(userIDs) == 0 {
		return resp, nil
	}
	var (
		counts   map[int64]Counts
		followed map[int64]bool
		served   bool
		err      error
	)
	if s.cache != nil {
		if counts, followed, served, err = s.cachedRelations(ctx, viewer, userIDs); err != nil {
			return nil, err
		}
	}
	if !served {
		if counts, err = s.store.Counts(ctx, userIDs); err != nil {
			return nil, err
		}
		followed = map[int64]bool{}
		if viewer > 0 {
			if followed, err = s.store.FollowedAmong(ctx, viewer, userIDs); err != nil {
				return nil, err
			}
		}
	}
	for _, id := range userIDs {
		c := counts[id]
		resp.Users[id] = &relationapi.UserRelationInfo{
			FollowCount:   c.FollowCount,
			FollowerCount: c.FollowerCount,
			IsFollow:      id != viewer && followed[id],
		}
	}
	return resp, nil
}
