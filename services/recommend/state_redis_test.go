package recommend

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/cache/cachetest"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/polltest"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	recommendapi "github.com/douyin-backend/douyin/kitex_gen/recommend"
)

// eventSource is a Source of fixed events that counts its loads.
type eventSource struct {
	events []Event
	loads  atomic.Int32
}

func (s *eventSource) Load(_ context.Context, apply func(Event) error) error {
	s.loads.Add(1)
	for _, e := range s.events {
		if err := apply(e); err != nil {
			return err
		}
	}
	return nil
}

// startRedisState starts a state on r as one recommend instance would, closed at the end.
func startRedisState(t *testing.T, r *cache.Redis, source Source) *RedisState {
	t.Helper()
	st := NewRedisState(r, quietLog())
	if err := st.Start(context.Background(), source); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func likesOf(m *Model, user int64) []int64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []int64
	if u := m.users[user]; u != nil {
		for v := range u.likes {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// TestRedisStateRebuildsOnceAndIsShared: the first instance rebuilds the empty state from the
// source; the second loads it from Redis without touching the source; an event applied by
// either reaches the other's model through the log; stale events change nothing.
func TestRedisStateRebuildsOnceAndIsShared(t *testing.T) {
	ctx := context.Background()
	r, _ := cachetest.New(t)
	source := &eventSource{events: []Event{
		{Kind: EventVideo, Video: 1, Author: 100, At: testNow},
		{Kind: EventVideo, Video: 2, Author: 100, At: testNow},
		{Kind: EventLike, User: 7, Video: 1, On: true, Seq: 5, At: testNow},
		{Kind: EventComment, Comment: 9, Video: 2, On: true, At: testNow},
		{Kind: EventFollow, User: 7, Author: 100, On: true, At: testNow},
	}}
	a := startRedisState(t, r, source)
	b := startRedisState(t, r, source)
	if n := source.loads.Load(); n != 1 {
		t.Fatalf("the source was loaded %d times, want once (by the first instance)", n)
	}
	for name, st := range map[string]*RedisState{"a": a, "b": b} {
		if got := st.Model().Stats(); got != (Stats{Videos: 2, Users: 1, Likes: 1}) {
			t.Errorf("instance %s after start: %+v, want 2 videos, 1 user, 1 like", name, got)
		}
	}
	// A newer like through a reaches b; an older unlike through b changes neither.
	if err := a.Apply(ctx, Event{Kind: EventLike, User: 7, Video: 2, On: true, Seq: 3, At: testNow}); err != nil {
		t.Fatal(err)
	}
	polltest.Until(t, 10*time.Second, "b never saw a's like", func() bool { return slices.Equal(likesOf(b.Model(), 7), []int64{1, 2}) })
	if err := b.Apply(ctx, Event{Kind: EventLike, User: 7, Video: 1, On: false, Seq: 4, At: testNow}); err != nil {
		t.Fatal(err)
	}
	// A marker event after it: once a has the marker, it has had every entry before it.
	if err := b.Apply(ctx, Event{Kind: EventVideo, Video: 3, Author: 101, At: testNow}); err != nil {
		t.Fatal(err)
	}
	polltest.Until(t, 10*time.Second, "a never saw b's video", func() bool { return a.Model().Stats().Videos == 3 })
	for name, st := range map[string]*RedisState{"a": a, "b": b} {
		if got := likesOf(st.Model(), 7); !slices.Equal(got, []int64{1, 2}) {
			t.Errorf("instance %s: user 7 likes %v after a stale unlike, want [1 2]", name, got)
		}
	}
	// A third instance started now loads the same facts from Redis alone.
	c := startRedisState(t, r, nil)
	if got := c.Model().Stats(); got != (Stats{Videos: 3, Users: 1, Likes: 2}) {
		t.Errorf("a late instance loaded %+v, want 3 videos, 1 user, 2 likes", got)
	}
	c.Model().mu.RLock()
	followed := c.Model().users[7].followees[100] > 0
	comments := len(c.Model().comments)
	c.Model().mu.RUnlock()
	if !followed || comments != 1 {
		t.Errorf("a late instance: follow %v, %d comments; want the follow and 1 comment", followed, comments)
	}
}

// TestRedisStateRebuildsOnAFreshServer: the rebuild's pipelines work on a Redis that has not
// loaded the apply script yet (a fresh or restarted server, which is when state is rebuilt).
func TestRedisStateRebuildsOnAFreshServer(t *testing.T) {
	r, _ := cachetest.New(t)
	r.Client().AddHook(&noScriptLoaded{})
	source := &eventSource{events: []Event{
		{Kind: EventVideo, Video: 1, Author: 100, At: testNow},
		{Kind: EventLike, User: 7, Video: 1, On: true, Seq: 1, At: testNow},
	}}
	st := startRedisState(t, r, source)
	if got := st.Model().Stats(); got != (Stats{Videos: 1, Users: 1, Likes: 1}) {
		t.Errorf("after a rebuild on a fresh server: %+v, want 1 video, 1 user, 1 like", got)
	}
}

// noScriptLoaded is a go-redis hook that makes the server look fresh: EVALSHA answers
// NOSCRIPT, as Redis does, until the client sends SCRIPT LOAD or EVAL (the shared test
// server's script cache cannot be flushed without touching other tests).
type noScriptLoaded struct{ loaded atomic.Bool }

func (h *noScriptLoaded) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *noScriptLoaded) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if err := h.check(cmd); err != nil {
			return err
		}
		return next(ctx, cmd)
	}
}

