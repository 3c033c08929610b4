package cache

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

const redisInstrumentation = "github.com/douyin-backend/douyin/internal/cache"

// Trace makes every Redis command (and pipeline) of r that runs within a sampled trace a
// span of tp, child of the span in the command's context. Spans carry the command names, not
// their arguments (values include private data). A command outside a sampled trace costs no
// span: the go-redis otel hook (redisotel) started one for every command and formatted every
// pipeline as text, about 10 % of a service's CPU, for spans the sampler then mostly dropped,
// and it made background commands (the recommender following its log) traces of their own.
func (r *Redis) Trace(tp trace.TracerProvider) error {
	attrs := []attribute.KeyValue{attribute.String("db.system", "redis")}
	if c, ok := r.client.(*redis.Client); ok {
		attrs = append(attrs, attribute.String("server.address", c.Options().Addr))
	}
	r.client.AddHook(tracingHook{
		tracer: tp.Tracer(redisInstrumentation),
		start:  []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...)},
	})
	return nil
}

// tracingHook is the go-redis hook of Trace.
type tracingHook struct {
	tracer trace.Tracer
	start  []trace.SpanStartOption
}

func (h tracingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h tracingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !trace.SpanContextFromContext(ctx).IsSampled() {
			return next(ctx, cmd)
		}
		ctx, span := h.tracer.Start(ctx, cmd.FullName(), h.start...)
		defer span.End()
		return spanError(span, next(ctx, cmd))
	}
}

func (h tracingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !trace.SpanContextFromContext(ctx).IsSampled() {
			return next(ctx, cmds)
		}
		ctx, span := h.tracer.Start(ctx, "redis.pipeline "+pipelineSummary(cmds),
			append(h.start, trace.WithAttributes(attribute.Int("db.redis.num_cmd", len(cmds))))...)
		defer span.End()
		return spanError(span, next(ctx, cmds))
	}
}

// pipelineSummary names the distinct commands of a pipeline, in order.
func pipelineSummary(cmds []redis.Cmder) string {
	var names []string
	for _, cmd := range cmds {
		if name := cmd.FullName(); len(names) < 10 && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return strings.Join(names, " ")
}

// spanError marks span failed by err, unless err is a miss (redis.Nil), and returns err.
func spanError(span trace.Span, err error) error {
	if err != nil && !errors.Is(err, redis.Nil) {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return err
}
