package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	kitexremote "github.com/cloudwego/kitex/pkg/remote"

	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
	recommendapi "github.com/douyin-backend/douyin/kitex_gen/recommend"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// gatedComments answers each video's count as its id times ten, recording every call; while
// gate is open (not nil) a call waits for it to close.
type gatedComments struct {
	commentapi.CommentService
	gate chan struct{}
	fail error

	mu    sync.Mutex
	calls [][]int64
}

func (g *gatedComments) MGetCommentCounts(_ context.Context, req *commentapi.MGetCommentCountsRequest) (*commentapi.MGetCommentCountsResponse, error) {
	g.mu.Lock()
	g.calls = append(g.calls, slices.Sorted(slices.Values(req.VideoIds)))
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if g.fail != nil {
		return nil, g.fail
	}
	counts := make(map[int64]int64, len(req.VideoIds))
	for _, id := range req.VideoIds {
		counts[id] = id * 10
	}
	return &commentapi.MGetCommentCountsResponse{CommentCounts: counts}, nil
}

// Callers that arrive while a call is in flight share the next one, which starts after they
// arrived; each gets the counts of its own videos.
func TestMergedCommentCountsShareTheNextCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		remote := &gatedComments{gate: make(chan struct{})}
		m := newMergedCommentCounts(remote)
		ctx := context.Background()
		ask := func(videoIDs ...int64) {
			resp, err := m.MGetCommentCounts(ctx, &commentapi.MGetCommentCountsRequest{VideoIds: videoIDs})
			if err != nil {
				t.Errorf("%v: %v", videoIDs, err)
				return
			}
			for _, id := range videoIDs {
				if resp.CommentCounts[id] != id*10 {
					t.Errorf("video %d: count %d, want %d", id, resp.CommentCounts[id], id*10)
				}
			}
		}
		var wg sync.WaitGroup
		wg.Go(func() { ask(1, 2) })
		synctest.Wait() // the first call is in flight
		for i := range int64(5) {
			wg.Go(func() { ask(2, 3+i) })
		}
		synctest.Wait() // the others wait for it
		close(remote.gate)
		wg.Wait()
		want := [][]int64{{1, 2}, {2, 3, 4, 5, 6, 7}}
		if !slices.EqualFunc(remote.calls, want, slices.Equal) {
			t.Errorf("calls %v, want %v", remote.calls, want)
		}
	})
}

// A failed merged call fails each of its callers, and more pages than one call may carry are
// split over several calls.
func TestMergedCommentCountsFailuresAndLimits(t *testing.T) {
	boom := errors.New("no instance")
	m := newMergedCommentCounts(&gatedComments{fail: boom})
	if _, err := m.MGetCommentCounts(context.Background(), &commentapi.MGetCommentCountsRequest{VideoIds: []int64{1}}); !errors.Is(err, boom) {
		t.Errorf("failed call: %v, want %v", err, boom)
	}
	remote := &gatedComments{}
	m = newMergedCommentCounts(remote)
	pages := make([][]int64, maxMergedPages+5)
	for i := range pages {
		for j := range 30 {
			pages[i] = append(pages[i], int64(i*30+j+1))
		}
	}
	results, errs := m.countsOfAll(context.Background(), pages)
	for i, page := range pages {
		if errs[i] != nil || results[i][page[29]] != page[29]*10 {
			t.Errorf("page %d: %v, count of %d %d", i, errs[i], page[29], results[i][page[29]])
		}
	}
	if len(remote.calls) != 2 || len(remote.calls[0]) != maxMergedPages*30 {
		t.Errorf("%d calls (first of %d ids), want 2, the first full", len(remote.calls), len(remote.calls[0]))
	}
}

// gatedVideos answers the newest page (videos 1 and 2 by authors 7 and 8) with work counts
// when asked, recording every call; while gate is open (not nil) a call waits for it.
type gatedVideos struct {
	videoapi.VideoService
	gate chan struct{}

	mu    sync.Mutex
	calls []*videoapi.FeedRequest
}

