package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/api"
	"github.com/douyin-backend/douyin/internal/polltest"
	"github.com/douyin-backend/douyin/internal/telemetry"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// With tracing on, a request over a real listener opens a server span that continues the
// caller's trace; X-Request-Id and the access log name the trace; probes open none.
func TestTracedRequests(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tracing, err := telemetry.NewTracingTo(sdktrace.WithSyncer(exp), 1, "douyin-test", "v-test")
	if err != nil {
		t.Fatal(err)
	}

	logs := &syncBuffer{}
	logWriter := telemetry.NewLogWriter(logs, time.Hour) // flushed below, before the log is read
	_, addr := runGateway(t, Config{}, Deps{Logger: telemetry.NewLogger(logWriter), Tracing: tracing})
	base := "http://" + addr
	probe, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	probe.Body.Close()
	if probe.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: HTTP %d", probe.StatusCode)
	}

	const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	req, _ := http.NewRequest(http.MethodGet, base+"/douyin/no-such-route/?token=secret", nil)
	req.Header.Set("traceparent", parent)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "0af7651916cd43dd8448eb211c80319c" {
		t.Fatalf("X-Request-Id %q, want the caller's trace id", got)
	}
	var span tracetest.SpanStub
	// The span ends after the response is written.
	polltest.Until(t, 10*time.Second, "the span of the traced request", func() bool {
		for _, s := range exp.GetSpans() {
			if s.SpanContext.TraceID().String() == "0af7651916cd43dd8448eb211c80319c" {
				span = s
			}
		}
		return span.Name != ""
	})
	if span.SpanKind != trace.SpanKindServer || span.Parent.SpanID().String() != "b7ad6b7169203331" {
		t.Fatalf("span %q kind %v parent %v: want a server span under the caller's", span.Name, span.SpanKind, span.Parent.SpanID())
	}
	// An unmatched path is named by its method alone; the path is recorded without its query.
	attrs := map[string]string{}
	for _, kv := range span.Attributes {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	if span.Name != "GET" || attrs["url.path"] != "/douyin/no-such-route/" || attrs["http.response.status_code"] != "404" ||
		attrs["http.request.method"] != "GET" || len(span.Events) != 0 {
		t.Fatalf("span %q attributes %v events %v: want GET, the path without its query, 404, no events", span.Name, attrs, span.Events)
	}
	for _, s := range exp.GetSpans() {
		if strings.Contains(s.Name, "healthz") {
			t.Errorf("a probe opened span %q", s.Name)
		}
	}
	if err := logWriter.Flush(); err != nil {
		t.Fatal(err)
	}
	var access map[string]any
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"msg":"http"`) && strings.Contains(line, "no-such-route") {
			if err := json.Unmarshal([]byte(line), &access); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The trace id is the request id: the line names it once.
	if _, dup := access["request_id"]; access["trace_id"] != "0af7651916cd43dd8448eb211c80319c" || dup {
		t.Fatalf("access log %v: want the trace id as trace_id, and no request_id beside it", access)
	}
	if access["span_id"] != span.SpanContext.SpanID().String() {
		t.Errorf("access log span_id %v, want the request's span %s", access["span_id"], span.SpanContext.SpanID())
	}
	wantAccessLine(t, access)
}

// wantAccessLine checks the fields of an access log line of GET /douyin/no-such-route/ from
// this machine: the path without its query, no source.
func wantAccessLine(t *testing.T, access map[string]any) {
	t.Helper()
	if access["level"] != "INFO" || access["method"] != "GET" || access["path"] != "/douyin/no-such-route/" ||
		access["status"] != float64(http.StatusNotFound) || access["client_ip"] != "127.0.0.1" {
		t.Errorf("access log %v: want level INFO, GET /douyin/no-such-route/, status 404, client_ip 127.0.0.1", access)
	}
	if latency, ok := access["latency"].(float64); !ok || latency <= 0 {
		t.Errorf("access log latency %v, want a positive duration", access["latency"])
	}
	if logged, err := time.Parse(time.RFC3339Nano, fmt.Sprint(access["time"])); err != nil || time.Since(logged) > time.Minute {
		t.Errorf("access log time %v (%v), want now", access["time"], err)
	}
	if _, ok := access["source"]; ok {
		t.Errorf("access log %v names a source", access)
	}
}

// Without tracing the access log line names the request id the response carries, the
// caller's X-Request-Id or a fresh one.
func TestAccessLogWithoutTracing(t *testing.T) {
	logs := &syncBuffer{}
	logWriter := telemetry.NewLogWriter(logs, time.Hour) // flushed below, before the log is read
	_, addr := runGateway(t, Config{}, Deps{Logger: telemetry.NewLogger(logWriter)})
	get := func(requestID string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/douyin/no-such-route/?token=secret", nil)
		if requestID != "" {
			req.Header.Set("X-Request-Id", requestID)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("X-Request-Id")
	}
	if got := get("caller-chosen-id"); got != "caller-chosen-id" {
		t.Fatalf("X-Request-Id %q, want the caller's", got)
	}
	fresh, other := get(""), get("")
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(fresh) || fresh == other {
		t.Fatalf("fresh request ids %q and %q: want two different 32 hex digits", fresh, other)
	}
	if err := logWriter.Flush(); err != nil {
		t.Fatal(err)
	}
	var lines []map[string]any
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"msg":"http"`) && strings.Contains(line, "no-such-route") {
			var access map[string]any
			if err := json.Unmarshal([]byte(line), &access); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, access)
		}
	}
	if len(lines) != 3 {
		t.Fatalf("%d access log lines, want 3:\n%s", len(lines), logs.String())
	}
	for i, want := range []string{"caller-chosen-id", fresh, other} {
		if _, traced := lines[i]["trace_id"]; lines[i]["request_id"] != want || traced {
			t.Errorf("access log %v: want request_id %s and no trace_id", lines[i], want)
		}
		wantAccessLine(t, lines[i])
	}
	if strings.Contains(logs.String(), "secret") {
		t.Errorf("the log names the query's token:\n%s", logs.String())
	}
}

