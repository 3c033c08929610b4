package cache_test

import (
	"context"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/douyin-backend/douyin/internal/cache/cachetest"
)

// Commands within a sampled trace become its spans, named by the commands and marked as
// Redis; commands outside one (unsampled, or no trace at all) make no span.
func TestTraceSpansOnlySampledCommands(t *testing.T) {
	ctx := context.Background()
	r, _ := cachetest.New(t)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	if err := r.Trace(tp); err != nil {
		t.Fatal(err)
	}
	parent := trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}}
	unsampled := trace.ContextWithSpanContext(ctx, trace.NewSpanContext(parent))
	parent.TraceFlags = trace.FlagsSampled
	sampled := trace.ContextWithSpanContext(ctx, trace.NewSpanContext(parent))

	for _, c := range []context.Context{ctx, unsampled} {
		r.Client().Get(c, r.Key("missing"))
		_, _ = r.Client().Pipelined(c, func(p redis.Pipeliner) error {
			p.Set(c, r.Key("a"), "1", 0)
			return nil
		})
	}
	if n := len(rec.Ended()); n != 0 {
		t.Fatalf("%d spans for commands outside a sampled trace, want none", n)
	}
	if err := r.Client().Get(sampled, r.Key("missing")).Err(); err != redis.Nil {
		t.Fatalf("GET of a missing key = %v, want redis.Nil", err)
	}
	_, _ = r.Client().Pipelined(sampled, func(p redis.Pipeliner) error {
		p.Set(sampled, r.Key("a"), "1", 0)
		p.Get(sampled, r.Key("a"))
		p.Set(sampled, r.Key("b"), "1", 0)
		return nil
	})
	var names []string
	for _, s := range rec.Ended() {
		names = append(names, s.Name())
		if s.Parent().TraceID() != parent.TraceID {
			t.Errorf("span %q is not in the caller's trace", s.Name())
		}
		if !slices.ContainsFunc(s.Attributes(), func(a attribute.KeyValue) bool { return a.Key == "db.system" && a.Value.AsString() == "redis" }) {
			t.Errorf("span %q does not say db.system=redis", s.Name())
		}
		if s.Status().Code != 0 {
			t.Errorf("span %q failed: %v (a miss is no failure)", s.Name(), s.Status())
		}
	}
	if want := []string{"get", "redis.pipeline set get"}; !slices.Equal(names, want) {
		t.Errorf("spans %v, want %v", names, want)
	}
}
