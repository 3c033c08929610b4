package favorite

import (
	"context"
	"testing"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
)

func TestBatchReadsUseConstantQueries(t *testing.T) {
	s, gdb := newService(t)
	ctx := context.Background()
	act(t, s, 1, 10, favoriteapi.FavoriteActionType_Like)
	many := make([]int64, 200)
	for i := range many {
		many[i] = int64(i + 1)
	}
	queries := countQueries(t, gdb)
	vf, err := s.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{ViewerId: 1, VideoIds: many})
	if err != nil {
		t.Fatal(err)
	}
	if *queries > 2 || len(vf.Videos) != len(many) || !vf.Videos[10].IsFavorite {
		t.Fatalf("MGetVideoFavorites(%d ids): %d queries, %d results", len(many), *queries, len(vf.Videos))
	}
	*queries = 0
	stats, err := s.MGetUserFavoriteStats(ctx, &favoriteapi.MGetUserFavoriteStatsRequest{UserIds: many})
	if err != nil {
		t.Fatal(err)
	}
	if *queries != 1 || len(stats.Users) != len(many) {
		t.Fatalf("MGetUserFavoriteStats(%d ids): %d queries, %d results", len(many), *queries, len(stats.Users))
	}
	tooMany := make([]int64, ids.MaxBatch+1)
	for i := range tooMany {
		tooMany[i] = int64(i + 1)
	}
	if _, err := s.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{VideoIds: tooMany}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Errorf("MGetVideoFavorites(%d ids) = %v, want InvalidParam", len(tooMany), err)
	}
	if _, err := s.MGetUserFavoriteStats(ctx, &favoriteapi.MGetUserFavoriteStatsRequest{UserIds: tooMany}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Errorf("MGetUserFavoriteStats(%d ids) = %v, want InvalidParam", len(tooMany), err)
	}
	if _, err := s.FavoriteList(ctx, &favoriteapi.FavoriteListRequest{}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Errorf("FavoriteList without user = %v, want InvalidParam", err)
	}
}
