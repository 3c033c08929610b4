package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/protocol/consts"
)

// referenceCmd serves one fixed body on every path from a minimal Hertz handler on the
// framework's defaults: the fastest any handler on this machine can answer a page of that
// size. The benchmark reports every endpoint as a ratio to it, measured in the same run.
func referenceCmd(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen reference", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:29099", "listen address")
	bodyFile := fs.String("body", "", "file with the bytes every request is answered with (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bodyFile == "" {
		return errors.New("-body is required")
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		return err
	}
	h := server.New(server.WithHostPorts(*addr), server.WithDisablePrintRoute(true), server.WithExitWaitTime(time.Second))
	h.NoRoute(func(_ context.Context, c *app.RequestContext) {
		c.Data(http.StatusOK, consts.MIMEApplicationJSONUTF8, body)
	})
	errc := make(chan error, 1)
	go func() { errc <- h.Run() }()
	select {
	case err := <-errc:
		return fmt.Errorf("reference server: %w", err)
	case <-ctx.Done():
		return h.Shutdown(context.Background())
	}
}
