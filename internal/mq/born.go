package mq

import (
	"context"
	"time"
)

type bornKey struct{}

// WithBornAt records in ctx when the message being handled was published, so instrumentation
// can measure the consumer's lag without handlers knowing the queue.
func WithBornAt(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, bornKey{}, t)
}

// BornAt reports when the message being handled was published.
func BornAt(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(bornKey{}).(time.Time)
	return t, ok
}
