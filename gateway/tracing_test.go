package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

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
}
