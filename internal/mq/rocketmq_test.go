//go:build !race

// The RocketMQ client has data races of its own (the orderly consumer reads its message
// cache unlocked: apache/rocketmq-client-go#1213, still in v2.1.2), so under -race these
// tests run in a child `go test` built without the detector: see rocketmq_race_test.go.

package mq

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/admin"
	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/douyin-backend/douyin/internal/polltest"
)

// These tests run against a real name server and broker (scripts/deps.sh starts them).
// A push consumer may take ~20 s to receive its queues, hence the generous deadlines and the
// tests running in parallel, each on a topic and groups of its own.

const firstMessageDeadline = 60 * time.Second

// rmqEnv is the test cluster: addresses from the environment, loopback by default.
type rmqEnv struct {
	nameServers []string
	broker      string
}

var (
	rmqEnvOnce sync.Once
	rmqEnvVal  rmqEnv
	rmqEnvErr  error
	// rmqAdmin is shared by every test: the client library keys admin clients by process,
	// so closing one would close all of them. It is released when the test binary exits.
	rmqAdmin interface {
		CreateTopic(ctx context.Context, opts ...admin.OptionCreate) error
		DeleteTopic(ctx context.Context, opts ...admin.OptionDelete) error
		FetchPublishMessageQueues(ctx context.Context, topic string) ([]*primitive.MessageQueue, error)
	}
)

func testRocketMQ(t *testing.T) rmqEnv {
	t.Helper()
	rmqEnvOnce.Do(func() {
		ns := envOr("DOUYIN_TEST_ROCKETMQ_NAMESRV", "127.0.0.1:9876")
		broker := envOr("DOUYIN_TEST_ROCKETMQ_BROKER", "127.0.0.1:10911")
		for _, addr := range []string{ns, broker} {
			conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
			if err != nil {
				rmqEnvErr = fmt.Errorf("RocketMQ at %s is unreachable (%v): run scripts/deps.sh, or set DOUYIN_TEST_ROCKETMQ_NAMESRV and DOUYIN_TEST_ROCKETMQ_BROKER", addr, err)
				return
			}
			conn.Close()
		}
		adm, err := admin.NewAdmin(admin.WithResolver(primitive.NewPassthroughResolver([]string{ns})))
		if err != nil {
			rmqEnvErr = fmt.Errorf("rocketmq admin: %w", err)
			return
		}
		rmqAdmin = adm
		rmqEnvVal = rmqEnv{nameServers: []string{ns}, broker: broker}
	})
	if rmqEnvErr != nil {
		t.Fatal(rmqEnvErr)
	}
	return rmqEnvVal
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// testCase is one test's own topic and groups, so tests, runs and -count repetitions never
// share a queue or an offset.
type testCase struct {
	topic string
	cfg   RocketMQConfig
}

// newCase creates a topic of 4 queues, waits until the name server routes it, and deletes it
// (with the retry topics of groups) at the end.
func (e rmqEnv) newCase(t *testing.T, groups ...string) testCase {
	t.Helper()
	id := uniqueID()
	tc := testCase{
		topic: "douyin-test-" + id,
		cfg: RocketMQConfig{
			NameServers:  e.nameServers,
			GroupPrefix:  "douyintest-" + id,
			SendTimeout:  5 * time.Second,
			MaxReconsume: 16,
			RetryBackoff: 100 * time.Millisecond,
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := rmqAdmin.CreateTopic(ctx, admin.WithTopicCreate(tc.topic), admin.WithBrokerAddrCreate(e.broker),
		admin.WithReadQueueNums(4), admin.WithWriteQueueNums(4)); err != nil {
		t.Fatalf("create topic %s: %v", tc.topic, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		doomed := []string{tc.topic}
		for _, g := range groups {
			doomed = append(doomed, "%RETRY%"+tc.cfg.GroupPrefix+"-"+g, "%DLQ%"+tc.cfg.GroupPrefix+"-"+g)
		}
		for _, tp := range doomed {
			if err := rmqAdmin.DeleteTopic(ctx, admin.WithTopicDelete(tp), admin.WithBrokerAddrDelete(e.broker)); err != nil {
				t.Logf("delete topic %s: %v", tp, err)
			}
		}
	})
	polltest.Until(t, 30*time.Second, "topic "+tc.topic+" routed by the name server", func() bool {
		mqs, err := rmqAdmin.FetchPublishMessageQueues(ctx, tc.topic)
		return err == nil && len(mqs) == 4
	})
	return tc
}

// uniqueID names one test's resources: tests, parallel runs and -count repetitions must not
// share them.
func uniqueID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return strconv.FormatInt(time.Now().UnixNano(), 36) + hex.EncodeToString(b)
}

func newTestRocketMQ(t *testing.T, cfg RocketMQConfig) *RocketMQ {
	t.Helper()
	return newLoggingTestRocketMQ(t, cfg, slog.Default())
}

func newLoggingTestRocketMQ(t *testing.T, cfg RocketMQConfig, log *slog.Logger) *RocketMQ {
	t.Helper()
	q, err := NewRocketMQ(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := q.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return q
}

// lockedBuffer is a log destination the test reads while the client's goroutines write it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// journal records what a handler saw, safely across the client's goroutines.
type journal struct {
	mu       sync.Mutex
	handled  map[string][]int // key → sequence numbers in handling order
	attempts map[string]int   // body → deliveries
	total    int
}

func newJournal() *journal {
	return &journal{handled: map[string][]int{}, attempts: map[string]int{}}
}

// deliver counts a delivery of body and reports how many there were before it.
func (j *journal) deliver(body string) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := j.attempts[body]
	j.attempts[body]++
	return n
}

func (j *journal) handle(body string) {
	key, seq := parseBody(body)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.handled[key] = append(j.handled[key], seq)
	j.total++
}

func (j *journal) count() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.total
}

func (j *journal) sequence(key string) []int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]int(nil), j.handled[key]...)
}

