// Package video is the video service: publishing, processing status, the feed and publish lists.
package video

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/sync/singleflight"

	"github.com/douyin-backend/douyin/internal/activity"
	"github.com/douyin-backend/douyin/internal/blob"
	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	"github.com/douyin-backend/douyin/kitex_gen/event"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

const (
	maxTitleRunes = 100
	// feedPageSize is both the default and the largest feed page the app asks for.
	feedPageSize = 30
	// maxListVideos caps a publish list: the app has no paging, so it shows the newest 1000.
	maxListVideos = 1000
	// maxFollowedAuthors bounds a following feed's author set (the relation service's cap).
	maxFollowedAuthors = 10000
	// dayMillis is one day in Unix milliseconds.
	dayMillis = 24 * 60 * 60 * 1000
	// maxReasonBytes is the size of the failure_reason column.
	maxReasonBytes = 255
)

// URLResolver turns a blob key into the URL clients fetch; a blob.Store satisfies it.
type URLResolver interface {
	URL(key string) string
}

// Service implements videoapi.VideoService.
type Service struct {
	store Store
	queue mq.Producer
	urls  URLResolver
	now   func() int64 // Unix milliseconds; replaced in tests to order videos deterministically
	// recordCache caches ready video records (noRecordCache in the embedded mode).
	recordCache RecordCache
	workCounts  cache.CountCache    // nil: read SQL
	timeline    Timeline            // nil: read SQL
	activity    *activity.Publisher // nil: no events
	// timelineLoads makes concurrent first reads share one load of the timeline.
	timelineLoads singleflight.Group
	log           *slog.Logger
	sweep         SweeperConfig
}

var _ videoapi.VideoService = (*Service)(nil)

// New returns the video service; opts add a record cache (production) or a logger.
func New(store Store, queue mq.Producer, urls URLResolver, opts ...Option) *Service {
	s := &Service{store: store, queue: queue, urls: urls, now: db.NowMillis, recordCache: noRecordCache{}, log: slog.Default(), sweep: DefaultSweeperConfig()}
	for _, o := range opts {
		o(s)
	}
	return s
}

// CreateVideo records an uploaded video as processing and enqueues it for the media worker.
// If it cannot be enqueued the record is removed again and the error returned, so the caller
// can delete the upload and nothing half-created survives.
func (s *Service) CreateVideo(ctx context.Context, req *videoapi.CreateVideoRequest) (*videoapi.CreateVideoResponse, error) {
	if req.AuthorId <= 0 {
		return nil, errs.Invalid("author_id must be positive")
	}
	title := strings.TrimSpace(req.Title)
	if n := utf8.RuneCountInString(title); n < 1 || n > maxTitleRunes || !utf8.ValidString(title) {
		return nil, errs.Invalid("title must be 1-%d characters", maxTitleRunes)
	}
	if req.SourceKey == "" || !blob.ValidKey(req.SourceKey) {
		return nil, errs.Invalid("source_key must be a valid object key")
	}
	v := &Video{
		AuthorID:  req.AuthorId,
		Title:     title,
		SourceKey: req.SourceKey,
		Status:    statusProcessing,
		CreatedAt: s.now(),
	}
	v.EnqueuedAt = v.CreatedAt
	if err := s.store.CreateVideo(ctx, v); err != nil {
		return nil, err
	}
	if err := s.enqueue(ctx, v); err != nil {
		// A cancelled request must not stop the cleanup.
		if derr := s.store.DeleteVideo(context.WithoutCancel(ctx), v.ID); derr != nil {
			err = errors.Join(err, derr)
		}
		return nil, err
	}
	return &videoapi.CreateVideoResponse{VideoId: v.ID}, nil
}

// enqueue hands a processing video to the media worker: the one place a publish event is
// written, for a new upload and for the sweeper's retry alike.
func (s *Service) enqueue(ctx context.Context, v *Video) error {
	body, err := json.Marshal(&event.PublishEvent{VideoId: v.ID, SourceKey: v.SourceKey})
	if err == nil {
		err = s.queue.Publish(ctx, mq.TopicPublish, strconv.FormatInt(v.ID, 10), body)
	}
	if err != nil {
		return fmt.Errorf("enqueue video %d: %w", v.ID, err)
	}
	return nil
}

