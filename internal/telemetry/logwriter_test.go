package telemetry

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/polltest"
)

// syncBuffer is a bytes.Buffer safe for the flush timer's goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLogWriterBuffersInfoAndFlushesWarnings(t *testing.T) {
	var out syncBuffer
	w := NewLogWriter(&out, time.Hour) // the timer never fires within the test
	log := NewLogger(w).With("version", "t")
	log.Info("http", "path", "/douyin/feed/")
	if got := out.String(); got != "" {
		t.Fatalf("an info line was written at once: %q", got)
	}
	log.Warn("cache down")
	got := out.String()
	if !strings.Contains(got, `"msg":"http"`) || !strings.Contains(got, `"msg":"cache down"`) || !strings.Contains(got, `"version":"t"`) {
		t.Fatalf("after a warning the buffer was not written out in order: %q", got)
	}
	log.Info("later")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"msg":"later"`) {
		t.Fatal("Flush did not write the buffered line")
	}
}

func TestLogWriterFlushesWithinTheInterval(t *testing.T) {
	var out syncBuffer
	w := NewLogWriter(&out, 10*time.Millisecond)
	NewLogger(w).Info("http")
	polltest.Until(t, 5*time.Second, "the buffered line written", func() bool { return strings.Contains(out.String(), `"msg":"http"`) })
}
