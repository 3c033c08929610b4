package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	hertzclient "github.com/cloudwego/hertz/pkg/app/client"
	"github.com/cloudwego/hertz/pkg/network/standard"
	"github.com/cloudwego/hertz/pkg/protocol"
	"github.com/hertz-contrib/websocket"
)

const pathLive = "/douyin/comment/live/"

// liveWatcher is a WebSocket client of one video's live comments; every received comment
// lands on comments with its arrival time.
type liveWatcher struct {
	conn     *websocket.Conn
	comments chan liveArrival
}

type liveArrival struct {
	comment Comment
	at      time.Time
}

// watchLive connects to the live comments of videoID through the gateway at base.
func watchLive(t *testing.T, base string, videoID int64, token string) *liveWatcher {
	t.Helper()
	hc, err := hertzclient.NewClient(hertzclient.WithDialer(standard.NewDialer()))
	if err != nil {
		t.Fatal(err)
	}
	req, resp := protocol.AcquireRequest(), protocol.AcquireResponse()
	q := vals("video_id", videoID)
	if token != "" {
		q.Set("token", token)
	}
	req.SetRequestURI(base + pathLive + "?" + q.Encode())
	req.SetMethod(http.MethodGet)
	up := &websocket.ClientUpgrader{}
	up.PrepareRequest(req)
	if err := hc.Do(context.Background(), req, resp); err != nil {
		t.Fatalf("live handshake: %v", err)
	}
	conn, err := up.UpgradeResponse(req, resp)
	if err != nil {
		t.Fatalf("live handshake: %v (HTTP %d: %s)", err, resp.StatusCode(), snippet(resp.Body()))
	}
	w := &liveWatcher{conn: conn, comments: make(chan liveArrival, 4096)}
	go func() {
		defer close(w.comments)
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			at := time.Now()
			var c Comment
			if err := json.Unmarshal(msg, &c); err != nil {
				t.Errorf("live comment is not a Comment: %v: %s", err, snippet(msg))
				return
			}
			w.comments <- liveArrival{c, at}
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return w
}

// next waits up to within for the next pushed comment.
func (w *liveWatcher) next(t *testing.T, within time.Duration) liveArrival {
	t.Helper()
	select {
	case a, ok := <-w.comments:
		if !ok {
			t.Fatal("the live connection closed")
		}
		return a
	case <-time.After(within):
		t.Fatalf("no live comment within %v", within)
	}
	return liveArrival{}
}

// Every watcher of a video, on every gateway of the deployment, receives a comment posted
// through the first gateway within 1 s, as the comment list shows it; watchers of another
// video receive nothing.
func TestLiveCommentsReachEveryGateway(t *testing.T) {
	t.Parallel()
	author := api.register(t, "liveauth")
	alice := api.register(t, "livealice")
	v := api.publish(t, author, "watch me live", "testsrc.mp4")
	other := api.publish(t, author, "nobody comments here", "cellauto.mp4")
	var watchers []*liveWatcher
	for _, gw := range readers() {
		watchers = append(watchers, watchLive(t, gw.base, v.ID, ""), watchLive(t, gw.base, v.ID, alice.Token))
	}
	quiet := watchLive(t, api.base, other.ID, "")
	// A watcher is registered before its handshake is answered: no wait is needed.
	posted := api.comment(t, alice, v.ID, "弹幕 hello live")
	sent := time.Now()
	for i, w := range watchers {
		a := w.next(t, 5*time.Second)
		if a.comment.ID != posted.ID || a.comment.Content != posted.Content || a.comment.User.ID != alice.ID ||
			a.comment.CreateDate != posted.CreateDate || a.comment.User.Name != posted.User.Name {
			t.Fatalf("watcher %d got %+v, want %+v", i, a.comment, posted)
		}
		if lag := a.at.Sub(sent); lag > time.Second {
			t.Errorf("watcher %d received the comment %v after the post was acknowledged, want within 1s", i, lag)
		}
	}
	if listed := api.commentList(t, "", v.ID); len(listed) == 0 || listed[0].ID != posted.ID {
		t.Fatalf("comment list %v does not start with the pushed comment %d", commentIDs(listed), posted.ID)
	}
	select {
	case a := <-quiet.comments:
		t.Fatalf("a watcher of another video received %+v", a.comment)
	default:
	}
}

// A bad token, a bad or unknown video id and a plain HTTP request are refused before the upgrade with
// the JSON envelope.
func TestLiveCommentsRefused(t *testing.T) {
	t.Parallel()
	api.get(t, pathLive, vals("video_id", 1, "token", "not-a-token")).wantUnauth(t)
	api.get(t, pathLive, vals("video_id", "abc")).wantInvalid(t)
	api.get(t, pathLive, vals("video_id", 0)).wantInvalid(t)
	api.get(t, pathLive, vals("video_id", int64(1)<<60)).wantErr(t, http.StatusOK, codeVideoNotFound)
	author := api.register(t, "liverefauth")
	v := api.publish(t, author, "not a socket", "testsrc.mp4")
	r := api.get(t, pathLive, vals("video_id", v.ID))
	if r.HTTPStatus != http.StatusBadRequest || r.Code == 0 || !strings.Contains(r.Msg, "websocket") {
		t.Fatalf("plain GET of the live endpoint: HTTP %d %d %q, want 400 with a non-zero status_code", r.HTTPStatus, r.Code, r.Msg)
	}
}

// TestLiveCommentLatency posts 1,000 comments from 20 users and measures, for each, the time
// from the post's acknowledgement to its arrival at a watcher on the last gateway of the
// deployment: issue 14 asks for a push within 1 s of the acknowledgement. The time from
// sending the post is logged too; it adds the post's own queueing, which a loaded machine
// stretches.
func TestLiveCommentLatency(t *testing.T) {
	t.Parallel()
	const users, perUser = 20, 50
	author := api.register(t, "livelatauth")
	v := api.publish(t, author, "latency", "testsrc.mp4")
	gws := readers()
	w := watchLive(t, gws[len(gws)-1].base, v.ID, "")
	posters := make([]*testUser, users)
	for i := range posters {
		posters[i] = api.register(t, fmt.Sprintf("livelat%d", i))
	}
	type post struct{ sent, acked time.Time }
	var mu sync.Mutex
	posts := map[string]*post{}
	arrived := make(map[string]time.Time, users*perUser)
	received := make(chan error, 1)
	go func() {
		for len(arrived) < users*perUser {
			select {
			case a, ok := <-w.comments:
				if !ok {
					received <- fmt.Errorf("live connection closed after %d comments", len(arrived))
					return
				}
				mu.Lock()
				_, found := posts[a.comment.Content]
				mu.Unlock()
				if !found {
					received <- fmt.Errorf("unexpected comment %q", a.comment.Content)
					return
				}
				arrived[a.comment.Content] = a.at
			case <-time.After(10 * time.Second):
				received <- fmt.Errorf("only %d of %d comments arrived", len(arrived), users*perUser)
				return
			}
		}
		received <- nil
	}()
	var wg sync.WaitGroup
	for i, u := range posters {
		wg.Go(func() {
			for j := range perUser {
				text := fmt.Sprintf("live %d %d", i, j)
				p := &post{sent: time.Now()}
				mu.Lock()
				posts[text] = p
				mu.Unlock()
				api.comment(t, u, v.ID, text)
				mu.Lock()
				p.acked = time.Now()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := <-received; err != nil {
		t.Fatal(err)
	}
	fromAck, fromSend := make([]time.Duration, 0, len(arrived)), make([]time.Duration, 0, len(arrived))
	for text, at := range arrived {
		p := posts[text]
		fromAck = append(fromAck, max(at.Sub(p.acked), 0)) // pushed before the answer reached the poster
		fromSend = append(fromSend, at.Sub(p.sent))
	}
	slices.Sort(fromAck)
	slices.Sort(fromSend)
	pct := func(l []time.Duration, q int) time.Duration { return l[len(l)*q/100] }
	t.Logf("live comment push latency over %d comments (%d gateway(s)): from the acknowledgement p50 %v, p99 %v, max %v; from sending the post p50 %v, p99 %v",
		len(fromAck), len(gws), pct(fromAck, 50), pct(fromAck, 99), fromAck[len(fromAck)-1], pct(fromSend, 50), pct(fromSend, 99))
	if p99 := pct(fromAck, 99); p99 > time.Second {
		t.Errorf("p99 push latency after the acknowledgement %v, want under 1s", p99)
	}
}
