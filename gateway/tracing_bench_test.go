package gateway

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/douyin-backend/douyin/internal/telemetry"
)

// BenchmarkTracing serves one request at a time over a kept-alive connection, with tracing
// off and on at several sampling ratios (spans batched to a discarding exporter): against off,
// "unsampled" is the cost every request pays, "sampledAll" that of a recorded span, and
// "sampled10pct" the mix of issue 11. cpu-us/op is the process's CPU time per request (server
// and client), which other load on the machine skews less than ns/op.
func BenchmarkTracing(b *testing.B) {
	for _, bc := range []struct {
		name  string
		ratio float64 // < 0: tracing off
	}{{"off", -1}, {"unsampled", 0}, {"sampled10pct", 0.1}, {"sampledAll", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			var tracing *telemetry.Tracing
			if bc.ratio >= 0 {
				var err error
				tracing, err = telemetry.NewTracingTo(sdktrace.WithBatcher(tracetest.NewNoopExporter()), bc.ratio, "douyin-bench", "v-bench")
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = tracing.Shutdown(context.Background()) })
			}
			logger := telemetry.NewLogger(telemetry.NewLogWriter(io.Discard, time.Second))
			_, addr := runGateway(b, Config{}, Deps{Logger: logger, Tracing: tracing})
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			r := bufio.NewReader(conn)
			req := []byte("GET /douyin/no-such-route/?token=secret HTTP/1.1\r\nHost: bench\r\n\r\n")
			b.ReportAllocs()
			cpu0 := processCPU(b)
			b.ResetTimer()
			for b.Loop() {
				if _, err := conn.Write(req); err != nil {
					b.Fatal(err)
				}
				resp, err := http.ReadResponse(r, nil)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N)/float64(time.Microsecond), "cpu-us/op")
		})
	}
}

// processCPU is the CPU time the process has used, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
