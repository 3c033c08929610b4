package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cloudwego/kitex/pkg/circuitbreak"
	"github.com/cloudwego/kitex/pkg/retry"
	"github.com/cloudwego/kitex/pkg/rpcinfo"
	"github.com/cloudwego/kitex/pkg/rpctimeout"
	"github.com/hashicorp/consul/api"
)

// Run-time policy settings live in Consul KV under the keys kitex-contrib/config-consul uses,
// KitexConfig/<caller service>/<called service>/<category>, each a JSON object by method name
// ("*": every method without its own entry), in Kitex's own policy types:
//
//	rpc_timeout   {"MGetVideos": {"rpc_timeout_ms": 800, "conn_timeout_ms": 200}}
//	retry         {"MGetVideos": {"enable": true, "type": 0, "failure_policy": {"stop_policy": {"max_retry_times": 1, "cb_policy": {"error_rate": 0.1}}}}}
//	circuit_break {"MGetVideos": {"enable": true, "err_rate": 0.3, "min_sample": 100}}
//
// A method without an entry keeps the defaults from the flags; removing an entry (or the key)
// restores them. Retry entries for methods that are not idempotent are refused.
//
// The keys are read by one blocking query per process on the caller's prefix, rather than
// through config-consul's client: that one holds a watch (a connection) per service and
// category, and a deployment of a few dozen processes on one host exceeded Consul's limit of
// connections per client IP (HTTP 429); it also decodes with YAML field names, which miss the
// snake_case JSON names of Kitex's policy types.
const (
	policyKeyPrefix = "KitexConfig"
	categoryTimeout = "rpc_timeout"
	categoryRetry   = "retry"
	categoryBreaker = "circuit_break"
)

// PolicyKey is the Consul KV key of one category of the policy caller applies to component.
func PolicyKey(caller, component, category string) string {
	return policyKeyPrefix + "/" + ServiceName(caller) + "/" + ServiceName(component) + "/" + category
}

// PolicyWatcher applies the run-time policy settings of one process's clients from Consul KV.
type PolicyWatcher struct {
	kv     *api.KV
	prefix string
	log    *slog.Logger

	mu       sync.Mutex
	policies map[string]*clientPolicy // by called service name
	applied  map[string]string        // key → the value last applied ("" for none)
}

// NewPolicyWatcher watches the settings caller's clients read from the Consul agent at addr.
// Register the clients' policies, then Run it.
func NewPolicyWatcher(addr, caller string, log *slog.Logger) (*PolicyWatcher, error) {
	c, err := api.NewClient(&api.Config{Address: addr})
	if err != nil {
		return nil, fmt.Errorf("consul client for the client policy: %w", err)
	}
	return &PolicyWatcher{
		kv: c.KV(), prefix: policyKeyPrefix + "/" + ServiceName(caller) + "/", log: log,
		policies: map[string]*clientPolicy{}, applied: map[string]string{},
	}, nil
}

func (w *PolicyWatcher) register(p *clientPolicy) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.policies[p.service] = p
}

