package favorite

import (
	"context"
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
	"github.com/douyin-backend/douyin/internal/mq"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// fakeVideos knows a fixed set of ready videos: video id → author id.
type fakeVideos struct {
	videoapi.VideoService // other methods are not used and panic if called
	authors               map[int64]int64
}

func (f fakeVideos) MGetVideos(_ context.Context, req *videoapi.MGetVideosRequest) (*videoapi.MGetVideosResponse, error) {
	out := map[int64]*videoapi.VideoRecord{}
	for _, id := range req.VideoIds {
		if author, ok := f.authors[id]; ok {
			out[id] = &videoapi.VideoRecord{Id: id, AuthorId: author, Status: videoapi.VideoStatus_Ready}
		}
	}
	return &videoapi.MGetVideosResponse{Videos: out}, nil
}

// failingQueue refuses every message, like a broker that is down.
type failingQueue struct{}

func (failingQueue) Publish(context.Context, string, string, []byte) error {
	return errors.New("broker down")
}

// capturingQueue keeps the published bodies without delivering them.
type capturingQueue struct {
	keys   []string
	bodies [][]byte
}

func (q *capturingQueue) Publish(_ context.Context, _ string, key string, body []byte) error {
	q.keys = append(q.keys, key)
	q.bodies = append(q.bodies, body)
	return nil
}

// Videos 10 and 11 belong to user 2, video 20 to user 3.
var testVideos = fakeVideos{authors: map[int64]int64{10: 2, 11: 2, 20: 3}}

// newService wires the service to the in-process queue, which delivers synchronously.
func newService(t *testing.T) (*Service, *gorm.DB) {
	t.Helper()
	gdb := dbtest.OpenMigrated(t, Migrate)
	q := mq.NewMemory()
	s := New(NewSQLStore(gdb), testVideos, q)
	if err := s.Subscribe(q); err != nil {
		t.Fatal(err)
	}
	return s, gdb
}

func act(t *testing.T, s *Service, user, video int64, action favoriteapi.FavoriteActionType) {
	t.Helper()
	if _, err := s.FavoriteAction(context.Background(), &favoriteapi.FavoriteActionRequest{UserId: user, VideoId: video, ActionType: action}); err != nil {
		t.Fatal(err)
	}
}
