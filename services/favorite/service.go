// Package favorite is the favorite service: likes, their counters and the liked-videos list.
package favorite

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// errLikesUnavailable refuses a like that could not be queued; nothing of it remains.
var errLikesUnavailable = errs.New(base.ErrCode_Unavailable, "likes are unavailable right now, please retry")

// consumerGroup is the group whose consumer writes likes to the database.
const consumerGroup = "favorite-store"

// maxLikeBatch bounds the like events written in one transaction.
const maxLikeBatch = 64

// maxListVideos caps the liked-videos list: the app has no paging, so it shows the newest 1000.
const maxListVideos = 1000

// LikeEvent is the message on mq.TopicFavorite: one like or unlike, applied by the consumer.
type LikeEvent struct {
	UserID   int64 `json:"user_id"`
	VideoID  int64 `json:"video_id"`
	AuthorID int64 `json:"author_id"`
	Liked    bool  `json:"liked"`
	// Seq orders the events of one (user, video) pair: the consumer ignores an event whose
	// seq is not greater than the last one applied, so redelivery and reordering are harmless.
	Seq int64 `json:"seq"`
	// At is when the user acted, in Unix milliseconds; the liked list is ordered by it.
	At int64 `json:"at"`
}

// Service implements favoriteapi.FavoriteService.
type Service struct {
	store  Store
	videos videoapi.VideoService
	queue  mq.Producer
	// lastSeq keeps the seqs this process hands out strictly increasing, even for two taps
	// within one clock tick.
	lastSeq atomic.Int64
	// readModel serves likes ahead of SQL (nil: read SQL).
	readModel ReadModel
	// likes writes the consumed events in shared transactions.
	likes *db.Batcher[LikeEvent, Committed]
	// authors remembers the author of each liked video (immutable), saving a call per like.
	authors *cache.LocalRecords[videoAuthor]
	log     *slog.Logger
}

var _ favoriteapi.FavoriteService = (*Service)(nil)

// New returns the favorite service; opts add a read model (production) or a logger. Call
// Subscribe to start writing likes to the store.
func New(store Store, videos videoapi.VideoService, queue mq.Producer, opts ...Option) *Service {
	s := &Service{store: store, videos: videos, queue: queue, log: slog.Default()}
	s.likes = db.NewBatcher(maxLikeBatch, store.ApplyLikes)
	s.authors = cache.NewLocalRecords("favorite:authors", time.Hour, maxRememberedAuthors, func(a videoAuthor) int64 { return a.VideoID })
	for _, o := range opts {
		o(s)
	}
	return s
}

// Subscribe registers the consumer that applies like events to the store.
func (s *Service) Subscribe(c mq.Consumer) error {
	return c.Subscribe(mq.TopicFavorite, consumerGroup, s.handleLike)
}

// FavoriteAction applies a like or unlike of an existing video to the read model and enqueues
// it. The request fails when the event cannot be published, so an acknowledged like is never
// lost.
func (s *Service) FavoriteAction(ctx context.Context, req *favoriteapi.FavoriteActionRequest) (*favoriteapi.FavoriteActionResponse, error) {
	if req.UserId <= 0 {
		return nil, errs.Invalid("user_id must be positive")
	}
	if req.VideoId <= 0 {
		return nil, errs.Invalid("video_id must be positive")
	}
	if req.ActionType != favoriteapi.FavoriteActionType_Like && req.ActionType != favoriteapi.FavoriteActionType_Unlike {
		return nil, errs.Invalid("action_type must be 1 (like) or 2 (unlike)")
	}
	authorID, err := s.authorOf(ctx, req.VideoId)
	if err != nil {
		return nil, err
	}
	c := Change{UserID: req.UserId, VideoID: req.VideoId, AuthorID: authorID, Liked: req.ActionType == favoriteapi.FavoriteActionType_Like}
	if err := s.act(ctx, c); err != nil {
		return nil, err
	}
	return &favoriteapi.FavoriteActionResponse{}, nil
}

// videoAuthor is a ready video's author: it never changes, so it is remembered in process.
type videoAuthor struct{ VideoID, AuthorID int64 }

// maxRememberedAuthors bounds the remembered video authors (about 3 MB).
const maxRememberedAuthors = 100_000

