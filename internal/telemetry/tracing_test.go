package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/douyin-backend/douyin/internal/mq"
)

// recordingTracing exports every span, synchronously, to the returned recorder.
func recordingTracing(t *testing.T, ratio float64) (*Tracing, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tr, err := NewTracingTo(sdktrace.WithSyncer(scrubbingExporter{SpanExporter: exp}), ratio, "douyin-test", "v-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	return tr, exp
}

func TestTracingOffWithoutEndpoint(t *testing.T) {
	tr, err := NewTracing(TracingConfig{OTLPProtocol: OTLPGRPC, SampleRatio: 1}, "douyin", "dev")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Enabled() {
		t.Fatal("tracing on without an endpoint")
	}
	ctx, span := tr.Provider().Tracer("t").Start(context.Background(), "x")
	if span.IsRecording() || trace.SpanContextFromContext(ctx).IsValid() {
		t.Fatal("the no-op provider recorded a span")
	}
	carrier := mq.MapHeaders{}
	tr.Propagator().Inject(ctx, carrier)
	if len(carrier) != 0 {
		t.Fatalf("the no-op propagator injected %v", carrier)
	}
	// Off wraps nothing: the queue adapters are used as they are.
	q := mq.NewMemory()
	if tr.Producer(q) != mq.Producer(q) || tr.Consumer(q) != mq.Consumer(q) {
		t.Fatal("tracing off still wraps the queue")
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestTracingOnStartsWithoutACollector(t *testing.T) {
	// An endpoint nobody listens on: the provider is built, the start does not fail.
	for _, proto := range []string{OTLPGRPC, OTLPHTTP} {
		tr, err := NewTracing(TracingConfig{OTLPEndpoint: "127.0.0.1:1", OTLPProtocol: proto, SampleRatio: 0.5}, "douyin-user", "v1")
		if err != nil {
			t.Fatalf("%s: %v", proto, err)
		}
		if !tr.Enabled() {
			t.Fatalf("%s: tracing off with an endpoint", proto)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		_ = tr.Shutdown(ctx) // nothing to deliver it to: only must not hang
		cancel()
	}
}

func TestTracingConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg TracingConfig
		ok  bool
	}{
		{TracingConfig{OTLPProtocol: OTLPGRPC, SampleRatio: 1}, true},
		{TracingConfig{OTLPEndpoint: "jaeger:4318", OTLPProtocol: OTLPHTTP, SampleRatio: 0.1}, true},
		{TracingConfig{OTLPProtocol: "thrift", SampleRatio: 1}, false},
		{TracingConfig{OTLPProtocol: OTLPGRPC, SampleRatio: 1.5}, false},
		{TracingConfig{OTLPProtocol: OTLPGRPC, SampleRatio: -0.1}, false},
		{TracingConfig{OTLPEndpoint: "http://jaeger:4318", OTLPProtocol: OTLPHTTP, SampleRatio: 1}, false},
	} {
		if err := c.cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("%+v: Validate() = %v, want ok=%v", c.cfg, err, c.ok)
		}
	}
}

func TestServiceName(t *testing.T) {
	for _, c := range []struct {
		targets []string
		want    string
	}{
		{[]string{"all"}, "douyin"},
		{nil, "douyin"},
		{[]string{"favorite"}, "douyin-favorite"},
		{[]string{"user", "video"}, "douyin-user+video"},
	} {
		if got := ServiceName(c.targets, "all"); got != c.want {
			t.Errorf("ServiceName(%v) = %q, want %q", c.targets, got, c.want)
		}
	}
}

func TestResourceNamesServiceVersionAndInstance(t *testing.T) {
	tr, exp := recordingTracing(t, 1)
	_, span := tr.Provider().Tracer("t").Start(context.Background(), "x")
	span.End()
	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("%d spans exported, want 1", len(spans))
	}
	attrs := map[attribute.Key]string{}
	for _, kv := range spans[0].Resource.Attributes() {
		attrs[kv.Key] = kv.Value.Emit()
	}
	if attrs["service.name"] != "douyin-test" || attrs["service.version"] != "v-test" || !strings.Contains(attrs["service.instance.id"], ":") {
		t.Fatalf("resource %v: want service.name, service.version and service.instance.id", attrs)
	}
}

