package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/common/ut"

	"github.com/douyin-backend/douyin/internal/auth"
	"github.com/douyin-backend/douyin/internal/mq"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
	"github.com/douyin-backend/douyin/kitex_gen/event"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
	recommendapi "github.com/douyin-backend/douyin/kitex_gen/recommend"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// world is every service of a feed page over one shared state, so that a gateway splicing
// cards and one assembling every page can be compared on the same data.
type world struct {
	mu       sync.Mutex
	users    map[int64]*userapi.UserProfile
	videos   map[int64]*videoapi.VideoRecord // ready ones
	likes    map[[2]int64]bool               // user, video
	follows  map[[2]int64]bool               // follower, followee
	comments map[int64]int64                 // video → count
	unready  map[int64]int64                 // author → processing videos (own count only)
	ranked   map[int64][]int64               // viewer → the recommender's ids
	// videoReads counts MGetVideos calls, flagReads LikedAmong and FollowingAmong calls.
	videoReads, flagReads int
	// flagsDown fails LikedAmong and FollowingAmong.
	flagsDown bool
	// texts are names and titles that need escaping, HTML escaping, or are not ASCII.
	texts []string
}

type (
	worldVideos struct {
		videoapi.VideoService
		w *world
	}
	worldUsers struct {
		userapi.UserService
		w *world
	}
	worldFavorites struct {
		favoriteapi.FavoriteService
		w *world
	}
	worldComments struct {
		commentapi.CommentService
		w *world
	}
	worldRelations struct {
		relationapi.RelationService
		w *world
	}
	worldRecommend struct {
		recommendapi.RecommendService
		w *world
	}
)

func (s worldRecommend) Recommend(_ context.Context, req *recommendapi.RecommendRequest) (*recommendapi.RecommendResponse, error) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	return &recommendapi.RecommendResponse{VideoIds: s.w.ranked[req.ViewerId]}, nil
}

func (s worldVideos) Feed(_ context.Context, req *videoapi.FeedRequest) (*videoapi.FeedResponse, error) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	var page []*videoapi.VideoRecord
	for _, v := range s.w.videos {
		if req.LatestTime == 0 || v.CreatedAt < req.LatestTime {
			page = append(page, v)
		}
	}
	slices.SortFunc(page, func(a, b *videoapi.VideoRecord) int { return int(b.CreatedAt - a.CreatedAt) })
	page = page[:min(len(page), int(req.Limit))]
	resp := &videoapi.FeedResponse{Videos: page}
	if len(page) > 0 {
		resp.NextTime = page[len(page)-1].CreatedAt
	}
	return resp, nil
}

// FeedIDs is Feed's page without the records, as the video service answers it in process.
func (s worldVideos) FeedIDs(ctx context.Context, latestTime int64, limit int32) ([]int64, int64, error) {
	page, err := s.Feed(ctx, &videoapi.FeedRequest{LatestTime: latestTime, Limit: limit})
	if err != nil || len(page.Videos) == 0 {
		return nil, 0, err
	}
	out := make([]int64, len(page.Videos))
	for i, v := range page.Videos {
		out[i] = v.Id
	}
	return out, page.NextTime, nil
}

func (s worldVideos) MGetVideos(_ context.Context, req *videoapi.MGetVideosRequest) (*videoapi.MGetVideosResponse, error) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	s.w.videoReads++
	resp := &videoapi.MGetVideosResponse{Videos: map[int64]*videoapi.VideoRecord{}}
	var authors []int64
	for _, id := range req.VideoIds {
		if v, ok := s.w.videos[id]; ok {
			resp.Videos[id] = v
			authors = append(authors, v.AuthorId)
		}
	}
	if req.WithWorkCounts {
		resp.WorkCounts = s.workCounts(authors, req.ViewerId)
	}
	return resp, nil
}

func (s worldVideos) MGetWorkCounts(_ context.Context, req *videoapi.MGetWorkCountsRequest) (*videoapi.MGetWorkCountsResponse, error) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	return &videoapi.MGetWorkCountsResponse{WorkCounts: s.workCounts(req.UserIds, req.ViewerId)}, nil
}

