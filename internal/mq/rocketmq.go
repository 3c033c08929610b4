package mq

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	rocketmq "github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"

	"github.com/douyin-backend/douyin/internal/batch"
)

// RocketMQConfig tunes the RocketMQ backend.
type RocketMQConfig struct {
	// NameServers are the host:port addresses of the name servers.
	NameServers []string
	// GroupPrefix starts every group name, so deployments can share a cluster.
	GroupPrefix string
	// SendTimeout bounds one Publish, retries included.
	SendTimeout time.Duration
	// MaxReconsume is how many times a failing message is retried before it is parked in
	// the group's dead-letter topic.
	MaxReconsume int32
	// RetryBackoff is the pause before the first retry of a failed message; it doubles with
	// each further failure, up to maxRetryBackoff.
	RetryBackoff time.Duration
	// Origin, when set, stamps every published message, and consumers acknowledge and skip
	// messages stamped by another origin: deployments sharing topics (a test deployment
	// beside a developer's) never apply each other's events. Give each its own GroupPrefix too.
	Origin string
}

// originProperty is the message property holding the publishing deployment's Origin.
const originProperty = "DOUYIN_ORIGIN"

// maxRetryBackoff caps the pause between retries, so a recovered dependency is not noticed
// minutes late.
const maxRetryBackoff = 30 * time.Second

// retryDelayLevels are the broker's delays of a message sent back for a retry (its default
// messageDelayLevel, levels 1..4): a retry waits the first level not shorter than its backoff.
var retryDelayLevels = []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second}

// consumeWorkers is how many messages of one topic a consumer handles at once. Handlers
// that write in batches (batch.Batcher) fill their batches from these concurrent calls.
const consumeWorkers = 64

// groupName is what the broker accepts as a group or topic name.
var groupName = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// RegisterFlags registers the RocketMQ settings.
func (c *RocketMQConfig) RegisterFlags(fs *flag.FlagSet) {
	c.NameServers = []string{"127.0.0.1:9876"}
	fs.Var((*addrList)(&c.NameServers), "mq.rocketmq.nameservers", "comma-separated host:port of the RocketMQ name servers")
	fs.StringVar(&c.GroupPrefix, "mq.rocketmq.group-prefix", "douyin", "prefix of the producer and consumer group names (<prefix>-<group>), so several deployments can share a cluster")
	fs.DurationVar(&c.SendTimeout, "mq.rocketmq.send-timeout", 3*time.Second, "maximum time of one publish, retries included; past it the request that published fails")
	c.MaxReconsume = 16 // before fs.Var, which records the current value as the default
	fs.Var((*int32Value)(&c.MaxReconsume), "mq.rocketmq.max-reconsume", "retries of a failing message before it goes to the group's dead-letter topic %DLQ%<group>")
	fs.DurationVar(&c.RetryBackoff, "mq.rocketmq.retry-backoff", time.Second, "pause before retrying a failed message, doubled per further failure up to 30s (rounded up to the broker's delay levels 1s, 5s, 10s, 30s); other messages go on meanwhile")
	fs.StringVar(&c.Origin, "mq.rocketmq.origin", "", "name of this deployment when several share the topics: messages are stamped with it and messages of other origins are skipped (empty: no stamp, no filter)")
}

// Validate checks the settings.
func (c *RocketMQConfig) Validate() error {
	if len(c.NameServers) == 0 {
		return fmt.Errorf("mq.rocketmq.nameservers must name at least one name server")
	}
	for _, addr := range c.NameServers {
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host == "" {
			return fmt.Errorf("mq.rocketmq.nameservers: %q is not host:port", addr)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("mq.rocketmq.nameservers: %q has no valid port", addr)
		}
	}
	if !groupName.MatchString(c.GroupPrefix) {
		return fmt.Errorf("mq.rocketmq.group-prefix %q: want letters, digits, '-' or '_'", c.GroupPrefix)
	}
	if c.SendTimeout <= 0 {
		return fmt.Errorf("mq.rocketmq.send-timeout must be positive")
	}
	if c.MaxReconsume < 1 {
		return fmt.Errorf("mq.rocketmq.max-reconsume must be at least 1")
	}
	if c.RetryBackoff <= 0 || c.RetryBackoff > maxRetryBackoff {
		return fmt.Errorf("mq.rocketmq.retry-backoff must be in (0, %s]", maxRetryBackoff)
	}
	return nil
}

