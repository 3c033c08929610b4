// Command douyin is the whole backend in one binary: -target selects the modules this
// process runs (all of them by default, on embedded defaults).
//
//	douyin [flags]            run the server
//	douyin migrate [flags]    create or update the database schema
//	douyin seed [flags]       write the demo users and videos (once)
//	douyin revoke -user ID    revoke every token of a user issued until now
//	douyin version            print the version
//	douyin components         list the components in start order, with their roles (kitex)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // comment dates use a configured zone even on images without zoneinfo

	"github.com/douyin-backend/douyin/app"
	"github.com/douyin-backend/douyin/internal/config"
	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/internal/telemetry"
)

// version is set at link time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

// logFlushInterval is how long info lines (access logs) may wait in the buffer.
const logFlushInterval = 100 * time.Millisecond

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	command := "serve"
	if len(args) > 0 && slices.Contains([]string{"migrate", "seed", "revoke", "version", "components"}, args[0]) {
		command, args = args[0], args[1:]
	}
	switch command {
	case "version":
		fmt.Fprintln(stdout, "douyin", version)
		return 0
	case "components":
		printComponents(stdout)
		return 0
	}

	fs := flag.NewFlagSet("douyin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg app.Config
	cfg.RegisterFlags(fs)
	fs.String(config.FileFlag, "", "YAML config file; its keys are the flag names (nested or dotted)")
	var revokeUser int64
	if command == "revoke" {
		fs.Int64Var(&revokeUser, "user", 0, "the user whose tokens are revoked")
	}
	printConfig := fs.Bool("print-config", false, "print the effective configuration and exit")
	verifyConfig := fs.Bool("verify-config", false, "validate the configuration and exit")
	if err := config.Load(fs, args, os.LookupEnv, app.Secrets()); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "douyin:", err)
		return 2
	}
	if *printConfig {
		fmt.Fprint(stdout, config.Print(fs, app.Secrets()))
		return 0
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "douyin: invalid configuration:", err)
		return 2
	}
	if *verifyConfig {
		fmt.Fprintln(stdout, "configuration is valid")
		return 0
	}

	// Logs are buffered for up to logFlushInterval (warnings and errors go out at once).
	logs := telemetry.NewLogWriter(stderr, logFlushInterval)
	defer logs.Flush()
	log := telemetry.NewLogger(logs).With("version", version)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	switch command {
	case "migrate":
		err = migrate(ctx, cfg)
	case "seed":
		err = seedOnce(ctx, cfg, log, stdout)
	case "revoke":
		if err = app.RevokeUser(ctx, cfg, revokeUser); err == nil {
			fmt.Fprintf(stdout, "revoked every token of user %d issued until now\n", revokeUser)
		}
	default:
		err = serve(ctx, cfg, log)
	}
	if err != nil {
		log.Error("exit", "command", command, "err", err)
		return 1
	}
	return 0
}

// printComponents writes what scripts/up.sh starts, from the module table: one line per
// component, each after those it calls, its name followed by its roles: "kitex" when other
// components call it over Kitex.
func printComponents(w io.Writer) {
	for _, c := range app.Components() {
		line := []string{c}
		if app.Called(c) {
			line = append(line, "kitex")
		}
		fmt.Fprintln(w, strings.Join(line, " "))
	}
}

func serve(ctx context.Context, cfg app.Config, log *slog.Logger) error {
	tracing, err := telemetry.NewTracing(cfg.Telemetry.Tracing, telemetry.ServiceName(cfg.Targets(), app.All), version)
	if err != nil {
		return err
	}
	if tracing.Enabled() {
		tracing.InstallGlobal()
		defer func() {
			// After the modules closed: what they did while draining is exported too.
			flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := tracing.Shutdown(flushCtx); err != nil {
				log.Warn("export the last spans", "err", err)
			}
		}()
	}
	a, err := app.New(cfg, log, app.WithTracing(tracing))
	if err != nil {
		return err
	}
	log.Info("serving", "target", cfg.Target, "http", cfg.HTTP.Addr, "data_dir", cfg.DataDir,
		"otlp_endpoint", cfg.Telemetry.Tracing.OTLPEndpoint, "trace_sample_ratio", cfg.Telemetry.Tracing.SampleRatio)
	return a.Run(ctx)
}

func migrate(ctx context.Context, cfg app.Config) error {
	// Schema checks are reads: on a lagging replica they would miss what was just created.
	cfg.DB.Replicas = nil
	if cfg.DB.Driver == db.DriverMySQL {
		if err := db.EnsureDatabase(ctx, cfg.DB); err != nil {
			return err
		}
	}
	gdb, err := db.Open(cfg.DB, cfg.DataDir)
	if err != nil {
		return err
	}
	defer db.Close(gdb)
	return app.Migrate(gdb)
}

func seedOnce(ctx context.Context, cfg app.Config, log *slog.Logger, stdout io.Writer) error {
	cfg.Seed = false // seed explicitly below, and report what happened
	a, err := app.New(cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	seeded, err := a.Seed(ctx)
	if err != nil {
		return err
	}
	if seeded {
		fmt.Fprintln(stdout, "seeded demo users and videos")
	} else {
		fmt.Fprintln(stdout, "demo content already present; nothing to do")
	}
	return nil
}
