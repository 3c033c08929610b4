package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	kitexremote "github.com/cloudwego/kitex/pkg/remote"

	"github.com/douyin-backend/douyin/internal/batch"
	"github.com/douyin-backend/douyin/internal/ids"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
	recommendapi "github.com/douyin-backend/douyin/kitex_gen/recommend"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
	"github.com/douyin-backend/douyin/services/recommend"
)

// Merged reads: a remote service whose concurrent identical-kind reads share one call. A call
// waits only while another is in flight, and is answered by one that starts after it
// arrived, so a caller still sees every write committed before it asked. The shared call is
// traced under the request that leads it; it uses the service's existing methods, so a
// gateway with merged reads works in front of any version of the services.

// mergedCommentCounts is a remote comment service whose concurrent MGetCommentCounts calls
// share one call: every page asks for its videos' counts, and under load many pages (the
// newest feed page above all) ask at once, mostly for the same videos.
type mergedCommentCounts struct {
	commentapi.CommentService
	counts *batch.Batcher[[]int64, map[int64]int64]
}

// maxMergedPages bounds the callers of one merged call: full feed pages (30 videos) that
// fit into one call's ids.MaxBatch.
const maxMergedPages = ids.MaxBatch / 30

func newMergedCommentCounts(remote commentapi.CommentService) *mergedCommentCounts {
	m := &mergedCommentCounts{CommentService: remote}
	m.counts = batch.New(maxMergedPages, m.countsOfAll)
	return m
}

// MGetCommentCounts answers from the next merged call. The map is shared among the
// callers of that call: they only read it.
func (m *mergedCommentCounts) MGetCommentCounts(ctx context.Context, req *commentapi.MGetCommentCountsRequest) (*commentapi.MGetCommentCountsResponse, error) {
	if len(req.VideoIds) > ids.MaxBatch {
		return m.CommentService.MGetCommentCounts(ctx, req) // the service's own refusal
	}
	counts, err := m.counts.Do(ctx, req.VideoIds)
	if err != nil {
		return nil, err
	}
	return &commentapi.MGetCommentCountsResponse{CommentCounts: counts}, nil
}

// countsOfAll asks for the counts of every caller's videos, in as few calls as ids.MaxBatch
// allows.
func (m *mergedCommentCounts) countsOfAll(ctx context.Context, asks [][]int64) ([]map[int64]int64, []error) {
	results := make([]map[int64]int64, len(asks))
	errs := make([]error, len(asks))
	inUnions(len(asks), func(i int) []int64 { return asks[i] }, func(first, last int, union []int64) {
		resp, err := m.CommentService.MGetCommentCounts(ctx, &commentapi.MGetCommentCountsRequest{VideoIds: union})
		for i := first; i < last; i++ {
			if err != nil {
				errs[i] = err
			} else {
				results[i] = resp.CommentCounts
			}
		}
	})
	return results, errs
}

// inUnions splits n callers, in order, into runs whose ids (idsOf; each caller's at most
// ids.MaxBatch) fit together into one call, and calls call with each run's bounds and the
// union of its ids.
func inUnions(n int, idsOf func(i int) []int64, call func(first, last int, union []int64)) {
	for first := 0; first < n; {
		union := make([]int64, 0, ids.MaxBatch)
		last := first
		for last < n && len(union)+len(idsOf(last)) <= ids.MaxBatch {
			union = append(union, idsOf(last)...)
			last++
		}
		call(first, last, ids.Unique(union))
		first = last
	}
}

// mergedNewestFeed is a remote video service whose concurrent Feed calls for the newest page
// share one call: it is the page most viewers open, the same for all of them.
type mergedNewestFeed struct {
	videoapi.VideoService
	newest *batch.Batcher[*videoapi.FeedRequest, *videoapi.FeedResponse]
}

// maxMergedFeeds bounds the callers answered by one merged call (they all get the same page).
const maxMergedFeeds = 256

func newMergedNewestFeed(remote videoapi.VideoService) *mergedNewestFeed {
	m := &mergedNewestFeed{VideoService: remote}
	m.newest = batch.New(maxMergedFeeds, m.newestPages)
	return m
}

