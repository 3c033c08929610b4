package relation

import (
	"context"
	"sync"
	"testing"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
)

func TestRelationActionValidation(t *testing.T) {
	s, _, _ := newService(t)
	cases := []struct {
		name     string
		from, to int64
		action   relationapi.RelationActionType
		wantCode base.ErrCode
		wantMsg  string
	}{
		{"zero user", 0, 2, follow, base.ErrCode_InvalidParam, "user_id must be a positive integer"},
		{"negative target", 1, -2, follow, base.ErrCode_InvalidParam, "to_user_id must be a positive integer"},
		{"bad action", 1, 2, 3, base.ErrCode_InvalidParam, "action_type must be 1 (follow) or 2 (unfollow)"},
		{"zero action", 1, 2, 0, base.ErrCode_InvalidParam, "action_type must be 1 (follow) or 2 (unfollow)"},
		{"self", 1, 1, follow, base.ErrCode_FollowSelf, "you cannot follow yourself"},
		{"unknown target", 1, 101, follow, base.ErrCode_UserNotFound, "user not found"},
		{"unknown target unfollow", 1, 101, unfollow, base.ErrCode_UserNotFound, "user not found"},
		{"unfollow when not following", 1, 2, unfollow, base.ErrCode_Success, ""},
		{"follow", 1, 2, follow, base.ErrCode_Success, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, msg := errs.Code(act(context.Background(), s, c.from, c.to, c.action))
			if code != c.wantCode || msg != c.wantMsg {
				t.Fatalf("RelationAction = %v %q, want %v %q", code, msg, c.wantCode, c.wantMsg)
			}
		})
	}
	// Only the last case changed anything.
	got := relations(t, s, 0, 1, 2)
	if got[1].FollowCount != 1 || got[1].FollowerCount != 0 || got[2].FollowCount != 0 || got[2].FollowerCount != 1 {
		t.Fatalf("counts after validation cases: %+v %+v", got[1], got[2])
	}
}

func TestFollowIsIdempotent(t *testing.T) {
	s, _, _ := newService(t)
	mustAct(t, s, 1, 2, follow)
	mustAct(t, s, 1, 2, follow)
	got := relations(t, s, 1, 1, 2)
	if got[1].FollowCount != 1 || got[2].FollowerCount != 1 || !got[2].IsFollow {
		t.Fatalf("after following twice: %+v %+v", got[1], got[2])
	}
	mustAct(t, s, 1, 2, unfollow)
	mustAct(t, s, 1, 2, unfollow)
	got = relations(t, s, 1, 1, 2)
	if got[1].FollowCount != 0 || got[2].FollowerCount != 0 || got[2].IsFollow {
		t.Fatalf("after unfollowing twice: %+v %+v", got[1], got[2])
	}
}

// Twenty users follow one target at once, each twice; then half unfollow at once. Counters
// must match the rows exactly.
func TestConcurrentFollowsKeepExactCounts(t *testing.T) {
	s, _, gdb := newService(t)
	const target, n = 100, 20
	run := func(action relationapi.RelationActionType, users int) {
		var wg sync.WaitGroup
		for i := range users {
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := act(context.Background(), s, int64(i+1), target, action); err != nil {
						t.Error(err)
					}
				}()
			}
		}
		wg.Wait()
	}
	run(follow, n)
	if got := relations(t, s, 0, target)[target]; got.FollowerCount != n {
		t.Fatalf("follower_count = %d, want %d", got.FollowerCount, n)
	}
	run(unfollow, n/2)
	var rows int64
	gdb.Model(&Follow{}).Where("followee_id = ?", target).Count(&rows)
	got := relations(t, s, 0, target, 1, n)
	if got[target].FollowerCount != n/2 || rows != n/2 {
		t.Fatalf("follower_count = %d, rows = %d, want %d", got[target].FollowerCount, rows, n/2)
	}
	if got[1].FollowCount != 0 || got[n].FollowCount != 1 {
		t.Fatalf("follow_count of 1 = %d (unfollowed), of %d = %d", got[1].FollowCount, n, got[n].FollowCount)
	}
}