// A request that starts its trace, sampled or not, is named by its trace id in X-Request-Id and
// in its access log line, which names trace_id and span_id once each. A sampled span on a route
// is named by its method and pattern, and is the span the line names.
func TestFreshTraceNamesTheRequest(t *testing.T) {
	for _, ratio := range []float64{0, 1} {
		t.Run(fmt.Sprint("ratio ", ratio), func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			tracing, err := telemetry.NewTracingTo(sdktrace.WithSyncer(exp), ratio, "douyin-test", "v-test")
			if err != nil {
				t.Fatal(err)
			}
			logs := &syncBuffer{}
			logWriter := telemetry.NewLogWriter(logs, time.Hour) // flushed below, before the log is read
			_, addr := runGateway(t, Config{}, Deps{Logger: telemetry.NewLogger(logWriter), Tracing: tracing})
			resp, err := http.Get("http://" + addr + api.UserPath + "?user_id=-1")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			id := resp.Header.Get("X-Request-Id")
			if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) || id == strings.Repeat("0", 32) {
				t.Fatalf("X-Request-Id %q, want a trace id", id)
			}
			if err := logWriter.Flush(); err != nil {
				t.Fatal(err)
			}
			var line string
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, `"msg":"http"`) && strings.Contains(l, `"path":"`+api.UserPath+`"`) {
					line = l
				}
			}
			var access map[string]any
			if err := json.Unmarshal([]byte(line), &access); err != nil {
				t.Fatalf("access log line %q: %v", line, err)
			}
			spanID, _ := access["span_id"].(string)
			if access["trace_id"] != id || !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(spanID) ||
				strings.Count(line, `"trace_id"`) != 1 || strings.Count(line, `"span_id"`) != 1 || strings.Contains(line, "request_id") {
				t.Fatalf("access log %s: want trace_id %s and a span_id, once each, and no request_id", line, id)
			}
			if ratio == 0 {
				return
			}
			var span tracetest.SpanStub
			// The span ends after the response is written.
			polltest.Until(t, 10*time.Second, "the span of the request", func() bool {
				for _, s := range exp.GetSpans() {
					if s.SpanContext.TraceID().String() == id {
						span = s
					}
				}
				return span.Name != ""
			})
			route := ""
			for _, kv := range span.Attributes {
				if kv.Key == "http.route" {
					route = kv.Value.AsString()
				}
			}
			if span.Name != "GET "+api.UserPath || route != api.UserPath || span.SpanContext.SpanID().String() != spanID {
				t.Fatalf("span %q route %q id %s: want GET %s, its route, the access log's span %s", span.Name, route, span.SpanContext.SpanID(), api.UserPath, spanID)
			}
		})
	}
}
