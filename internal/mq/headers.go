package mq

import "context"

// Headers is metadata carried beside a message's body, such as the trace context. Its
// methods match OpenTelemetry's TextMapCarrier, so a propagator reads and writes it directly.
type Headers interface {
	Get(key string) string
	Set(key, value string)
	Keys() []string
}

// MapHeaders are Headers held in a map.
type MapHeaders map[string]string

// Get returns the value of key, or "".
func (h MapHeaders) Get(key string) string { return h[key] }

// Set sets key to value.
func (h MapHeaders) Set(key, value string) { h[key] = value }

// Keys lists the keys set.
func (h MapHeaders) Keys() []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	return keys
}

type headersKey struct{}

// WithHeaders attaches h to ctx: a producer publishes them with the message published under
// ctx, and a consumer attaches the headers of the message it delivers to the handler's ctx.
// Publish and handler signatures stay body-only; only instrumentation reads headers.
func WithHeaders(ctx context.Context, h Headers) context.Context {
	return context.WithValue(ctx, headersKey{}, h)
}

// HeadersFrom returns the headers attached to ctx, or nil.
func HeadersFrom(ctx context.Context) Headers {
	h, _ := ctx.Value(headersKey{}).(Headers)
	return h
}
