package favorite

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/douyin-backend/douyin/kitex_gen/event"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
)

func TestConsumerIgnoresRedeliveryAndStaleEvents(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	body := func(liked bool, seq int64) []byte {
		b, _ := json.Marshal(event.LikeEvent{UserId: 1, VideoId: 10, AuthorId: 2, Liked: liked, Seq: seq, At: seq})
		return b
	}
	count := func() int64 {
		vf, err := s.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{VideoIds: []int64{10}})
		if err != nil {
			t.Fatal(err)
		}
		return vf.Videos[10].FavoriteCount
	}
	steps := []struct {
		name string
		body []byte
		want int64
	}{
		{"like", body(true, 100), 1},
		{"redelivered like", body(true, 100), 1},
		{"stale unlike", body(false, 50), 1},
		{"unlike", body(false, 200), 0},
		{"redelivered unlike", body(false, 200), 0},
		{"stale like", body(true, 150), 0},
		// The wire format the favorite service has always sent (JSON; messages already queued).
		{"queued before the IDL type", []byte(`{"user_id":1,"video_id":10,"author_id":2,"liked":true,"seq":300,"at":300}`), 1},
	}
	for _, st := range steps {
		if err := s.handleLike(ctx, st.body); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := count(); got != st.want {
			t.Fatalf("%s: count %d, want %d", st.name, got, st.want)
		}
	}
	for _, bad := range [][]byte{[]byte("{"), []byte(`{"user_id":1,"video_id":10}`)} {
		if err := s.handleLike(ctx, bad); err == nil {
			t.Errorf("handleLike(%s) accepted a malformed event", bad)
		}
	}
}

// TestConcurrentLikesKeepExactCounts has 20 goroutines like and unlike the same pairs at
// random; afterwards every counter must equal the count derived from the favorite rows.
func TestConcurrentLikesKeepExactCounts(t *testing.T) {
	s, gdb := newService(t)
	ctx := context.Background()
	users := []int64{1, 2, 3, 4}
	videos := []int64{10, 11, 20}
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for range 15 {
				action := favoriteapi.FavoriteActionType_Like
				if rng.IntN(2) == 0 {
					action = favoriteapi.FavoriteActionType_Unlike
				}
				req := &favoriteapi.FavoriteActionRequest{UserId: users[rng.IntN(len(users))], VideoId: videos[rng.IntN(len(videos))], ActionType: action}
				if _, err := s.FavoriteAction(ctx, req); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	// The consumer itself, hammered directly: 20 deliveries of different events for one pair.
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, _ := json.Marshal(event.LikeEvent{UserId: 9, VideoId: 20, AuthorId: 3, Liked: i%2 == 0, Seq: int64(i + 1), At: int64(i + 1)})
			if err := s.handleLike(ctx, b); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()

	var rows []Favorite
	if err := gdb.Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	perVideo, perUser, perAuthor := map[int64]int64{}, map[int64]int64{}, map[int64]int64{}
	for _, r := range rows {
		if r.Liked {
			perVideo[r.VideoID]++
			perUser[r.UserID]++
			perAuthor[r.AuthorID]++
		}
	}
	// The last delivery (seq 20, an unlike) wins for user 9, whatever the order.
	if perUser[9] != 0 {
		t.Fatalf("user 9 likes %d videos, want 0: the newest event (unlike) must win", perUser[9])
	}
	vf, err := s.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{VideoIds: videos})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range videos {
		if got := vf.Videos[v].FavoriteCount; got != perVideo[v] {
			t.Errorf("video %d favorite_count %d, rows say %d", v, got, perVideo[v])
		}
	}
	stats, err := s.MGetUserFavoriteStats(ctx, &favoriteapi.MGetUserFavoriteStatsRequest{UserIds: []int64{1, 2, 3, 4, 9}})
	if err != nil {
		t.Fatal(err)
	}
	for id, st := range stats.Users {
		if st.FavoriteCount != perUser[id] || st.TotalFavorited != perAuthor[id] {
			t.Errorf("user %d stats %+v, rows say favorite_count %d total_favorited %d", id, st, perUser[id], perAuthor[id])
		}
	}
}
