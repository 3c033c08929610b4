package rpc

import (
	"flag"
	"io"
	"testing"
)

func newFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func TestValidate(t *testing.T) {
	var cfg Config
	cfg.RegisterFlags(newFlagSet())
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	for _, mutate := range []func(*Config){
		func(c *Config) { c.Discovery = "etcd" },
		func(c *Config) { c.Discovery, c.DNSTemplate = DiscoveryDNS, "user:8888" },
		func(c *Config) { c.CallTimeout = 0 },
		func(c *Config) { c.ClientPolicy = "istio" },
		func(c *Config) { c.RetryBudget = 0.5 },
		func(c *Config) { c.BreakerErrorRate = 0 },
	} {
		c := cfg
		mutate(&c)
		if c.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want an error", c)
		}
	}
	if _, err := ClientOptions(cfg, "user", nil); err == nil {
		t.Error("a remote client with discovery none must be refused")
	}
}