func (g *gatedVideos) Feed(_ context.Context, req *videoapi.FeedRequest) (*videoapi.FeedResponse, error) {
	g.mu.Lock()
	g.calls = append(g.calls, req)
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		<-gate
	}
	resp := &videoapi.FeedResponse{Videos: []*videoapi.VideoRecord{{Id: 2, AuthorId: 8}, {Id: 1, AuthorId: 7}}, NextTime: 100}
	if req.WithWorkCounts {
		resp.WorkCounts = map[int64]int64{7: 1, 8: 1}
	}
	return resp, nil
}

// Newest pages asked while one is in flight share the next call; a viewer who is an author of
// the page gets no work counts (the gateway then asks for their own count), and other pages
// are not merged.
func TestMergedNewestFeed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		remote := &gatedVideos{gate: make(chan struct{})}
		m := newMergedNewestFeed(remote)
		ctx := context.Background()
		ask := func(viewer int64, wantCounts bool) {
			resp, err := m.Feed(ctx, &videoapi.FeedRequest{Limit: 30, WithWorkCounts: true, ViewerId: viewer})
			if err != nil || len(resp.Videos) != 2 || resp.NextTime != 100 {
				t.Errorf("viewer %d: %+v, %v", viewer, resp, err)
				return
			}
			if resp.IsSetWorkCounts() != wantCounts {
				t.Errorf("viewer %d: work counts %v, want them: %v", viewer, resp.WorkCounts, wantCounts)
			}
		}
		var wg sync.WaitGroup
		wg.Go(func() { ask(1, true) })
		synctest.Wait()
		for _, viewer := range []int64{0, 2, 7, 8, 9} {
			wg.Go(func() { ask(viewer, viewer != 7 && viewer != 8) })
		}
		synctest.Wait()
		close(remote.gate)
		wg.Wait()
		if len(remote.calls) != 2 {
			t.Errorf("%d calls, want 2", len(remote.calls))
		}
		for _, c := range remote.calls {
			if c.ViewerId != 0 || !c.WithWorkCounts || c.LatestTime != 0 || c.Limit != 30 {
				t.Errorf("merged call %+v, want the anonymous newest page with work counts", c)
			}
		}
		remote.gate = nil
		if _, err := m.Feed(ctx, &videoapi.FeedRequest{LatestTime: 5, Limit: 30, ViewerId: 9}); err != nil {
			t.Fatal(err)
		}
		if last := remote.calls[len(remote.calls)-1]; last.LatestTime != 5 || last.ViewerId != 9 {
			t.Errorf("an older page was asked as %+v, want the caller's own request", last)
		}
	})
}

// recordsVideos answers MGetVideos with video id's author 100+id (video 7's author is 7), and
// each author's work count 1 when asked, recording every call; while gate is open (not nil)
// a call waits for it.
type recordsVideos struct {
	videoapi.VideoService
	gate chan struct{}
	fail error

	mu    sync.Mutex
	calls []*videoapi.MGetVideosRequest
}

func (g *recordsVideos) MGetVideos(_ context.Context, req *videoapi.MGetVideosRequest) (*videoapi.MGetVideosResponse, error) {
	g.mu.Lock()
	g.calls = append(g.calls, req)
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if g.fail != nil {
		return nil, g.fail
	}
	resp := &videoapi.MGetVideosResponse{Videos: map[int64]*videoapi.VideoRecord{}}
	if req.WithWorkCounts {
		resp.WorkCounts = map[int64]int64{}
	}
	for _, id := range req.VideoIds {
		author := 100 + id
		if id == 7 {
			author = 7
		}
		resp.Videos[id] = &videoapi.VideoRecord{Id: id, AuthorId: author}
		if req.WithWorkCounts {
			resp.WorkCounts[author] = 1
		}
	}
	return resp, nil
}