// Feed answers a newest page from the next merged call, any other page with its own call.
// The records and counts are shared among the callers of that call: they only read them.
func (m *mergedNewestFeed) Feed(ctx context.Context, req *videoapi.FeedRequest) (*videoapi.FeedResponse, error) {
	if req.LatestTime != 0 {
		return m.VideoService.Feed(ctx, req)
	}
	return m.newest.Do(ctx, req)
}

// newestPages makes one anonymous Feed call per page size asked; a caller whose viewer is an
// author of the page gets no work counts (their own count is one only they see): the caller
// then asks MGetWorkCounts, as of a service that does not answer them.
func (m *mergedNewestFeed) newestPages(ctx context.Context, reqs []*videoapi.FeedRequest) ([]*videoapi.FeedResponse, []error) {
	results := make([]*videoapi.FeedResponse, len(reqs))
	errs := make([]error, len(reqs))
	pages := map[int32]*videoapi.FeedResponse{}
	pageErrs := map[int32]error{}
	for i, req := range reqs {
		page, done := pages[req.Limit]
		if err, failed := pageErrs[req.Limit]; failed {
			errs[i] = err
			continue
		}
		if !done {
			var err error
			page, err = m.VideoService.Feed(ctx, &videoapi.FeedRequest{Limit: req.Limit, WithWorkCounts: true})
			if err != nil {
				pageErrs[req.Limit], errs[i] = err, err
				continue
			}
			pages[req.Limit] = page
		}
		own := *page
		if !req.WithWorkCounts || slices.ContainsFunc(page.Videos, func(v *videoapi.VideoRecord) bool { return v.AuthorId == req.ViewerId }) {
			own.WorkCounts = nil
		}
		results[i] = &own
	}
	return results, errs
}

// mergedVideos is a remote video service whose concurrent MGetVideos calls share one call: a
// recommended page is 30 scattered videos of its own, and under load many pages ask at once.
// Every field of the request takes part: a field added to it must be handled here.
type mergedVideos struct {
	videoapi.VideoService
	records *batch.Batcher[*videoapi.MGetVideosRequest, *videoapi.MGetVideosResponse]
}

func newMergedVideos(remote videoapi.VideoService) *mergedVideos {
	m := &mergedVideos{VideoService: remote}
	m.records = batch.New(maxMergedPages, m.recordsOfAll)
	return m
}

// MGetVideos answers from the next merged call, with the caller's own videos alone. The
// records are shared among the callers of that call: they only read them.
func (m *mergedVideos) MGetVideos(ctx context.Context, req *videoapi.MGetVideosRequest) (*videoapi.MGetVideosResponse, error) {
	if len(req.VideoIds) > ids.MaxBatch {
		return m.VideoService.MGetVideos(ctx, req) // the service's own refusal
	}
	return m.records.Do(ctx, req)
}

// recordsOfAll asks for every caller's videos, with their authors' work counts as an
// anonymous viewer sees them when a caller wants them, in as few calls as ids.MaxBatch allows.
func (m *mergedVideos) recordsOfAll(ctx context.Context, reqs []*videoapi.MGetVideosRequest) ([]*videoapi.MGetVideosResponse, []error) {
	results := make([]*videoapi.MGetVideosResponse, len(reqs))
	errs := make([]error, len(reqs))
	inUnions(len(reqs), func(i int) []int64 { return reqs[i].VideoIds }, func(first, last int, union []int64) {
		withCounts := slices.ContainsFunc(reqs[first:last], (*videoapi.MGetVideosRequest).GetWithWorkCounts)
		all, err := m.VideoService.MGetVideos(ctx, &videoapi.MGetVideosRequest{VideoIds: union, WithWorkCounts: withCounts})
		for i := first; i < last; i++ {
			if err != nil {
				errs[i] = err
			} else {
				results[i] = shareOf(reqs[i], all)
			}
		}
	})
	return results, errs
}

