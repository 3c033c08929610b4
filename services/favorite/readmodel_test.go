package favorite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/cache/cachetest"
	"github.com/douyin-backend/douyin/internal/db/dbtest"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/kitex_gen/event"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
)

const (
	like   = favoriteapi.FavoriteActionType_Like
	unlike = favoriteapi.FavoriteActionType_Unlike
)

// switchQueue delivers through the in-process queue, counts publishes, and fails while down.
type switchQueue struct {
	*mq.Memory
	down      atomic.Bool
	published atomic.Int64
}

func (q *switchQueue) Publish(ctx context.Context, topic, key string, body []byte) error {
	if q.down.Load() {
		return errors.New("broker down")
	}
	q.published.Add(1)
	return q.Memory.Publish(ctx, topic, key, body)
}

// heldQueue keeps messages until the test delivers them: the queue delay made explicit.
type heldQueue struct {
	mu      sync.Mutex
	bodies  [][]byte
	handler mq.Handler
}

func (q *heldQueue) Subscribe(_, _ string, h mq.Handler) error { q.handler = h; return nil }

func (q *heldQueue) Publish(_ context.Context, _, _ string, body []byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.bodies = append(q.bodies, body)
	return nil
}

func (q *heldQueue) deliver(t *testing.T) {
	t.Helper()
	q.mu.Lock()
	bodies := q.bodies
	q.bodies = nil
	q.mu.Unlock()
	for _, b := range bodies {
		if err := q.handler(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
}

// deliverFirst hands the oldest held message to the consumer.
func (q *heldQueue) deliverFirst(t *testing.T) {
	t.Helper()
	q.mu.Lock()
	if len(q.bodies) == 0 {
		q.mu.Unlock()
		t.Fatal("no message held")
	}
	body := q.bodies[0]
	q.bodies = q.bodies[1:]
	q.mu.Unlock()
	if err := q.handler(context.Background(), body); err != nil {
		t.Fatal(err)
	}
}

// orderedQueue delivers asynchronously on a few workers, each message to the worker its key
// hashes to, like RocketMQ's ordered queues: in order per key, concurrently across keys.
type orderedQueue struct {
	workers   []chan []byte
	published atomic.Int64
	handled   atomic.Int64
	mu        sync.Mutex
	errs      []error
}

func newOrderedQueue(t *testing.T, workers int) *orderedQueue {
	q := &orderedQueue{workers: make([]chan []byte, workers)}
	for i := range q.workers {
		q.workers[i] = make(chan []byte, 1024)
	}
	t.Cleanup(func() {
		for _, w := range q.workers {
			close(w)
		}
	})
	return q
}

func (q *orderedQueue) Subscribe(_, _ string, h mq.Handler) error {
	for _, w := range q.workers {
		go func() {
			for body := range w {
				if err := h(context.Background(), body); err != nil {
					q.mu.Lock()
					q.errs = append(q.errs, err)
					q.mu.Unlock()
				}
				q.handled.Add(1)
			}
		}()
	}
	return nil
}

func (q *orderedQueue) Publish(_ context.Context, _, key string, body []byte) error {
	h := fnv.New32a()
	h.Write([]byte(key))
	q.published.Add(1)
	q.workers[int(h.Sum32())%len(q.workers)] <- body
	return nil
}

// drain waits until every published message was handled.
func (q *orderedQueue) drain(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for q.handled.Load() != q.published.Load() {
		if time.Now().After(deadline) {
			t.Fatalf("queue did not drain: %d of %d handled", q.handled.Load(), q.published.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.errs) > 0 {
		t.Fatalf("consumer failed: %v", q.errs)
	}
}

type rmFixture struct {
	svc *Service
	gdb *gorm.DB
	rm  ReadModel
	// Set for the Redis read model only.
	r     *cache.Redis
	rt    *cachetest.RoundTrips
	redis *RedisReadModel
	// Set for the in-process read model only.
	mem *MemoryReadModel
}

// readModelKinds are the ReadModel implementations the service-level tests run against: each
// entry gives the fixture its read model.
var readModelKinds = []struct {
	name  string
	setup func(t *testing.T, f *rmFixture)
}{
	{"redis", func(t *testing.T, f *rmFixture) {
		f.r, f.rt = cachetest.New(t)
		f.redis = NewRedisReadModel(f.r, time.Hour, 10*time.Minute)
		f.rm = f.redis
	}},
	{"memory", func(_ *testing.T, f *rmFixture) {
		f.mem = newTestMemoryReadModel()
		f.rm = f.mem
	}},
}

func newTestMemoryReadModel() *MemoryReadModel {
	return NewMemoryReadModel(time.Hour, 10*time.Minute, 10_000)
}

// eachReadModel runs test once per ReadModel implementation, as subtests named after them.
func eachReadModel(t *testing.T, test func(t *testing.T, kind string)) {
	t.Helper()
	for _, k := range readModelKinds {
		t.Run(k.name, func(t *testing.T) { test(t, k.name) })
	}
}

// newRMFixture wires the service to the read model of the given kind ("redis": a real Redis,
// "memory": the in-process one) and the given queue.
func newRMFixture(t *testing.T, kind string, queue mq.Producer, consumer mq.Consumer) *rmFixture {
	t.Helper()
	f := &rmFixture{gdb: dbtest.OpenMigrated(t, Migrate)}
	for _, k := range readModelKinds {
		if k.name == kind {
			k.setup(t, f)
		}
	}
	if f.rm == nil {
		t.Fatalf("unknown read model kind %q", kind)
	}
	f.svc = New(NewSQLStore(f.gdb), testVideos, queue, WithReadModel(f.rm))
	if err := f.svc.Subscribe(consumer); err != nil {
		t.Fatal(err)
	}
	return f
}

// flush empties the read model, so every read reloads from SQL: FLUSHALL (or a restart of
// Redis) for Redis; for the in-process read model, what a restart leaves, a fresh one over
// the same SQL. Call it only while no request or consumer runs.
func (f *rmFixture) flush(t *testing.T) {
	t.Helper()
	if f.mem != nil {
		f.mem = newTestMemoryReadModel()
		f.rm = f.mem
		f.svc.readModel = f.mem
		return
	}
	if err := cachetest.Flush(context.Background(), f.r); err != nil {
		t.Fatal(err)
	}
}

// setLastSeq makes the read model believe it last handed out seq us (microseconds), as if its
// clock had run ahead and then stepped back.
func (f *rmFixture) setLastSeq(t *testing.T, us int64) {
	t.Helper()
	if f.mem != nil {
		f.mem.mu.Lock()
		f.mem.lastSeq = us
		f.mem.mu.Unlock()
		return
	}
	if err := f.r.Client().Set(context.Background(), f.r.Key("fav:seq"), us, 0).Err(); err != nil {
		t.Fatal(err)
	}
}

// step is one whole action on the read model alone: a seq reserved, then the step applied.
func step(ctx context.Context, rm ReadModel, c Change) (Applied, error) {
	seq, err := rm.Reserve(ctx, c.UserID)
	if err != nil {
		return Applied{}, err
	}
	return rm.Apply(ctx, c, seq)
}

func (f *rmFixture) act(user, video int64, a favoriteapi.FavoriteActionType) error {
	_, err := f.svc.FavoriteAction(context.Background(), &favoriteapi.FavoriteActionRequest{UserId: user, VideoId: video, ActionType: a})
	return err
}

func (f *rmFixture) mustAct(t *testing.T, user, video int64, a favoriteapi.FavoriteActionType) {
	t.Helper()
	if err := f.act(user, video, a); err != nil {
		t.Fatal(err)
	}
}

var allVideos = []int64{10, 11, 20}

// truth derives every counter from the favorite rows, the durable record.
type truth struct {
	videos map[int64]int64
	users  map[int64]favoriteapi.UserFavoriteStats
	liked  map[int64][]int64 // user → sorted liked videos
}

func readTruth(t *testing.T, gdb *gorm.DB) truth {
	t.Helper()
	var rows []Favorite
	if err := gdb.Where("liked = ?", true).Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	tr := truth{videos: map[int64]int64{}, users: map[int64]favoriteapi.UserFavoriteStats{}, liked: map[int64][]int64{}}
	for _, r := range rows {
		tr.videos[r.VideoID]++
		u := tr.users[r.UserID]
		u.FavoriteCount++
		tr.users[r.UserID] = u
		a := tr.users[r.AuthorID]
		a.TotalFavorited++
		tr.users[r.AuthorID] = a
		tr.liked[r.UserID] = append(tr.liked[r.UserID], r.VideoID)
	}
	for _, l := range tr.liked {
		slices.Sort(l)
	}
	return tr
}

// assertAPIMatchesSQL checks that what the service answers (through the read model) equals
// the counts derived from the favorite rows, for every viewer and user given.
func (f *rmFixture) assertAPIMatchesSQL(t *testing.T, viewers, users []int64) {
	t.Helper()
	ctx := context.Background()
	tr := readTruth(t, f.gdb)
	for _, viewer := range viewers {
		resp, err := f.svc.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{ViewerId: viewer, VideoIds: allVideos})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range allVideos {
			got := resp.Videos[v]
			if got.FavoriteCount != tr.videos[v] {
				t.Errorf("video %d: favorite_count %d, rows say %d", v, got.FavoriteCount, tr.videos[v])
			}
			if want := slices.Contains(tr.liked[viewer], v); got.IsFavorite != want {
				t.Errorf("viewer %d video %d: is_favorite %v, rows say %v", viewer, v, got.IsFavorite, want)
			}
		}
	}
	stats, err := f.svc.MGetUserFavoriteStats(ctx, &favoriteapi.MGetUserFavoriteStatsRequest{UserIds: users})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if got, want := *stats.Users[u], tr.users[u]; got != want {
			t.Errorf("user %d stats %+v, rows say %+v", u, got, want)
		}
	}
}

// snapshot reads the raw read-model state of the users and videos, in Redis's terms for both
// kinds: "liked u" the sorted members (with the loaded sentinel; empty when not cached),
// "stats u" the counter hash, "count v" the count (empty when not cached).
func (f *rmFixture) snapshot(t *testing.T, users, videos []int64) map[string]string {
	t.Helper()
	if f.mem != nil {
		return f.mem.snapshot(users, videos)
	}
	ctx := context.Background()
	c := f.r.Client()
	out := map[string]string{}
	for _, u := range users {
		m := c.SMembers(ctx, f.redis.likedKey(u)).Val()
		sort.Strings(m)
		out[fmt.Sprintf("liked %d", u)] = strings.Join(m, ",")
		out[fmt.Sprintf("stats %d", u)] = c.Get(ctx, f.redis.statsKey(u)).Val()
	}
	for _, v := range videos {
		out[fmt.Sprintf("count %d", v)] = c.Get(ctx, f.redis.countKey(v)).Val()
	}
	return out
}

// snapshot renders the state like rmFixture.snapshot renders Redis keys.
func (m *MemoryReadModel) snapshot(users, videos []int64) map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for _, u := range users {
		var members []string
		if set, ok := m.liked.Get(u); ok {
			members = append(members, cache.SetLoaded)
			for id := range set {
				members = append(members, strconv.FormatInt(id, 10))
			}
		}
		sort.Strings(members)
		out[fmt.Sprintf("liked %d", u)] = strings.Join(members, ",")
		out[fmt.Sprintf("stats %d", u)] = ""
		if s, ok := m.stats.Get(u); ok {
			out[fmt.Sprintf("stats %d", u)] = cache.FormatPair(s.favoriteCount, s.totalFavorited)
		}
	}
	for _, v := range videos {
		out[fmt.Sprintf("count %d", v)] = ""
		if n, ok := m.videos.Get(v); ok {
			out[fmt.Sprintf("count %d", v)] = strconv.FormatInt(n, 10)
		}
	}
	return out
}

func TestReadModelLikeTwiceCountsOnceAndUnlikeOfNothingIsANoop(t *testing.T) {
	eachReadModel(t, testReadModelLikeTwiceCountsOnceAndUnlikeOfNothingIsANoop)
}

func testReadModelLikeTwiceCountsOnceAndUnlikeOfNothingIsANoop(t *testing.T, kind string) {
	q := &switchQueue{Memory: mq.NewMemory()}
	f := newRMFixture(t, kind, q, q)
	users := []int64{1, 2, 3}
	f.assertAPIMatchesSQL(t, []int64{1}, users) // loads counters and user 1's set

	f.mustAct(t, 1, 10, like)
	f.mustAct(t, 1, 10, like)
	if n := q.published.Load(); n != 2 {
		t.Fatalf("liking twice published %d events, want 2 (every acknowledged action reaches the queue)", n)
	}
	f.assertAPIMatchesSQL(t, []int64{1, 2}, users)
	snap := f.snapshot(t, users, allVideos)
	if snap["count 10"] != "1" || snap["stats 1"] != "1:0" || snap["stats 2"] != "0:1" {
		t.Fatalf("read model after liking twice (and reading): %v", snap)
	}

	f.mustAct(t, 1, 11, unlike)
	if n := q.published.Load(); n != 3 {
		t.Fatalf("published %d events, want 3", n)
	}
	if after := f.snapshot(t, users, allVideos); !maps.Equal(after, snap) {
		t.Fatalf("unliking a video not liked changed the read model:\nbefore %v\nafter  %v", snap, after)
	}

	f.mustAct(t, 1, 10, unlike)
	f.mustAct(t, 1, 10, unlike)
	if n := q.published.Load(); n != 5 {
		t.Fatalf("published %d events, want 5", n)
	}
	if got := f.snapshot(t, users, allVideos)["count 10"]; got != "0" && got != "" {
		t.Fatalf("count after unlike = %s", got)
	}
	f.assertAPIMatchesSQL(t, []int64{1, 2}, users)
}

func TestReadModelSurvivesFlush(t *testing.T) { eachReadModel(t, testReadModelSurvivesFlush) }

func testReadModelSurvivesFlush(t *testing.T, kind string) {
	q := &switchQueue{Memory: mq.NewMemory()}
	f := newRMFixture(t, kind, q, q)
	users := []int64{1, 2, 3, 5}
	steps := []struct {
		user, video int64
		action      favoriteapi.FavoriteActionType
	}{{1, 10, like}, {5, 10, like}, {1, 20, like}, {5, 11, like}, {1, 10, unlike}, {2, 20, like}, {5, 10, unlike}, {1, 10, like}}
	for i, s := range steps {
		f.mustAct(t, s.user, s.video, s.action)
		if i%3 == 1 {
			// Redis restarted or flushed (the process restarted, for the in-process read
			// model) between requests: reads reload from SQL.
			f.flush(t)
		}
		f.assertAPIMatchesSQL(t, []int64{1, 5}, users)
	}
}

// Reserve, Apply and Settle run pipelined by EVALSHA: a Redis that lost its scripts (a
// restart, SCRIPT FLUSH) answers NOSCRIPT, and the steps run again by EVAL, losing nothing.
func TestRedisReadModelReloadsLostScripts(t *testing.T) {
	q := &switchQueue{Memory: mq.NewMemory()}
	f := newRMFixture(t, "redis", q, q)
	users := []int64{1, 2, 5}
	for _, s := range []struct {
		user, video int64
		action      favoriteapi.FavoriteActionType
	}{{1, 10, like}, {5, 10, like}, {1, 20, like}, {1, 10, unlike}, {2, 20, like}} {
		if err := f.r.Client().ScriptFlush(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
		f.mustAct(t, s.user, s.video, s.action)
		f.assertAPIMatchesSQL(t, users, users)
	}
}

// A read model reloaded from SQL while a like is still in the queue lacks it; the consumer's
// step after the commit must bring it back in line.
func TestReadModelReloadedBeforeCommitConverges(t *testing.T) {
	eachReadModel(t, testReadModelReloadedBeforeCommitConverges)
}

func testReadModelReloadedBeforeCommitConverges(t *testing.T, kind string) {
	ctx := context.Background()
	q := &heldQueue{}
	f := newRMFixture(t, kind, q, q)
	users := []int64{1, 2, 5}
	f.assertAPIMatchesSQL(t, []int64{1, 5}, users)

	f.mustAct(t, 1, 10, like)
	f.mustAct(t, 5, 10, like)
	resp, err := f.svc.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{ViewerId: 1, VideoIds: []int64{10}})
	if err != nil {
		t.Fatal(err)
	}
	if v := resp.Videos[10]; v.FavoriteCount != 2 || !v.IsFavorite {
		t.Fatalf("acknowledged likes not visible before the commit: %+v", v)
	}

	f.flush(t)
	// Reload now, before the consumer ran: the read model equals SQL, which has no likes yet.
	f.assertAPIMatchesSQL(t, []int64{1}, users)

	q.deliver(t)
	f.assertAPIMatchesSQL(t, []int64{1, 5}, users)
	if got := f.snapshot(t, nil, []int64{10})["count 10"]; got != "2" {
		t.Fatalf("cached count after the commit = %q, want 2", got)
	}
}

func TestReadModelRollsBackWhenPublishFails(t *testing.T) {
	eachReadModel(t, testReadModelRollsBackWhenPublishFails)
}

func testReadModelRollsBackWhenPublishFails(t *testing.T, kind string) {
	q := &switchQueue{Memory: mq.NewMemory()}
	f := newRMFixture(t, kind, q, q)
	users := []int64{1, 2, 3}
	f.mustAct(t, 1, 10, like)
	f.assertAPIMatchesSQL(t, []int64{1}, users) // every key the failing actions touch is cached
	before := f.snapshot(t, users, allVideos)
	rows := readTruth(t, f.gdb)

	q.down.Store(true)
	for _, a := range []struct {
		video  int64
		action favoriteapi.FavoriteActionType
	}{{20, like}, {10, unlike}} {
		if err := f.act(1, a.video, a.action); err == nil {
			t.Fatalf("action on video %d succeeded with the broker down", a.video)
		}
	}
	if after := f.snapshot(t, users, allVideos); !maps.Equal(after, before) {
		t.Fatalf("failed actions left the read model changed:\nbefore %v\nafter  %v", before, after)
	}
	if after := readTruth(t, f.gdb); fmt.Sprint(after) != fmt.Sprint(rows) {
		t.Fatalf("failed actions changed SQL")
	}

	// From a cold read model too: the set loaded for the action is left as SQL has it.
	f.flush(t)
	if err := f.act(1, 20, like); err == nil {
		t.Fatal("like succeeded with the broker down")
	}
	q.down.Store(false)
	f.assertAPIMatchesSQL(t, []int64{1}, users)
}

func TestReadModelConcurrentLikesMatchSQL(t *testing.T) {
	eachReadModel(t, testReadModelConcurrentLikesMatchSQL)
}

func testReadModelConcurrentLikesMatchSQL(t *testing.T, kind string) {
	q := newOrderedQueue(t, 4)
	f := newRMFixture(t, kind, q, q)
	var users []int64
	for u := int64(101); u <= 110; u++ {
		users = append(users, u)
	}
	everyone := append([]int64{2, 3}, users...)
	f.assertAPIMatchesSQL(t, users, everyone) // counters and sets cached before the storm

	// 20 goroutines, two per user, so one user's taps on one video also race each other.
	var wg sync.WaitGroup
	for g := range 20 {
		user := users[g%len(users)]
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for range 25 {
				a := like
				if rng.IntN(2) == 0 {
					a = unlike
				}
				if err := f.act(user, allVideos[rng.IntN(len(allVideos))], a); err != nil {
					t.Error(err)
					return
				}
				if rng.IntN(4) == 0 {
					if _, err := f.svc.MGetVideoFavorites(context.Background(), &favoriteapi.MGetVideoFavoritesRequest{ViewerId: user, VideoIds: allVideos}); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	q.drain(t)

	// The raw read-model state, not only the API, must equal the rows: a cached counter holds the
	// committed value (an absent one is reloaded from the rows on its next read).
	tr := readTruth(t, f.gdb)
	snap := f.snapshot(t, everyone, allVideos)
	for _, v := range allVideos {
		got := snap[fmt.Sprintf("count %d", v)]
		if want := fmt.Sprint(tr.videos[v]); got != "" && got != want {
			t.Errorf("read-model count of video %d = %s, rows say %s", v, got, want)
		}
	}
	for _, u := range everyone {
		want := cache.FormatPair(tr.users[u].FavoriteCount, tr.users[u].TotalFavorited)
		if got := snap[fmt.Sprintf("stats %d", u)]; got != "" && got != want {
			t.Errorf("read-model stats of user %d = %s, rows say %s", u, got, want)
		}
	}
	f.assertAPIMatchesSQL(t, everyone, everyone)
	for _, u := range users {
		members := []string{cache.SetLoaded}
		for _, v := range tr.liked[u] {
			members = append(members, fmt.Sprint(v))
		}
		sort.Strings(members)
		if got := snap[fmt.Sprintf("liked %d", u)]; got != strings.Join(members, ",") {
			t.Errorf("read-model liked set of user %d = %s, rows say %v", u, got, members)
		}
	}
	// The store's own counters agree with the rows too.
	counts, err := NewSQLStore(f.gdb).MGetVideoCounts(context.Background(), allVideos)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range allVideos {
		if counts[v] != tr.videos[v] {
			t.Errorf("SQL counter of video %d = %d, rows say %d", v, counts[v], tr.videos[v])
		}
	}
	f.assertAPIMatchesSQL(t, users, everyone)
}

func TestReadModelBatchReadsAreOneRoundTrip(t *testing.T) {
	eachReadModel(t, testReadModelBatchReadsAreOneRoundTrip)
}

func testReadModelBatchReadsAreOneRoundTrip(t *testing.T, kind string) {
	ctx := context.Background()
	q := &switchQueue{Memory: mq.NewMemory()}
	f := newRMFixture(t, kind, q, q)
	f.mustAct(t, 1, 10, like)
	f.mustAct(t, 5, 20, like)
	queries := countQueries(t, f.gdb)
	videos := []int64{10, 11, 20, 404}
	users := []int64{1, 2, 3, 5, 6}
	// roundTrips counts Redis round trips. The in-process read model has none: for it only
	// the SQL queries are checked.
	roundTrips := func() int64 {
		if f.rt == nil {
			return 0
		}
		return f.rt.Count()
	}
	checkRoundTrips := func(what string, before, want int64) {
		t.Helper()
		if n := roundTrips() - before; f.rt != nil && n != want {
			t.Fatalf("%s took %d Redis round trips, want %d", what, n, want)
		}
	}

	// Cold: one query for the missing counts and one for the viewer's set, however many ids.
	*queries = 0
	if _, err := f.svc.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{ViewerId: 1, VideoIds: videos}); err != nil {
		t.Fatal(err)
	}
	if *queries > 2 {
		t.Fatalf("cold MGetVideoFavorites ran %d SQL queries, want at most 2", *queries)
	}

	*queries = 0
	before := roundTrips()
	resp, err := f.svc.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{ViewerId: 1, VideoIds: videos})
	if err != nil {
		t.Fatal(err)
	}
	checkRoundTrips("warm MGetVideoFavorites", before, 1)
	if *queries != 0 {
		t.Fatalf("warm MGetVideoFavorites ran %d SQL queries", *queries)
	}
	if v := resp.Videos[10]; v.FavoriteCount != 1 || !v.IsFavorite || resp.Videos[20].IsFavorite || resp.Videos[20].FavoriteCount != 1 {
		t.Fatalf("warm read = %v", resp.Videos)
	}

	if _, err := f.svc.MGetUserFavoriteStats(ctx, &favoriteapi.MGetUserFavoriteStatsRequest{UserIds: users}); err != nil {
		t.Fatal(err)
	}
	*queries = 0
	before = roundTrips()
	stats, err := f.svc.MGetUserFavoriteStats(ctx, &favoriteapi.MGetUserFavoriteStatsRequest{UserIds: users})
	if err != nil {
		t.Fatal(err)
	}
	checkRoundTrips("warm MGetUserFavoriteStats", before, 1)
	if *queries != 0 {
		t.Fatalf("warm MGetUserFavoriteStats ran %d SQL queries", *queries)
	}
	if stats.Users[2].TotalFavorited != 1 || stats.Users[1].FavoriteCount != 1 || stats.Users[6].FavoriteCount != 0 {
		t.Fatalf("stats = %v", stats.Users)
	}

	// A like with the user's set cached is two script calls (its seq before the publish, its
	// step after); the consumer marks its counters as committing before the commit and takes
	// the idempotent step after it: two more.
	before = roundTrips()
	f.mustAct(t, 1, 11, like)
	checkRoundTrips("a warm like", before, 4)
}

func TestReadModelSeqIsStrictlyIncreasing(t *testing.T) {
	eachReadModel(t, testReadModelSeqIsStrictlyIncreasing)
}

func testReadModelSeqIsStrictlyIncreasing(t *testing.T, kind string) {
	ctx := context.Background()
	q := &heldQueue{}
	f := newRMFixture(t, kind, q, q)
	rm := f.rm
	if err := rm.FillLiked(ctx, 1, nil); err != nil {
		t.Fatal(err)
	}
	var last int64
	for i := range 50 {
		seq, err := rm.Reserve(ctx, 1)
		if err != nil {
			t.Fatalf("Reserve #%d: %v", i, err)
		}
		if seq <= last {
			t.Fatalf("seq %d after %d", seq, last)
		}
		last = seq
		// A step that changes nothing still took its seq: its event is published too.
		if a, err := rm.Apply(ctx, Change{UserID: 1, VideoID: 10, AuthorID: 2, Liked: i%2 == 0}, seq); err != nil || !a.Changed {
			t.Fatalf("Apply #%d = %+v, %v", i, a, err)
		}
	}
	if d := time.Duration(time.Now().UnixNano() - last); d < -time.Minute || d > time.Minute {
		t.Fatalf("seq %d is not a nanosecond clock reading near now (off by %v)", last, d)
	}
	// A clock that steps back must not reorder: the seq continues past the last one.
	future := time.Now().Add(time.Hour).UnixMicro()
	f.setLastSeq(t, future)
	if seq, err := rm.Reserve(ctx, 1); err != nil || seq != (future+1)*1000 {
		t.Fatalf("after a clock step back: seq %d, want %d (%v)", seq, (future+1)*1000, err)
	}
	// A set that is not loaded is reported, and nothing is touched: no seq handed out, no set
	// created, and the cached counters stay.
	if _, err := rm.FillVideoCounts(ctx, map[int64]int64{10: 7}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := rm.FillUserStats(ctx, map[int64]UserCount{9: {UserID: 9, FavoriteCount: 3}, 2: {UserID: 2, TotalFavorited: 4}}, nil); err != nil {
		t.Fatal(err)
	}
	before := f.snapshot(t, []int64{2, 9}, []int64{10})
	if _, err := rm.Reserve(ctx, 9); !errors.Is(err, ErrNotLoaded) {
		t.Fatalf("Reserve on an unloaded set = %v, want ErrNotLoaded", err)
	}
	if _, err := rm.Apply(ctx, Change{UserID: 9, VideoID: 10, AuthorID: 2, Liked: true}, (future+2)*1000); !errors.Is(err, ErrNotLoaded) {
		t.Fatalf("Apply on an unloaded set = %v, want ErrNotLoaded", err)
	}
	if after := f.snapshot(t, []int64{2, 9}, []int64{10}); !maps.Equal(after, before) || after["liked 9"] != "" {
		t.Fatalf("Reserve and Apply on an unloaded set changed the read model:\nbefore %v\nafter  %v", before, after)
	}
	if seq, err := rm.Reserve(ctx, 1); err != nil || seq != (future+2)*1000 {
		t.Fatalf("a refused Reserve handed out a seq: next seq %d, want %d (%v)", seq, (future+2)*1000, err)
	}
}

// Steps of one pair that reach Apply out of seq order (two requests of one user through two
// instances) leave the set as the newest seq says, which is what SQL keeps; so does a step
// that reaches Apply after its commit was settled.
func TestReadModelStaleStepChangesNothing(t *testing.T) {
	eachReadModel(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		f := newRMFixture(t, kind, &heldQueue{}, &heldQueue{})
		rm := f.rm
		if err := rm.FillLiked(ctx, 1, nil); err != nil {
			t.Fatal(err)
		}
		likeStep := Change{UserID: 1, VideoID: 10, AuthorID: 2, Liked: true}
		unlikeStep := likeStep.inverse()
		first, _ := rm.Reserve(ctx, 1)  // the unlike
		second, _ := rm.Reserve(ctx, 1) // the like, the user's last word
		if a, err := rm.Apply(ctx, likeStep, second); err != nil || !a.Changed {
			t.Fatalf("the newer like = %+v, %v", a, err)
		}
		if a, err := rm.Apply(ctx, unlikeStep, first); err != nil || a.Changed {
			t.Fatalf("the older unlike, applied after the newer like = %+v, %v; want no change", a, err)
		}
		// Unchanged steps count too: a newer like of a liked video, then an older unlike.
		third, _ := rm.Reserve(ctx, 1)
		fourth, _ := rm.Reserve(ctx, 1)
		if a, err := rm.Apply(ctx, likeStep, fourth); err != nil || a.Changed {
			t.Fatalf("liking a liked video = %+v, %v; want no change", a, err)
		}
		if a, err := rm.Apply(ctx, unlikeStep, third); err != nil || a.Changed {
			t.Fatalf("an unlike older than an unchanged like = %+v, %v; want no change", a, err)
		}
		// A step whose commit settled before it reached Apply: the Settle set the set already.
		late, _ := rm.Reserve(ctx, 1)
		if err := rm.Settle(ctx, unlikeStep, Committed{Flipped: true, Liked: false, Seq: late}); err != nil {
			t.Fatal(err)
		}
		if a, err := rm.Apply(ctx, unlikeStep, late); err != nil || a.Changed {
			t.Fatalf("a step applied after its commit settled = %+v, %v; want no change", a, err)
		}
		set, _, err := rm.Liked(ctx, 1)
		if err != nil || len(set.Videos) != 0 {
			t.Fatalf("liked set %v (%v), want empty: the settled unlike is the newest", set.Videos, err)
		}
	})
}

func TestReadModelEventsCarryReadModelOrder(t *testing.T) {
	eachReadModel(t, testReadModelEventsCarryReadModelOrder)
}

func testReadModelEventsCarryReadModelOrder(t *testing.T, kind string) {
	q := &heldQueue{}
	f := newRMFixture(t, kind, q, q)
	f.mustAct(t, 1, 10, like)
	f.mustAct(t, 1, 10, unlike)
	f.mustAct(t, 1, 10, like)
	var seqs []int64
	for _, b := range q.bodies {
		var e event.LikeEvent
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, e.Seq)
	}
	if len(seqs) != 3 || !slices.IsSorted(seqs) || seqs[0] == seqs[1] || seqs[1] == seqs[2] {
		t.Fatalf("event seqs %v, want 3 strictly increasing", seqs)
	}
	q.deliver(t)
	f.assertAPIMatchesSQL(t, []int64{1}, []int64{1, 2})
}

func TestReadModelDownDegradesToSQL(t *testing.T) {
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { dead.Close() })
	q := mq.NewMemory()
	gdb := dbtest.OpenMigrated(t, Migrate)
	s := New(NewSQLStore(gdb), testVideos, q, WithReadModel(NewRedisReadModel(cache.NewRedis(dead, "x:"), time.Hour, time.Minute)))
	if err := s.Subscribe(q); err != nil {
		t.Fatal(err)
	}
	act(t, s, 1, 10, like) // published without the read model, durable through the queue
	act(t, s, 5, 10, like)
	resp, err := s.MGetVideoFavorites(context.Background(), &favoriteapi.MGetVideoFavoritesRequest{ViewerId: 1, VideoIds: []int64{10, 20}})
	if err != nil {
		t.Fatal(err)
	}
	if v := resp.Videos[10]; v.FavoriteCount != 2 || !v.IsFavorite || resp.Videos[20].FavoriteCount != 0 {
		t.Fatalf("read with Redis down = %v", resp.Videos)
	}
	// A page with its authors tries the dead read model once, then reads SQL for all of it.
	attempts := &cachetest.RoundTrips{}
	dead.AddHook(attempts)
	page, err := s.MGetVideoFavorites(context.Background(), &favoriteapi.MGetVideoFavoritesRequest{ViewerId: 1, VideoIds: []int64{10}, UserIds: []int64{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if page.Videos[10].FavoriteCount != 2 || page.Users[1].GetFavoriteCount() != 1 || page.Users[2].GetTotalFavorited() != 2 {
		t.Fatalf("page with Redis down: videos %v, users %v", page.Videos, page.Users)
	}
	if n := attempts.Count(); n != 1 {
		t.Errorf("page with Redis down tried Redis %d times, want 1", n)
	}
	stats, err := s.MGetUserFavoriteStats(context.Background(), &favoriteapi.MGetUserFavoriteStatsRequest{UserIds: []int64{1, 2}})
	if err != nil || stats.Users[2].TotalFavorited != 2 || stats.Users[1].FavoriteCount != 1 {
		t.Fatalf("stats with Redis down = %v, %v", stats, err)
	}
	liked := make([]bool, 2)
	if err := s.LikedAmong(context.Background(), 1, []int64{20, 10}, liked); err != nil || !slices.Equal(liked, []bool{false, true}) {
		t.Fatalf("liked flags with Redis down = %v, %v", liked, err)
	}
}

// Two instances whose clocks disagree must still apply one user's taps in the order the read
// model took them: the seq comes from the read model, not from the instance's clock.
func TestReadModelOrdersAcrossInstancesWithSkewedClocks(t *testing.T) {
	eachReadModel(t, testReadModelOrdersAcrossInstancesWithSkewedClocks)
}

func testReadModelOrdersAcrossInstancesWithSkewedClocks(t *testing.T, kind string) {
	q := mq.NewMemory()
	f := newRMFixture(t, kind, q, q)
	ahead := New(NewSQLStore(f.gdb), testVideos, q, WithReadModel(f.rm))
	ahead.lastSeq.Store(time.Now().Add(time.Hour).UnixNano()) // this instance's clock runs an hour fast
	if _, err := ahead.FavoriteAction(context.Background(), &favoriteapi.FavoriteActionRequest{UserId: 1, VideoId: 10, ActionType: like}); err != nil {
		t.Fatal(err)
	}
	f.mustAct(t, 1, 10, unlike) // the user's last word, through the other instance
	tr := readTruth(t, f.gdb)
	if len(tr.liked[1]) != 0 {
		t.Fatalf("SQL kept the like: the later unlike was ordered before it")
	}
	f.assertAPIMatchesSQL(t, []int64{1}, []int64{1, 2})
}

// TestRetryOfAStepWithoutEventReachesSQL: the read model shows a like whose event is in no
// queue (the request that took the step lost its event, or an older instance took the step
// before publishing and died), so the client saw an error and retries. The retry finds the
// read model already changed; it must still publish, or SQL never learns of the like and the
// acknowledged like vanishes when the cache expires.
func TestRetryOfAStepWithoutEventReachesSQL(t *testing.T) {
	eachReadModel(t, testRetryOfAStepWithoutEventReachesSQL)
}

func testRetryOfAStepWithoutEventReachesSQL(t *testing.T, kind string) {
	q := &switchQueue{Memory: mq.NewMemory()}
	f := newRMFixture(t, kind, q, q)
	users := []int64{1, 2, 3}
	f.assertAPIMatchesSQL(t, []int64{1}, users) // loads user 1's set
	if _, err := step(context.Background(), f.rm, Change{UserID: 1, VideoID: 10, AuthorID: testVideos.authors[10], Liked: true}); err != nil {
		t.Fatal(err)
	}
	f.mustAct(t, 1, 10, like) // the retry, acknowledged
	if tr := readTruth(t, f.gdb); tr.videos[10] != 1 || !slices.Contains(tr.liked[1], 10) {
		t.Fatalf("the acknowledged like never reached SQL: %+v", tr)
	}
	f.flush(t) // the cache expires: SQL is all that is left
	f.assertAPIMatchesSQL(t, []int64{1}, users)
}

// dyingQueue is the broker connection of a process that, once atPublish is set, is killed
// during Publish: atPublish runs at that moment; stored says whether the broker had stored
// the event before the process died (its reply lost) or not. Either way the request gets no
// answer but an error.
type dyingQueue struct {
	held      *heldQueue
	stored    bool
	atPublish func()
}

func (q *dyingQueue) Publish(ctx context.Context, topic, key string, body []byte) error {
	if q.atPublish == nil {
		return q.held.Publish(ctx, topic, key, body)
	}
	q.atPublish()
	if q.stored {
		if err := q.held.Publish(ctx, topic, key, body); err != nil {
			return err
		}
	}
	return errors.New("connection reset: the process died")
}

// A favorite instance killed in the middle of a like (the chaos test's whole-service kill)
// must leave no state that SQL will not get: while its event is being published, every read
// (through another instance) still matches SQL, so if the process dies there, before the
// broker stored the event, nothing of the like remains anywhere; if the broker stored it,
// the consumer applies it, and then every read matches SQL again, with the like. (The read
// model once took the step before the publish: a kill in between left a like in the lists
// and counts that SQL never got, until the set expired.)
func TestKillDuringPublishLeavesNothingSQLWillNotGet(t *testing.T) {
	eachReadModel(t, func(t *testing.T, kind string) {
		for _, stored := range []bool{false, true} {
			t.Run(fmt.Sprintf("stored=%v", stored), func(t *testing.T) {
				held := &heldQueue{}
				q := &dyingQueue{held: held, stored: stored}
				f := newRMFixture(t, kind, q, held)
				users, viewers := []int64{1, 2, 5}, []int64{1, 5}
				f.mustAct(t, 5, 10, like) // delivered below; counters and sets cached meanwhile
				held.deliver(t)
				f.assertAPIMatchesSQL(t, viewers, users)
				before := f.snapshot(t, users, allVideos)

				var atPublish map[string]string
				q.atPublish = func() {
					atPublish = f.snapshot(t, users, allVideos)
					f.assertAPIMatchesSQL(t, viewers, users)
				}
				if err := f.act(1, 10, like); err == nil {
					t.Fatal("a like whose process died while publishing was acknowledged")
				}
				if !maps.Equal(atPublish, before) {
					t.Fatalf("the read model changed before the event was queued:\nbefore     %v\nat publish %v", before, atPublish)
				}
				q.atPublish = nil
				f.assertAPIMatchesSQL(t, viewers, users)
				held.deliver(t)
				f.assertAPIMatchesSQL(t, viewers, users)
				if liked := slices.Contains(readTruth(t, f.gdb).liked[1], 10); liked != stored {
					t.Fatalf("SQL has the like: %v, want %v (the event was stored: %v)", liked, stored, stored)
				}
			})
		}
	})
}

// A process killed after its event was queued and before it applied the step to the read
// model: the request was not answered, and the consumer's commit brings the like into the
// read model (set, flags, counts).
func TestKillAfterPublishConverges(t *testing.T) {
	eachReadModel(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		q := &heldQueue{}
		f := newRMFixture(t, kind, q, q)
		users, viewers := []int64{1, 2, 5}, []int64{1, 5}
		f.assertAPIMatchesSQL(t, viewers, users) // sets and counters cached
		// What the dead request did: its seq reserved, its event queued, nothing more.
		seq, err := f.rm.Reserve(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.publish(ctx, Change{UserID: 1, VideoID: 10, AuthorID: testVideos.authors[10], Liked: true}, seq, time.Now()); err != nil {
			t.Fatal(err)
		}
		f.assertAPIMatchesSQL(t, viewers, users) // no like yet, anywhere
		q.deliver(t)
		f.assertAPIMatchesSQL(t, viewers, users)
		resp, err := f.svc.FavoriteList(ctx, &favoriteapi.FavoriteListRequest{UserId: 1})
		if err != nil || !slices.Equal(resp.VideoIds, []int64{10}) {
			t.Fatalf("favorite list after the commit = %v (%v), want [10]", resp.GetVideoIds(), err)
		}
	})
}

func TestReadModelListShowsUncommittedActions(t *testing.T) {
	eachReadModel(t, testReadModelListShowsUncommittedActions)
}

// The liker's list reflects every acknowledged action at once, while the events still wait in
// the queue, and keeps doing so after they are committed.
func testReadModelListShowsUncommittedActions(t *testing.T, kind string) {
	ctx := context.Background()
	q := &heldQueue{}
	f := newRMFixture(t, kind, q, q)
	wantList := func(when string, want ...int64) {
		t.Helper()
		resp, err := f.svc.FavoriteList(ctx, &favoriteapi.FavoriteListRequest{UserId: 1})
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = []int64{}
		}
		if !slices.Equal(resp.VideoIds, want) {
			t.Fatalf("%s: favorite list %v, want %v", when, resp.VideoIds, want)
		}
	}

	wantList("before any like")
	f.mustAct(t, 1, 10, like)
	f.mustAct(t, 1, 20, like)
	wantList("likes queued, not committed", 20, 10)
	q.deliver(t)
	wantList("likes committed", 20, 10)

	f.mustAct(t, 1, 20, unlike)
	wantList("unlike queued", 10)
	f.mustAct(t, 1, 11, like)
	wantList("unlike and like queued", 11, 10)
	q.deliver(t)
	wantList("all committed", 11, 10)

	// Queued likes are ordered by the action, not by the video id.
	f.mustAct(t, 1, 20, like)
	f.mustAct(t, 1, 10, unlike)
	f.mustAct(t, 1, 10, like)
	wantList("re-like queued after a like", 10, 20, 11)
	q.deliver(t)
	wantList("re-like committed", 10, 20, 11)

	// Without a cached set (flushed, expired) the committed rows are the answer (in the order
	// of their millisecond times, which these fast steps share: compared as a set).
	f.flush(t)
	resp, err := f.svc.FavoriteList(ctx, &favoriteapi.FavoriteListRequest{UserId: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(slices.Values(resp.VideoIds)); !slices.Equal(got, []int64{10, 11, 20}) {
		t.Fatalf("read model empty: favorite list %v, want videos 10, 11, 20", resp.VideoIds)
	}
}

// raceQueue holds messages like heldQueue, or, while fast, hands each to the consumer inside
// Publish: a consumer faster than the request (RocketMQ's may be, under load; the in-process
// queue always is), whose commit settles before the request applies its own step.
type raceQueue struct {
	heldQueue
	fast bool
}

func (q *raceQueue) Publish(ctx context.Context, topic, key string, body []byte) error {
	if q.fast {
		return q.handler(ctx, body)
	}
	return q.heldQueue.Publish(ctx, topic, key, body)
}

// Whichever comes first, the request's step or the commit's Settle, the list orders the
// likes by the action, newest first.
func TestReadModelListOrderWhenTheCommitSettlesFirst(t *testing.T) {
	eachReadModel(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		q := &raceQueue{}
		f := newRMFixture(t, kind, q, q)
		wantList := func(when string, want ...int64) {
			t.Helper()
			resp, err := f.svc.FavoriteList(ctx, &favoriteapi.FavoriteListRequest{UserId: 1})
			if err != nil {
				t.Fatal(err)
			}
			if want == nil {
				want = []int64{}
			}
			if !slices.Equal(resp.VideoIds, want) {
				t.Fatalf("%s: favorite list %v, want %v", when, resp.VideoIds, want)
			}
		}
		f.mustAct(t, 1, 10, like) // the steps first, then the commits
		f.mustAct(t, 1, 20, like)
		q.deliver(t)
		wantList("two likes", 20, 10)
		q.fast = true // now the commits first
		f.mustAct(t, 1, 10, unlike)
		wantList("the first unliked", 20)
		f.mustAct(t, 1, 10, like)
		wantList("the first liked again: the newest", 10, 20)
		f.assertAPIMatchesSQL(t, []int64{1}, []int64{1, 2})
	})
}

func TestReadModelCountsIncludeQueuedLikes(t *testing.T) {
	eachReadModel(t, testReadModelCountsIncludeQueuedLikes)
}

// Counters loaded while likes wait in the queue include them, so counts agree with the lists
// and flags before the commit, including after a commit dropped the counters.
func testReadModelCountsIncludeQueuedLikes(t *testing.T, kind string) {
	ctx := context.Background()
	q := &heldQueue{}
	f := newRMFixture(t, kind, q, q)
	want := func(when string, count int64, liker1, liker5 bool) {
		t.Helper()
		resp, err := f.svc.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{ViewerId: 1, VideoIds: []int64{10}})
		if err != nil {
			t.Fatal(err)
		}
		if v := resp.Videos[10]; v.FavoriteCount != count || v.IsFavorite != liker1 {
			t.Fatalf("%s: video 10 seen by user 1 %+v, want count %d is_favorite %v", when, v, count, liker1)
		}
		stats, err := f.svc.MGetUserFavoriteStats(ctx, &favoriteapi.MGetUserFavoriteStatsRequest{UserIds: []int64{1, 5, 2}})
		if err != nil {
			t.Fatal(err)
		}
		wantStats := map[int64]favoriteapi.UserFavoriteStats{
			1: {FavoriteCount: boolCount(liker1)}, 5: {FavoriteCount: boolCount(liker5)}, 2: {TotalFavorited: count},
		}
		for u, w := range wantStats {
			if got := *stats.Users[u]; got != w {
				t.Fatalf("%s: user %d stats %+v, want %+v", when, u, got, w)
			}
		}
	}
	// Nothing cached yet: the first reads load the counters while both likes are queued.
	f.mustAct(t, 1, 10, like)
	f.mustAct(t, 5, 10, like)
	want("two likes queued", 2, true, true)
	q.deliverFirst(t)
	want("one like committed (its counters dropped), one queued", 2, true, true)
	f.mustAct(t, 1, 10, unlike)
	want("an unlike queued behind a like", 1, false, true)
	q.deliver(t)
	want("everything committed", 1, false, true)
	f.assertAPIMatchesSQL(t, []int64{1, 5}, []int64{1, 5, 2})
}

// A commit older than the user's last step on the pair does not undo that step in the set.
func TestReadModelOlderCommitKeepsNewerStep(t *testing.T) {
	eachReadModel(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		q := &heldQueue{}
		f := newRMFixture(t, kind, q, q)
		f.mustAct(t, 1, 10, like)
		f.mustAct(t, 1, 10, unlike)
		q.deliverFirst(t) // the like is committed; the unlike is still queued
		resp, err := f.svc.FavoriteList(ctx, &favoriteapi.FavoriteListRequest{UserId: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.VideoIds) != 0 {
			t.Fatalf("favorite list after like, unlike and the like's commit = %v, want []", resp.VideoIds)
		}
		vf, err := f.svc.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{ViewerId: 1, VideoIds: []int64{10}})
		if err != nil {
			t.Fatal(err)
		}
		if v := vf.Videos[10]; v.IsFavorite || v.FavoriteCount != 0 {
			t.Fatalf("video 10 after like, unlike and the like's commit: %+v, want not liked, count 0", v)
		}
		q.deliver(t)
		f.assertAPIMatchesSQL(t, []int64{1}, []int64{1, 2})
	})
}

// A consumer that dies between the commit and its Settle leaves the pair's pending delta
// behind; the redelivered event (no flip now) settles the pair again from its committed state.
func TestReadModelRedeliveryRepairsALostSettle(t *testing.T) {
	eachReadModel(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		q := &heldQueue{}
		f := newRMFixture(t, kind, q, q)
		f.assertAPIMatchesSQL(t, []int64{1}, []int64{1, 2}) // counters cached before the like
		f.mustAct(t, 1, 10, like)
		var e event.LikeEvent
		if err := json.Unmarshal(q.bodies[0], &e); err != nil {
			t.Fatal(err)
		}
		// The crash: committed to SQL, the read model never told.
		if _, err := NewSQLStore(f.gdb).ApplyLike(ctx, e); err != nil {
			t.Fatal(err)
		}
		q.deliver(t) // the redelivery
		f.assertAPIMatchesSQL(t, []int64{1}, []int64{1, 2})
		if tr := readTruth(t, f.gdb); tr.videos[10] != 1 {
			t.Fatalf("rows say video 10 has %d likes, want 1", tr.videos[10])
		}
	})
}

