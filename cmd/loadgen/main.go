// Command loadgen seeds a synthetic data set and drives the /douyin/ HTTP API to measure it.
//
//	loadgen seed [flags]     write a data set straight into an empty database (SQLite or MySQL)
//	loadgen run [flags]      log in the seeded accounts and load a running server; report per endpoint
//	loadgen compare A B      markdown table of two runs' latencies (the scale check)
//	loadgen combine [flags]  merge run reports and metadata into one JSON document
//	loadgen evaluate [flags] offline evaluation of the recommender: hit rate at 10 vs popularity
//	loadgen reference [flags] a minimal Hertz server answering fixed bytes: the bench's reference
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: loadgen seed|run|compare|combine|evaluate|reference [flags]")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "seed":
		err = seedCmd(ctx, args[1:], stdout, stderr)
	case "run":
		err = runCmd(ctx, args[1:], stdout, stderr)
	case "compare":
		err = compareCmd(args[1:], stdout)
	case "combine":
		err = combineCmd(args[1:], stderr)
	case "evaluate":
		err = evaluateCmd(args[1:], stdout, stderr)
	case "reference":
		err = referenceCmd(ctx, args[1:], stderr)
	default:
		err = fmt.Errorf("unknown command %q: want seed, run, compare, combine, evaluate or reference", args[0])
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	return 0
}

func seedCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg seedConfig
	cfg.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	// The DSN is a secret: like the server, take it from the environment, never a flag value
	// that would show in ps.
	if dsn, ok := os.LookupEnv("DOUYIN_DB_DSN"); ok && cfg.DB.DSN == "" {
		cfg.DB.DSN = dsn
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	m, err := runSeed(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded %s data set (%d users, %d videos, %d likes, %d comments, %d follows, %d messages) into %s in %.1fs\n",
		m.Preset, m.Sizes.Users, m.Sizes.Videos, m.Sizes.Likes, m.Sizes.Comments, m.Sizes.Follows, m.Sizes.Messages, m.Driver, m.SeedSeconds)
	return nil
}

// runConfig is the configuration of the run subcommand.
type runConfig struct {
	Target      string
	Manifest    string
	Tokens      string
	Duration    time.Duration
	Warmup      time.Duration
	Concurrency int
	Rate        float64
	Mix         string
	Scenario    string
	ServerPIDs  string
	JSON        string
	Markdown    string
	Label       string
}

func (c *runConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Target, "target", "http://127.0.0.1:8080", "base URL of the gateway")
	fs.StringVar(&c.Manifest, "manifest", "", "data set manifest written by loadgen seed (required)")
	fs.StringVar(&c.Tokens, "tokens", "", "file caching the accounts' tokens between runs against the same server (logins cost bcrypt)")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "how long to measure")
	fs.DurationVar(&c.Warmup, "warmup", 0, "load without measuring first (fills caches, opens connections)")
	fs.IntVar(&c.Concurrency, "concurrency", 64, "connections (closed loop) or most requests in flight (open loop)")
	fs.Float64Var(&c.Rate, "rate", 0, "open loop: requests per second on a fixed schedule, latency from the intended send time (0: closed loop)")
	fs.StringVar(&c.Mix, "mix", defaultMix, "scenario weights name=weight,… (scenarios: "+scenarioNames()+")")
	fs.StringVar(&c.Scenario, "scenario", "", "run this one scenario alone (overrides -mix)")
	fs.StringVar(&c.ServerPIDs, "server-pid", "", "comma-separated server pids to report CPU and peak RSS of")
	fs.StringVar(&c.JSON, "json", "", "write the report as JSON to this file")
	fs.StringVar(&c.Markdown, "md", "", "write the report as markdown to this file (always printed to stdout)")
	fs.StringVar(&c.Label, "label", "", "name of this run in the report (default: the scenario or \"mix\")")
}

func (c *runConfig) Validate() error {
	switch {
	case c.Manifest == "":
		return errors.New("-manifest is required")
	case c.Duration <= 0 || c.Warmup < 0:
		return errors.New("-duration must be positive and -warmup not negative")
	case c.Concurrency < 1:
		return errors.New("-concurrency must be at least 1")
	case c.Rate < 0:
		return errors.New("-rate must not be negative")
	}
	_, err := c.pids()
	return err
}