// workCounts counts the ready videos of users, and viewer's processing ones for viewer.
func (s worldVideos) workCounts(users []int64, viewer int64) map[int64]int64 {
	out := map[int64]int64{}
	for _, id := range users {
		out[id] = 0
		for _, v := range s.w.videos {
			if v.AuthorId == id {
				out[id]++
			}
		}
		if id == viewer {
			out[id] += s.w.unready[id]
		}
	}
	return out
}

func (s worldUsers) MGetUsers(_ context.Context, req *userapi.MGetUsersRequest) (*userapi.MGetUsersResponse, error) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	out := map[int64]*userapi.UserProfile{}
	for _, id := range req.UserIds {
		if u, ok := s.w.users[id]; ok {
			out[id] = u
		}
	}
	return &userapi.MGetUsersResponse{Users: out}, nil
}

func (s worldFavorites) FavoriteAction(_ context.Context, req *favoriteapi.FavoriteActionRequest) (*favoriteapi.FavoriteActionResponse, error) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	s.w.likes[[2]int64{req.UserId, req.VideoId}] = req.ActionType == favoriteapi.FavoriteActionType_Like
	return &favoriteapi.FavoriteActionResponse{}, nil
}

func (s worldFavorites) MGetVideoFavorites(_ context.Context, req *favoriteapi.MGetVideoFavoritesRequest) (*favoriteapi.MGetVideoFavoritesResponse, error) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	out := map[int64]*favoriteapi.VideoFavoriteInfo{}
	for _, id := range req.VideoIds {
		info := &favoriteapi.VideoFavoriteInfo{IsFavorite: s.w.likes[[2]int64{req.ViewerId, id}]}
		for pair, liked := range s.w.likes {
			if liked && pair[1] == id {
				info.FavoriteCount++
			}
		}
		out[id] = info
	}
	return &favoriteapi.MGetVideoFavoritesResponse{Videos: out}, nil
}

// LikedAmong is what favorite.Service answers in process beside its RPCs.
func (s worldFavorites) LikedAmong(_ context.Context, viewer int64, videoIDs []int64, liked []bool) error {
	return s.w.readFlags("favorites", videoIDs, liked, func(id int64) bool { return s.w.likes[[2]int64{viewer, id}] })
}

// readFlags answers an in-process flags read of service: out[i] is has(ids[i]), every flag
// false when the flags are down.
func (w *world) readFlags(service string, ids []int64, out []bool, has func(int64) bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flagReads++
	clear(out[:len(ids)])
	if w.flagsDown {
		return errors.New(service + " down")
	}
	for i, id := range ids {
		out[i] = has(id)
	}
	return nil
}

func (s worldFavorites) MGetUserFavoriteStats(_ context.Context, req *favoriteapi.MGetUserFavoriteStatsRequest) (*favoriteapi.MGetUserFavoriteStatsResponse, error) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	out := map[int64]*favoriteapi.UserFavoriteStats{}
	for _, id := range req.UserIds {
		stats := &favoriteapi.UserFavoriteStats{}
		for pair, liked := range s.w.likes {
			if !liked {
				continue
			}
			if pair[0] == id {
				stats.FavoriteCount++
			}
			if v := s.w.videos[pair[1]]; v != nil && v.AuthorId == id {
				stats.TotalFavorited++
			}
		}
		out[id] = stats
	}
	return &favoriteapi.MGetUserFavoriteStatsResponse{Users: out}, nil
}

func (s worldComments) PostComment(_ context.Context, req *commentapi.PostCommentRequest) (*commentapi.PostCommentResponse, error) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	s.w.comments[req.VideoId]++
	return &commentapi.PostCommentResponse{Comment: &commentapi.CommentRecord{Id: s.w.comments[req.VideoId], VideoId: req.VideoId, UserId: req.UserId, Content: req.Content}}, nil
}

func (s worldComments) DeleteComment(_ context.Context, req *commentapi.DeleteCommentRequest) (*commentapi.DeleteCommentResponse, error) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	s.w.comments[req.VideoId]--
	return &commentapi.DeleteCommentResponse{}, nil
}