// likedUncommitted is a read model in which user 1, whose set is cached, liked video 10 of
// author 2: the step is applied, the like not committed, no counter cached.
func likedUncommitted(t *testing.T, kind string) (ReadModel, Change) {
	t.Helper()
	ctx := context.Background()
	rm := newRMFixture(t, kind, &heldQueue{}, &heldQueue{}).rm
	c := Change{UserID: 1, VideoID: 10, AuthorID: 2, Liked: true}
	if err := rm.FillLiked(ctx, 1, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := step(ctx, rm, c); err != nil {
		t.Fatal(err)
	}
	return rm, c
}

// fillEpochs reads video 10's count and users 1 and 2's stats, missing, for the epochs a
// fill of them carries: the reader's read before it goes to SQL, as MGetVideoFavorites reads.
func fillEpochs(t *testing.T, rm ReadModel) (videoEpochs, userEpochs map[int64]int64) {
	t.Helper()
	view, err := rm.VideoFavorites(context.Background(), 0, []int64{10}, []int64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	return view.Epochs, view.Users.Epochs
}

// A fill whose SQL read came before a commit, and which lands after that commit's Settle,
// would cache SQL's old count plus the pending deltas the Settle just took off: it is refused,
// and the reader reads again.
func TestReadModelRefusesAFillOlderThanASettle(t *testing.T) {
	eachReadModel(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		rm, c := likedUncommitted(t, kind)
		videoEpochs, userEpochs := fillEpochs(t, rm)
		// SQL is read now (no like yet); then the like commits and settles.
		if err := rm.Settle(ctx, c, Committed{Flipped: true, Liked: true, Seq: time.Now().Add(time.Hour).UnixNano()}); err != nil {
			t.Fatal(err)
		}
		filled, err := rm.FillVideoCounts(ctx, map[int64]int64{10: 0}, videoEpochs)
		if err != nil {
			t.Fatal(err)
		}
		if n, ok := filled[10]; ok {
			t.Fatalf("a fill read before the Settle was accepted: count %d", n)
		}
		stats, err := rm.FillUserStats(ctx, map[int64]UserCount{1: {UserID: 1}, 2: {UserID: 2}}, userEpochs)
		if err != nil {
			t.Fatal(err)
		}
		if len(stats) != 0 {
			t.Fatalf("user stats read before the Settle were accepted: %v", stats)
		}
		// Read again: the committed count, cached.
		videoEpochs, userEpochs = fillEpochs(t, rm)
		if filled, _ = rm.FillVideoCounts(ctx, map[int64]int64{10: 1}, videoEpochs); filled[10] != 1 {
			t.Fatalf("the fill after the Settle = %v, want count 1", filled)
		}
		stats, _ = rm.FillUserStats(ctx, map[int64]UserCount{1: {UserID: 1, FavoriteCount: 1}, 2: {UserID: 2, TotalFavorited: 1}}, userEpochs)
		if stats[1].FavoriteCount != 1 || stats[2].TotalFavorited != 1 {
			t.Fatalf("the stats fill after the Settle = %v", stats)
		}
	})
}

// TestSettleManyIsSettleInOneRoundTrip: a consumed batch settles the read model in one step
// (on Redis one pipelined round trip), leaving what settling each event alone leaves.
func TestSettleManyIsSettleInOneRoundTrip(t *testing.T) {
	eachReadModel(t, testSettleManyIsSettleInOneRoundTrip)
}

func testSettleManyIsSettleInOneRoundTrip(t *testing.T, kind string) {
	ctx := context.Background()
	changes := []Change{
		{UserID: 1, VideoID: 10, AuthorID: 2, Liked: true},
		{UserID: 3, VideoID: 10, AuthorID: 2, Liked: true},
		{UserID: 1, VideoID: 20, AuthorID: 3, Liked: true},
		{UserID: 1, VideoID: 10, AuthorID: 2, Liked: false},
	}
	// prepare takes the steps on a fresh Redis read model and returns the settlements their
	// commits would bring.
	prepare := func() (*rmFixture, []Settlement) {
		f := newRMFixture(t, kind, &heldQueue{}, &heldQueue{})
		for _, u := range []int64{1, 3} {
			if err := f.rm.FillLiked(ctx, u, nil); err != nil {
				t.Fatal(err)
			}
		}
		var out []Settlement
		for _, c := range changes {
			seq, err := f.rm.Reserve(ctx, c.UserID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.rm.Apply(ctx, c, seq); err != nil {
				t.Fatal(err)
			}
			out = append(out, Settlement{Change: c, Committed: Committed{Flipped: true, Liked: c.Liked, Seq: seq}})
		}
		return f, out
	}
	one, settlements := prepare()
	for _, st := range settlements {
		if err := one.rm.Settle(ctx, st.Change, st.Committed); err != nil {
			t.Fatal(err)
		}
	}
	many, settlements := prepare()
	var before int64
	if many.rt != nil {
		before = many.rt.Count()
	}
	for i, err := range many.rm.(manySettler).SettleMany(ctx, settlements) {
		if err != nil {
			t.Fatalf("settlement %d: %v", i, err)
		}
	}
	if many.rt != nil {
		if n := many.rt.Count() - before; n != 1 {
			t.Errorf("SettleMany of %d took %d round trips, want 1", len(settlements), n)
		}
	}
	users, videos := []int64{1, 2, 3}, []int64{10, 20}
	if got, want := many.snapshot(t, users, videos), one.snapshot(t, users, videos); !maps.Equal(got, want) {
		t.Errorf("after SettleMany %v, after Settle one by one %v", got, want)
	}
	for _, u := range []int64{1, 3} {
		a, _, err := one.rm.Liked(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := many.rm.Liked(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.Videos, b.Videos) {
			t.Errorf("user %d likes %v after SettleMany, %v after Settle one by one", u, b.Videos, a.Videos)
		}
	}
}

// Between a commit and its Settle an SQL read holds the like while the pending deltas still
// do: a fill then would count it twice. Counters a commit under way touches are not filled
// until its Settle (or Release) ends the mark.
func TestReadModelRefusesAFillDuringACommit(t *testing.T) {
	eachReadModel(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		rm, c := likedUncommitted(t, kind)
		fill := func() (map[int64]int64, map[int64]UserCount) {
			t.Helper()
			videoEpochs, userEpochs := fillEpochs(t, rm)
			// SQL is read now: the like is committed.
			counts, err := rm.FillVideoCounts(ctx, map[int64]int64{10: 1}, videoEpochs)
			if err != nil {
				t.Fatal(err)
			}
			stats, err := rm.FillUserStats(ctx, map[int64]UserCount{1: {UserID: 1, FavoriteCount: 1}, 2: {UserID: 2, TotalFavorited: 1}}, userEpochs)
			if err != nil {
				t.Fatal(err)
			}
			return counts, stats
		}
		if err := rm.Committing(ctx, []Change{c}); err != nil {
			t.Fatal(err)
		}
		if counts, stats := fill(); len(counts) != 0 || len(stats) != 0 {
			t.Fatalf("fills during the commit were cached: counts %v, stats %v (the pending like counted twice)", counts, stats)
		}
		if err := rm.Settle(ctx, c, Committed{Flipped: true, Liked: true, Seq: time.Now().Add(time.Hour).UnixNano()}); err != nil {
			t.Fatal(err)
		}
		if counts, stats := fill(); counts[10] != 1 || stats[1].FavoriteCount != 1 || stats[2].TotalFavorited != 1 {
			t.Fatalf("fills after the Settle = counts %v, stats %v; want 1 each", counts, stats)
		}
		// A commit that failed releases its marks: the next fill is cached.
		other := Change{UserID: 3, VideoID: 20, AuthorID: 4, Liked: true}
		if err := rm.Committing(ctx, []Change{other, other}); err != nil {
			t.Fatal(err)
		}
		if err := rm.Release(ctx, []Change{other}); err != nil {
			t.Fatal(err)
		}
		view, _ := rm.VideoFavorites(ctx, 0, []int64{20}, nil)
		if filled, _ := rm.FillVideoCounts(ctx, map[int64]int64{20: 0}, view.Epochs); len(filled) != 0 {
			t.Fatalf("a fill with one of two commits still under way was cached: %v", filled)
		}
		if err := rm.Release(ctx, []Change{other}); err != nil {
			t.Fatal(err)
		}
		if filled, _ := rm.FillVideoCounts(ctx, map[int64]int64{20: 0}, view.Epochs); filled[20] != 0 || len(filled) != 1 {
			t.Fatalf("a fill after both commits were released = %v, want count 0 cached", filled)
		}
	})
}
