package rpc

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/pkg/circuitbreak"
	"github.com/cloudwego/kitex/pkg/kerrors"
	"github.com/cloudwego/kitex/pkg/retry"
	"github.com/cloudwego/kitex/pkg/rpcinfo"
)

// Client policy modes (rpc.client-policy).
const (
	// PolicyClient: the Kitex client retries idempotent calls within a retry budget and
	// breaks circuits per instance and per method. For Consul discovery and laptops, where
	// no mesh does it.
	PolicyClient = "client"
	// PolicyOff: timeouts only. Under Istio the sidecars retry and eject instances; a client
	// policy as well would stack retries on retries.
	PolicyOff = "off"
)

// idempotentMethods are the methods a client may send twice: every read, and the writes that
// are idempotent by design (a like or a follow applied twice is applied once). Every method
// of every service must be listed here or in onceOnlyMethods (TestEveryMethodHasARetryClass).
var idempotentMethods = map[string][]string{
	"user":     {"Login", "MGetUsers"},
	"video":    {"Feed", "FollowingFeed", "PublishList", "MGetVideos", "MGetWorkCounts"},
	"favorite": {"FavoriteAction", "FavoriteList", "MGetVideoFavorites", "MGetUserFavoriteStats"},
	"comment":  {"ListComments", "MGetCommentCounts"},
	"relation": {"RelationAction", "FollowList", "FollowerList", "FriendList", "FolloweeIDs", "MGetRelations"},
	"message":  {"Chat", "MGetLatestMessages"},
	// A retried Recommend (or RecommendMany) may mark a second page seen: the viewer skips
	// it, nothing is lost.
	"recommend": {"Recommend", "RecommendMany"},
}

// onceOnlyMethods are never retried by the client: a second call could apply twice (a second
// account, comment, message or video) or answer differently (a delete of what the first call
// deleted).
var onceOnlyMethods = map[string][]string{
	"user":    {"Register"},
	"video":   {"CreateVideo", "CompleteProcessing"},
	"comment": {"PostComment", "DeleteComment"},
	"message": {"SendMessage"},
}

// retryableError reports whether a failed call may be sent again to another instance: the
// instance was unreachable, dropped the connection (killed mid-call) or did not answer in
// time. Business errors are answers, never retried.
func retryableError(err error) bool {
	if err == nil {
		return false
	}
	if _, ok := kerrors.FromBizStatusError(err); ok {
		return false
	}
	return errors.Is(err, kerrors.ErrRemoteOrNetwork) || errors.Is(err, kerrors.ErrGetConnection) ||
		kerrors.IsTimeoutError(err)
}

// retryResult is which results a retry policy retries: retryableError.
var retryResult = &retry.ShouldResultRetry{
	ErrorRetryWithCtx: func(_ context.Context, err error, _ rpcinfo.RPCInfo) bool { return retryableError(err) },
}

// retryPolicy is the default policy of an idempotent method: failure retry on another
// instance, at most cfg.RetryMax times, stopped once retries exceed cfg.RetryBudget of the
// method's calls (the container limits by percentage). A retry never outlives the caller: each
// attempt's timeout derives from the caller's context. No DDL stop: it needs a process-wide
// hook (retry.RegisterDDLStop) and without one Kitex only logs a warning on every call, which
// cost the gateway about 8% of its CPU on a logged-in feed.
func retryPolicy(cfg Config) retry.Policy {
	p := retry.NewFailurePolicyWithResultRetry(retryResult)
	p.WithMaxRetryTimes(cfg.RetryMax)
	p.WithRetryBreaker(cfg.RetryBudget)
	return retry.BuildFailurePolicy(p)
}

// breakerKey keys the per-method circuit breakers "<service>/<method>", the key
// kitex-contrib/config-consul updates, so run-time settings reach the same breaker.
func breakerKey(service, method string) string { return service + "/" + method }

// methodBreakerErrorType is Kitex's service-level error classification, except that a call
// the caller cancelled counts for nothing: the gateway cancels a page's other calls when one
// fails, and counting those would open the breakers of healthy services after one outage.
func methodBreakerErrorType(ctx context.Context, request, response interface{}, err error) circuitbreak.ErrorType {
	if err != nil && errors.Is(ctx.Err(), context.Canceled) {
		return circuitbreak.TypeIgnorable
	}
	return circuitbreak.ErrorTypeOnServiceLevel(ctx, request, response, err)
}

func breakerKeyOf(ri rpcinfo.RPCInfo) string {
	if ri == nil || ri.To() == nil {
		return ""
	}
	return breakerKey(ri.To().ServiceName(), ri.To().Method())
}

