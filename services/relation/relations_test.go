package relation

import (
	"context"
	"testing"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
)

func TestMGetRelations(t *testing.T) {
	s, store, _ := newService(t)
	mustAct(t, s, 1, 2, follow)
	mustAct(t, s, 1, 3, follow)
	mustAct(t, s, 2, 1, follow)

	store.reads = 0
	got := relations(t, s, 1, 1, 2, 3, 4, 2, 0, 999)
	if store.reads != 2 {
		t.Fatalf("%d store reads, want 2", store.reads)
	}
	want := map[int64]relationapi.UserRelationInfo{
		1:   {FollowCount: 2, FollowerCount: 1, IsFollow: false}, // the viewer never follows themself
		2:   {FollowCount: 1, FollowerCount: 1, IsFollow: true},
		3:   {FollowCount: 0, FollowerCount: 1, IsFollow: true},
		4:   {},
		999: {},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d: %v", len(got), len(want), got)
	}
	for id, w := range want {
		if g := got[id]; g == nil || *g != w {
			t.Errorf("user %d = %+v, want %+v", id, g, w)
		}
	}

	store.reads = 0
	anon := relations(t, s, 0, 2, 3)
	if store.reads != 1 || anon[2].IsFollow || anon[3].IsFollow || anon[2].FollowerCount != 1 {
		t.Fatalf("anonymous: %d reads, %+v %+v", store.reads, anon[2], anon[3])
	}

	store.reads = 0
	if empty := relations(t, s, 1); empty == nil || len(empty) != 0 || store.reads != 0 {
		t.Fatalf("empty request: %v, %d reads", empty, store.reads)
	}
	tooMany := make([]int64, ids.MaxBatch+1)
	for i := range tooMany {
		tooMany[i] = int64(i + 1)
	}
	if _, err := s.MGetRelations(context.Background(), &relationapi.MGetRelationsRequest{UserIds: tooMany}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Fatalf("over-limit batch: %v, want InvalidParam", err)
	}
	if _, err := s.MGetRelations(context.Background(), &relationapi.MGetRelationsRequest{ViewerId: -1, UserIds: []int64{1}}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Fatalf("negative viewer: %v, want InvalidParam", err)
	}
}
