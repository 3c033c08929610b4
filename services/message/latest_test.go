package message

import (
	"context"
	"testing"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	messageapi "github.com/douyin-backend/douyin/kitex_gen/message"
)

func TestMGetLatestMessages(t *testing.T) {
	f := newFixture(t)
	send(t, f.svc, 1, 2, "1 to 2")
	send(t, f.svc, 2, 1, "2 to 1, latest")
	send(t, f.svc, 3, 1, "3 to 1")
	send(t, f.svc, 1, 3, "1 to 3, latest")
	send(t, f.svc, 4, 5, "not mine")
	f.store.take()

	resp, err := f.svc.MGetLatestMessages(context.Background(), &messageapi.MGetLatestMessagesRequest{UserId: 1, PeerIds: []int64{2, 3, 4, 2, 1, 0, 99}})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.store.take(); n != 1 {
		t.Fatalf("%d store calls, want 1", n)
	}
	want := map[int64]messageapi.LatestMessage{
		2: {Content: "2 to 1, latest", MsgType: 0},
		3: {Content: "1 to 3, latest", MsgType: 1},
	}
	if len(resp.Messages) != len(want) {
		t.Fatalf("messages = %v, want peers 2 and 3 only", resp.Messages)
	}
	for peer, w := range want {
		if got := resp.Messages[peer]; got == nil || *got != w {
			t.Errorf("peer %d = %+v, want %+v", peer, got, w)
		}
	}

	empty, err := f.svc.MGetLatestMessages(context.Background(), &messageapi.MGetLatestMessagesRequest{UserId: 1, PeerIds: []int64{1}})
	if err != nil || empty.Messages == nil || len(empty.Messages) != 0 || f.store.take() != 0 {
		t.Fatalf("only self as peer: %v %v; want an empty map and no query", empty, err)
	}
	tooMany := make([]int64, ids.MaxBatch+1)
	for i := range tooMany {
		tooMany[i] = int64(i + 2)
	}
	for _, bad := range []*messageapi.MGetLatestMessagesRequest{{UserId: 0, PeerIds: []int64{2}}, {UserId: 1, PeerIds: tooMany}} {
		if _, err := f.svc.MGetLatestMessages(context.Background(), bad); !errs.Is(err, base.ErrCode_InvalidParam) {
			t.Errorf("MGetLatestMessages(user %d, %d peers) = %v, want InvalidParam", bad.UserId, len(bad.PeerIds), err)
		}
	}
}
