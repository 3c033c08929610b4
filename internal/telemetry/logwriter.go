package telemetry

import (
	"bufio"
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// LogWriter buffers log lines and writes them out at most every interval, instead of one
// write system call per line: at 10k requests/s the access log alone was a write per request.
// Warnings and errors are written at once (NewLogger), so what explains a crash is on disk
// before it; at most one interval of info lines (access logs) can be lost with the process.
type LogWriter struct {
	every time.Duration

	mu      sync.Mutex
	buf     *bufio.Writer
	pending bool // a flush is scheduled
}

// NewLogWriter buffers writes to w for at most every.
func NewLogWriter(w io.Writer, every time.Duration) *LogWriter {
	return &LogWriter{every: every, buf: bufio.NewWriterSize(w, 64<<10)}
}

// Write buffers p (one log record) and schedules a flush.
func (l *LogWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.buf.Write(p)
	if !l.pending {
		l.pending = true
		time.AfterFunc(l.every, func() { _ = l.Flush() })
	}
	return n, err
}

// Flush writes out what is buffered.
func (l *LogWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = false
	return l.buf.Flush()
}

// NewLogger returns a JSON logger on w that flushes w after every warning or error. A line
// logged with a context that carries a span (the *Context methods) names its trace_id and
// span_id, so the log of any process leads to the request's trace and back.
func NewLogger(w *LogWriter) *slog.Logger {
	return slog.New(flushingHandler{Handler: traceHandler{slog.NewJSONHandler(w, nil)}, w: w})
}

// The keys of a traced line's ids.
const (
	traceIDKey = "trace_id"
	spanIDKey  = "span_id"
)

// SpanIDs are the trace and span id of a span in hex, as log lines and X-Request-Id name them.
type SpanIDs struct {
	TraceID, SpanID string
}

// SpanIDsOf encodes the ids of sc in one allocation. A caller that needs the trace id too
// (the gateway's X-Request-Id) encodes them once and hands them to its log line with AddTo.
func SpanIDsOf(sc trace.SpanContext) SpanIDs {
	tid, sid := sc.TraceID(), sc.SpanID()
	var buf [2*len(tid) + 2*len(sid)]byte
	n := hex.Encode(buf[:], tid[:])
	hex.Encode(buf[n:], sid[:])
	ids := string(buf[:])
	return SpanIDs{TraceID: ids[:n], SpanID: ids[n:]}
}

// AddTo names the ids in r. Added first, before any other attribute, they tell the Logger's
// handler that the line names its span already.
func (ids SpanIDs) AddTo(r *slog.Record) {
	r.AddAttrs(slog.String(traceIDKey, ids.TraceID), slog.String(spanIDKey, ids.SpanID))
}

// traceHandler adds the trace and span ids of the context's span to each record that does
// not start with them.
type traceHandler struct {
	slog.Handler
}

// Handle looks at the record's first attribute before the context: the access line, one per
// request, names its ids already, and finding a span walks the context's chain.
func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if !startsWithTraceID(r) {
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			SpanIDsOf(sc).AddTo(&r)
		}
	}
	return h.Handler.Handle(ctx, r)
}

// startsWithTraceID reports whether r's first attribute is a trace id. Only the first is
// looked at, so the check costs a line next to nothing.
func startsWithTraceID(r slog.Record) bool {
	named := false
	r.Attrs(func(a slog.Attr) bool {
		named = a.Key == traceIDKey
		return false
	})
	return named
}

func (h traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return traceHandler{h.Handler.WithAttrs(attrs)}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{h.Handler.WithGroup(name)}
}

// flushingHandler flushes the writer after records of level warn and above.
type flushingHandler struct {
	slog.Handler
	w *LogWriter
}

func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := h.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h flushingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushingHandler{Handler: h.Handler.WithAttrs(attrs), w: h.w}
}

func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{Handler: h.Handler.WithGroup(name), w: h.w}
}
