package media

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

const instrumentation = "github.com/douyin-backend/douyin/services/media"

// startStep opens the span of one media step (ffprobe, a transcode, a cover) under the span in
// ctx, from that span's own provider: the queue consumer's span when tracing is on, a no-op
// otherwise, so the worker needs no tracer of its own.
func startStep(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return trace.SpanFromContext(ctx).TracerProvider().Tracer(instrumentation).Start(ctx, name, trace.WithAttributes(attrs...))
}

// endStep ends span, marking it failed with err.
func endStep(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