func (s worldComments) MGetCommentCounts(_ context.Context, req *commentapi.MGetCommentCountsRequest) (*commentapi.MGetCommentCountsResponse, error) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	out := map[int64]int64{}
	for _, id := range req.VideoIds {
		out[id] = s.w.comments[id]
	}
	return &commentapi.MGetCommentCountsResponse{CommentCounts: out}, nil
}

func (s worldRelations) RelationAction(_ context.Context, req *relationapi.RelationActionRequest) (*relationapi.RelationActionResponse, error) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	s.w.follows[[2]int64{req.UserId, req.ToUserId}] = req.ActionType == relationapi.RelationActionType_Follow
	return &relationapi.RelationActionResponse{}, nil
}

func (s worldRelations) MGetRelations(_ context.Context, req *relationapi.MGetRelationsRequest) (*relationapi.MGetRelationsResponse, error) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	out := map[int64]*relationapi.UserRelationInfo{}
	for _, id := range req.UserIds {
		info := &relationapi.UserRelationInfo{IsFollow: s.w.follows[[2]int64{req.ViewerId, id}]}
		for pair, on := range s.w.follows {
			if on && pair[0] == id {
				info.FollowCount++
			}
			if on && pair[1] == id {
				info.FollowerCount++
			}
		}
		out[id] = info
	}
	return &relationapi.MGetRelationsResponse{Users: out}, nil
}

// FollowingAmong is what relation.Service answers in process beside its RPCs.
func (s worldRelations) FollowingAmong(_ context.Context, viewer int64, userIDs []int64, following []bool) error {
	return s.w.readFlags("relations", userIDs, following, func(id int64) bool { return s.w.follows[[2]int64{viewer, id}] })
}

func newWorld() *world {
	w := &world{texts: []string{`Zoë "quoted" \ back`, "<b>&amp;</b> \u2028line\u2029", "抖音 🎬 video", "plain", "tab\there\x01"}, users: map[int64]*userapi.UserProfile{}, videos: map[int64]*videoapi.VideoRecord{},
		likes: map[[2]int64]bool{}, follows: map[[2]int64]bool{}, comments: map[int64]int64{}, unready: map[int64]int64{1: 1}}
	for id := int64(1); id <= 5; id++ {
		w.users[id] = &userapi.UserProfile{Id: id, Name: w.texts[id-1], Avatar: "/static/avatar.png", Signature: w.texts[(id+1)%5]}
	}
	for id := int64(10); id < 50; id++ {
		w.addVideo(id, 1+id%5)
	}
	// Each logged-in viewer's page holds two videos of their own (authors are 1+id%5) and
	// liked ones; viewer 4's is empty. The oldest, 12, is viewer 3's own; 99 is gone (viewer
	// 3's page only: every one of their pages asks for it).
	logged := []int64{45, 44, 30, 41, 27, 13, 38, 12, 16}
	w.ranked = map[int64][]int64{0: {45, 12, 33, 20, 41}, 1: logged, 2: logged, 3: append(slices.Clone(logged), 99)}
	for _, like := range [][2]int64{{2, 44}, {1, 13}, {3, 38}, {1, 41}} {
		w.likes[like] = true
	}
	return w
}

func (w *world) addVideo(id, author int64) {
	w.videos[id] = &videoapi.VideoRecord{Id: id, AuthorId: author, Title: w.texts[id%5], CreatedAt: id * 1000,
		PlayUrl: "/media/v" + strconv.FormatInt(id, 10) + ".mp4", CoverUrl: "/media/c.jpg", Status: videoapi.VideoStatus_Ready,
		Renditions: nil}
}

func (w *world) deps(tokens *auth.Tokens) Deps {
	return Deps{Videos: worldVideos{w: w}, Users: worldUsers{w: w}, Favorites: worldFavorites{w: w}, Comments: worldComments{w: w},
		Relations: worldRelations{w: w}, Recommend: worldRecommend{w: w}, Tokens: tokens, Logger: slog.New(slog.DiscardHandler), InProcess: true}
}

