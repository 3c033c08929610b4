package telemetry

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// maxREDSeries bounds the resolved series of one redMetric; past it, lookups go to the
// vectors. Routes, methods and codes are a few dozen in practice.
const maxREDSeries = 1024

// redMetric counts requests by (a, b, code) and times them by (a, b): route or component,
// method, and result code. Each label set is resolved once: a vector's label lookup hashes
// and checks every value, and it ran on the path of every request.
type redMetric struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	mu     sync.RWMutex
	series map[redKey]redSeries
}

type redKey struct {
	a, b string
	code int
}

type redSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

func newREDMetric(requests *prometheus.CounterVec, duration *prometheus.HistogramVec) *redMetric {
	return &redMetric{requests: requests, duration: duration, series: map[redKey]redSeries{}}
}

// observe records one request.
func (r *redMetric) observe(a, b string, code int, took time.Duration) {
	k := redKey{a: a, b: b, code: code}
	r.mu.RLock()
	s, ok := r.series[k]
	r.mu.RUnlock()
	if !ok {
		s = redSeries{requests: r.requests.WithLabelValues(a, b, strconv.Itoa(code)), duration: r.duration.WithLabelValues(a, b)}
		r.mu.Lock()
		if len(r.series) < maxREDSeries {
			r.series[k] = s
		}
		r.mu.Unlock()
	}
	s.requests.Inc()
	s.duration.Observe(took.Seconds())
}