// RocketMQ is the production queue. It implements Producer and Consumer over one client
// connection set: Subscribe everything, then Start, and Close at shutdown.
type RocketMQ struct {
	cfg      RocketMQConfig
	instance string
	producer rocketmq.Producer
	log      *slog.Logger

	mu       sync.Mutex
	groups   map[string]*rmqGroup                                    // consumer group (prefixed) → its consumer
	batchers map[string]*batch.Batcher[*primitive.Message, struct{}] // topic → its group send
	order    []string                                                // groups in Subscribe order, for Start and Close
	started  bool
	startErr error // a consumer that failed to start cannot be started again
	closed   bool

	// Close stops handler calls (closing), waits for those in progress (inflight), then
	// shuts the consumers down, so the offsets they commit reach the broker and no handler
	// runs on after Close returns.
	handling sync.RWMutex
	closing  bool
	inflight sync.WaitGroup
}

// rmqGroup is one push consumer. RocketMQ expects every member of a group to subscribe the
// same topics, and one client may hold a group only once, so all topics of a group share
// one consumer; each topic keeps its own queues, offsets and handler.
type rmqGroup struct {
	consumer rocketmq.PushConsumer
	topics   map[string]bool
	started  bool
}

// NewRocketMQ starts the producer. No connection is made yet: the first Publish or Start
// looks the routes up on the name servers. log receives the handler failures.
func NewRocketMQ(cfg RocketMQConfig, log *slog.Logger) (*RocketMQ, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	installClientLogger()

	// The client library shares one connection set per "instance name" across the whole
	// process and refuses a second one with other name servers; a name of our own keeps
	// each RocketMQ (and each test) independent.
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		return nil, fmt.Errorf("rocketmq instance name: %w", err)
	}
	r := &RocketMQ{
		cfg:      cfg,
		instance: cfg.GroupPrefix + "-" + hex.EncodeToString(suffix),
		log:      log,
		groups:   map[string]*rmqGroup{},
		batchers: map[string]*batch.Batcher[*primitive.Message, struct{}]{},
	}
	p, err := rocketmq.NewProducer(
		producer.WithNsResolver(primitive.NewPassthroughResolver(cfg.NameServers)),
		producer.WithGroupName(cfg.GroupPrefix+"-producer"),
		producer.WithInstanceName(r.instance),
		// Same key → same queue, the half of per-key order the producer owns. The selector
		// ignores the broker that failed on a retry, so retries keep the key's queue too.
		producer.WithQueueSelector(producer.NewHashQueueSelector()),
		producer.WithSendMsgTimeout(cfg.SendTimeout),
		producer.WithRetry(2),
	)
	if err != nil {
		return nil, fmt.Errorf("create rocketmq producer: %w", err)
	}
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("start rocketmq producer: %w", err)
	}
	r.producer = p
	return r, nil
}

// Publish sends body to topic and returns once the broker has stored it (SEND_OK), in one
// send with the other messages published at the same time (see sendBatcher). key is indexed
// by the broker (operators find a key's events by it) and chooses the queue of a message sent
// alone; consumers get no order either way (see Subscribe).
func (r *RocketMQ) Publish(ctx context.Context, topic, key string, body []byte) error {
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return fmt.Errorf("publish %s: rocketmq is closed", topic)
	}
	msg := primitive.NewMessage(topic, body)
	if r.cfg.Origin != "" {
		msg.WithProperty(originProperty, r.cfg.Origin)
	}
	if h := HeadersFrom(ctx); h != nil {
		for _, k := range h.Keys() {
			msg.WithProperty(k, h.Get(k))
		}
	}
	if key != "" {
		msg.WithShardingKey(key)
		msg.WithKeys([]string{key}) // indexed by the broker: lets operators find a key's events
	}
	_, err := r.sendBatcher(topic).Do(ctx, msg)
	return err
}

// maxSendBatch bounds the messages of one send: a like event is about 200 bytes, far below
// the broker's 4 MB limit on a batch.
const maxSendBatch = 32

// sendBatcher is topic's group send: concurrent Publish calls share one send (one request,
// one store on the broker, one reply) instead of paying a round trip each. A batch lands in
// one queue, so messages of one key no longer keep to one queue; no consumer relies on that
// (Subscribe handles messages concurrently, in no order).
func (r *RocketMQ) sendBatcher(topic string) *batch.Batcher[*primitive.Message, struct{}] {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.batchers[topic]
	if !ok {
		b = batch.New(maxSendBatch, func(ctx context.Context, msgs []*primitive.Message) ([]struct{}, []error) {
			err := r.send(ctx, topic, msgs)
			errs := make([]error, len(msgs))
			for i := range errs {
				errs[i] = err
			}
			return make([]struct{}, len(msgs)), errs
		})
		r.batchers[topic] = b
	}
	return b
}