// TestCardPagesEqualFullAssembly: after every kind of write through the card gateway, its
// logged-in feed pages, anonymous pages past the first, and recommended pages (anonymous and
// logged in, with the viewer's own and liked videos ranked) are byte for byte those of a
// gateway assembling every page, the viewer's flags read in process (LikedAmong,
// FollowingAmong).
func TestCardPagesEqualFullAssembly(t *testing.T) {
	w := newWorld()
	tokens := auth.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour)
	cfg := testConfig(time.Minute)
	events := mq.NewMemory()
	cardDeps := w.deps(tokens)
	cardDeps.WritesHere, cardDeps.Events = true, events
	withCards, err := New(cfg, cardDeps)
	if err != nil {
		t.Fatal(err)
	}
	full, err := New(cfg, w.deps(tokens))
	if err != nil {
		t.Fatal(err)
	}
	token := map[int64]string{}
	for id := int64(1); id <= 4; id++ {
		if token[id], err = tokens.Issue(id); err != nil {
			t.Fatal(err)
		}
	}
	get := func(g *Gateway, path string) string {
		resp := ut.PerformRequest(g.server.Engine, http.MethodGet, path, nil).Result()
		if resp.StatusCode() != http.StatusOK {
			t.Fatalf("GET %s: HTTP %d %s", path, resp.StatusCode(), resp.Body())
		}
		return string(resp.Body())
	}
	post := func(path string) {
		resp := ut.PerformRequest(withCards.server.Engine, http.MethodPost, path, nil).Result()
		var env struct {
			StatusCode int `json:"status_code"`
		}
		if err := json.Unmarshal(resp.Body(), &env); err != nil || env.StatusCode != 0 {
			t.Fatalf("POST %s: %s", path, resp.Body())
		}
	}
	compare := func(after string) {
		t.Helper()
		var paths []string
		// Recommended pages first: their misses read the records the feed's would not.
		for viewer := int64(0); viewer <= 4; viewer++ {
			paths = append(paths, "/douyin/feed/recommend/?token="+token[viewer])
		}
		for viewer := int64(0); viewer <= 3; viewer++ {
			for _, cursor := range []string{"", "&latest_time=40000", "&latest_time=25000"} {
				if viewer > 0 || cursor != "" { // the anonymous first page is cached apart
					paths = append(paths, "/douyin/feed/?token="+token[viewer]+cursor)
				}
			}
		}
		for _, path := range paths {
			for range 2 { // a miss builds cards, a hit splices them
				if got, want := get(withCards, path), get(full, path); got != want {
					t.Fatalf("after %s, %s:\ncards %s\nfull  %s", after, path, got, want)
				}
			}
		}
	}
	compare("nothing")
	if n := len(withCards.cards.cards); n == 0 {
		t.Fatal("no card kept: the pages were not spliced")
	}
	// With its cards kept, a recommended page reads no record, not even for next_time.
	w.mu.Lock()
	reads := w.videoReads
	w.mu.Unlock()
	for viewer := int64(0); viewer <= 2; viewer++ {
		get(withCards, "/douyin/feed/recommend/?token="+token[viewer])
	}
	w.mu.Lock()
	if w.videoReads != reads {
		t.Errorf("recommended pages with their cards kept read videos %d times", w.videoReads-reads)
	}
	reads = w.videoReads
	w.mu.Unlock()
	// A gone video is looked for once and left out, not a reason to assemble the page in full.
	get(withCards, "/douyin/feed/recommend/?token="+token[3])
	w.mu.Lock()
	if w.videoReads != reads+1 {
		t.Errorf("a recommended page with a gone video read videos %d times, want 1", w.videoReads-reads)
	}
	w.mu.Unlock()
	writes := []struct {
		name, path string
	}{
		{"like", "/douyin/favorite/action/?action_type=1&video_id=45&token=" + token[2]},
		{"like of the viewer's own video", "/douyin/favorite/action/?action_type=1&video_id=45&token=" + token[1]},
		{"unlike", "/douyin/favorite/action/?action_type=2&video_id=45&token=" + token[2]},
		{"comment", "/douyin/comment/action/?action_type=1&video_id=44&comment_text=hi&token=" + token[3]},
		{"comment deleted", "/douyin/comment/action/?action_type=2&video_id=44&comment_id=1&token=" + token[3]},
		{"follow", "/douyin/relation/action/?action_type=1&to_user_id=4&token=" + token[1]},
		{"unfollow", "/douyin/relation/action/?action_type=2&to_user_id=4&token=" + token[1]},
		{"follow back", "/douyin/relation/action/?action_type=1&to_user_id=2&token=" + token[3]},
	}
	for _, write := range writes {
		post(write.path)
		compare(write.name)
	}
	// An upload turns ready in the media worker: the video service tells the activity stream.
	w.mu.Lock()
	w.addVideo(60, 3)
	w.mu.Unlock()
	body := fmt.Sprintf(`{"kind":%q,"video_id":60,"author_id":3,"at":60000}`, event.ActivityVideoReady)
	if err := events.Publish(context.Background(), mq.TopicActivity, "60", []byte(body)); err != nil {
		t.Fatal(err)
	}
	compare("a video turned ready")
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.flagReads == 0 {
		t.Error("the viewer's flags were not read in process")
	}
}

