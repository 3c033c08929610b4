package telemetry

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/douyin-backend/douyin/internal/cache"
)

// cacheSizes exports how full the watched in-process caches are, read at each scrape (a
// cache's Sizes takes its lock briefly; nothing is counted on the request path).
type cacheSizes struct {
	entries, maxEntries *prometheus.Desc
	mu                  sync.Mutex
	watched             []cache.Sized
}

func newCacheSizes() *cacheSizes {
	return &cacheSizes{
		entries: prometheus.NewDesc("douyin_cache_entries", "Entries held by an in-process cache's map.",
			[]string{"cache"}, nil),
		maxEntries: prometheus.NewDesc("douyin_cache_max_entries", "The most entries an in-process cache's map may hold.",
			[]string{"cache"}, nil),
	}
}

func (c *cacheSizes) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.entries
	ch <- c.maxEntries
}

func (c *cacheSizes) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	watched := c.watched
	c.mu.Unlock()
	seen := map[string]bool{}
	for _, w := range watched {
		for _, s := range w.Sizes() {
			if seen[s.Name] { // two instances of one cache (never in one process today): the first
				continue
			}
			seen[s.Name] = true
			ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(s.Entries), s.Name)
			ch <- prometheus.MustNewConstMetric(c.maxEntries, prometheus.GaugeValue, float64(s.MaxEntries), s.Name)
		}
	}
}

// WatchCaches exports the sizes of every cache given (douyin_cache_entries against
// douyin_cache_max_entries, by cache).
func (m *Metrics) WatchCaches(caches ...cache.Sized) {
	m.cacheSizes.mu.Lock()
	defer m.cacheSizes.mu.Unlock()
	m.cacheSizes.watched = append(m.cacheSizes.watched, caches...)
}
