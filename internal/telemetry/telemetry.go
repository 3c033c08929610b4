// Package telemetry measures every process the same way: RED metrics per HTTP route and per
// RPC, queue publish/consume/lag, cache hits and sizes, and the database pool, on a registry owned by
// the process (no global state), served with /healthz and /readyz on the admin port.
package telemetry

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config holds the admin server and trace export settings.
type Config struct {
	AdminAddr string
	Pprof     bool
	Tracing   TracingConfig
}

// RegisterFlags registers the admin settings.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.AdminAddr, "admin.addr", "127.0.0.1:9090", "admin HTTP address of every process: /healthz, /readyz, /metrics; loopback by default, a pod sets its own address (empty disables)")
	fs.BoolVar(&c.Pprof, "admin.pprof", false, "serve /debug/pprof/ on the admin port (profiles reveal memory contents and cost CPU: for benchmarks and debugging)")
	fs.StringVar(&c.Tracing.OTLPEndpoint, "telemetry.otlp-endpoint", "", "host:port of an OTLP trace receiver (Jaeger, an OpenTelemetry collector); empty turns tracing off at no cost")
	fs.StringVar(&c.Tracing.OTLPProtocol, "telemetry.otlp-protocol", OTLPGRPC, "OTLP transport: grpc (usually port 4317) or http (4318)")
	fs.Float64Var(&c.Tracing.SampleRatio, "telemetry.sample-ratio", 1, "share of new traces recorded, 0 to 1; a request whose caller sampled it is always recorded")
}

// Validate checks the telemetry settings.
func (c *Config) Validate() error { return c.Tracing.Validate() }

// latencyBuckets suit an API whose requests take from 100 µs to seconds.
func latencyBuckets() []float64 {
	return []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
}

// Metrics are the process's collectors.
type Metrics struct {
	Registry *prometheus.Registry

	// http and rpcServed are the requests this process served, rpcCalls the RPCs it called.
	http, rpcServed, rpcCalls *redMetric
	mqPublished               *prometheus.CounterVec
	mqConsumed                *prometheus.CounterVec
	mqLag                     *prometheus.HistogramVec
	cacheLookups              *prometheus.CounterVec
	degraded                  *prometheus.CounterVec
	cacheSizes                *cacheSizes
}

// New returns the metrics of one process, with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		http: newREDMetric(prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "douyin_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}), prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "douyin_http_request_duration_seconds", Help: "HTTP request latency by route and method.", Buckets: latencyBuckets(),
		}, []string{"route", "method"})),
		rpcServed: newREDMetric(prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "douyin_rpc_requests_total", Help: "RPCs served by component, method and result code (0 ok, business code, or error).",
		}, []string{"component", "method", "code"}), prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "douyin_rpc_request_duration_seconds", Help: "RPC latency by component and method.", Buckets: latencyBuckets(),
		}, []string{"component", "method"})),
		rpcCalls: newREDMetric(prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "douyin_rpc_client_requests_total", Help: "RPCs called by callee component, method and result code (0 ok, business code, or -1 for a failure), as the caller saw them.",
		}, []string{"callee", "method", "code"}), prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "douyin_rpc_client_request_duration_seconds", Help: "RPC latency by callee component and method, as the caller saw it (retries included).", Buckets: latencyBuckets(),
		}, []string{"callee", "method"})),
		mqPublished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "douyin_mq_published_total", Help: "Queue messages published by topic and result.",
		}, []string{"topic", "result"}),
		mqConsumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "douyin_mq_consumed_total", Help: "Queue messages handled by topic, group and result.",
		}, []string{"topic", "group", "result"}),
		mqLag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "douyin_mq_consume_lag_seconds", Help: "Time from a message's publication to the start of its handling.",
			Buckets: []float64{.001, .005, .01, .05, .1, .5, 1, 5, 10, 30, 60, 300},
		}, []string{"topic", "group"}),
		degraded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "douyin_http_degraded_total", Help: "Pages served without an optional part (counts, flags) that could not be fetched, by route and part.",
		}, []string{"route", "part"}),
		cacheLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "douyin_cache_requests_total", Help: "Cache lookups by cache and result (hit or miss).",
		}, []string{"cache", "result"}),
		cacheSizes: newCacheSizes(),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.http.requests, m.http.duration, m.rpcServed.requests, m.rpcServed.duration, m.rpcCalls.requests, m.rpcCalls.duration, m.mqPublished, m.mqConsumed, m.mqLag, m.cacheLookups, m.degraded, m.cacheSizes,
	)
	return m
}

// ObserveHTTP records one HTTP request.
func (m *Metrics) ObserveHTTP(route, method string, code int, took time.Duration) {
	m.http.observe(route, method, code, took)
}

// ObserveDegraded records a page served without one of its optional parts.
func (m *Metrics) ObserveDegraded(route, part string) {
	m.degraded.WithLabelValues(route, part).Inc()
}

// ObserveRPC records one served RPC; code is 0, a business code, or -1 for a failure.
func (m *Metrics) ObserveRPC(component, method string, code int32, took time.Duration) {
	m.rpcServed.observe(component, method, int(code), took)
}

// CacheLookups counts hits and misses of one named cache.
func (m *Metrics) CacheLookups(cache string, hits, misses int) {
	if hits > 0 {
		m.cacheLookups.WithLabelValues(cache, "hit").Add(float64(hits))
	}
	if misses > 0 {
		m.cacheLookups.WithLabelValues(cache, "miss").Add(float64(misses))
	}
}

// WatchDB exports the pool statistics of a database handle.
func (m *Metrics) WatchDB(name string, db *sql.DB) {
	m.Registry.MustRegister(collectors.NewDBStatsCollector(db, name))
}

// Admin serves /healthz, /readyz, /metrics and, when enabled, /debug/pprof/ for one process.
type Admin struct {
	server *http.Server
	addr   string
}

// NewAdmin builds the admin server; ready reports whether the process's dependencies answer,
// withPprof adds the profiles.
func NewAdmin(addr string, withPprof bool, m *Metrics, ready func(context.Context) error) *Admin {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"ok"}`)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		if ready != nil {
			if err := ready(ctx); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprint(w, `{"status":"not ready"}`)
				return
			}
		}
		fmt.Fprint(w, `{"status":"ready"}`)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}))
	if withPprof {
		// Profiles on the admin port only, never on the public one, and only when asked for:
		// the benchmarks are read with them.
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return &Admin{addr: addr, server: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
}

// Run serves until ctx ends.
func (a *Admin) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.addr)
	if err != nil {
		return fmt.Errorf("admin listen: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- a.server.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("admin server: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.server.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