// shareOf is the part of a merged answer all that req asked for. A caller whose viewer is an
// author of its videos gets no work counts (their own count is one only they see): it then
// asks MGetWorkCounts, as of a service that does not answer them.
func shareOf(req *videoapi.MGetVideosRequest, all *videoapi.MGetVideosResponse) *videoapi.MGetVideosResponse {
	share := &videoapi.MGetVideosResponse{Videos: make(map[int64]*videoapi.VideoRecord, len(req.VideoIds))}
	withCounts := req.WithWorkCounts && all.IsSetWorkCounts()
	var counts map[int64]int64
	if withCounts {
		counts = make(map[int64]int64, len(req.VideoIds))
	}
	for _, id := range req.VideoIds {
		r, ok := all.Videos[id]
		if !ok {
			continue
		}
		share.Videos[id] = r
		if req.ViewerId != 0 && r.AuthorId == req.ViewerId {
			withCounts = false
		}
		if n, ok := all.WorkCounts[r.AuthorId]; ok && withCounts {
			counts[r.AuthorId] = n
		}
	}
	if withCounts {
		share.WorkCounts = counts
	}
	return share
}

// mergedRecommend is a remote recommend service whose concurrent Recommend calls share one
// RecommendMany call: every recommended page asks for its own viewer's ids, so unlike the
// reads above nothing is shared but the call, whose fixed cost (two processes' RPC work and
// the seen store's round trip) is most of a page's. Pages are not cached: each caller's page
// is cut by a call that starts after it asked.
type mergedRecommend struct {
	recommendapi.RecommendService
	pages *batch.Batcher[*recommendapi.RecommendRequest, *recommendapi.RecommendResponse]
}

func newMergedRecommend(remote recommendapi.RecommendService) *mergedRecommend {
	m := &mergedRecommend{RecommendService: remote}
	m.pages = batch.New(recommend.MaxManyPages, m.pagesOfAll)
	return m
}

// Recommend answers from the next merged call; a request the service would refuse is sent
// alone, so that the refusal is its own.
func (m *mergedRecommend) Recommend(ctx context.Context, req *recommendapi.RecommendRequest) (*recommendapi.RecommendResponse, error) {
	if _, err := recommend.PageLimit(req); err != nil {
		return m.RecommendService.Recommend(ctx, req)
	}
	return m.pages.Do(ctx, req)
}

// pagesOfAll cuts every caller's page: a lone caller's with Recommend, several in one
// RecommendMany call, or, from a recommend service older than RecommendMany, each with its
// own Recommend call, concurrently.
func (m *mergedRecommend) pagesOfAll(ctx context.Context, reqs []*recommendapi.RecommendRequest) ([]*recommendapi.RecommendResponse, []error) {
	pages := make([]*recommendapi.RecommendResponse, len(reqs))
	errs := make([]error, len(reqs))
	if len(reqs) == 1 {
		pages[0], errs[0] = m.RecommendService.Recommend(ctx, reqs[0])
		return pages, errs
	}
	resp, err := m.RecommendService.RecommendMany(ctx, &recommendapi.RecommendManyRequest{Requests: reqs})
	switch {
	case isUnknownMethod(err):
		var wg sync.WaitGroup
		for i, req := range reqs {
			wg.Go(func() { pages[i], errs[i] = m.RecommendService.Recommend(ctx, req) })
		}
		wg.Wait()
	case err == nil && len(resp.Pages) != len(reqs):
		err = fmt.Errorf("recommend many: %d pages for %d requests", len(resp.Pages), len(reqs))
		fallthrough
	case err != nil:
		for i := range errs {
			errs[i] = err
		}
	default:
		copy(pages, resp.Pages)
	}
	return pages, errs
}

// isUnknownMethod reports whether err is a Kitex server's refusal of a method it does not
// have (a service older than this gateway): UnknownService when the request names no service
// (Kitex then looks the method up in every service it serves), UnknownMethod when it does.
func isUnknownMethod(err error) bool {
	var te *kitexremote.TransError
	return errors.As(err, &te) && (te.TypeID() == kitexremote.UnknownMethod || te.TypeID() == kitexremote.UnknownService)
}