// MGetVideos calls asked while one is in flight share the next call; each caller gets its own
// videos and their authors' work counts alone, none when its viewer is an author of them (the
// gateway then asks for their own count) or when it did not ask; a failed call fails each of
// its callers.
func TestMergedVideos(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		remote := &recordsVideos{gate: make(chan struct{})}
		m := newMergedVideos(remote)
		ctx := context.Background()
		ask := func(viewer int64, withCounts bool, videoIDs ...int64) {
			resp, err := m.MGetVideos(ctx, &videoapi.MGetVideosRequest{VideoIds: videoIDs, WithWorkCounts: withCounts, ViewerId: viewer})
			if err != nil {
				t.Errorf("viewer %d: %v", viewer, err)
				return
			}
			if got := slices.Sorted(maps.Keys(resp.Videos)); !slices.Equal(got, slices.Sorted(slices.Values(videoIDs))) {
				t.Errorf("viewer %d asked for %v, got %v", viewer, videoIDs, got)
			}
			wantCounts := withCounts && !(viewer == 7 && slices.Contains(videoIDs, 7)) // the author of video 7
			if resp.IsSetWorkCounts() != wantCounts || wantCounts && len(resp.WorkCounts) != len(videoIDs) {
				t.Errorf("viewer %d (%v): work counts %v, want them: %v", viewer, videoIDs, resp.WorkCounts, wantCounts)
			}
		}
		var wg sync.WaitGroup
		wg.Go(func() { ask(1, true, 1, 2) })
		synctest.Wait() // the first call is in flight
		wg.Go(func() { ask(2, true, 2, 3) })
		wg.Go(func() { ask(7, true, 4, 7) })
		wg.Go(func() { ask(0, false, 5) })
		synctest.Wait() // the others wait for it
		close(remote.gate)
		wg.Wait()
		if len(remote.calls) != 2 || !slices.Equal(slices.Sorted(slices.Values(remote.calls[1].VideoIds)), []int64{2, 3, 4, 5, 7}) {
			t.Fatalf("calls %v, want 2, the second for videos 2, 3, 4, 5 and 7", remote.calls)
		}
		for _, c := range remote.calls {
			if c.ViewerId != 0 || !c.WithWorkCounts {
				t.Errorf("merged call %+v, want an anonymous one with work counts", c)
			}
		}
		remote.gate = nil
		ask(0, false, 9)
		if last := remote.calls[len(remote.calls)-1]; last.WithWorkCounts {
			t.Errorf("a call no caller wanted work counts of asked for them: %+v", last)
		}
		boom := errors.New("no instance")
		remote.fail = boom
		if _, err := m.MGetVideos(ctx, &videoapi.MGetVideosRequest{VideoIds: []int64{1}}); !errors.Is(err, boom) {
			t.Errorf("failed call: %v, want %v", err, boom)
		}
	})
}

// gatedRecommend answers viewer v's page as v*100+1, v*100+2, ... (limit ids, 0: 30),
// recording every call as "one v" or "many v,v,..."; while gate is open (not nil) a call
// waits for it. many, when set, answers RecommendMany instead.
type gatedRecommend struct {
	recommendapi.RecommendService
	gate chan struct{}
	many func(*recommendapi.RecommendManyRequest) (*recommendapi.RecommendManyResponse, error)

	mu    sync.Mutex
	calls []string
}

func pageOf(req *recommendapi.RecommendRequest) *recommendapi.RecommendResponse {
	n := cmp.Or(req.Limit, 30)
	page := &recommendapi.RecommendResponse{}
	for i := range int64(n) {
		page.VideoIds = append(page.VideoIds, req.ViewerId*100+i+1)
	}
	return page
}

func (g *gatedRecommend) record(call string) {
	g.mu.Lock()
	g.calls = append(g.calls, call)
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		<-gate
	}
}

// takeCalls returns the calls recorded so far and forgets them.
func (g *gatedRecommend) takeCalls() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	calls := g.calls
	g.calls = nil
	return calls
}

func (g *gatedRecommend) Recommend(_ context.Context, req *recommendapi.RecommendRequest) (*recommendapi.RecommendResponse, error) {
	g.record(fmt.Sprint("one ", req.ViewerId))
	if req.ViewerId < 0 {
		return nil, errors.New("refused by the service")
	}
	return pageOf(req), nil
}

func (g *gatedRecommend) RecommendMany(_ context.Context, req *recommendapi.RecommendManyRequest) (*recommendapi.RecommendManyResponse, error) {
	viewers := make([]string, len(req.Requests))
	for i, r := range req.Requests {
		viewers[i] = fmt.Sprint(r.ViewerId)
	}
	g.record("many " + strings.Join(viewers, ","))
	if g.many != nil {
		return g.many(req)
	}
	resp := &recommendapi.RecommendManyResponse{}
	for _, r := range req.Requests {
		resp.Pages = append(resp.Pages, pageOf(r))
	}
	return resp, nil
}

