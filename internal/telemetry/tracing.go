package telemetry

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// OTLP transports.
const (
	OTLPGRPC = "grpc"
	OTLPHTTP = "http"
)

// TracingConfig holds the trace export settings.
type TracingConfig struct {
	// OTLPEndpoint is host:port of an OTLP receiver; empty turns tracing off.
	OTLPEndpoint string
	OTLPProtocol string
	// SampleRatio is the share of new traces recorded; a request that arrives with a sampled
	// parent is always recorded (parent-based), so one trace is never half-kept.
	SampleRatio float64
}

// Validate checks the trace export settings.
func (c TracingConfig) Validate() error {
	if c.OTLPProtocol != OTLPGRPC && c.OTLPProtocol != OTLPHTTP {
		return fmt.Errorf("telemetry.otlp-protocol %q: want %s or %s", c.OTLPProtocol, OTLPGRPC, OTLPHTTP)
	}
	if c.SampleRatio < 0 || c.SampleRatio > 1 {
		return fmt.Errorf("telemetry.sample-ratio %v: want a value from 0 to 1", c.SampleRatio)
	}
	if strings.Contains(c.OTLPEndpoint, "://") {
		return fmt.Errorf("telemetry.otlp-endpoint %q: want host:port, without a scheme", c.OTLPEndpoint)
	}
	return nil
}

// ServiceName is the trace service of a process running targets: "douyin-favorite", or
// "douyin" for the all-in-one process.
func ServiceName(targets []string, all string) string {
	if len(targets) == 0 || (len(targets) == 1 && targets[0] == all) {
		return "douyin"
	}
	return "douyin-" + strings.Join(targets, "+")
}

// Tracing is the process's tracer provider and propagator. When tracing is off both are
// no-ops: spans cost a context lookup, and nothing is injected into requests or messages.
type Tracing struct {
	provider   trace.TracerProvider
	propagator propagation.TextMapPropagator
	sdk        *sdktrace.TracerProvider
}

// Off is tracing turned off.
func Off() *Tracing {
	return &Tracing{provider: noop.NewTracerProvider(), propagator: propagation.NewCompositeTextMapPropagator()}
}

// NewTracing starts exporting the spans of service over OTLP, or returns Off when no endpoint
// is configured. version and instance label the process in the trace backend.
func NewTracing(cfg TracingConfig, service, version string) (*Tracing, error) {
	if cfg.OTLPEndpoint == "" {
		return Off(), nil
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var client otlptrace.Client
	if cfg.OTLPProtocol == OTLPHTTP {
		client = otlptracehttp.NewClient(otlptracehttp.WithEndpoint(cfg.OTLPEndpoint), otlptracehttp.WithInsecure())
	} else {
		client = otlptracegrpc.NewClient(otlptracegrpc.WithEndpoint(cfg.OTLPEndpoint), otlptracegrpc.WithInsecure())
	}
	// New does not dial: an unreachable collector costs dropped spans, never a failed start.
	exporter, err := otlptrace.New(context.Background(), client)
	if err != nil {
		return nil, fmt.Errorf("otlp exporter: %w", err)
	}
	return NewTracingTo(sdktrace.WithBatcher(scrubbingExporter{SpanExporter: exporter}, sdktrace.WithBatchTimeout(time.Second)),
		cfg.SampleRatio, service, version)
}

// NewTracingTo is an exporting Tracing that hands its spans to export rather than to OTLP:
// tests read them back.
func NewTracingTo(export sdktrace.TracerProviderOption, ratio float64, service, version string) (*Tracing, error) {
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName(service),
		semconv.ServiceVersion(version),
		semconv.ServiceInstanceID(instanceID()),
	))
	if err != nil {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	sdk := sdktrace.NewTracerProvider(
		export,
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
	)
	return &Tracing{
		provider:   sdk,
		propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		sdk:        sdk,
	}, nil
}

// instanceID names this process among the replicas of its service: host and pid.
func instanceID() string {
	host, _ := os.Hostname()
	return host + ":" + strconv.Itoa(os.Getpid())
}

// Enabled reports whether spans are exported.
func (t *Tracing) Enabled() bool { return t.sdk != nil }

// Provider returns the tracer provider (a no-op one when tracing is off).
func (t *Tracing) Provider() trace.TracerProvider { return t.provider }

// Propagator returns the W3C trace-context propagator (a no-op one when tracing is off).
func (t *Tracing) Propagator() propagation.TextMapPropagator { return t.propagator }

// InstallGlobal makes t the process's OpenTelemetry provider and propagator. The Kitex and
// Hertz instrumentation suites read only the global ones; everything of ours is handed t
// explicitly. Call it once per process, and only when tracing is on.
func (t *Tracing) InstallGlobal() {
	otel.SetTracerProvider(t.provider)
	otel.SetTextMapPropagator(t.propagator)
}

// Shutdown exports the spans still buffered, within ctx.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	return t.sdk.Shutdown(ctx)
}

// Flush exports the spans buffered so far, within ctx.
func (t *Tracing) Flush(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	return t.sdk.ForceFlush(ctx)
}

// queryAttributes hold URLs: the app's tokens and passwords travel in query strings, so these
// are cut at '?' before a span leaves the process, as the access log never logs them.
var queryAttributes = map[attribute.Key]bool{
	"http.url": true, "http.target": true, "url.full": true, "url.query": true, "http.request_uri": true,
}

// scrubbingExporter removes query strings from the spans it exports. The HTTP
// instrumentation records the full URL after the handler ran, so a processor cannot change
// it earlier.
type scrubbingExporter struct {
	sdktrace.SpanExporter
}

func (e scrubbingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	out, copied := spans, false
	for i, s := range spans {
		if attrs, changed := withoutQueries(s.Attributes()); changed {
			if !copied {
				out, copied = append([]sdktrace.ReadOnlySpan(nil), spans...), true
			}
			out[i] = scrubbedSpan{ReadOnlySpan: s, attrs: attrs}
		}
	}
	return e.SpanExporter.ExportSpans(ctx, out)
}

func withoutQueries(attrs []attribute.KeyValue) ([]attribute.KeyValue, bool) {
	var out []attribute.KeyValue
	for i, kv := range attrs {
		if !queryAttributes[kv.Key] || kv.Value.Type() != attribute.STRING {
			continue
		}
		v := kv.Value.AsString()
		if kv.Key == "url.query" {
			v = ""
		} else if q := strings.IndexByte(v, '?'); q >= 0 {
			v = v[:q]
		} else {
			continue
		}
		if out == nil {
			out = append([]attribute.KeyValue(nil), attrs...)
		}
		out[i] = attribute.String(string(kv.Key), v)
	}
	return out, out != nil
}

type scrubbedSpan struct {
	sdktrace.ReadOnlySpan
	attrs []attribute.KeyValue
}

func (s scrubbedSpan) Attributes() []attribute.KeyValue { return s.attrs }
