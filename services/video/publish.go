package video

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/douyin-backend/douyin/internal/blob"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/kitex_gen/event"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// CreateVideo records an uploaded video as processing and enqueues it for the media worker.
// If it cannot be enqueued the record is removed again and the error returned, so the caller
// can delete the upload and nothing half-created survives.
func (s *Service) CreateVideo(ctx context.Context, req *videoapi.CreateVideoRequest) (*videoapi.CreateVideoResponse, error) {
	if req.AuthorId <= 0 {
		return nil, errs.NotPositive("author_id")
	}
	title := strings.TrimSpace(req.Title)
	if n := utf8.RuneCountInString(title); n < 1 || n > videoapi.MaxTitleRunes || !utf8.ValidString(title) {
		return nil, errs.BadLength("title", videoapi.MaxTitleRunes)
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
	// After the insert and any cleanup, even a failed one: the author's own count moved.
	defer s.ownCounts.drop(req.AuthorId)
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
