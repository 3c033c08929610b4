package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/douyin-backend/douyin/internal/mq"
)

const mqInstrumentation = "github.com/douyin-backend/douyin/internal/mq"

// Producer traces what p publishes: a producer span per message, whose context travels in
// the message's headers. With tracing off it returns p itself.
func (t *Tracing) Producer(p mq.Producer) mq.Producer {
	if !t.Enabled() {
		return p
	}
	return tracedProducer{next: p, tracer: t.provider.Tracer(mqInstrumentation), propagator: t.propagator}
}

type tracedProducer struct {
	next       mq.Producer
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

func (p tracedProducer) Publish(ctx context.Context, topic, key string, body []byte) error {
	if unsampled(ctx) {
		// No span for the sampler to drop, but the trace's context travels on: the consumer
		// then knows the trace is not sampled instead of starting one of its own.
		headers := mq.MapHeaders{}
		p.propagator.Inject(ctx, headers)
		return p.next.Publish(mq.WithHeaders(ctx, headers), topic, key, body)
	}
	ctx, span := p.tracer.Start(ctx, "publish "+topic, trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("messaging.destination.name", topic), attribute.String("messaging.operation.type", "send")))
	defer span.End()
	headers := mq.MapHeaders{}
	p.propagator.Inject(ctx, headers)
	err := p.next.Publish(mq.WithHeaders(ctx, headers), topic, key, body)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "publish failed")
	}
	return err
}

// Consumer traces what the handlers subscribed through c handle: a consumer span per message,
// the child of the producer span whose context the message carries, so the consumer's work
// (SQL, transcoding) belongs to the trace of the request that published it. With tracing off
// it returns c itself.
func (t *Tracing) Consumer(c mq.Consumer) mq.Consumer {
	if !t.Enabled() {
		return c
	}
	return tracedConsumer{next: c, tracer: t.provider.Tracer(mqInstrumentation), propagator: t.propagator}
}

type tracedConsumer struct {
	next       mq.Consumer
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

func (c tracedConsumer) Subscribe(topic, group string, h mq.Handler) error {
	name := "consume " + topic
	start := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("messaging.destination.name", topic),
			attribute.String("messaging.consumer.group.name", group), attribute.String("messaging.operation.type", "process"))}
	return c.next.Subscribe(topic, group, func(ctx context.Context, body []byte) error {
		if headers := mq.HeadersFrom(ctx); headers != nil {
			ctx = c.propagator.Extract(ctx, headers)
		}
		if unsampled(ctx) {
			return h(ctx, body) // the sampler would drop the span: save starting it
		}
		ctx, span := c.tracer.Start(ctx, name, start...)
		defer span.End()
		err := h(ctx, body)
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "handler failed; redelivered")
		}
		return err
	})
}

// unsampled reports whether ctx belongs to a trace the sampler dropped: the spans of its
// children (sampling is parent-based) would be dropped too.
func unsampled(ctx context.Context) bool {
	sc := trace.SpanContextFromContext(ctx)
	return sc.IsValid() && !sc.IsSampled()
}
