package app

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/server"

	"github.com/douyin-backend/douyin/internal/polltest"
	recommendapi "github.com/douyin-backend/douyin/kitex_gen/recommend"
	"github.com/douyin-backend/douyin/kitex_gen/recommend/recommendservice"
)

// Merged pages through a real Kitex client and server: a current server answers them with
// one RecommendMany call; a server older than RecommendMany refuses it in the way
// isUnknownMethod recognises, and the merged client then asks for each page with Recommend.
func TestMergedRecommendOverKitex(t *testing.T) {
	for name, tc := range map[string]struct {
		older bool
		calls []string
	}{
		"current": {calls: []string{"many 1,2"}},
		"older":   {older: true, calls: []string{"one 1", "one 2"}},
	} {
		t.Run(name, func(t *testing.T) {
			remote := &gatedRecommend{}
			adapted := kitexRecommend(t, remote, tc.older)
			ctx := context.Background()
			if _, err := adapted.RecommendMany(ctx, &recommendapi.RecommendManyRequest{}); isUnknownMethod(err) != tc.older {
				t.Fatalf("RecommendMany: %v; recognised as an unknown method: %v, want %v", err, isUnknownMethod(err), tc.older)
			}
			remote.takeCalls()
			reqs := []*recommendapi.RecommendRequest{{ViewerId: 1}, {ViewerId: 2, Limit: 3}}
			pages, errs := newMergedRecommend(adapted).pagesOfAll(ctx, reqs)
			for i, req := range reqs {
				if errs[i] != nil || !slices.Equal(pages[i].VideoIds, pageOf(req).VideoIds) {
					t.Errorf("page %d: %v, %v; want %v", i, pages[i], errs[i], pageOf(req).VideoIds)
				}
			}
			if calls := remote.takeCalls(); !slices.Equal(slices.Sorted(slices.Values(calls)), tc.calls) {
				t.Errorf("the server saw %q, want %q", calls, tc.calls)
			}
		})
	}
}

// kitexRecommend serves handler on a real Kitex server (without RecommendMany when older) and
// returns a Kitex client of it once it answers.
func kitexRecommend(t *testing.T, handler recommendapi.RecommendService, older bool) recommendapi.RecommendService {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	info := recommendservice.NewServiceInfo()
	if older {
		delete(info.Methods, "RecommendMany")
	}
	svr := server.NewServer(server.WithListener(ln))
	if err := svr.RegisterService(info, handler); err != nil {
		t.Fatal(err)
	}
	go func() { _ = svr.Run() }()
	t.Cleanup(func() { _ = svr.Stop() })
	c, err := recommendservice.NewClient("recommend", client.WithHostPorts(ln.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	adapted := recommendservice.NewServiceAdapter(c)
	polltest.Until(t, 10*time.Second, "the server never answered", func() bool {
		_, err := adapted.Recommend(context.Background(), &recommendapi.RecommendRequest{ViewerId: 1})
		return err == nil
	})
	return adapted
}