// send stores msgs (one topic) on the broker in one request, all or none.
func (r *RocketMQ) send(ctx context.Context, topic string, msgs []*primitive.Message) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.SendTimeout)
	defer cancel()
	res, err := r.producer.SendSync(ctx, msgs...)
	if err != nil {
		return fmt.Errorf("publish %s: %w", topic, err)
	}
	// The client returns a nil result with some errors and a non-nil one with others; a
	// nil result with no error would be a client bug, and must not count as stored.
	if res == nil {
		return fmt.Errorf("publish %s: no send result", topic)
	}
	// FLUSH_DISK_TIMEOUT and the slave statuses mean stored on the master but not as
	// durable as configured: not an acknowledgement we may pass on to a client.
	if res.Status != primitive.SendOK {
		return fmt.Errorf("publish %s: broker answered %s", topic, sendStatus(res.Status))
	}
	return nil
}

// Subscribe registers h as the handler of group for topic. Call it before Start. Messages are
// handled concurrently, in no particular order, even for one key: handlers order events
// themselves (the favorite consumer by its per-pair seq). An error from h sends the message
// back to the broker, which redelivers it after a back-off while the others go on; after
// MaxReconsume retries it is parked in the group's dead-letter topic.
//
// Why not RocketMQ's orderly consumption: it holds a broker lock per queue, and the locks of
// a client that died without unlocking (SIGKILL, a lost node) stay for about a minute, during
// which nobody consumes those queues. Concurrent consumption has no locks: when a member
// dies, the broker drops it as soon as its connection closes and the others take its queues.
func (r *RocketMQ) Subscribe(topic, group string, h Handler) error {
	if !groupName.MatchString(group) {
		return fmt.Errorf("subscribe %s: group %q: want letters, digits, '-' or '_'", topic, group)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.started {
		return fmt.Errorf("subscribe %s/%s: subscriptions must precede Start", topic, group)
	}
	name := r.cfg.GroupPrefix + "-" + group
	g := r.groups[name]
	if g == nil {
		c, err := rocketmq.NewPushConsumer(
			consumer.WithNsResolver(primitive.NewPassthroughResolver(r.cfg.NameServers)),
			consumer.WithGroupName(name),
			consumer.WithInstance(r.instance),
			consumer.WithConsumerModel(consumer.Clustering),
			// Only a group without a committed offset uses this: it starts at the oldest
			// retained message, so events published before the group first ran still count.
			consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset),
			consumer.WithConsumerOrder(false),
			consumer.WithConsumeMessageBatchMaxSize(1),
			consumer.WithConsumeGoroutineNums(consumeWorkers),
			// The broker parks a message sent back after this many retries.
			consumer.WithMaxReconsumeTimes(r.cfg.MaxReconsume),
		)
		if err != nil {
			return fmt.Errorf("create rocketmq consumer %s: %w", name, err)
		}
		g = &rmqGroup{consumer: c, topics: map[string]bool{}}
		r.groups[name] = g
		r.order = append(r.order, name)
	}
	if g.topics[topic] {
		return fmt.Errorf("mq: group %s already subscribed to %s", group, topic)
	}
	if err := g.consumer.Subscribe(topic, consumer.MessageSelector{Type: consumer.TAG, Expression: "*"}, r.consume(topic, group, h)); err != nil {
		return fmt.Errorf("subscribe %s/%s: %w", topic, name, err)
	}
	g.topics[topic] = true
	return nil
}