// clientPolicy is the policy of the client of one service: its timeouts, retries and circuit
// breakers, with the defaults from Config that run-time settings (Consul KV) override.
type clientPolicy struct {
	service  string
	timeouts *timeouts
	// Nil when the policy is off.
	retries  *retry.Container
	breakers *circuitbreak.CBSuite
	// The defaults, restored when a run-time setting is removed.
	defaultRetry   retry.Policy
	defaultBreaker circuitbreak.CBConfig
	idempotent     []string
	methods        []string
}

func newClientPolicy(cfg Config, component string) (*clientPolicy, error) {
	p := &clientPolicy{service: ServiceName(component), timeouts: newTimeouts(cfg.CallTimeout, cfg.ConnTimeout)}
	if cfg.ClientPolicy != PolicyClient {
		return p, nil
	}
	if _, known := idempotentMethods[component]; !known {
		return nil, fmt.Errorf("no client policy for component %q", component)
	}
	p.idempotent = idempotentMethods[component]
	p.methods = append(append([]string(nil), p.idempotent...), onceOnlyMethods[component]...)
	// Policies go in as run-time changes, not as code configuration: the container ignores
	// run-time changes once it has code configuration.
	p.retries = retry.NewRetryContainerWithPercentageLimit()
	p.defaultRetry = retryPolicy(cfg)
	for _, m := range p.idempotent {
		p.setRetry(m, p.defaultRetry)
	}
	p.breakers = circuitbreak.NewCBSuite(breakerKeyOf, circuitbreak.WithServiceGetErrorType(methodBreakerErrorType))
	p.breakers.UpdateInstanceCBConfig(circuitbreak.CBConfig{Enable: true, ErrRate: cfg.BreakerErrorRate, MinSample: int64(cfg.InstanceBreakerMinSamples)})
	p.defaultBreaker = circuitbreak.CBConfig{Enable: true, ErrRate: cfg.BreakerErrorRate, MinSample: int64(cfg.MethodBreakerMinSamples)}
	for _, m := range p.methods {
		p.breakers.UpdateServiceCBConfig(breakerKey(p.service, m), p.defaultBreaker)
	}
	return p, nil
}

// setRetry gives method a new retryer of policy. A new one, not an update of the current
// one: a Kitex retryer keeps the policy's pointer and writes into it on update while calls in
// flight read it; so each retryer gets its own copy, and calls that hold the old retryer
// finish with it.
func (p *clientPolicy) setRetry(method string, policy retry.Policy) {
	p.retries.DeletePolicy(method)
	p.retries.NotifyPolicyChange(method, *policy.DeepCopy())
}

// options returns the Kitex client options of the policy.
func (p *clientPolicy) options() []client.Option {
	opts := []client.Option{client.WithTimeoutProvider(p.timeouts)}
	if p.retries != nil {
		opts = append(opts,
			client.WithRetryContainer(p.retries),
			// The client initialises the container with this: kept for retryers created later.
			client.WithSpecifiedResultRetry(retryResult),
			client.WithCircuitBreaker(p.breakers),
			client.WithCloseCallbacks(p.retries.Close),
			client.WithCloseCallbacks(p.breakers.Close))
	}
	return opts
}

// timeouts is the per-method timeout provider: the configured call and connect timeouts,
// unless a method has its own (set at run time; "*" for every method).
type timeouts struct {
	defaults rpcinfo.Timeouts
	methods  atomic.Pointer[map[string]rpcinfo.Timeouts]
}

func newTimeouts(call, connect time.Duration) *timeouts {
	t := &timeouts{defaults: fixedTimeouts{rpc: call, connect: connect}}
	t.methods.Store(&map[string]rpcinfo.Timeouts{})
	return t
}

// Timeouts implements rpcinfo.TimeoutProvider.
func (t *timeouts) Timeouts(ri rpcinfo.RPCInfo) rpcinfo.Timeouts {
	methods := *t.methods.Load()
	if ri != nil && ri.Invocation() != nil {
		if m, ok := methods[ri.Invocation().MethodName()]; ok {
			return m
		}
	}
	if m, ok := methods["*"]; ok {
		return m
	}
	return t.defaults
}

// set replaces the per-method timeouts.
func (t *timeouts) set(methods map[string]rpcinfo.Timeouts) { t.methods.Store(&methods) }

// fixedTimeouts is an rpcinfo.Timeouts of two durations.
type fixedTimeouts struct{ rpc, connect time.Duration }

func (f fixedTimeouts) RPCTimeout() time.Duration       { return f.rpc }
func (f fixedTimeouts) ConnectTimeout() time.Duration   { return f.connect }
func (f fixedTimeouts) ReadWriteTimeout() time.Duration { return f.rpc }
