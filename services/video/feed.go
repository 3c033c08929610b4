package video

import (
	"context"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

const (
	// feedPageSize is both the default and the largest feed page the app asks for.
	feedPageSize = 30
	// maxFollowedAuthors bounds a following feed's author set (the relation service's cap).
	maxFollowedAuthors = 10000
	// dayMillis is one day in Unix milliseconds.
	dayMillis = 24 * 60 * 60 * 1000
)

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
	if req.WithWorkCounts {
		resp.WorkCounts = s.authorWorkCounts(ctx, "feed", vs, req.ViewerId)
	}
	return resp, nil
}

// FeedIDs is Feed without the records, for a caller in this process that has the videos
// encoded already (the gateway's cards): the ids of the ready videos published strictly before
// latestTime (0: now), newest first, and the page's next_time.
func (s *Service) FeedIDs(ctx context.Context, latestTime int64, limit int32) ([]int64, int64, error) {
	if latestTime <= 0 {
		latestTime = s.now() + 1
	}
	entries, err := s.feedEntries(ctx, latestTime, pageLimit(limit))
	if err != nil || len(entries) == 0 {
		return nil, 0, err
	}
	return entryIDs(entries), entries[len(entries)-1].CreatedAt, nil
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
		return nil, errs.Negative("latest_time")
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

// feedPage is the page's videos: its entries (feedEntries), their records from the record
// cache.
func (s *Service) feedPage(ctx context.Context, before int64, limit int) ([]Video, error) {
	if s.timeline == nil {
		return s.store.ListFeed(ctx, before, limit)
	}
	entries, err := s.feedEntries(ctx, before, limit)
	if err != nil {
		return nil, err
	}
	return s.readyVideosInOrder(ctx, entryIDs(entries))
}

// feedEntries finds the page's ids and publish times on the timeline when it can, else with an
// index-only query. A timeline that is not loaded is loaded with the newest videos first.
func (s *Service) feedEntries(ctx context.Context, before int64, limit int) ([]TimelineEntry, error) {
	if s.timeline == nil {
		return s.store.ListFeedEntries(ctx, before, limit)
	}
	entries, answer, err := s.timeline.Before(ctx, before, limit)
	if err != nil {
		s.log.WarnContext(ctx, "timeline read failed; reading SQL", "err", err)
	} else if answer == TimelineNotLoaded {
		// Concurrent first requests share one load.
		if _, err, _ := s.timelineLoads.Do("load", func() (any, error) { return nil, s.loadTimeline(ctx) }); err != nil {
			s.log.WarnContext(ctx, "timeline load failed", "err", err)
		}
	}
	if err != nil || answer != TimelineHit {
		if entries, err = s.store.ListFeedEntries(ctx, before, limit); err != nil {
			return nil, err
		}
	}
	return entries, nil
}

func entryIDs(entries []TimelineEntry) []int64 {
	out := make([]int64, len(entries))
	for i, e := range entries {
		out[i] = e.ID
	}
	return out
}

// loadTimeline fills the timeline with the newest ready videos (an index-only read).
func (s *Service) loadTimeline(ctx context.Context) error {
	newest, err := s.store.ListFeedEntries(ctx, s.now()+1, s.timeline.Size())
	if err != nil {
		return err
	}
	return s.timeline.Fill(ctx, newest)
}
