package db

import (
	"fmt"

	"go.opentelemetry.io/otel/trace"
	"gorm.io/gorm"
	"gorm.io/plugin/opentelemetry/tracing"
)

// Trace makes every statement on gdb (and its replicas) a span of tp, child of the span in
// the statement's context. Spans name the statement with placeholders, never the values: they
// hold passwords' hashes, tokens and messages. Call it only when tracing is on.
func Trace(gdb *gorm.DB, tp trace.TracerProvider) error {
	if err := gdb.Use(tracing.NewPlugin(tracing.WithTracerProvider(tp), tracing.WithoutQueryVariables(), tracing.WithoutMetrics())); err != nil {
		return fmt.Errorf("trace sql: %w", err)
	}
	return nil
}