func TestSamplingIsParentBased(t *testing.T) {
	tr, exp := recordingTracing(t, 0)
	tracer := tr.Provider().Tracer("t")
	// A new trace at ratio 0 is dropped...
	_, root := tracer.Start(context.Background(), "root")
	root.End()
	if n := len(exp.GetSpans()); n != 0 {
		t.Fatalf("ratio 0 exported %d root spans", n)
	}
	// ...but a caller's sampled trace is continued.
	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled, Remote: true,
	})
	_, child := tracer.Start(trace.ContextWithRemoteSpanContext(context.Background(), parent), "child")
	child.End()
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].SpanContext.TraceID() != parent.TraceID() {
		t.Fatalf("sampled parent's child: exported %v", spans)
	}
}

func TestExportedSpansHoldNoQueryStrings(t *testing.T) {
	tr, exp := recordingTracing(t, 1)
	_, span := tr.Provider().Tracer("t").Start(context.Background(), "GET /douyin/feed/")
	span.SetAttributes(
		attribute.String("http.url", "http://h/douyin/feed/?token=secret-token&latest_time=1"),
		attribute.String("http.target", "/douyin/user/login/?username=a&password=secret-password"),
		attribute.String("url.query", "token=secret-token"),
		attribute.String("http.method", "GET"),
	)
	span.End()
	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("%d spans exported", len(spans))
	}
	for _, kv := range spans[0].Attributes {
		if strings.Contains(kv.Value.Emit(), "secret") {
			t.Errorf("exported %s = %q", kv.Key, kv.Value.Emit())
		}
	}
	want := map[attribute.Key]string{"http.url": "http://h/douyin/feed/", "http.target": "/douyin/user/login/", "http.method": "GET"}
	for _, kv := range spans[0].Attributes {
		if w, ok := want[kv.Key]; ok && kv.Value.AsString() != w {
			t.Errorf("%s = %q, want %q", kv.Key, kv.Value.AsString(), w)
		}
	}
}

// tracedFavoriteQueue is an in-process queue traced by tr whose favorite-topic handler records
// the span context it runs in.
func tracedFavoriteQueue(t *testing.T, tr *Tracing) (mq.Consumer, mq.Producer, *trace.SpanContext) {
	t.Helper()
	q := mq.NewMemory()
	consumer, producer := tr.Consumer(q), tr.Producer(q)
	handled := new(trace.SpanContext)
	if err := consumer.Subscribe(mq.TopicFavorite, "g", func(ctx context.Context, _ []byte) error {
		*handled = trace.SpanContextFromContext(ctx)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return consumer, producer, handled
}

// A message published under a span is handled in a consumer span of the same trace, the
// child of the publish span, through the in-process queue (RocketMQ carries the same headers
// as message properties: internal/mq tests that).
func TestQueueCarriesTheTrace(t *testing.T) {
	tr, exp := recordingTracing(t, 1)
	consumer, producer, handled := tracedFavoriteQueue(t, tr)
	if err := consumer.Subscribe(mq.TopicPublish, "g", func(context.Context, []byte) error { return errors.New("boom") }); err != nil {
		t.Fatal(err)
	}
	ctx, req := tr.Provider().Tracer("t").Start(context.Background(), "request")
	if err := producer.Publish(ctx, mq.TopicFavorite, "k", []byte("like")); err != nil {
		t.Fatal(err)
	}
	if err := producer.Publish(ctx, mq.TopicPublish, "k", []byte("video")); err == nil {
		t.Fatal("the handler's error was lost")
	}
	req.End()

	byName := map[string]tracetest.SpanStub{}
	for _, s := range exp.GetSpans() {
		byName[s.Name] = s
	}
	pub, con := byName["publish "+mq.TopicFavorite], byName["consume "+mq.TopicFavorite]
	if pub.SpanKind != trace.SpanKindProducer || con.SpanKind != trace.SpanKindConsumer {
		t.Fatalf("spans %v: want a producer and a consumer span", exp.GetSpans())
	}
	if pub.Parent.SpanID() != req.SpanContext().SpanID() || con.Parent.SpanID() != pub.SpanContext.SpanID() {
		t.Fatal("want request → publish → consume")
	}
	if handled.TraceID() != req.SpanContext().TraceID() || handled.SpanID() != con.SpanContext.SpanID() {
		t.Fatal("the handler does not run in the consumer span")
	}
	if failed := byName["consume "+mq.TopicPublish]; failed.Status.Code.String() != "Error" {
		t.Fatalf("a failed handler's span has status %v", failed.Status)
	}
}

func TestLogLinesCarryTheTrace(t *testing.T) {
	tr, _ := recordingTracing(t, 1)
	var buf bytes.Buffer
	w := NewLogWriter(&buf, time.Hour)
	log := NewLogger(w).With("module", "m")
	ctx, span := tr.Provider().Tracer("t").Start(context.Background(), "request")
	log.InfoContext(ctx, "inside")
	log.Info("outside")
	span.End()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("log: %q", buf.String())
	}
	var inside, outside map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &inside); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &outside); err != nil {
		t.Fatal(err)
	}
	if inside["trace_id"] != span.SpanContext().TraceID().String() || inside["span_id"] != span.SpanContext().SpanID().String() || inside["module"] != "m" {
		t.Fatalf("line in a span: %v", inside)
	}
	if _, ok := outside["trace_id"]; ok {
		t.Fatalf("line outside a span has a trace id: %v", outside)
	}
}

