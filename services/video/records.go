package video

import (
	"context"
	"slices"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// MGetVideos returns the ready videos among the ids in one query; other ids are absent.
func (s *Service) MGetVideos(ctx context.Context, req *videoapi.MGetVideosRequest) (*videoapi.MGetVideosResponse, error) {
	want := ids.Unique(req.VideoIds)
	if len(want) > ids.MaxBatch {
		return nil, errs.Invalid("at most %d video_ids per request", ids.MaxBatch)
	}
	// The feed's path: records copied once, out of the cache in order, into one allocation
	// (a recommended page is 30 scattered ids, every one a lookup).
	vs, err := s.readyVideosInOrder(ctx, want)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*videoapi.VideoRecord, len(vs))
	for _, r := range s.records(vs) {
		out[r.Id] = r
	}
	resp := &videoapi.MGetVideosResponse{Videos: out}
	if req.WithWorkCounts {
		resp.WorkCounts = s.authorWorkCounts(ctx, "get videos", vs, req.ViewerId)
	}
	return resp, nil
}

// records is record for each of vs.
func (s *Service) records(vs []Video) []*videoapi.VideoRecord {
	recs := make([]videoapi.VideoRecord, len(vs)) // one allocation for every record
	out := make([]*videoapi.VideoRecord, len(vs))
	for i := range vs {
		s.fillRecord(&recs[i], &vs[i])
		out[i] = &recs[i]
	}
	return out
}

// fillRecord sets *r to v as the RPC returns it, its blob keys resolved to URLs now (signed
// URLs expire).
func (s *Service) fillRecord(r *videoapi.VideoRecord, v *Video) {
	*r = videoapi.VideoRecord{
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
}

// readyVideos is the cache-aside read of MGetVideos: cached records first, the misses from
// SQL in one query, then the ready ones written back. A failing cache costs speed only. It
// returns the ready videos among ids by id.
func (s *Service) readyVideos(ctx context.Context, ids []int64) (map[int64]Video, error) {
	var found map[int64]Video
	missing := ids
	if s.recordCache != nil {
		var err error
		if found, missing, err = s.recordCache.MGet(ctx, ids); err != nil {
			s.log.WarnContext(ctx, "video cache read failed; reading SQL", "err", err)
			found, missing = nil, ids
		}
	}
	if found == nil {
		found = make(map[int64]Video, len(ids))
	}
	for id, v := range found {
		if v.Status != statusReady {
			delete(found, id)
		}
	}
	if err := s.loadReady(ctx, missing, found); err != nil {
		return nil, err
	}
	return found, nil
}

// loadReady adds the ready videos among missing to found, from SQL in one query, and caches
// them.
func (s *Service) loadReady(ctx context.Context, missing []int64, found map[int64]Video) error {
	if len(missing) == 0 {
		return nil
	}
	loaded, err := s.store.MGetReady(ctx, missing)
	if err != nil {
		return err
	}
	if len(loaded) > 0 {
		for _, v := range loaded {
			found[v.ID] = v
		}
		if s.recordCache != nil {
			if err := s.recordCache.MSet(ctx, loaded); err != nil {
				s.log.WarnContext(ctx, "video cache fill failed", "err", err)
			}
		}
	}
	return nil
}

// orderedRecordCache is a RecordCache that reads records straight into a slice in request
// order (the embedded mode's cache.LocalRecords).
type orderedRecordCache interface {
	LookupInOrder(ids []int64, dst []Video) ([]Video, []int64)
}

// readyVideosInOrder is readyVideos in the order of ids, without the ones not ready.
func (s *Service) readyVideosInOrder(ctx context.Context, ids []int64) ([]Video, error) {
	var byID map[int64]Video
	if oc, ok := s.recordCache.(orderedRecordCache); ok {
		cached, missing := oc.LookupInOrder(ids, make([]Video, 0, len(ids)))
		if len(missing) == 0 { // the common case, without a map of the records
			return slices.DeleteFunc(cached, func(v Video) bool { return v.Status != statusReady }), nil
		}
		byID = make(map[int64]Video, len(ids))
		for _, v := range cached {
			if v.Status == statusReady {
				byID[v.ID] = v
			}
		}
		if err := s.loadReady(ctx, missing, byID); err != nil {
			return nil, err
		}
	} else {
		var err error
		if byID, err = s.readyVideos(ctx, ids); err != nil {
			return nil, err
		}
	}
	out := make([]Video, 0, len(ids))
	for _, id := range ids {
		if v, ok := byID[id]; ok {
			out = append(out, v)
		}
	}
	return out, nil
}
