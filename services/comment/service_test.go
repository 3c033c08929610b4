package comment

import (
	"context"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/cache/cachetest"
	"github.com/douyin-backend/douyin/internal/db/dbtest"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// fakeVideos knows a fixed set of ready video ids.
type fakeVideos struct {
	videoapi.VideoService // other methods are not used and panic if called
	ready                 map[int64]bool
}

func (f fakeVideos) MGetVideos(_ context.Context, req *videoapi.MGetVideosRequest) (*videoapi.MGetVideosResponse, error) {
	out := map[int64]*videoapi.VideoRecord{}
	for _, id := range req.VideoIds {
		if f.ready[id] {
			out[id] = &videoapi.VideoRecord{Id: id, AuthorId: 1, Status: videoapi.VideoStatus_Ready}
		}
	}
	return &videoapi.MGetVideosResponse{Videos: out}, nil
}

func newService(t *testing.T, opts ...Option) (*Service, *gorm.DB) {
	t.Helper()
	gdb := dbtest.OpenMigrated(t, Migrate)
	s := New(NewSQLStore(gdb), fakeVideos{ready: map[int64]bool{10: true, 20: true}}, opts...)
	clock := int64(1_000)
	var mu sync.Mutex
	s.now = func() int64 { mu.Lock(); defer mu.Unlock(); clock++; return clock }
	return s, gdb
}

// countCaches are the ways the service is deployed: SQL only, the embedded mode's in-process
// counters and comment lists, Redis.
var countCaches = map[string]func(t *testing.T) []Option{
	"sql": func(*testing.T) []Option { return nil },
	"memory": func(*testing.T) []Option {
		return []Option{WithCountCache(cache.NewLocalCounts("comment:n", time.Hour, 1000, nil)), WithListCache(NewListCache(time.Hour, 1000))}
	},
	"redis": func(t *testing.T) []Option {
		r, _ := cachetest.New(t)
		return []Option{WithCountCache(cache.NewRedisCounts(r, "comment:n", time.Hour, nil))}
	},
}

// runVariants runs test once per deployment, each on a fresh database and key space.
func runVariants(t *testing.T, test func(t *testing.T, opts []Option)) {
	for name, opts := range countCaches {
		t.Run(name, func(t *testing.T) { test(t, opts(t)) })
	}
}

func post(t *testing.T, s *Service, user, video int64, content string) *commentapi.CommentRecord {
	t.Helper()
	resp, err := s.PostComment(context.Background(), &commentapi.PostCommentRequest{UserId: user, VideoId: video, Content: content})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Comment
}

func commentCount(t *testing.T, s *Service, video int64) int64 {
	t.Helper()
	resp, err := s.MGetCommentCounts(context.Background(), &commentapi.MGetCommentCountsRequest{VideoIds: []int64{video}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.CommentCounts[video]
}