func TestRPCClientMiddlewareCountsCalls(t *testing.T) {
	m := New()
	mw := m.RPCClientMiddleware("user")
	ctx := context.Background()
	if err := mw(func(context.Context, any, any) error { return nil })(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := mw(func(context.Context, any, any) error { return errors.New("no instance") })(ctx, nil, nil); err == nil {
		t.Fatal("the call's error was lost")
	}
	if ok, failed := testutil.ToFloat64(m.rpcCalls.requests.WithLabelValues("user", "unknown", "0")), testutil.ToFloat64(m.rpcCalls.requests.WithLabelValues("user", "unknown", "-1")); ok != 1 || failed != 1 {
		t.Fatalf("client calls counted ok=%v failed=%v, want 1 and 1", ok, failed)
	}
	if n := testutil.CollectAndCount(m.rpcCalls.duration); n != 1 {
		t.Fatalf("%d latency series, want 1", n)
	}
}

// A message published within a trace the sampler dropped makes no span on either side, and
// the consumer continues that trace instead of starting one of its own.
func TestQueueSpansNothingOfAnUnsampledTrace(t *testing.T) {
	tr, exp := recordingTracing(t, 1)
	_, producer, handled := tracedFavoriteQueue(t, tr)
	parent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{7}, SpanID: trace.SpanID{8}, Remote: true})
	if err := producer.Publish(trace.ContextWithRemoteSpanContext(context.Background(), parent), mq.TopicFavorite, "k", []byte("like")); err != nil {
		t.Fatal(err)
	}
	if spans := exp.GetSpans(); len(spans) != 0 {
		t.Fatalf("an unsampled trace exported %v", spans)
	}
	// Not even a dropped span was started: the handler runs in the publisher's span context.
	if handled.TraceID() != parent.TraceID() || handled.SpanID() != parent.SpanID() || handled.IsSampled() {
		t.Fatalf("the handler ran in %v/%v, want the unsampled %v/%v", handled.TraceID(), handled.SpanID(), parent.TraceID(), parent.SpanID())
	}
}

// A line that names its span's ids first (the gateway's access log, which encodes them once for
// X-Request-Id too) names them once; any other line in a span gets them from the Logger. The ids
// are those of the trace API, for an unsampled span as for a sampled one.
func TestLogLinesNameTheTraceOnce(t *testing.T) {
	tr, _ := recordingTracing(t, 0)
	var buf bytes.Buffer
	w := NewLogWriter(&buf, time.Hour)
	h := NewLogger(w).Handler()
	ctx, span := tr.Provider().Tracer("t").Start(context.Background(), "request")
	defer span.End()
	sc := span.SpanContext()
	ids := SpanIDsOf(sc)
	if ids.TraceID != sc.TraceID().String() || ids.SpanID != sc.SpanID().String() {
		t.Fatalf("SpanIDsOf = %+v, want %s and %s", ids, sc.TraceID(), sc.SpanID())
	}
	named := slog.NewRecord(time.Now(), slog.LevelInfo, "named", 0)
	ids.AddTo(&named)
	named.AddAttrs(slog.String("k", "v"))
	plain := slog.NewRecord(time.Now(), slog.LevelInfo, "plain", 0)
	plain.AddAttrs(slog.String("k", "v"))
	for _, r := range []slog.Record{named, plain} {
		if err := h.Handle(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("log: %q", buf.String())
	}
	for _, line := range lines {
		if strings.Count(line, `"trace_id":"`+ids.TraceID+`"`) != 1 || strings.Count(line, `"span_id":"`+ids.SpanID+`"`) != 1 ||
			strings.Count(line, "_id") != 2 || !strings.Contains(line, `"k":"v"`) {
			t.Errorf("line %s: want trace_id %s and span_id %s once each, and k", line, ids.TraceID, ids.SpanID)
		}
	}
}