func (c *runConfig) pids() ([]int, error) {
	var pids []int
	for _, s := range strings.Split(c.ServerPIDs, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		pid, err := strconv.Atoi(s)
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("-server-pid %q: want positive integers", s)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg runConfig
	cfg.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	rep, err := load(ctx, cfg)
	if err != nil {
		return err
	}
	md := rep.Markdown()
	fmt.Fprintln(stdout, md)
	if cfg.JSON != "" {
		if err := writeJSON(cfg.JSON, rep); err != nil {
			return err
		}
	}
	if cfg.Markdown != "" {
		if err := os.WriteFile(cfg.Markdown, []byte(md+"\n"), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", cfg.Markdown, err)
		}
	}
	return nil
}

// load logs in, optionally warms up, then measures one run.
func load(ctx context.Context, cfg runConfig) (Report, error) {
	var m Manifest
	if err := readJSON(cfg.Manifest, &m); err != nil {
		return Report{}, err
	}
	c := newClient(cfg.Target, m, cfg.Concurrency)
	spec := cfg.Mix
	label := "mix"
	if cfg.Scenario != "" {
		spec, label = cfg.Scenario+"=1", cfg.Scenario
	}
	if cfg.Label != "" {
		label = cfg.Label
	}
	mix, err := c.parseMix(spec)
	if err != nil {
		return Report{}, err
	}
	if needsAccounts(mix) {
		if err := c.login(ctx, cfg.Tokens); err != nil {
			return Report{}, err
		}
	}
	opts := runOptions{duration: cfg.Duration, concurrency: cfg.Concurrency, rate: cfg.Rate}
	if cfg.Warmup > 0 {
		w := opts
		w.duration = cfg.Warmup
		run(ctx, mix, w)
	}
	pids, _ := cfg.pids()
	var server *watch
	if len(pids) > 0 {
		if server, err = startWatch(pids); err != nil {
			return Report{}, err
		}
	}
	self, err := startWatch([]int{os.Getpid()})
	if err != nil {
		return Report{}, err
	}
	started := time.Now()
	res := run(ctx, mix, opts)
	if ctx.Err() != nil {
		return Report{}, ctx.Err()
	}
	rep := Report{
		Label: label, Target: c.base, Mode: "closed", Concurrency: cfg.Concurrency, Rate: cfg.Rate,
		Duration: res.elapsed.Seconds(), Mix: spec, DataSet: m, StartedAt: started.UTC(),
	}
	if cfg.Rate > 0 {
		rep.Mode = "open"
	}
	rep.Endpoints, rep.Total = buildReport(res)
	if rep.Loadgen, err = self.stop(); err != nil {
		return Report{}, err
	}
	if server != nil {
		u, err := server.stop()
		if err != nil {
			return Report{}, err
		}
		rep.Server = &u
	}
	return rep, nil
}

// compareCmd prints, for the endpoints two runs share, p50 and p99 side by side: the scale
// check runs the same mix on the small and the large data set.
func compareCmd(args []string, stdout io.Writer) error {
	if len(args) != 2 {
		return errors.New("usage: loadgen compare SMALL.json LARGE.json")
	}
	var a, b Report
	if err := readJSON(args[0], &a); err != nil {
		return err
	}
	if err := readJSON(args[1], &b); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "| endpoint | req/s %s | req/s %s | p50 ms %s | p50 ms %s | p99 ms %s | p99 ms %s | p99 ratio |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
		a.DataSet.Preset, b.DataSet.Preset, a.DataSet.Preset, b.DataSet.Preset, a.DataSet.Preset, b.DataSet.Preset)
	byName := map[string]EndpointStats{}
	for _, e := range b.Endpoints {
		byName[e.Name] = e
	}
	for _, ea := range a.Endpoints {
		eb, ok := byName[ea.Name]
		if !ok {
			continue
		}
		ratio := 0.0
		if ea.P99 > 0 {
			ratio = eb.P99 / ea.P99
		}
		fmt.Fprintf(stdout, "| %s | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", ea.Name, ea.RPS, eb.RPS, ea.P50, eb.P50, ea.P99, eb.P99, ratio)
	}
	return nil
}

// combineCmd writes {"meta": <meta file>, "runs": [<run reports>]} to -out.
func combineCmd(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen combine", flag.ContinueOnError)
	fs.SetOutput(stderr)
	meta := fs.String("meta", "", "JSON file with the machine, versions and commands")
	out := fs.String("out", "", "output file (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("-out is required")
	}
	doc := struct {
		Meta any      `json:"meta,omitempty"`
		Runs []Report `json:"runs"`
	}{Runs: []Report{}}
	if *meta != "" {
		if err := readJSON(*meta, &doc.Meta); err != nil {
			return err
		}
	}
	for _, f := range fs.Args() {
		var r Report
		if err := readJSON(f, &r); err != nil {
			return err
		}
		doc.Runs = append(doc.Runs, r)
	}
	return writeJSON(*out, doc)
}