func (h *noScriptLoaded) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		var first error
		var pass []redis.Cmder
		for _, cmd := range cmds {
			if err := h.check(cmd); err != nil {
				first = cmp.Or(first, err)
			} else {
				pass = append(pass, cmd)
			}
		}
		if len(pass) > 0 {
			if err := next(ctx, pass); err != nil {
				return err
			}
		}
		return first
	}
}

// noScript is the server's NOSCRIPT reply, a redis.Error as go-redis reads one.
type noScript string

func (e noScript) Error() string { return string(e) }

func (noScript) RedisError() {}

// check fails cmd with NOSCRIPT when it is an EVALSHA before any script was loaded.
func (h *noScriptLoaded) check(cmd redis.Cmder) error {
	switch cmd.Name() {
	case "script", "eval":
		h.loaded.Store(true)
	case "evalsha":
		if !h.loaded.Load() {
			err := noScript("NOSCRIPT No matching script. Please use EVAL.")
			cmd.SetErr(err)
			return err
		}
	}
	return nil
}

// TestRedisStateApplyIsIdempotent: the Lua keeps the same order rules as the model (likes by
// seq, comments by id with tombstones, follows by time, videos by id).
func TestRedisStateApplyIsIdempotent(t *testing.T) {
	ctx := context.Background()
	r, _ := cachetest.New(t)
	st := startRedisState(t, r, nil)
	events := []Event{
		{Kind: EventVideo, Video: 1, Author: 100, At: testNow},
		{Kind: EventVideo, Video: 1, Author: 999, At: testNow + 1},               // repeat: ignored
		{Kind: EventLike, User: 7, Video: 1, On: true, Seq: 2, At: testNow},      //
		{Kind: EventLike, User: 7, Video: 1, On: false, Seq: 1, At: testNow},     // older: ignored
		{Kind: EventComment, Comment: 5, Video: 1, On: false, At: testNow},       // delete first: tombstone
		{Kind: EventComment, Comment: 5, Video: 1, On: true, At: testNow},        // its late add: ignored
		{Kind: EventFollow, User: 7, Author: 100, On: false, At: testNow + 10},   //
		{Kind: EventFollow, User: 7, Author: 100, On: true, At: testNow},         // older: ignored
		{Kind: EventLike, User: 8, Video: 1, On: true, Seq: 1, At: testNow},      //
		{Kind: EventLike, User: 8, Video: 1, On: true, Seq: 1, At: testNow + 99}, // repeat: ignored
	}
	for _, e := range events {
		if err := st.Apply(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	c := r.Client()
	want := map[string]string{
		"rec:v|1":     "100:" + id(testNow),
		"rec:l:7|1":   "2:" + id(testNow) + ":1",
		"rec:c|5":     "1:" + id(testNow) + ":0",
		"rec:f:7|100": id(-(testNow + 10)),
		"rec:l:8|1":   "1:" + id(testNow) + ":1",
	}
	for k, v := range want {
		key, field, _ := cutLast(k, "|")
		if got, err := c.HGet(ctx, r.Key(key), field).Result(); err != nil || got != v {
			t.Errorf("%s[%s] = %q (%v), want %q", key, field, got, err, v)
		}
	}
	if n, err := c.XLen(ctx, r.Key("rec:log")).Result(); err != nil || n != 5 {
		t.Errorf("the log holds %d entries (%v), want 5: one per event that changed something", n, err)
	}
	// A fresh instance loads exactly what the first one's model holds.
	fresh := startRedisState(t, r, nil)
	if got, want := fresh.Model().Rank(0, testNow, 10), st.Model().Rank(0, testNow, 10); !slices.Equal(got, want) {
		t.Errorf("reloaded ranking %v, want %v", got, want)
	}
	if got := likesOf(fresh.Model(), 7); !slices.Equal(got, []int64{1}) {
		t.Errorf("reloaded likes of 7: %v, want [1]", got)
	}
}

func cutLast(s, sep string) (string, string, bool) {
	for i := len(s) - len(sep); i >= 0; i-- {
		if s[i:i+len(sep)] == sep {
			return s[:i], s[i+len(sep):], true
		}
	}
	return s, "", false
}

// TestRedisStateRebuiltWhenLost: when Redis loses the state (a flush, a restart without
// persistence), a running instance rebuilds it from SQL, and keeps serving meanwhile.
func TestRedisStateRebuiltWhenLost(t *testing.T) {
	ctx := context.Background()
	r, _ := cachetest.New(t)
	source := &eventSource{events: []Event{{Kind: EventVideo, Video: 1, Author: 100, At: testNow}}}
	st := startRedisState(t, r, source)
	if err := cachetest.Flush(ctx, r); err != nil {
		t.Fatal(err)
	}
	polltest.Until(t, 10*time.Second, "the lost state was not rebuilt", func() bool {
		n, err := r.Client().HLen(ctx, r.Key("rec:v")).Result()
		return err == nil && n == 1 && source.loads.Load() == 2
	})
	if got := st.Model().Stats().Videos; got != 1 {
		t.Errorf("the running model holds %d videos, want 1", got)
	}
}

// TestRedisStateFollowerReloadsWhenTrimmed: an instance whose position in the log was
// trimmed away reloads its model from the facts rather than miss changes.
func TestRedisStateFollowerReloadsWhenTrimmed(t *testing.T) {
	ctx := context.Background()
	r, _ := cachetest.New(t)
	st := startRedisState(t, r, nil)
	first := st.Model()
	// Facts written behind the log's back, then the log trimmed past the follower.
	c := r.Client()
	// One transaction, so the follower cannot read the entries before they are trimmed.
	_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, r.Key("rec:v"), "42", "100:"+id(testNow))
		for range 3 {
			p.XAdd(ctx, &redis.XAddArgs{Stream: r.Key("rec:log"), Values: []string{"e", "{}"}})
		}
		p.XTrimMaxLen(ctx, r.Key("rec:log"), 1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Apply(ctx, Event{Kind: EventVideo, Video: 43, Author: 100, At: testNow}); err != nil {
		t.Fatal(err)
	}
	polltest.Until(t, 10*time.Second, "the model was not reloaded", func() bool { return st.Model() != first && st.Model().Stats().Videos == 2 })
}

// TestRedisStateDown: with Redis unreachable an event is refused (the queue redelivers it)
// and a page is refused with Unavailable, not an internal error.
func TestRedisStateDown(t *testing.T) {
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { dead.Close() })
	r := cache.NewRedis(dead, "x:")
	if err := NewRedisState(r, quietLog()).Start(context.Background(), nil); err == nil {
		t.Error("a state started without Redis")
	}
	s, err := New(context.Background(), DefaultConfig(), nil, WithLogger(quietLog()), withClock(func() int64 { return testNow }),
		WithSeen(NewRedisSeen(r, 100, time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	s.Model().AddVideo(1, 100, testNow)
	_, err = s.Recommend(context.Background(), &recommendapi.RecommendRequest{ViewerId: 5})
	if !errs.Is(err, base.ErrCode_Unavailable) {
		t.Errorf("a page without the seen store: %v, want Unavailable", err)
	}
	st := NewRedisState(r, quietLog())
	if err := st.Apply(context.Background(), Event{Kind: EventVideo, Video: 1, Author: 2, At: testNow}); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("an event applied without Redis: %v, want an error", err)
	}
}

// TestRedisStateBatchesConcurrentEvents: events consumed at the same time share pipelined
// round trips, and each still applies once: the log holds one entry per event that changed
// something, a repeat (the queue's redelivery) adds nothing, and the model and a fresh
// instance agree.
func TestRedisStateBatchesConcurrentEvents(t *testing.T) {
	ctx := context.Background()
	r, trips := cachetest.New(t)
	st := startRedisState(t, r, nil)
	const users, videos = 20, 10
	var events []Event
	for v := int64(1); v <= videos; v++ {
		events = append(events, Event{Kind: EventVideo, Video: v, Author: 100, At: testNow})
	}
	for u := int64(1); u <= users; u++ {
		for v := int64(1); v <= videos; v++ {
			events = append(events, Event{Kind: EventLike, User: u, Video: v, On: true, Seq: 1, At: testNow})
		}
	}
	before := trips.Count()
	var wg sync.WaitGroup
	errc := make(chan error, 2*len(events))
	for _, e := range append(slices.Clone(events), events...) { // every event twice
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- st.Apply(ctx, e)
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := trips.Count() - before; n >= int64(len(events)) {
		t.Errorf("%d events applied twice took %d round trips, want them shared", len(events), n)
	}
	if n, err := r.Client().XLen(ctx, r.Key("rec:log")).Result(); err != nil || n != int64(len(events)) {
		t.Errorf("the log holds %d entries (%v), want %d: one per event, none for its repeat", n, err, len(events))
	}
	want := Stats{Videos: videos, Users: users, Likes: users * videos}
	if got := st.Model().Stats(); got != want {
		t.Errorf("model %+v, want %+v", got, want)
	}
	if got := startRedisState(t, r, nil).Model().Stats(); got != want {
		t.Errorf("a fresh instance loaded %+v, want %+v", got, want)
	}
}

// TestRedisStateAppliesAfterLostScripts: a Redis that lost the apply script (a restart,
// SCRIPT FLUSH) answers the pipelined EVALSHA with NOSCRIPT; the events run again and apply.
func TestRedisStateAppliesAfterLostScripts(t *testing.T) {
	ctx := context.Background()
	r, _ := cachetest.New(t)
	st := startRedisState(t, r, nil)
	r.Client().AddHook(&noScriptLoaded{})
	if err := st.Apply(ctx, Event{Kind: EventVideo, Video: 1, Author: 100, At: testNow}); err != nil {
		t.Fatal(err)
	}
	if err := st.Apply(ctx, Event{Kind: EventLike, User: 7, Video: 1, On: true, Seq: 1, At: testNow}); err != nil {
		t.Fatal(err)
	}
	if got := startRedisState(t, r, nil).Model().Stats(); got != (Stats{Videos: 1, Users: 1, Likes: 1}) {
		t.Errorf("after lost scripts: %+v, want 1 video, 1 user, 1 like", got)
	}
}