// Pages asked while one is in flight share the next call, a RecommendMany, and each caller
// gets its own viewer's page; a lone page and a request the service refuses go alone.
func TestMergedRecommendShareTheNextCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		remote := &gatedRecommend{gate: make(chan struct{})}
		m := newMergedRecommend(remote)
		ctx := context.Background()
		ask := func(viewer int64, limit int32) {
			req := &recommendapi.RecommendRequest{ViewerId: viewer, Limit: limit}
			got, err := m.Recommend(ctx, req)
			if err != nil {
				t.Errorf("viewer %d: %v", viewer, err)
				return
			}
			if want := pageOf(req).VideoIds; !slices.Equal(got.VideoIds, want) {
				t.Errorf("viewer %d got %v, want %v", viewer, got.VideoIds, want)
			}
		}
		var wg sync.WaitGroup
		wg.Go(func() { ask(1, 0) })
		synctest.Wait() // the first call is in flight
		for v := range int64(4) {
			wg.Go(func() { ask(2+v, int32(v)) })
		}
		synctest.Wait() // the others wait for it
		close(remote.gate)
		wg.Wait()
		if _, err := m.Recommend(ctx, &recommendapi.RecommendRequest{ViewerId: -1}); err == nil {
			t.Error("a negative viewer was not refused")
		}
		if len(remote.calls) != 3 || remote.calls[0] != "one 1" || !strings.HasPrefix(remote.calls[1], "many ") || remote.calls[2] != "one -1" {
			t.Fatalf("calls %q, want one 1, one many of viewers 2-5, one -1", remote.calls)
		}
		viewers := strings.Split(strings.TrimPrefix(remote.calls[1], "many "), ",")
		if slices.Sort(viewers); !slices.Equal(viewers, []string{"2", "3", "4", "5"}) {
			t.Errorf("merged call of viewers %v, want 2-5", viewers)
		}
	})
}

// A failed merged call fails each of its callers, as does an answer with a page missing; a
// recommend service without RecommendMany (older than this gateway) answers each page alone.
func TestMergedRecommendFailures(t *testing.T) {
	reqs := []*recommendapi.RecommendRequest{{ViewerId: 1}, {ViewerId: 2, Limit: 3}}
	boom := errors.New("no instance")
	for name, tc := range map[string]struct {
		many    func(*recommendapi.RecommendManyRequest) (*recommendapi.RecommendManyResponse, error)
		wantErr bool
	}{
		"failed": {many: func(*recommendapi.RecommendManyRequest) (*recommendapi.RecommendManyResponse, error) {
			return nil, boom
		}, wantErr: true},
		"page missing": {many: func(req *recommendapi.RecommendManyRequest) (*recommendapi.RecommendManyResponse, error) {
			return &recommendapi.RecommendManyResponse{Pages: []*recommendapi.RecommendResponse{pageOf(req.Requests[0])}}, nil
		}, wantErr: true},
		"older service": {many: func(*recommendapi.RecommendManyRequest) (*recommendapi.RecommendManyResponse, error) {
			return nil, kitexremote.NewTransErrorWithMsg(kitexremote.UnknownMethod, "unknown method RecommendMany")
		}},
	} {
		t.Run(name, func(t *testing.T) {
			remote := &gatedRecommend{many: tc.many}
			pages, errs := newMergedRecommend(remote).pagesOfAll(context.Background(), reqs)
			for i, req := range reqs {
				switch {
				case tc.wantErr && errs[i] == nil:
					t.Errorf("page %d: no error", i)
				case !tc.wantErr && (errs[i] != nil || !slices.Equal(pages[i].VideoIds, pageOf(req).VideoIds)):
					t.Errorf("page %d: %v, %v; want %v", i, pages[i], errs[i], pageOf(req).VideoIds)
				}
			}
			if !tc.wantErr && len(remote.calls) != 3 {
				t.Errorf("calls %q, want the merged one, then one each", remote.calls)
			}
		})
	}
}