// CompleteProcessing records the media worker's result. Only a processing video changes
// state, so a redelivered completion is a successful no-op.
func (s *Service) CompleteProcessing(ctx context.Context, req *videoapi.CompleteProcessingRequest) (*videoapi.CompleteProcessingResponse, error) {
	if req.VideoId <= 0 {
		return nil, errs.Invalid("video_id must be positive")
	}
	var err error
	switch req.Status {
	case videoapi.VideoStatus_Ready:
		if !blob.ValidKey(req.PlayKey) || !blob.ValidKey(req.CoverKey) {
			return nil, errs.Invalid("play_key and cover_key must be valid object keys")
		}
		renditions, rerr := renditionsOf(req)
		if rerr != nil {
			return nil, rerr
		}
		var became *Video
		became, err = s.store.MarkReady(ctx, req.VideoId, req.PlayKey, req.CoverKey, renditions)
		if err == nil && became != nil {
			s.becameReady(ctx, TimelineEntry{ID: became.ID, CreatedAt: became.CreatedAt}, became.AuthorID)
		}
	case videoapi.VideoStatus_Failed:
		err = s.store.MarkFailed(ctx, req.VideoId, truncateUTF8(req.FailureReason, maxReasonBytes))
	default:
		return nil, errs.Invalid("status must be 2 (ready) or 3 (failed)")
	}
	if errors.Is(err, ErrVideoNotFound) {
		return nil, errs.New(base.ErrCode_VideoNotFound, "video not found")
	}
	if err != nil {
		return nil, err
	}
	// Only ready records are cached and a processing one never is, so this is a guard: no
	// cached copy may outlive a state change.
	s.forgetRecord(ctx, req.VideoId)
	return &videoapi.CompleteProcessingResponse{}, nil
}

// maxRenditions bounds the renditions of one video (the column holds a few).
const maxRenditions = 8

// renditionsOf checks the renditions of a completion: valid keys, positive sizes, and the
// play key among them when there are any.
func renditionsOf(req *videoapi.CompleteProcessingRequest) ([]Rendition, error) {
	if len(req.Renditions) > maxRenditions {
		return nil, errs.Invalid("at most %d renditions", maxRenditions)
	}
	out := make([]Rendition, 0, len(req.Renditions))
	hasPlay := len(req.Renditions) == 0
	for _, r := range req.Renditions {
		if r == nil || !blob.ValidKey(r.Key) || r.Height <= 0 || r.Width <= 0 {
			return nil, errs.Invalid("each rendition needs a valid key and a positive size")
		}
		hasPlay = hasPlay || r.Key == req.PlayKey
		out = append(out, Rendition{Height: r.Height, Width: r.Width, Key: r.Key})
	}
	if !hasPlay {
		return nil, errs.Invalid("play_key must be one of the renditions")
	}
	return out, nil
}

// Feed returns ready videos published strictly before latest_time, newest first.
func (s *Service) Feed(ctx context.Context, req *videoapi.FeedRequest) (*videoapi.FeedResponse, error) {
	before := req.LatestTime
	if before <= 0 {
		// One past now, so a video published in this very millisecond is included.
		before = s.now() + 1
	}
	vs, err := s.feedPage(ctx, before, pageLimit(req.Limit))
	if err != nil {
		return nil, err
	}
	resp := &videoapi.FeedResponse{Videos: s.records(vs)}
	if len(vs) > 0 {
		resp.NextTime = vs[len(vs)-1].CreatedAt
	}
	return resp, nil
}

// followingLookbacks are the windows before the cursor a following page is searched in,
// widest last (0: unbounded). The merged index query reads every entry of the followed
// authors inside its window, so the first, short window keeps a page cheap for a viewer
// following thousands of active authors; a wider one runs only when the shorter held less
// than a page, which means the authors post little, so their entries are few.
func followingLookbacks() [3]int64 { return [...]int64{7 * dayMillis, 180 * dayMillis, 0} }

// FollowingFeed returns ready videos of author_ids published strictly before latest_time,
// newest first: at most three index-only queries for the page ids, the
// records from the record cache.
func (s *Service) FollowingFeed(ctx context.Context, req *videoapi.FollowingFeedRequest) (*videoapi.FeedResponse, error) {
	authors := ids.Unique(req.AuthorIds)
	if len(authors) > maxFollowedAuthors {
		return nil, errs.Invalid("at most %d author_ids per request", maxFollowedAuthors)
	}
	if req.LatestTime < 0 {
		return nil, errs.Invalid("latest_time must not be negative")
	}
	before := req.LatestTime
	if before == 0 {
		before = s.now() + 1
	}
	resp := &videoapi.FeedResponse{Videos: []*videoapi.VideoRecord{}}
	if len(authors) == 0 {
		return resp, nil
	}
	limit := pageLimit(req.Limit)
	var entries []TimelineEntry
	for _, lookback := range followingLookbacks() {
		since := int64(0)
		if lookback > 0 {
			since = max(before-lookback, 0)
		}
		var err error
		if entries, err = s.store.ListFeedEntriesByAuthors(ctx, authors, since, before, limit); err != nil {
			return nil, err
		}
		if len(entries) == limit || since == 0 {
			break
		}
	}
	pageIDs := make([]int64, len(entries))
	for i, e := range entries {
		pageIDs[i] = e.ID
	}
	vs, err := s.readyVideosInOrder(ctx, pageIDs)
	if err != nil {
		return nil, err
	}
	resp.Videos = s.records(vs)
	if len(vs) > 0 {
		resp.NextTime = vs[len(vs)-1].CreatedAt
	}
	return resp, nil
}