// TestCardsNeedTheServicesInProcess: a gateway whose writes all pass through it splices card
// pages from calls only the services in its process answer; behind RPCs, New refuses.
func TestCardsNeedTheServicesInProcess(t *testing.T) {
	w := newWorld()
	tokens := auth.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour)
	cfg := testConfig(0)
	for name, hide := range map[string]func(*Deps){
		"video":    func(d *Deps) { d.Videos = rpcOnlyVideos{d.Videos} },
		"favorite": func(d *Deps) { d.Favorites = rpcOnlyFavorites{d.Favorites} },
		"relation": func(d *Deps) { d.Relations = rpcOnlyRelations{d.Relations} },
	} {
		deps := w.deps(tokens)
		deps.WritesHere, deps.Events = true, mq.NewMemory()
		hide(&deps)
		if _, err := New(cfg, deps); err == nil {
			t.Errorf("New with cards and the %s service behind RPCs: no error", name)
		}
	}
}

// rpcOnlyVideos, rpcOnlyFavorites and rpcOnlyRelations hide the in-process calls: services
// behind RPCs.
type (
	rpcOnlyVideos    struct{ videoapi.VideoService }
	rpcOnlyFavorites struct{ favoriteapi.FavoriteService }
	rpcOnlyRelations struct{ relationapi.RelationService }
)

// TestCardPageWithoutFlags: when the in-process flag reads fail, a card page is served with
// every is_favorite and is_follow false, counted as degraded in both parts.
func TestCardPageWithoutFlags(t *testing.T) {
	w := newWorld()
	const viewer = 6 // no video of their own: every video on the page is a card
	w.flagsDown = true
	w.likes[[2]int64{viewer, 45}], w.likes[[2]int64{viewer, 30}] = true, true
	w.follows[[2]int64{viewer, 1}] = true
	w.ranked[viewer] = []int64{45, 44, 30}
	tokens := auth.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour)
	token, err := tokens.Issue(viewer)
	if err != nil {
		t.Fatal(err)
	}
	deps := w.deps(tokens)
	metrics := &degradations{}
	deps.WritesHere, deps.Events, deps.Metrics = true, mq.NewMemory(), metrics
	g, err := New(testConfig(time.Minute), deps)
	if err != nil {
		t.Fatal(err)
	}
	for route, query := range map[string]string{"/douyin/feed/": "?latest_time=46000&token=", "/douyin/feed/recommend/": "?token="} {
		metrics.parts = nil
		resp := ut.PerformRequest(g.server.Engine, http.MethodGet, route+query+token, nil).Result()
		var page struct {
			StatusCode int `json:"status_code"`
			VideoList  []struct {
				IsFavorite bool `json:"is_favorite"`
				Author     struct {
					IsFollow bool `json:"is_follow"`
				} `json:"author"`
			} `json:"video_list"`
		}
		if err := json.Unmarshal(resp.Body(), &page); err != nil || resp.StatusCode() != http.StatusOK || page.StatusCode != 0 || len(page.VideoList) == 0 {
			t.Fatalf("%s with the flags down: HTTP %d %s", route, resp.StatusCode(), resp.Body())
		}
		for _, v := range page.VideoList {
			if v.IsFavorite || v.Author.IsFollow {
				t.Fatalf("%s with the flags down shows a flag: %s", route, resp.Body())
			}
		}
		if want := []string{route + " " + partVideoLikes, route + " " + partRelations}; !slices.Equal(metrics.parts, want) {
			t.Errorf("%s with the flags down counted degraded %v, want %v", route, metrics.parts, want)
		}
	}
	if w.flagReads != 4 {
		t.Fatalf("the flags were read in process %d times, want 4", w.flagReads)
	}
}

