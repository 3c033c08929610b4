package cache

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
)

// Trace makes every Redis command (and pipeline) of r a span of tp, child of the span in the
// command's context. Spans carry the command name, not its arguments: values include private
// data, nor the caller's file and line: looking those up walked the stack on every command,
// 5-10 % of a service's CPU. Call it only when tracing is on.
//
// Pipelines get their spans from pipelineSpans, not from redisotel: its pipeline hook formats
// every argument of every command into a statement string even with statements off and the
// span unsampled (v9.22 and v9.23), 7 % of the favorite service's CPU and 17 % of recommend's
// in the multi-process deployment.
func (r *Redis) Trace(tp trace.TracerProvider) error {
	everyPipeline := func([]redis.Cmder) bool { return true }
	if err := redisotel.InstrumentTracing(r.client, redisotel.WithTracerProvider(tp), redisotel.WithDBStatement(false),
		redisotel.WithCallerEnabled(false), redisotel.WithCommandsFilter(everyPipeline)); err != nil {
		return fmt.Errorf("trace redis: %w", err)
	}
	attrs := []attribute.KeyValue{attribute.String("db.system", "redis")} // the key redisotel's command spans carry
	if client, ok := r.client.(*redis.Client); ok {
		if host, port, err := net.SplitHostPort(client.Options().Addr); err == nil {
			attrs = append(attrs, semconv.ServerAddress(host))
			if n, err := strconv.Atoi(port); err == nil {
				attrs = append(attrs, semconv.ServerPort(n))
			}
		}
	}
	r.client.AddHook(pipelineSpans{
		tracer: tp.Tracer("github.com/douyin-backend/douyin/internal/cache"),
		start:  []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...)},
	})
	return nil
}

// pipelineSpans makes each pipeline a span named after its commands, as redisotel's are,
// with their number; the names are read only for a span that is recorded.
type pipelineSpans struct {
	tracer trace.Tracer
	start  []trace.SpanStartOption
}

func (pipelineSpans) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (pipelineSpans) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (h pipelineSpans) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		ctx, span := h.tracer.Start(ctx, "redis.pipeline", h.start...)
		defer span.End()
		if span.IsRecording() {
			span.SetName("redis.pipeline " + commandNames(cmds))
			span.SetAttributes(attribute.Int("db.redis.num_cmd", len(cmds)))
		}
		err := next(ctx, cmds)
		if err != nil && !errors.Is(err, redis.Nil) {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		return err
	}
}

// commandNames is the distinct names of cmds, in order, space-separated.
func commandNames(cmds []redis.Cmder) string {
	names := make([]string, 0, 4)
	for _, cmd := range cmds {
		if name := cmd.FullName(); !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return strings.Join(names, " ")
}
