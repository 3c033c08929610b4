// Package live carries new comments to everyone watching a video: a hub of the watchers
// connected to this gateway, and a fan-out that brings every gateway's posts to every hub
// (in process in the embedded mode, Redis pub/sub when gateways are replicated).
package live

import (
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Limits bound the watchers of one gateway.
type Limits struct {
	// SendBuffer is how many comments may wait for one slow watcher before it is dropped.
	SendBuffer int
	// PerUser and PerIP cap the open connections of one signed-in user and of one client
	// address (0: unlimited).
	PerUser, PerIP int
}

// ErrTooManyConnections refuses a watcher over its user's or address's limit.
var ErrTooManyConnections = errors.New("too many live connections")

// ErrClosed refuses a watcher once the hub is shutting down.
var ErrClosed = errors.New("live comments are shutting down")

// Why a watcher's Done channel closed.
const (
	EndLeft     = iota // the watcher left (Leave)
	EndTooSlow         // its send buffer filled up
	EndShutdown        // the hub closed
)

// Watcher is one connection following one video's comments.
type Watcher struct {
	videoID, userID int64
	ip              string
	send            chan []byte
	done            chan struct{}
	end             int // set once, before done closes
}

// Messages are the comments to send, in order.
func (w *Watcher) Messages() <-chan []byte { return w.send }

// Done closes when the watcher must disconnect; End then says why.
func (w *Watcher) Done() <-chan struct{} { return w.done }

// End is why Done closed (valid once it has).
func (w *Watcher) End() int { return w.end }

// Hub holds the watchers of this process by video. Delivery never blocks: a watcher whose
// buffer is full is dropped, so one slow client cannot delay the others.
type Hub struct {
	limits  Limits
	metrics *Metrics

	mu      sync.Mutex
	videos  map[int64]map[*Watcher]struct{}
	perUser map[int64]int
	perIP   map[string]int
	closed  bool
}

// NewHub returns an empty hub; metrics may be nil.
func NewHub(limits Limits, metrics *Metrics) *Hub {
	if limits.SendBuffer < 1 {
		limits.SendBuffer = 1
	}
	return &Hub{limits: limits, metrics: metrics, videos: map[int64]map[*Watcher]struct{}{},
		perUser: map[int64]int{}, perIP: map[string]int{}}
}

// Join registers a watcher of videoID; userID is 0 for an anonymous one.
func (h *Hub) Join(videoID, userID int64, ip string) (*Watcher, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	if userID != 0 && h.limits.PerUser > 0 && h.perUser[userID] >= h.limits.PerUser {
		return nil, ErrTooManyConnections
	}
	if h.limits.PerIP > 0 && h.perIP[ip] >= h.limits.PerIP {
		return nil, ErrTooManyConnections
	}
	w := &Watcher{videoID: videoID, userID: userID, ip: ip, send: make(chan []byte, h.limits.SendBuffer), done: make(chan struct{})}
	set := h.videos[videoID]
	if set == nil {
		set = map[*Watcher]struct{}{}
		h.videos[videoID] = set
	}
	set[w] = struct{}{}
	if userID != 0 {
		h.perUser[userID]++
	}
	h.perIP[ip]++
	h.metrics.opened()
	return w, nil
}

// Leave unregisters w; it is safe to call more than once and after a drop.
func (h *Hub) Leave(w *Watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(w, EndLeft)
}

// removeLocked forgets w and closes its Done channel with reason end, once.
func (h *Hub) removeLocked(w *Watcher, end int) {
	set := h.videos[w.videoID]
	if _, ok := set[w]; !ok {
		return
	}
	delete(set, w)
	if len(set) == 0 {
		delete(h.videos, w.videoID)
	}
	if w.userID != 0 {
		if h.perUser[w.userID]--; h.perUser[w.userID] <= 0 {
			delete(h.perUser, w.userID)
		}
	}
	if h.perIP[w.ip]--; h.perIP[w.ip] <= 0 {
		delete(h.perIP, w.ip)
	}
	w.end = end
	close(w.done)
	h.metrics.closed()
	if end == EndTooSlow {
		h.metrics.droppedOne()
	}
}

// Deliver queues comment for every watcher of videoID, dropping those that cannot take it.
func (h *Hub) Deliver(videoID int64, comment []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.videos[videoID] {
		select {
		case w.send <- comment:
			h.metrics.pushedOne()
		default:
			h.removeLocked(w, EndTooSlow)
		}
	}
}

// Watchers is how many connections are open.
func (h *Hub) Watchers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, set := range h.videos {
		n += len(set)
	}
	return n
}

// Close ends every watcher and refuses new ones.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, set := range h.videos {
		for w := range set {
			h.removeLocked(w, EndShutdown)
		}
	}
}

// Metrics count the live connections of one process.
type Metrics struct {
	open    prometheus.Gauge
	pushed  prometheus.Counter
	dropped prometheus.Counter
}

// NewMetrics registers the live metrics on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		open:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "douyin_live_connections", Help: "Open live-comment WebSocket connections."}),
		pushed:  prometheus.NewCounter(prometheus.CounterOpts{Name: "douyin_live_pushed_total", Help: "Comments queued to live-comment watchers."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "douyin_live_dropped_total", Help: "Live-comment watchers dropped because they read too slowly."}),
	}
	for _, c := range []prometheus.Collector{m.open, m.pushed, m.dropped} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) opened() {
	if m != nil {
		m.open.Inc()
	}
}

func (m *Metrics) closed() {
	if m != nil {
		m.open.Dec()
	}
}

func (m *Metrics) pushedOne() {
	if m != nil {
		m.pushed.Inc()
	}
}

func (m *Metrics) droppedOne() {
	if m != nil {
		m.dropped.Inc()
	}
}
