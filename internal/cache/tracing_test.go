package cache_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/douyin-backend/douyin/internal/cache/cachetest"
)

// TestTracedPipelines: a pipeline is one span named after its commands, child of the caller's,
// with their number and no statement, and none when the caller's trace is not sampled; single
// commands keep redisotel's spans.
func TestTracedPipelines(t *testing.T) {
	r, _ := cachetest.New(t)
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	if err := r.Trace(tp); err != nil {
		t.Fatal(err)
	}
	pipeline := func(ctx context.Context) {
		t.Helper()
		if _, err := r.Client().Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, r.Key("a"), "1", 0)
			p.Get(ctx, r.Key("a"))
			p.Get(ctx, r.Key("a"))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, root := tp.Tracer("test").Start(context.Background(), "root")
	pipeline(ctx)
	if err := r.Client().Get(ctx, r.Key("a")).Err(); err != nil {
		t.Fatal(err)
	}
	root.End()
	// A caller whose trace is not sampled: nothing is recorded.
	unsampled := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1},
	}))
	pipeline(unsampled)

	var pipelines, gets int
	for _, s := range spans.Ended() {
		attrs := map[string]string{}
		for _, kv := range s.Attributes() {
			attrs[string(kv.Key)] = kv.Value.Emit()
		}
		if s.Parent().TraceID() != root.SpanContext().TraceID() && s.Name() != "root" {
			t.Errorf("span %q is not in the sampled trace", s.Name())
		}
		switch s.Name() {
		case "redis.pipeline set get":
			pipelines++
			if attrs["db.redis.num_cmd"] != "3" || attrs["db.system"] != "redis" || s.Parent().SpanID() != root.SpanContext().SpanID() {
				t.Errorf("pipeline span: attributes %v, parent %v; want 3 commands, db.system redis, the root as parent", attrs, s.Parent().SpanID())
			}
			if _, ok := attrs["db.statement"]; ok {
				t.Errorf("pipeline span carries the statement %q", attrs["db.statement"])
			}
		case "get":
			gets++
		case "root":
		default:
			if s.Name() != "redis.dial" {
				t.Errorf("unexpected span %q", s.Name())
			}
		}
	}
	if pipelines != 1 || gets != 1 {
		t.Errorf("%d pipeline spans and %d get spans, want one each", pipelines, gets)
	}
}
