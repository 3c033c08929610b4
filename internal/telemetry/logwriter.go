package telemetry

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
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

// NewLogger returns a JSON logger on w that flushes w after every warning or error.
func NewLogger(w *LogWriter) *slog.Logger {
	return slog.New(flushingHandler{Handler: slog.NewJSONHandler(w, nil), w: w})
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
