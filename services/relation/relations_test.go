package relation

import (
	"context"
	"slices"
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

// TestFollowingAmong: the flags alone are MGetRelations' is_follow. A viewer whose set is not
// cached is read from SQL in one read and cached; the viewer's own follow and unfollow show on
// their next read; nobody follows themself, even with such a row; anonymous follows nobody.
func TestFollowingAmong(t *testing.T) { forEachRelCache(t, testFollowingAmong) }

func testFollowingAmong(t *testing.T, backend string) {
	ctx := context.Background()
	f := newRelFixture(t, backend, 5)
	f.mustAct(t, 3, 2, true)
	if _, err := f.store.Follow(ctx, 3, 3); err != nil { // a row the service refuses to write
		t.Fatal(err)
	}
	f.flush(t)
	users := []int64{2, 3, 4, 2}
	check := func(what string, viewer int64, wantReads int64, want ...bool) {
		t.Helper()
		f.store.reads.Store(0)
		following := []bool{true, true, true, true}
		if err := f.svc.FollowingAmong(ctx, viewer, users, following); err != nil {
			t.Fatal(err)
		}
		if reads := f.store.reads.Load(); !slices.Equal(following, want) || reads != wantReads {
			t.Fatalf("%s: viewer %d follows %v in %d SQL reads, want %v in %d", what, viewer, following, reads, want, wantReads)
		}
		full := relations(t, f.svc, viewer, users...)
		for i, id := range users {
			if full[id].IsFollow != following[i] {
				t.Fatalf("%s: user %d followed %v, MGetRelations says %v", what, id, following[i], full[id].IsFollow)
			}
		}
	}
	check("set not cached", 3, 1, true, false, false, true)
	check("set cached by the miss", 3, 0, true, false, false, true)
	check("anonymous", 0, 0, false, false, false, false)
	f.mustAct(t, 3, 4, true)
	check("after a follow", 3, 0, true, false, true, true)
	f.mustAct(t, 3, 2, false)
	check("after an unfollow", 3, 0, false, false, true, false)

	tooMany := make([]int64, ids.MaxBatch+1)
	if err := f.svc.FollowingAmong(ctx, 3, tooMany, make([]bool, len(tooMany))); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Errorf("FollowingAmong(%d ids) = %v, want InvalidParam", len(tooMany), err)
	}
}
