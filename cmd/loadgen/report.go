package main

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Report is the outcome of one load run, as written to JSON.
type Report struct {
	Label       string          `json:"label"`
	Target      string          `json:"target"`
	Mode        string          `json:"mode"` // "closed" or "open"
	Concurrency int             `json:"concurrency"`
	Rate        float64         `json:"rate,omitempty"`
	Duration    float64         `json:"duration_seconds"`
	Mix         string          `json:"mix"`
	DataSet     Manifest        `json:"data_set"`
	Endpoints   []EndpointStats `json:"endpoints"`
	Total       EndpointStats   `json:"total"`
	Server      *procUsage      `json:"server,omitempty"`
	Loadgen     procUsage       `json:"loadgen"`
	StartedAt   time.Time       `json:"started_at"`
}

// EndpointStats are one scenario's figures; latencies in milliseconds.
type EndpointStats struct {
	Name     string  `json:"name"`
	Requests uint64  `json:"requests"`
	RPS      float64 `json:"rps"`
	P50      float64 `json:"p50_ms"`
	P90      float64 `json:"p90_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
	Mean     float64 `json:"mean_ms"`
	Errors   uint64  `json:"errors"`
	Dropped  uint64  `json:"dropped"`
	// ExampleError is one error message, to tell a broken setup from overload.
	ExampleError string `json:"example_error,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func summarize(name string, s *stats, elapsed time.Duration) EndpointStats {
	h := &s.hist
	e := EndpointStats{
		Name: name, Requests: h.n, RPS: float64(h.n) / elapsed.Seconds(),
		P50: ms(h.quantile(0.50)), P90: ms(h.quantile(0.90)), P99: ms(h.quantile(0.99)), Max: ms(h.max),
		Errors: s.errors, Dropped: s.dropped, ExampleError: s.lastErr,
	}
	if h.n > 0 {
		e.Mean = ms(h.sum / time.Duration(h.n))
	}
	return e
}

// buildReport turns a result into per-endpoint figures, sorted by name, plus the total.
func buildReport(res result) ([]EndpointStats, EndpointStats) {
	names := make([]string, 0, len(res.per))
	for n := range res.per {
		names = append(names, n)
	}
	sort.Strings(names)
	var all stats
	out := make([]EndpointStats, 0, len(names))
	for _, n := range names {
		s := res.per[n]
		out = append(out, summarize(n, s, res.elapsed))
		all.hist.merge(&s.hist)
		all.errors += s.errors
		all.dropped += s.dropped
	}
	return out, summarize("total", &all, res.elapsed)
}

// Markdown renders the report as a table with the resource use under it.
func (r Report) Markdown() string {
	var b strings.Builder
	mode := fmt.Sprintf("closed loop, %d connections", r.Concurrency)
	if r.Mode == "open" {
		mode = fmt.Sprintf("open loop at %.0f req/s, up to %d in flight", r.Rate, r.Concurrency)
	}
	fmt.Fprintf(&b, "**%s** — %s, %.0f s, data set %s\n\n", r.Label, mode, r.Duration, r.DataSet.Preset)
	b.WriteString("| endpoint | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | dropped |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, e := range append(append([]EndpointStats{}, r.Endpoints...), r.Total) {
		name := e.Name
		if name == "total" {
			name = "**total**"
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.2f | %.2f | %.2f | %.1f | %d | %d |\n", name, e.RPS, e.P50, e.P90, e.P99, e.Max, e.Errors, e.Dropped)
	}
	if r.Server != nil {
		fmt.Fprintf(&b, "\nserver: %.1f CPU s, %.2f cores, peak RSS %.0f MB (VmHWM %.0f MB);", r.Server.CPUSeconds, r.Server.Cores, r.Server.PeakRSSMB, r.Server.HWMMB)
	} else {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, " load generator: %.2f cores, peak RSS %.0f MB\n", r.Loadgen.Cores, r.Loadgen.PeakRSSMB)
	for _, e := range r.Endpoints {
		if e.ExampleError != "" {
			fmt.Fprintf(&b, "\n- %s example error: `%s`", e.Name, e.ExampleError)
		}
	}
	return b.String()
}