// consume adapts h to the client's concurrent callback.
func (r *RocketMQ) consume(topic, group string, h Handler) func(context.Context, ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
	return func(ctx context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		r.handling.RLock()
		if r.closing {
			r.handling.RUnlock()
			// Not handled: sent back, so the group's next consumer gets it a second later.
			if cc, ok := primitive.GetConcurrentlyCtx(ctx); ok {
				cc.DelayLevelWhenNextConsume = 1
			}
			return consumer.ConsumeRetryLater, nil
		}
		r.inflight.Add(1)
		r.handling.RUnlock()
		defer r.inflight.Done()
		for _, m := range msgs {
			if r.cfg.Origin != "" && m.GetProperty(originProperty) != r.cfg.Origin {
				continue // another deployment's message on a shared topic: not ours to apply
			}
			if err := h(WithHeaders(WithBornAt(ctx, time.UnixMilli(m.BornTimestamp)), messageHeaders{m}), m.Body); err != nil {
				if cc, ok := primitive.GetConcurrentlyCtx(ctx); ok {
					cc.DelayLevelWhenNextConsume = delayLevel(r.backoff(m.ReconsumeTimes))
				}
				// Logged here and not returned: the client would log the error with the whole
				// pulled batch (see messageSafeLogger). RetryLater alone sends it back.
				r.log.Warn("mq handler failed; the message goes back to the broker for a retry",
					"topic", topic, "group", group, "msg_id", m.MsgId, "attempt", m.ReconsumeTimes+1, "err", err)
				return consumer.ConsumeRetryLater, nil
			}
		}
		return consumer.ConsumeSuccess, nil
	}
}

// messageHeaders are a received message's user properties, read as Headers.
type messageHeaders struct{ m *primitive.MessageExt }

func (h messageHeaders) Get(key string) string { return h.m.GetProperty(key) }
func (h messageHeaders) Set(key, value string) { h.m.WithProperty(key, value) }
func (h messageHeaders) Keys() []string {
	props := h.m.GetProperties()
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	return keys
}

// backoff is the pause before retrying a message that failed 1+failures times.
func (r *RocketMQ) backoff(failures int32) time.Duration {
	d := r.cfg.RetryBackoff
	for i := int32(0); i < failures && d < maxRetryBackoff; i++ {
		d *= 2
	}
	return min(d, maxRetryBackoff)
}

// delayLevel is the broker delay level (1-based) of the first delay not shorter than d.
func delayLevel(d time.Duration) int {
	for i, level := range retryDelayLevels {
		if d <= level {
			return i + 1
		}
	}
	return len(retryDelayLevels)
}

// Start starts every consumer. A topic must exist on the broker first (scripts/deps.sh and
// the deployment create them): the client refuses to subscribe to an unknown one.
func (r *RocketMQ) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errors.New("start rocketmq: closed")
	}
	if r.started {
		return r.startErr
	}
	r.started = true
	for _, name := range r.order {
		g := r.groups[name]
		if err := g.consumer.Start(); err != nil {
			// The client has already shut this consumer down; Close stops the others.
			r.startErr = fmt.Errorf("start rocketmq consumer %s: %w", name, err)
			return r.startErr
		}
		g.started = true
	}
	return nil
}

// Close lets the handler calls in progress finish and starts no new one, stops the
// consumers, committing the offsets of every message handled, then stops the producer. It
// is idempotent.
func (r *RocketMQ) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	r.handling.Lock()
	r.closing = true
	r.handling.Unlock()
	r.inflight.Wait()
	var errs []error
	for _, name := range r.order {
		// A consumer never started must not be shut down: the client would dereference
		// state that only Start creates.
		if g := r.groups[name]; g.started {
			if err := g.consumer.Shutdown(); err != nil {
				errs = append(errs, fmt.Errorf("shut down rocketmq consumer %s: %w", name, err))
			}
		}
	}
	if err := r.producer.Shutdown(); err != nil {
		errs = append(errs, fmt.Errorf("shut down rocketmq producer: %w", err))
	}
	return errors.Join(errs...)
}

func sendStatus(s primitive.SendStatus) string {
	switch s {
	case primitive.SendOK:
		return "SEND_OK"
	case primitive.SendFlushDiskTimeout:
		return "FLUSH_DISK_TIMEOUT"
	case primitive.SendFlushSlaveTimeout:
		return "FLUSH_SLAVE_TIMEOUT"
	case primitive.SendSlaveNotAvailable:
		return "SLAVE_NOT_AVAILABLE"
	default:
		return "status " + strconv.Itoa(int(s))
	}
}

// addrList is a comma-separated flag value; the config file's YAML lists arrive joined with
// commas too.
type addrList []string

func (a *addrList) String() string {
	if a == nil {
		return ""
	}
	return strings.Join(*a, ",")
}

func (a *addrList) Set(v string) error {
	var out []string
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	*a = out
	return nil
}

// int32Value is an int32 flag value (package flag has none).
type int32Value int32

func (v *int32Value) String() string {
	if v == nil {
		return "0"
	}
	return strconv.FormatInt(int64(*v), 10)
}

func (v *int32Value) Set(s string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	if err != nil {
		return fmt.Errorf("want a 32-bit integer: %w", err)
	}
	*v = int32Value(n)
	return nil
}