func (j *journal) deliveries(body string) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.attempts[body]
}

func body(key string, seq int) string { return key + "#" + strconv.Itoa(seq) }

func parseBody(b string) (string, int) {
	key, seq, _ := strings.Cut(b, "#")
	n, _ := strconv.Atoi(seq)
	return key, n
}

func publishRange(t *testing.T, q *RocketMQ, topic string, keys []string, from, to int) {
	t.Helper()
	for seq := from; seq < to; seq++ {
		for _, k := range keys {
			if err := q.Publish(context.Background(), topic, k, []byte(body(k, seq))); err != nil {
				t.Fatalf("publish %s: %v", body(k, seq), err)
			}
		}
	}
}

// assertEveryMessage checks that each key's messages 0..n-1 were all handled, each once.
// Consumption is concurrent, so their order is not asserted.
func assertEveryMessage(t *testing.T, j *journal, keys []string, n int) {
	t.Helper()
	for _, k := range keys {
		got := j.sequence(k)
		seen := map[int]int{}
		for _, seq := range got {
			seen[seq]++
		}
		for seq := range n {
			if seen[seq] != 1 {
				t.Errorf("key %s: message %d handled %d times (handled %v)", k, seq, seen[seq], got)
			}
		}
		if len(got) != n {
			t.Errorf("key %s: handled %d messages, want %d: %v", k, len(got), n, got)
		}
	}
}