// TestCardCacheRace: reads, builds and writes at once keep the cache consistent (go test -race).
func TestCardCacheRace(t *testing.T) {
	cc := newCardCache(defaultCardCacheEntries)
	var wg sync.WaitGroup
	for worker := range 4 {
		wg.Go(func() {
			out := make([]*card, 8)
			ids := []int64{1, 2, 3, 4, 5, 6, 7, 8}
			for i := range 2000 {
				built := cc.begin()
				cc.keep([]*card{{urlBase: "b", built: built, video: int64(i%8 + 1), author: int64(worker)}})
				cc.lookup("b", ids, out)
				if i%7 == 0 {
					cc.wrote(int64(i%8+1), true, int64(worker))
				}
			}
		})
	}
	wg.Wait()
	// A card built before a write to its author is not served; one built after is.
	before := cc.begin()
	cc.wrote(0, false, 99)
	cc.keep([]*card{{urlBase: "b", built: before, video: 100, author: 99}})
	out := make([]*card, 1)
	if cc.lookup("b", []int64{100}, out); out[0] != nil {
		t.Fatal("a card built before its author's write was served")
	}
	cc.keep([]*card{{urlBase: "b", built: cc.begin(), video: 100, author: 99}})
	if cc.lookup("b", []int64{100}, out); out[0] == nil {
		t.Fatal("a card built after the last write was not served")
	}
	if cc.lookup("other", []int64{100}, out); out[0] != nil {
		t.Fatal("a card of another URL base was served")
	}
	// A like reaches the author's other cards through the video's author.
	cc.keep([]*card{{urlBase: "b", built: cc.begin(), video: 101, author: 99}})
	cc.wrote(100, true, 5)
	if cc.lookup("b", []int64{101}, out); out[0] != nil {
		t.Fatal("a like left the author's other card live")
	}
	// A card whose video was written while it was built is not kept; a write to another user
	// leaves a card live.
	during := cc.begin()
	cc.wrote(102, false)
	cc.keep([]*card{{urlBase: "b", built: during, video: 102, author: 98}})
	if cc.lookup("b", []int64{102}, out); out[0] != nil {
		t.Fatal("a card built before its video's write was served")
	}
	cc.keep([]*card{{urlBase: "b", built: cc.begin(), video: 102, author: 98}})
	cc.wrote(0, false, 97)
	if cc.lookup("b", []int64{102}, out); out[0] == nil {
		t.Fatal("a write to another user made a card stale")
	}
	// Clearing the write maps to bound them makes every card built so far stale.
	cc.mu.Lock()
	cc.forgetWrites()
	cc.mu.Unlock()
	if cc.lookup("b", []int64{102}, out); out[0] != nil {
		t.Fatal("a card built before the write maps were cleared was served")
	}
}

// BenchmarkFeedPage: a logged-in first page and a recommended page spliced from cards against
// the full assembly, on in-process fakes (allocations are the figure: the fakes' own work is
// not the services').
func BenchmarkFeedPage(b *testing.B) {
	w := newWorld()
	tokens := auth.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour)
	const viewer = 6 // no video of their own on the page, none liked
	token, err := tokens.Issue(viewer)
	if err != nil {
		b.Fatal(err)
	}
	for i := range int64(30) { // scattered over every video
		w.ranked[viewer] = append(w.ranked[viewer], 10+i*7%40)
	}
	cfg := testConfig(time.Minute)
	for _, page := range []string{"feed", "recommend"} {
		path := map[string]string{"feed": "/douyin/feed/?token=", "recommend": "/douyin/feed/recommend/?token="}[page] + token
		for _, cards := range []bool{true, false} {
			b.Run(page+"-"+map[bool]string{true: "cards", false: "full"}[cards], func(b *testing.B) {
				deps := w.deps(tokens)
				if cards {
					deps.WritesHere, deps.Events = true, mq.NewMemory()
				}
				g, err := New(cfg, deps)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if resp := ut.PerformRequest(g.server.Engine, http.MethodGet, path, nil).Result(); resp.StatusCode() != http.StatusOK {
						b.Fatalf("HTTP %d", resp.StatusCode())
					}
				}
			})
		}
	}
}

