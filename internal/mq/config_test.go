package mq

import (
	"flag"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestConfigFlagsAndValidation(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if c.Backend != BackendMemory || !slices.Equal(c.RocketMQ.NameServers, []string{"127.0.0.1:9876"}) ||
		c.RocketMQ.GroupPrefix != "douyin" || c.RocketMQ.MaxReconsume != 16 || c.RocketMQ.SendTimeout != 3*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	for name, want := range map[string]string{"mq.rocketmq.nameservers": "127.0.0.1:9876", "mq.rocketmq.max-reconsume": "16"} {
		if f := fs.Lookup(name); f.DefValue != want || f.Value.String() != want {
			t.Errorf("%s: default %q, value %q, want %q", name, f.DefValue, f.Value.String(), want)
		}
	}

	if err := fs.Parse([]string{"-mq.backend=rocketmq", "-mq.rocketmq.nameservers= ns-0:9876, ns-1:9876,", "-mq.rocketmq.max-reconsume=3"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.RocketMQ.NameServers, []string{"ns-0:9876", "ns-1:9876"}) || c.RocketMQ.MaxReconsume != 3 {
		t.Fatalf("parsed: %+v", c.RocketMQ)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse([]string{"-mq.rocketmq.max-reconsume=99999999999"}); err == nil {
		t.Fatal("max-reconsume beyond int32 accepted")
	}

	bad := map[string]func(*Config){
		"backend":       func(c *Config) { c.Backend = "kafka" },
		"no namesrv":    func(c *Config) { c.RocketMQ.NameServers = nil },
		"no port":       func(c *Config) { c.RocketMQ.NameServers = []string{"ns-0"} },
		"bad port":      func(c *Config) { c.RocketMQ.NameServers = []string{"ns-0:99999"} },
		"prefix":        func(c *Config) { c.RocketMQ.GroupPrefix = "a b" },
		"send timeout":  func(c *Config) { c.RocketMQ.SendTimeout = 0 },
		"max reconsume": func(c *Config) { c.RocketMQ.MaxReconsume = 0 },
		"backoff":       func(c *Config) { c.RocketMQ.RetryBackoff = time.Hour },
	}
	for name, breakIt := range bad {
		bc := c
		bc.RocketMQ.NameServers = slices.Clone(c.RocketMQ.NameServers)
		breakIt(&bc)
		if err := bc.Validate(); err == nil {
			t.Errorf("%s: invalid config accepted: %+v", name, bc)
		} else if !strings.Contains(err.Error(), "mq.") {
			t.Errorf("%s: error does not name the setting: %v", name, err)
		}
	}

	// The embedded mode must not be refused over RocketMQ settings it does not use.
	c.Backend = BackendMemory
	c.RocketMQ.NameServers = nil
	if err := c.Validate(); err != nil {
		t.Fatalf("memory backend refused over rocketmq settings: %v", err)
	}
}

func TestRocketMQBackoffDoublesUpToTheCap(t *testing.T) {
	r := &RocketMQ{cfg: RocketMQConfig{RetryBackoff: time.Second}}
	for failures, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second} {
		if got := r.backoff(int32(failures)); got != want {
			t.Errorf("backoff(%d) = %s, want %s", failures, got, want)
		}
	}
	if got := r.backoff(1 << 30); got != maxRetryBackoff {
		t.Errorf("backoff(huge) = %s", got)
	}
}