// Run reads the settings and applies every change until ctx ends. A failed read is logged and
// retried; the clients keep their current settings meanwhile.
func (w *PolicyWatcher) Run(ctx context.Context) error {
	var index uint64
	for ctx.Err() == nil {
		pairs, meta, err := w.kv.List(w.prefix, (&api.QueryOptions{WaitIndex: index, WaitTime: time.Minute}).WithContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			w.log.Warn("client policy: reading Consul KV failed; settings unchanged", "prefix", w.prefix, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		if meta.LastIndex < index {
			index = 0 // the index went backwards (a Consul restore): read afresh
			continue
		}
		index = meta.LastIndex
		w.apply(pairs)
	}
	return nil
}

// apply brings every registered policy to the settings in pairs.
func (w *PolicyWatcher) apply(pairs api.KVPairs) {
	values := make(map[string]string, len(pairs))
	for _, p := range pairs {
		values[p.Key] = string(p.Value)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for service, p := range w.policies {
		categories := map[string]func(string){categoryTimeout: func(v string) { p.applyTimeouts(v, w.log) }}
		if p.retries != nil {
			categories[categoryRetry] = func(v string) { p.applyRetries(v, w.log) }
			categories[categoryBreaker] = func(v string) { p.applyBreakers(v, w.log) }
		}
		for category, apply := range categories {
			key := w.prefix + service + "/" + category
			v := values[key]
			if last, seen := w.applied[key]; seen && last == v {
				continue
			}
			w.applied[key] = v
			apply(v)
		}
	}
}

// decodeByMethod decodes a category's JSON object (empty: no settings); ok is false, and the
// change is logged and ignored, when it does not decode.
func decodeByMethod[V any](log *slog.Logger, what, data string) (map[string]V, bool) {
	out := map[string]V{}
	if strings.TrimSpace(data) == "" {
		return out, true
	}
	if err := json.Unmarshal([]byte(data), &out); err != nil {
		log.Warn("client policy from Consul ignored: not a JSON object by method", "setting", what, "err", err)
		return nil, false
	}
	return out, true
}

func (p *clientPolicy) applyTimeouts(data string, log *slog.Logger) {
	set, ok := decodeByMethod[rpctimeout.RPCTimeout](log, p.service+" "+categoryTimeout, data)
	if !ok {
		return
	}
	methods := make(map[string]rpcinfo.Timeouts, len(set))
	for m, t := range set {
		if t.RPCTimeoutMS <= 0 {
			log.Warn("client policy from Consul: a timeout must be positive; entry ignored", "service", p.service, "method", m)
			continue
		}
		connect := p.timeouts.defaults.ConnectTimeout()
		if t.ConnTimeoutMS > 0 {
			connect = time.Duration(t.ConnTimeoutMS) * time.Millisecond
		}
		methods[m] = fixedTimeouts{rpc: time.Duration(t.RPCTimeoutMS) * time.Millisecond, connect: connect}
	}
	p.timeouts.set(methods)
	log.Info("client timeouts applied from Consul", "service", p.service, "methods", len(methods))
}

func (p *clientPolicy) applyRetries(data string, log *slog.Logger) {
	set, ok := decodeByMethod[retry.Policy](log, p.service+" "+categoryRetry, data)
	if !ok {
		return
	}
	for m := range set {
		if m != "*" && !slices.Contains(p.idempotent, m) {
			log.Warn("client policy from Consul: retries of a method that is not idempotent refused", "service", p.service, "method", m)
		}
	}
	for _, m := range p.idempotent {
		policy, ok := set[m]
		if !ok {
			policy, ok = set["*"]
		}
		if !ok {
			policy = p.defaultRetry
		}
		if policy.Enable && policy.FailurePolicy == nil && policy.BackupPolicy == nil {
			log.Warn("client policy from Consul: an enabled retry needs failure_policy or backup_policy; default kept", "service", p.service, "method", m)
			policy = p.defaultRetry
		}
		if policy.FailurePolicy != nil && policy.FailurePolicy.ShouldResultRetry == nil {
			policy.FailurePolicy.ShouldResultRetry = retryResult
		}
		p.setRetry(m, policy)
	}
	log.Info("client retries applied from Consul", "service", p.service, "entries", len(set))
}

func (p *clientPolicy) applyBreakers(data string, log *slog.Logger) {
	set, ok := decodeByMethod[circuitbreak.CBConfig](log, p.service+" "+categoryBreaker, data)
	if !ok {
		return
	}
	for _, m := range p.methods {
		cfg, ok := set[m]
		if !ok {
			cfg, ok = set["*"]
		}
		if !ok || (cfg.Enable && (cfg.ErrRate <= 0 || cfg.ErrRate > 1 || cfg.MinSample < 1)) {
			cfg = p.defaultBreaker
		}
		p.breakers.UpdateServiceCBConfig(breakerKey(p.service, m), cfg)
	}
	log.Info("client circuit breakers applied from Consul", "service", p.service, "entries", len(set))
}
