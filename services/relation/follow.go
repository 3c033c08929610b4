package relation

import (
	"context"

	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	"github.com/douyin-backend/douyin/kitex_gen/event"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

// RelationAction follows or unfollows to_user_id. Repeating either action succeeds and
// changes nothing.
func (s *Service) RelationAction(ctx context.Context, req *relationapi.RelationActionRequest) (*relationapi.RelationActionResponse, error) {
	from, to := req.GetUserId(), req.GetToUserId()
	if from <= 0 {
		return nil, errs.NotPositive("user_id")
	}
	if to <= 0 {
		return nil, errs.NotPositive("to_user_id")
	}
	action := req.GetActionType()
	if action != relationapi.RelationActionType_Follow && action != relationapi.RelationActionType_Unfollow {
		return nil, errs.NotOneOf("action_type", relationapi.RelationActionType_Follow, relationapi.RelationActionType_Unfollow)
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

// syncCommitted applies a committed change to the cache, dropping the keys if that fails.
func (s *Service) syncCommitted(ctx context.Context, followerID, followeeID int64, follow bool) {
	// The SQL change is done: a cancelled request must not leave the cache behind.
	ctx = context.WithoutCancel(ctx)
	err := s.cache.ApplyFollow(ctx, followerID, followeeID, follow)
	if err == nil {
		return
	}
	s.log.WarnContext(ctx, "relation cache update failed; dropping its keys", "err", err)
	if err := s.cache.Forget(ctx, followerID, followeeID); err != nil {
		s.log.ErrorContext(ctx, "relation cache keys not dropped; they stay off until they expire",
			"follower_id", followerID, "followee_id", followeeID, "err", err)
	}
}
