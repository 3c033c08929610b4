package video

import (
	"context"
	"errors"
	"unicode/utf8"

	"github.com/douyin-backend/douyin/internal/blob"
	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	"github.com/douyin-backend/douyin/kitex_gen/event"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// maxReasonBytes is the size of the failure_reason column.
const maxReasonBytes = 255

// CompleteProcessing records the media worker's result. Only a processing video changes
// state, so a redelivered completion is a successful no-op.
func (s *Service) CompleteProcessing(ctx context.Context, req *videoapi.CompleteProcessingRequest) (*videoapi.CompleteProcessingResponse, error) {
	if req.VideoId <= 0 {
		return nil, errs.NotPositive("video_id")
	}
	var (
		became *Video // set when this completion made the video ready
		err    error
	)
	switch req.Status {
	case videoapi.VideoStatus_Ready:
		if !blob.ValidKey(req.PlayKey) || !blob.ValidKey(req.CoverKey) {
			return nil, errs.Invalid("play_key and cover_key must be valid object keys")
		}
		renditions, rerr := renditionsOf(req)
		if rerr != nil {
			return nil, rerr
		}
		became, err = s.store.MarkReady(ctx, req.VideoId, req.PlayKey, req.CoverKey, renditions)
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
	if became != nil {
		s.becameReady(ctx, TimelineEntry{ID: became.ID, CreatedAt: became.CreatedAt}, became.AuthorID)
	}
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

// becameReady updates the caches after a video turned ready (its author's work count and the
// timeline), then tells the activity stream.
func (s *Service) becameReady(ctx context.Context, v TimelineEntry, authorID int64) {
	ctx = context.WithoutCancel(ctx)
	cache.DropCounts(ctx, s.workCounts, []int64{authorID}, s.log)
	// Ready and unready videos both count in the own count, but the unready part is capped.
	// A failure needs no drop: processing and failed videos count alike.
	s.ownCounts.drop(authorID)
	if s.timeline != nil {
		if err := s.timeline.Add(ctx, v); err != nil {
			s.log.WarnContext(ctx, "timeline add failed", "video_id", v.ID, "err", err)
		}
	}
	// Last: the caches are current before anyone is told.
	s.activity.Notify(ctx, s.log, &event.ActivityEvent{Kind: event.ActivityVideoReady, VideoId: v.ID, AuthorId: authorID, At: v.CreatedAt})
}

// forgetRecord drops a video's cached record after its state changed. A failure is logged:
// the record's TTL bounds how long a stale copy can be served.
func (s *Service) forgetRecord(ctx context.Context, id int64) {
	if s.recordCache == nil {
		return
	}
	if err := s.recordCache.Delete(context.WithoutCancel(ctx), []int64{id}); err != nil {
		s.log.WarnContext(ctx, "video cache delete failed", "video_id", id, "err", err)
	}
}