// authorOf returns the author of a ready video, asking the video service only the first time;
// a video that does not exist or is not ready is VideoNotFound.
func (s *Service) authorOf(ctx context.Context, videoID int64) (int64, error) {
	if known, _, _ := s.authors.MGet(ctx, []int64{videoID}); len(known) == 1 {
		return known[videoID].AuthorID, nil
	}
	got, err := s.videos.MGetVideos(ctx, &videoapi.MGetVideosRequest{VideoIds: []int64{videoID}})
	if err != nil {
		return 0, fmt.Errorf("look up video %d: %w", videoID, err)
	}
	v, ok := got.Videos[videoID]
	if !ok {
		return 0, errs.New(base.ErrCode_VideoNotFound, "video not found")
	}
	_ = s.authors.MSet(ctx, []videoAuthor{{VideoID: videoID, AuthorID: v.AuthorId}})
	return v.AuthorId, nil
}

// publish hands the change to the consumer that writes it to SQL.
func (s *Service) publish(ctx context.Context, c Change, seq int64, now time.Time) error {
	body, err := json.Marshal(LikeEvent{
		UserID:   c.UserID,
		VideoID:  c.VideoID,
		AuthorID: c.AuthorID,
		Liked:    c.Liked,
		Seq:      seq,
		At:       now.UnixMilli(),
	})
	if err != nil {
		return fmt.Errorf("encode like event: %w", err)
	}
	// Keyed by the pair (one queue per pair); the seq, not the delivery order, orders a
	// pair's events.
	key := fmt.Sprintf("%d:%d", c.UserID, c.VideoID)
	if err := s.queue.Publish(ctx, mq.TopicFavorite, key, body); err != nil {
		// Nothing was applied: a clean refusal to repeat later. (The broker may have stored
		// the event all the same, its reply lost; then the consumer applies it, and the
		// repeat is a no-op.)
		return fmt.Errorf("publish like event: %w (%w)", errLikesUnavailable, err)
	}
	return nil
}

// nextSeq returns now in Unix nanoseconds, or one more than the last seq if the clock has
// not moved past it.
func (s *Service) nextSeq(now time.Time) int64 {
	for {
		last, seq := s.lastSeq.Load(), now.UnixNano()
		if seq <= last {
			seq = last + 1
		}
		if s.lastSeq.CompareAndSwap(last, seq) {
			return seq
		}
	}
}

// handleLike applies one event; an error asks the queue to redeliver it.
func (s *Service) handleLike(ctx context.Context, body []byte) error {
	var e LikeEvent
	if err := json.Unmarshal(body, &e); err != nil {
		return fmt.Errorf("decode like event: %w", err)
	}
	if e.UserID <= 0 || e.VideoID <= 0 || e.AuthorID <= 0 || e.Seq <= 0 {
		return fmt.Errorf("malformed like event %s", body)
	}
	committed, err := s.likes.Do(ctx, e)
	if err != nil {
		return err
	}
	if s.readModel != nil {
		s.syncCommitted(ctx, Change{UserID: e.UserID, VideoID: e.VideoID, AuthorID: e.AuthorID, Liked: e.Liked}, committed)
	}
	return nil
}

// FavoriteList returns the ids of the videos the user likes, newest like first.
func (s *Service) FavoriteList(ctx context.Context, req *favoriteapi.FavoriteListRequest) (*favoriteapi.FavoriteListResponse, error) {
	if req.UserId <= 0 {
		return nil, errs.Invalid("user_id must be positive")
	}
	videoIDs, err := s.store.ListLikedVideos(ctx, req.UserId, maxListVideos)
	if err != nil {
		return nil, err
	}
	if s.readModel != nil {
		videoIDs = s.withUncommitted(ctx, req.UserId, videoIDs)
	}
	if videoIDs == nil {
		videoIDs = []int64{}
	}
	return &favoriteapi.FavoriteListResponse{VideoIds: videoIDs}, nil
}

