package relation

import (
	"context"

	"github.com/douyin-backend/douyin/internal/errs"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
)

// listLimit caps follow, follower and friend lists at the newest entries: the app has no
// paging, so a list is one response and must stay bounded.
const listLimit = 1000

// followeeIDsLimit caps the author set of the following feed: far above what people follow,
// and small enough for one index-only IN query in the video service.
const followeeIDsLimit = 10000

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
		return nil, errs.NotPositive("user_id")
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
		return nil, errs.NotPositive("user_id")
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
