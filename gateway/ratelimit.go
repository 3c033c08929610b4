package gateway

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter keeps one token bucket per key (a client IP or a user id). Buckets idle for longer
// than it takes to refill are dropped, so memory stays bounded by the active keys.
type limiter struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	buckets map[string]*bucket
	swept   time.Time
	now     func() time.Time
}

type bucket struct {
	limiter *rate.Limiter
	seen    time.Time
}

// newLimiter allows perMinute events per key on average, in bursts of up to burst.
func newLimiter(perMinute float64, burst int) *limiter {
	return &limiter{
		every:   rate.Limit(perMinute / 60),
		burst:   burst,
		buckets: map[string]*bucket{},
		now:     time.Now,
	}
}

// allow reports whether key may proceed now. A zero rate disables the limit.
func (l *limiter) allow(key string) bool {
	ok, _ := l.reserve(key)
	return ok
}

// off reports whether the limit is disabled (a zero rate): its key need not be computed.
func (l *limiter) off() bool { return l.every <= 0 }

// reserve reports whether key may proceed now and, when not, how long until it may.
func (l *limiter) reserve(key string) (bool, time.Duration) {
	if l.off() {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{limiter: rate.NewLimiter(l.every, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	l.sweep(now)
	if b.limiter.AllowN(now, 1) {
		return true, 0
	}
	missing := 1 - b.limiter.TokensAt(now)
	return false, time.Duration(missing / float64(l.every) * float64(time.Second))
}

// sweep drops buckets that are full again (idle long enough to refill), at most once a minute.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Minute {
		return
	}
	l.swept = now
	refill := time.Duration(float64(l.burst) / float64(l.every) * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.seen) > refill {
			delete(l.buckets, k)
		}
	}
}