// withUncommitted brings the committed list (newest like first) up to the user's liked set in
// the read model, which every acknowledged action changed before it was acknowledged: videos
// unliked but not yet committed are left out, likes still queued for SQL are added, and the
// videos a step changed while the set was cached come first, newest step first (the read
// model's seqs order them; SQL may not have them yet). So the user's next read shows what
// they just did however far the consumer has got, and the list agrees with the is_favorite
// flags, which come from the same set. Without a cached set (no action renewed it within the
// set TTL, so nothing is queued) or when the read model fails, SQL is the answer.
func (s *Service) withUncommitted(ctx context.Context, userID int64, committed []int64) []int64 {
	set, loaded, err := s.readModel.Liked(ctx, userID)
	if err != nil {
		s.log.WarnContext(ctx, "favorite read model read failed; listing committed likes only", "err", err)
		return committed
	}
	if !loaded {
		return committed
	}
	member := make(map[int64]bool, len(set.Videos))
	for _, id := range set.Videos {
		member[id] = true
	}
	listed := make(map[int64]bool, len(committed))
	for _, id := range committed {
		listed[id] = true
	}
	var recent, pending []int64 // recent: members with a step; pending: other members SQL lacks
	for _, id := range set.Videos {
		switch {
		case set.LastStep[id] != 0:
			recent = append(recent, id)
		case !listed[id]:
			pending = append(pending, id)
		}
	}
	if len(pending) > 0 && len(committed) == maxListVideos {
		// The committed list was cut at the cap, so a set member missing from it may be an
		// older committed like rather than a queued one: SQL tells them apart.
		older, err := s.store.LikedAmong(ctx, userID, pending)
		if err != nil {
			s.log.WarnContext(ctx, "favorite list: committed likes beyond the cap not read; listing committed likes only", "err", err)
			return committed
		}
		pending = slices.DeleteFunc(pending, func(id int64) bool { return older[id] })
	}
	slices.SortFunc(recent, func(a, b int64) int { return cmp.Compare(set.LastStep[b], set.LastStep[a]) })
	slices.SortFunc(pending, func(a, b int64) int { return cmp.Compare(b, a) })
	out := make([]int64, 0, len(recent)+len(pending)+len(committed))
	out = append(out, recent...)
	out = append(out, pending...)
	for _, id := range committed {
		if member[id] && set.LastStep[id] == 0 {
			out = append(out, id)
		}
	}
	if len(out) > maxListVideos {
		out = out[:maxListVideos]
	}
	return out
}

// MGetVideoFavorites returns the like count of every requested video and whether the viewer
// (0: anonymous) likes it, in at most two queries.
func (s *Service) MGetVideoFavorites(ctx context.Context, req *favoriteapi.MGetVideoFavoritesRequest) (*favoriteapi.MGetVideoFavoritesResponse, error) {
	want := ids.Unique(req.VideoIds)
	if len(want) > ids.MaxBatch {
		return nil, errs.Invalid("at most %d video_ids per request", ids.MaxBatch)
	}
	if len(want) > 0 && s.readModel != nil {
		if resp, served, err := s.cachedVideoFavorites(ctx, req.ViewerId, want); served {
			return resp, err
		}
	}
	counts, err := s.store.MGetVideoCounts(ctx, want)
	if err != nil {
		return nil, err
	}
	liked := map[int64]bool{}
	if req.ViewerId > 0 {
		if liked, err = s.store.LikedAmong(ctx, req.ViewerId, want); err != nil {
			return nil, err
		}
	}
	out := make(map[int64]*favoriteapi.VideoFavoriteInfo, len(want))
	for _, id := range want {
		out[id] = &favoriteapi.VideoFavoriteInfo{FavoriteCount: counts[id], IsFavorite: liked[id]}
	}
	return &favoriteapi.MGetVideoFavoritesResponse{Videos: out}, nil
}

// MGetUserFavoriteStats returns the like counters of every requested user, zero for users
// without any.
func (s *Service) MGetUserFavoriteStats(ctx context.Context, req *favoriteapi.MGetUserFavoriteStatsRequest) (*favoriteapi.MGetUserFavoriteStatsResponse, error) {
	want := ids.Unique(req.UserIds)
	if len(want) > ids.MaxBatch {
		return nil, errs.Invalid("at most %d user_ids per request", ids.MaxBatch)
	}
	var counts map[int64]UserCount
	served := false
	if len(want) > 0 && s.readModel != nil {
		var err error
		if counts, served, err = s.cachedUserStats(ctx, want); err != nil {
			return nil, err
		}
	}
	if !served {
		var err error
		if counts, err = s.store.MGetUserCounts(ctx, want); err != nil {
			return nil, err
		}
	}
	out := make(map[int64]*favoriteapi.UserFavoriteStats, len(want))
	for _, id := range want {
		c := counts[id]
		out[id] = &favoriteapi.UserFavoriteStats{FavoriteCount: c.FavoriteCount, TotalFavorited: c.TotalFavorited}
	}
	return &favoriteapi.MGetUserFavoriteStatsResponse{Users: out}, nil
}