func TestRocketMQDeliversEveryMessage(t *testing.T) {
	t.Parallel()
	env := testRocketMQ(t)
	tc := env.newCase(t, "order")
	topic := tc.topic
	q := newTestRocketMQ(t, tc.cfg)
	keys := []string{"user-1", "user-2", "user-3", "user-4", "user-5"}
	const perKey = 10

	j := newJournal()
	if err := q.Subscribe(topic, "order", func(_ context.Context, b []byte) error {
		j.deliver(string(b))
		j.handle(string(b))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := q.Subscribe(topic, "order", func(context.Context, []byte) error { return nil }); err == nil {
		t.Fatal("a second handler for the same topic and group was accepted")
	}
	// Half before the group's first start: a new group must still get them.
	publishRange(t, q, topic, keys, 0, perKey/2)
	if err := q.Start(); err != nil {
		t.Fatal(err)
	}
	if err := q.Subscribe(topic, "late", func(context.Context, []byte) error { return nil }); err == nil {
		t.Fatal("Subscribe after Start was accepted")
	}
	publishRange(t, q, topic, keys, perKey/2, perKey)

	want := len(keys) * perKey
	polltest.Until(t, firstMessageDeadline, fmt.Sprintf("%d messages", want), func() bool { return j.count() >= want })
	assertEveryMessage(t, j, keys, perKey)
}

func TestRocketMQRedeliversAfterHandlerError(t *testing.T) {
	t.Parallel()
	env := testRocketMQ(t)
	tc := env.newCase(t, "retry")
	topic := tc.topic
	var logged lockedBuffer
	q := newLoggingTestRocketMQ(t, tc.cfg, slog.New(slog.NewTextHandler(&logged, nil)))
	keys := []string{"video-1", "video-2", "video-3"}
	const perKey = 6
	failsOnce := func(b string) bool { _, seq := parseBody(b); return seq%3 == 1 }

	j := newJournal()
	if err := q.Subscribe(topic, "retry", func(_ context.Context, raw []byte) error {
		b := string(raw)
		if j.deliver(b) == 0 && failsOnce(b) {
			return errors.New("transient failure")
		}
		j.handle(b)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(); err != nil {
		t.Fatal(err)
	}
	publishRange(t, q, topic, keys, 0, perKey)

	want := len(keys) * perKey
	polltest.Until(t, firstMessageDeadline, fmt.Sprintf("%d messages handled", want), func() bool { return j.count() >= want })
	// Every message handled once; a failed one came back after the others went on.
	assertEveryMessage(t, j, keys, perKey)
	for _, k := range keys {
		for seq := 0; seq < perKey; seq++ {
			b := body(k, seq)
			want := 1
			if failsOnce(b) {
				want = 2
			}
			if got := j.deliveries(b); got != want {
				t.Errorf("%s delivered %d times, want %d", b, got, want)
			}
		}
	}
	// Each failure is reported once, on the logger the queue was given.
	if n := strings.Count(logged.String(), "transient failure"); n != len(keys)*2 {
		t.Errorf("%d handler failures logged, want %d:\n%s", n, len(keys)*2, logged.String())
	}
}

func TestRocketMQParksAPoisonMessageAfterMaxReconsume(t *testing.T) {
	t.Parallel()
	env := testRocketMQ(t)
	tc := env.newCase(t, "poison")
	tc.cfg.MaxReconsume = 2
	q := newTestRocketMQ(t, tc.cfg)
	poison := body("k", 1)

	j := newJournal()
	if err := q.Subscribe(tc.topic, "poison", func(_ context.Context, raw []byte) error {
		b := string(raw)
		j.deliver(b)
		if b == poison {
			return errors.New("permanent failure")
		}
		j.handle(b)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(); err != nil {
		t.Fatal(err)
	}
	publishRange(t, q, tc.topic, []string{"k"}, 0, 3)
	polltest.Until(t, firstMessageDeadline, "the message after the poison one", func() bool { return j.count() >= 2 })
	if got := j.sequence("k"); len(got) != 2 || !slices.Contains(got, 0) || !slices.Contains(got, 2) {
		t.Fatalf("handled %v, want 0 and 2", got)
	}
	// One delivery plus MaxReconsume retries (1 s, then 5 s apart), then it is parked.
	polltest.Until(t, 120*time.Second, "the poison message's retries", func() bool {
		return j.deliveries(poison) >= int(tc.cfg.MaxReconsume)+1
	})
	// A further retry would come 10 s after the last one, which is the level that follows.
	time.Sleep(12 * time.Second)
	if got, want := j.deliveries(poison), int(tc.cfg.MaxReconsume)+1; got != want {
		t.Fatalf("poison message delivered %d times, want %d", got, want)
	}
}

func TestRocketMQCommitsOffsetsOnClose(t *testing.T) {
	t.Parallel()
	env := testRocketMQ(t)
	tc := env.newCase(t, "offsets")
	topic := tc.topic
	keys := []string{"a", "b", "c", "d"}
	const batch = 5

	first := newTestRocketMQ(t, tc.cfg)
	j1 := newJournal()
	if err := first.Subscribe(topic, "offsets", func(_ context.Context, b []byte) error {
		j1.handle(string(b))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	publishRange(t, first, topic, keys, 0, batch)
	polltest.Until(t, firstMessageDeadline, "the first batch", func() bool { return j1.count() >= len(keys)*batch })
	// A fence per key, published once the first batch is handled: once the fences are handled
	// too, every first-batch offset is committed in the client; Close must carry them to the
	// broker.
	publishRange(t, first, topic, keys, batch, batch+1)
	polltest.Until(t, 30*time.Second, "the fences", func() bool { return j1.count() >= len(keys)*(batch+1) })
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := newTestRocketMQ(t, tc.cfg)
	j2 := newJournal()
	if err := second.Subscribe(topic, "offsets", func(_ context.Context, b []byte) error {
		j2.handle(string(b))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	publishRange(t, second, topic, keys, batch+1, 2*batch+1) // published while no consumer runs
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	polltest.Until(t, firstMessageDeadline, "the second batch", func() bool {
		for _, k := range keys {
			got := j2.sequence(k)
			for seq := batch + 1; seq <= 2*batch; seq++ {
				if !slices.Contains(got, seq) {
					return false
				}
			}
		}
		return true
	})
	for _, k := range keys {
		got := j2.sequence(k)
		// The fence may come again (its offset may not have been committed before Close),
		// but nothing before it.
		got = slices.DeleteFunc(got, func(seq int) bool { return seq == batch })
		slices.Sort(got)
		for i, seq := range got {
			if seq != batch+1+i {
				t.Errorf("key %s: the group's second consumer got %v, want %d..%d: acknowledged messages came back", k, j2.sequence(k), batch+1, 2*batch)
				break
			}
		}
	}
}

func TestRocketMQCloseWaitsForTheHandlerInProgress(t *testing.T) {
	t.Parallel()
	env := testRocketMQ(t)
	tc := env.newCase(t, "drain")
	q := newTestRocketMQ(t, tc.cfg)
	started := make(chan struct{}, 16)
	release := make(chan struct{})
	var finished sync.Map // body → true once its handler returned
	if err := q.Subscribe(tc.topic, "drain", func(_ context.Context, b []byte) error {
		started <- struct{}{}
		<-release
		finished.Store(string(b), true)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(); err != nil {
		t.Fatal(err)
	}
	publishRange(t, q, tc.topic, []string{"k"}, 0, 1)
	select {
	case <-started:
	case <-time.After(firstMessageDeadline):
		t.Fatal("the handler was never called")
	}
	closed := make(chan error, 1)
	go func() { closed <- q.Close() }()
	// A correct Close cannot return while the handler blocks; give a wrong one time to.
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a handler was still running", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if _, ok := finished.Load(body("k", 0)); !ok {
		t.Fatal("Close returned before the handler did")
	}
}

func TestRocketMQStartFailsOnUnknownTopic(t *testing.T) {
	t.Parallel()
	env := testRocketMQ(t)
	id := uniqueID()
	q := newTestRocketMQ(t, RocketMQConfig{NameServers: env.nameServers, GroupPrefix: "douyintest-" + id,
		SendTimeout: 5 * time.Second, MaxReconsume: 1, RetryBackoff: time.Second})
	if err := q.Subscribe("douyin-test-"+id+"-missing", "nobody", func(context.Context, []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(); err == nil {
		t.Fatal("Start subscribed to a topic that does not exist")
	}
	if err := q.Start(); err == nil {
		t.Fatal("a second Start hid the first one's failure")
	}
}

func TestRocketMQPublishFailsWithoutBroker(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // a port nobody listens on
	cfg := RocketMQConfig{NameServers: []string{dead}, GroupPrefix: "douyintest", SendTimeout: 2 * time.Second, MaxReconsume: 1, RetryBackoff: time.Second}
	q := newTestRocketMQ(t, cfg)
	start := time.Now()
	if err := q.Publish(context.Background(), TopicFavorite, "k", []byte("x")); err == nil {
		t.Fatal("publish without a reachable name server reported success")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("failed publish took %s, want about the send timeout", d)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Publish(context.Background(), TopicFavorite, "k", []byte("x")); err == nil {
		t.Fatal("publish after Close reported success")
	}
}

// The headers a publisher attaches to its context (the trace context) travel as message
// properties and reach the handler's context.
func TestRocketMQCarriesHeaders(t *testing.T) {
	t.Parallel()
	env := testRocketMQ(t)
	tc := env.newCase(t, "headers")
	q := newTestRocketMQ(t, tc.cfg)
	got := make(chan string, 1)
	if err := q.Subscribe(tc.topic, "headers", func(ctx context.Context, _ []byte) error {
		h := HeadersFrom(ctx)
		if h == nil {
			got <- "<no headers>"
			return nil
		}
		got <- h.Get("traceparent")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(); err != nil {
		t.Fatal(err)
	}
	const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	ctx := WithHeaders(context.Background(), MapHeaders{"traceparent": parent})
	if err := q.Publish(ctx, tc.topic, "k", []byte("m")); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-got:
		if v != parent {
			t.Fatalf("handler saw traceparent %q, want %q", v, parent)
		}
	case <-time.After(firstMessageDeadline):
		t.Fatal("message not delivered")
	}
}

// TestRocketMQGroupSendKeepsEachMessage: messages published at the same time share sends
// (RocketMQ.sendBatcher); each still reaches the handler once, with its own headers and the
// origin stamp, and a send of several messages (forced here) stores every one of them.
func TestRocketMQGroupSendKeepsEachMessage(t *testing.T) {
	t.Parallel()
	env := testRocketMQ(t)
	tc := env.newCase(t, "batch")
	q := newTestRocketMQ(t, tc.cfg)
	var mu sync.Mutex
	seen := map[string][]string{} // body → the traceparent of each delivery
	if err := q.Subscribe(tc.topic, "batch", func(ctx context.Context, b []byte) error {
		mu.Lock()
		defer mu.Unlock()
		parent := "<none>"
		if h := HeadersFrom(ctx); h != nil {
			parent = h.Get("traceparent")
		}
		seen[string(b)] = append(seen[string(b)], parent)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(); err != nil {
		t.Fatal(err)
	}
	parentOf := func(i int) string { return fmt.Sprintf("00-0af7651916cd43dd8448eb211c8031%02x-b7ad6b7169203331-01", i) }
	const concurrent = 40
	var wg sync.WaitGroup
	for i := range concurrent {
		wg.Go(func() {
			ctx := WithHeaders(context.Background(), MapHeaders{"traceparent": parentOf(i)})
			if err := q.Publish(ctx, tc.topic, fmt.Sprintf("k%d", i%3), fmt.Appendf(nil, "m%d", i)); err != nil {
				t.Errorf("publish m%d: %v", i, err)
			}
		})
	}
	wg.Wait()
	// One send of several messages, whatever the timing above did.
	forced := make([]*primitive.Message, 5)
	for i := range forced {
		forced[i] = primitive.NewMessage(tc.topic, fmt.Appendf(nil, "m%d", concurrent+i))
		forced[i].WithProperty("traceparent", parentOf(concurrent+i))
		if tc.cfg.Origin != "" {
			forced[i].WithProperty(originProperty, tc.cfg.Origin)
		}
	}
	if err := q.send(context.Background(), tc.topic, forced); err != nil {
		t.Fatal(err)
	}
	want := concurrent + len(forced)
	polltest.Until(t, firstMessageDeadline, fmt.Sprintf("%d messages", want), func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) >= want
	})
	mu.Lock()
	defer mu.Unlock()
	for i := range want {
		got := seen[fmt.Sprintf("m%d", i)]
		if len(got) != 1 || got[0] != parentOf(i) {
			t.Errorf("m%d delivered with traceparents %v, want once with %s", i, got, parentOf(i))
		}
	}
}
