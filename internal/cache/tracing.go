package cache

import (
	"fmt"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"go.opentelemetry.io/otel/trace"
)

// Trace makes every Redis command (and pipeline) of r a span of tp, child of the span in the
// command's context. Spans carry the command name, not its arguments: values include private
// data, nor the caller's file and line: looking those up walked the stack on every command,
// 5-10 % of a service's CPU. Call it only when tracing is on.
func (r *Redis) Trace(tp trace.TracerProvider) error {
	if err := redisotel.InstrumentTracing(r.client, redisotel.WithTracerProvider(tp), redisotel.WithDBStatement(false),
		redisotel.WithCallerEnabled(false)); err != nil {
		return fmt.Errorf("trace redis: %w", err)
	}
	return nil
}
