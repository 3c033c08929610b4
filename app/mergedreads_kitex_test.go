package app

import (
	"context"
	"net"
	"slices"
	"testing"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/server"

	"github.com/douyin-backend/douyin/internal/polltest"
	recommendapi "github.com/douyin-backend/douyin/kitex_gen/recommend"
	"github.com/douyin-backend/douyin/kitex_gen/recommend/recommendservice"
)

// A real Kitex server of a recommend service older than RecommendMany: its refusal is what
// isUnknownMethod recognises, and the merged client then gets each page with Recommend.
func TestMergedRecommendBeforeAnOlderKitexServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	older := recommendservice.NewServiceInfo()
	delete(older.Methods, "RecommendMany")
	svr := server.NewServer(server.WithListener(ln))
	remote := &gatedRecommend{}
	if err := svr.RegisterService(older, remote); err != nil {
		t.Fatal(err)
	}
	go func() { _ = svr.Run() }()
	t.Cleanup(func() { _ = svr.Stop() })
	c, err := recommendservice.NewClient("recommend", client.WithHostPorts(ln.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	adapted := recommendservice.NewServiceAdapter(c)
	ctx := context.Background()
	polltest.Until(t, 10e9, "the server never answered", func() bool {
		_, err := adapted.Recommend(ctx, &recommendapi.RecommendRequest{ViewerId: 1})
		return err == nil
	})
	if _, err := adapted.RecommendMany(ctx, &recommendapi.RecommendManyRequest{}); !isUnknownMethod(err) {
		t.Fatalf("RecommendMany on the older server: %v, not recognised as an unknown method", err)
	}
	reqs := []*recommendapi.RecommendRequest{{ViewerId: 1}, {ViewerId: 2, Limit: 3}}
	pages, errs := newMergedRecommend(adapted).pagesOfAll(ctx, reqs)
	for i, req := range reqs {
		if errs[i] != nil || !slices.Equal(pages[i].VideoIds, pageOf(req).VideoIds) {
			t.Errorf("page %d: %v, %v; want %v", i, pages[i], errs[i], pageOf(req).VideoIds)
		}
	}
}