// pageLimit is the requested page size within 1..feedPageSize; 0 asks for a full page.
func pageLimit(requested int32) int {
	switch limit := int(requested); {
	case limit == 0 || limit > feedPageSize:
		return feedPageSize
	case limit < 1:
		return 1
	default:
		return limit
	}
}

// PublishList returns the author's ready videos, newest first, at most maxListVideos. The
// author reading their own list also gets their processing and failed videos, so a new upload
// shows on their profile at once.
func (s *Service) PublishList(ctx context.Context, req *videoapi.PublishListRequest) (*videoapi.PublishListResponse, error) {
	if req.AuthorId <= 0 {
		return nil, errs.Invalid("author_id must be positive")
	}
	videoIDs, err := s.store.ListIDsByAuthor(ctx, req.AuthorId, maxListVideos)
	if err != nil {
		return nil, err
	}
	vs, err := s.readyVideosInOrder(ctx, videoIDs)
	if err != nil {
		return nil, err
	}
	if req.ViewerId == req.AuthorId {
		unready, err := s.store.ListUnreadyByAuthor(ctx, req.AuthorId, maxListVideos)
		if err != nil {
			return nil, err
		}
		vs = mergeNewestFirst(vs, unready, maxListVideos)
	}
	return &videoapi.PublishListResponse{Videos: s.records(vs)}, nil
}

// mergeNewestFirst merges two lists ordered newest first into one of at most limit.
func mergeNewestFirst(a, b []Video, limit int) []Video {
	if len(b) == 0 {
		return a
	}
	newer := func(x, y Video) bool { return x.CreatedAt > y.CreatedAt || (x.CreatedAt == y.CreatedAt && x.ID > y.ID) }
	out := make([]Video, 0, min(len(a)+len(b), limit))
	for len(out) < limit && (len(a) > 0 || len(b) > 0) {
		if len(b) == 0 || (len(a) > 0 && newer(a[0], b[0])) {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return out
}

// MGetVideos returns the ready videos among the ids in one query; other ids are absent.
func (s *Service) MGetVideos(ctx context.Context, req *videoapi.MGetVideosRequest) (*videoapi.MGetVideosResponse, error) {
	want := ids.Unique(req.VideoIds)
	if len(want) > ids.MaxBatch {
		return nil, errs.Invalid("at most %d video_ids per request", ids.MaxBatch)
	}
	vs, err := s.readyVideos(ctx, want)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*videoapi.VideoRecord, len(vs))
	for id, v := range vs {
		out[id] = s.record(&v)
	}
	return &videoapi.MGetVideosResponse{Videos: out}, nil
}

// MGetWorkCounts returns the work count of every requested user, 0 for users with none.
func (s *Service) MGetWorkCounts(ctx context.Context, req *videoapi.MGetWorkCountsRequest) (*videoapi.MGetWorkCountsResponse, error) {
	want := ids.Unique(req.UserIds)
	if len(want) > ids.MaxBatch {
		return nil, errs.Invalid("at most %d user_ids per request", ids.MaxBatch)
	}
	stored, err := cache.CountsThrough(ctx, s.workCounts, want, s.store.MGetWorkCounts, s.log)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]int64, len(want))
	for _, id := range want {
		out[id] = stored[id]
	}
	if _, asked := out[req.ViewerId]; asked && req.ViewerId > 0 {
		// The viewer's own list shows their unready videos too: count what it shows.
		unready, err := s.store.ListUnreadyByAuthor(ctx, req.ViewerId, maxListVideos)
		if err != nil {
			return nil, err
		}
		out[req.ViewerId] += int64(len(unready))
	}
	return &videoapi.MGetWorkCountsResponse{WorkCounts: out}, nil
}

func (s *Service) records(vs []Video) []*videoapi.VideoRecord {
	out := make([]*videoapi.VideoRecord, len(vs))
	for i := range vs {
		out[i] = s.record(&vs[i])
	}
	return out
}

func (s *Service) record(v *Video) *videoapi.VideoRecord {
	r := &videoapi.VideoRecord{
		Id:        v.ID,
		AuthorId:  v.AuthorID,
		Title:     v.Title,
		CreatedAt: v.CreatedAt,
		Status:    videoapi.VideoStatus(v.Status),
		// Never null: the app's lists and fields are always present.
		Renditions: make([]*base.Rendition, 0, len(v.Renditions)),
	}
	// Until processing produced the media (only the author sees such a video) the original
	// upload plays; the gateway shows a placeholder cover.
	if v.Status != statusReady {
		r.PlayUrl = s.urls.URL(v.SourceKey)
	}
	if v.Status == statusReady {
		r.PlayUrl = s.urls.URL(v.PlayKey)
		r.CoverUrl = s.urls.URL(v.CoverKey)
		for _, rd := range v.Renditions {
			r.Renditions = append(r.Renditions, &base.Rendition{Height: rd.Height, Width: rd.Width, Url: s.urls.URL(rd.Key)})
		}
	}
	return r
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