// BenchmarkCardLookup: a page's 30 cards checked out of a cache of 10 000 by 1 000 authors.
func BenchmarkCardLookup(b *testing.B) {
	cc := newCardCache(defaultCardCacheEntries)
	built := cc.begin()
	cards := make([]*card, 10000)
	for i := range cards {
		cards[i] = &card{urlBase: "http://127.0.0.1:8080", built: built, video: int64(i + 1), author: int64(i%1000 + 1)}
	}
	cc.keep(cards)
	ids := make([]int64, 30)
	for i := range ids {
		ids[i] = int64(i*331%10000 + 1)
	}
	out := make([]*card, len(ids))
	base := string([]byte("http://127.0.0.1:8080")) // a request's own copy
	b.ReportAllocs()
	for b.Loop() {
		cc.lookup(base, ids, out)
	}
	if slices.Contains(out, nil) {
		b.Fatal("a live card was not found")
	}
}

// TestCardLookupByBase: a card counts only for the URL base it was built for, whichever copy
// of the base a request holds, past the number of bases the cache shares a copy of too.
func TestCardLookupByBase(t *testing.T) {
	cc := newCardCache(defaultCardCacheEntries)
	built := cc.begin()
	var kept []*card
	for i := range maxCardBases + 2 {
		kept = append(kept, &card{urlBase: "http://h" + strconv.Itoa(i), built: built, video: int64(i + 1), author: 7})
	}
	cc.keep(kept)
	for i := range maxCardBases + 2 {
		out := make([]*card, 1)
		own := string([]byte("http://h" + strconv.Itoa(i))) // a request's own copy
		if cc.lookup(own, []int64{int64(i + 1)}, out); out[0] == nil {
			t.Errorf("card %d not found for its own base", i+1)
		}
		if cc.lookup("http://other", []int64{int64(i + 1)}, out); out[0] != nil {
			t.Errorf("card %d found for another base", i+1)
		}
	}
}

// TestCardCacheBound: the cards stay within their bound, and a page just kept is all there.
func TestCardCacheBound(t *testing.T) {
	cc := newCardCache(minCardCacheEntries)
	const base = "http://127.0.0.1:8080"
	for page := range 40 {
		built := cc.begin()
		cards := make([]*card, 30)
		ids := make([]int64, len(cards))
		for i := range cards {
			ids[i] = int64(page*len(cards) + i + 1)
			cards[i] = &card{urlBase: base, built: built, video: ids[i], author: 1}
		}
		cc.keep(cards)
		if n := cc.Sizes()[0].Entries; n > minCardCacheEntries {
			t.Fatalf("page %d: %d cards kept, bound %d", page, n, minCardCacheEntries)
		}
		out := make([]*card, len(ids))
		cc.lookup(base, ids, out)
		if slices.Contains(out, nil) {
			t.Fatalf("page %d: a card just kept is missing", page)
		}
	}
}

// TestCardCacheEntriesSetting: a bound below a few pages is refused with the setting's name;
// 0 takes the default.
func TestCardCacheEntriesSetting(t *testing.T) {
	for entries, ok := range map[int]bool{0: true, minCardCacheEntries: true, minCardCacheEntries - 1: false, -1: false} {
		cfg := testConfig(0)
		cfg.CardCacheEntries = entries
		err := cfg.Validate()
		if (err == nil) != ok || (err != nil && !strings.Contains(err.Error(), "http.card-cache-entries")) {
			t.Errorf("%d entries: %v", entries, err)
		}
	}
}
