package rpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/pkg/circuitbreak"
	"github.com/cloudwego/kitex/pkg/kerrors"
	"github.com/cloudwego/kitex/pkg/klog"
	"github.com/cloudwego/kitex/pkg/rpcinfo"
	"github.com/cloudwego/kitex/pkg/transmeta"
	"github.com/cloudwego/kitex/transport"
	"github.com/hashicorp/consul/api"

	"github.com/douyin-backend/douyin/internal/polltest"
	"github.com/douyin-backend/douyin/kitex_gen/comment/commentservice"
	"github.com/douyin-backend/douyin/kitex_gen/favorite/favoriteservice"
	"github.com/douyin-backend/douyin/kitex_gen/message/messageservice"
	"github.com/douyin-backend/douyin/kitex_gen/recommend/recommendservice"
	"github.com/douyin-backend/douyin/kitex_gen/relation/relationservice"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
	"github.com/douyin-backend/douyin/kitex_gen/user/userservice"
	"github.com/douyin-backend/douyin/kitex_gen/video/videoservice"
)

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// A new method must be classed before it ships: retried (idempotent) or sent once.
func TestEveryMethodHasARetryClass(t *testing.T) {
	services := map[string][]string{}
	for component, info := range map[string]interface{ methodNames() []string }{
		"user": infoOf(userservice.NewServiceInfo().Methods), "video": infoOf(videoservice.NewServiceInfo().Methods),
		"favorite": infoOf(favoriteservice.NewServiceInfo().Methods), "comment": infoOf(commentservice.NewServiceInfo().Methods),
		"relation": infoOf(relationservice.NewServiceInfo().Methods), "message": infoOf(messageservice.NewServiceInfo().Methods),
		"recommend": infoOf(recommendservice.NewServiceInfo().Methods),
	} {
		services[component] = info.methodNames()
	}
	for component, methods := range services {
		for _, m := range methods {
			idem, once := slices.Contains(idempotentMethods[component], m), slices.Contains(onceOnlyMethods[component], m)
			if idem == once {
				t.Errorf("%s.%s: idempotent %v, once-only %v: class it in exactly one of idempotentMethods and onceOnlyMethods", component, m, idem, once)
			}
		}
		for _, m := range append(slices.Clone(idempotentMethods[component]), onceOnlyMethods[component]...) {
			if !slices.Contains(methods, m) {
				t.Errorf("%s.%s is classed but the service has no such method", component, m)
			}
		}
	}
}

type methodSet[V any] map[string]V

func infoOf[V any](m map[string]V) methodSet[V] { return m }

func (m methodSet[V]) methodNames() []string {
	out := make([]string, 0, len(m))
	for name := range m {
		out = append(out, name)
	}
	return out
}

// droppingInstance reads the start of each request and then closes the connection: an
// instance that dies while serving. Reading first makes every call fail after it was sent;
// closing at accept would let a slow client see the close before writing, a failure
// before sending that any method may retry.
func droppingInstance(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				_, _ = c.Read(make([]byte, 1))
				c.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// userClientOn is a user client of the policy p over fixed instances.
func userClientOn(t *testing.T, p *clientPolicy, instances ...string) userapi.UserService {
	t.Helper()
	opts := append([]client.Option{
		client.WithTransportProtocol(transport.TTHeader),
		client.WithMetaHandler(transmeta.ClientTTHeaderHandler),
		client.WithHostPorts(instances...),
	}, p.options()...)
	c, err := userservice.NewClient(ServiceName("user"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return userservice.NewServiceAdapter(c)
}

// healthyUserInstance serves the user service and waits until it answers.
func healthyUserInstance(t *testing.T) string {
	t.Helper()
	addr := freeAddr(t)
	serve(t, testConfig(DiscoveryDNS, addr))
	p, err := newClientPolicy(testConfig(DiscoveryDNS, ""), "user")
	if err != nil {
		t.Fatal(err)
	}
	users := userClientOn(t, p, addr)
	// The listener may not be up yet: poll until it answers.
	polltest.UntilEvery(t, 10*time.Second, 20*time.Millisecond, "the user instance answering", func() bool {
		_, err := users.MGetUsers(context.Background(), &userapi.MGetUsersRequest{UserIds: []int64{1}})
		return err == nil
	})
	return addr
}

// failures counts failed calls out of n.
func failures(n int, call func() error) int {
	failed := 0
	for range n {
		if call() != nil {
			failed++
		}
	}
	return failed
}

// deadInstance is the address of an instance that is gone: connections are refused.
func deadInstance(t *testing.T) string {
	t.Helper()
	addr := freeAddr(t)
	return addr
}

// mostlyHealthy lists the healthy instance eight times and the dropping one once, so about
// one call in nine meets the dropping instance: retried, that stays inside the retry budget.
func mostlyHealthy(good, bad string) []string {
	out := []string{bad}
	for range 8 {
		out = append(out, good)
	}
	return out
}

// An instance that drops connections mid-call (killed while serving): idempotent calls are
// retried on another instance and all succeed; calls that may not be repeated are not; with
// the policy off reads fail too. A dead instance (connection refused) costs nothing either.
func TestClientPolicyRetriesIdempotentCallsOnAnotherInstance(t *testing.T) {
	good, bad, dead := healthyUserInstance(t), droppingInstance(t), deadInstance(t)
	ctx := context.Background()
	read := func(users userapi.UserService) func() error {
		return func() error {
			_, err := users.MGetUsers(ctx, &userapi.MGetUsersRequest{UserIds: []int64{1}})
			return err
		}
	}

	cfg := testConfig(DiscoveryDNS, "")
	cfg.RetryBudget = 0.3
	on, err := newClientPolicy(cfg, "user")
	if err != nil {
		t.Fatal(err)
	}
	users := userClientOn(t, on, append(mostlyHealthy(good, bad), dead)...)
	if n := failures(100, read(users)); n != 0 {
		t.Errorf("client policy on: %d of 100 reads failed with a dropping and a dead instance, want 0", n)
	}
	register := 0
	if n := failures(100, func() error {
		register++
		_, err := users.Register(ctx, &userapi.RegisterRequest{Username: fmt.Sprintf("once%d@x.io", register), Password: "secret1"})
		return err
	}); n == 0 {
		t.Error("client policy on: no Register failed against an instance dropping connections: a call that may not be repeated was retried")
	}

	// The retry budget: with half the calls failing, retries stop once they pass the
	// budget's share of the calls.
	budget, err := newClientPolicy(cfg, "user")
	if err != nil {
		t.Fatal(err)
	}
	limited, capped := userClientOn(t, budget, bad, good), false
	for range 60 {
		if _, err := limited.MGetUsers(ctx, &userapi.MGetUsersRequest{UserIds: []int64{1}}); err != nil && strings.Contains(err.Error(), "retry circuit break") {
			capped = true
		}
	}
	if !capped {
		t.Error("retries were never stopped by the retry budget with half the calls failing")
	}

	cfg.ClientPolicy = PolicyOff
	off, err := newClientPolicy(cfg, "user")
	if err != nil {
		t.Fatal(err)
	}
	if n := failures(100, read(userClientOn(t, off, mostlyHealthy(good, bad)...))); n == 0 {
		t.Error("client policy off: no read failed against an instance dropping connections: something still retries")
	}
}

func TestRetryableErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{kerrors.ErrRemoteOrNetwork.WithCause(io.EOF), true},
		{kerrors.ErrGetConnection, true},
		{kerrors.ErrRPCTimeout, true},
		{kerrors.NewBizStatusError(10004, "video not found"), false},
		{kerrors.ErrServiceCircuitBreak, false},
		{nil, false},
	} {
		if got := retryableError(tc.err); got != tc.want {
			t.Errorf("retryableError(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// consulForTest is the Consul agent scripts/deps.sh starts (DOUYIN_TEST_CONSUL_ADDR to
// point elsewhere).
func consulForTest(t *testing.T) (string, *api.Client) {
	t.Helper()
	addr := os.Getenv("DOUYIN_TEST_CONSUL_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8500"
	}
	c, err := api.NewClient(&api.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Status().Leader(); err != nil {
		t.Fatalf("Consul at %s is unreachable (%v): run scripts/deps.sh, or set DOUYIN_TEST_CONSUL_ADDR", addr, err)
	}
	return addr, c
}

// Timeouts, retries and circuit breakers change at run time through Consul KV, per method,
// and removing a setting restores the default: against the real Consul.
func TestClientPolicyChangesAtRunTimeFromConsul(t *testing.T) {
	addr, consul := consulForTest(t)
	suffix := make([]byte, 4)
	rand.Read(suffix)
	caller := "policytest-" + hex.EncodeToString(suffix)
	cfg := testConfig(DiscoveryConsul, "")
	cfg.RetryBudget = 0.3
	p, err := newClientPolicy(cfg, "user")
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewPolicyWatcher(addr, caller, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	w.register(p)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watcher: %v", err)
		}
		consul.KV().DeleteTree("KitexConfig/"+ServiceName(caller), nil)
	})
	put := func(category, value string) {
		t.Helper()
		if _, err := consul.KV().Put(&api.KVPair{Key: PolicyKey(caller, "user", category), Value: []byte(value)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	ri := func(method string) rpcinfo.RPCInfo {
		return rpcinfo.NewRPCInfo(nil, nil, rpcinfo.NewInvocation(ServiceName("user"), method), nil, nil)
	}

	// Timeouts: one method, then every method, then back to the flags.
	put(categoryTimeout, `{"MGetUsers": {"rpc_timeout_ms": 700, "conn_timeout_ms": 150}}`)
	polltest.UntilEvery(t, 15*time.Second, 50*time.Millisecond, "the MGetUsers timeout from Consul", func() bool {
		got := p.timeouts.Timeouts(ri("MGetUsers"))
		return got.RPCTimeout() == 700*time.Millisecond && got.ConnectTimeout() == 150*time.Millisecond
	})
	if got := p.timeouts.Timeouts(ri("Login")).RPCTimeout(); got != cfg.CallTimeout {
		t.Errorf("Login timeout %v after a setting for MGetUsers only, want the default %v", got, cfg.CallTimeout)
	}
	put(categoryTimeout, `{}`)
	polltest.UntilEvery(t, 15*time.Second, 50*time.Millisecond, "the default timeout back", func() bool { return p.timeouts.Timeouts(ri("MGetUsers")).RPCTimeout() == cfg.CallTimeout })

	// Retries: switched off for MGetUsers, reads meet the dropping instance; back on, none fails.
	good, bad := healthyUserInstance(t), droppingInstance(t)
	users := userClientOn(t, p, mostlyHealthy(good, bad)...)
	read := func() error {
		_, err := users.MGetUsers(context.Background(), &userapi.MGetUsersRequest{UserIds: []int64{1}})
		return err
	}
	if n := failures(60, read); n != 0 {
		t.Fatalf("%d of 60 reads failed with the default retries", n)
	}
	put(categoryRetry, `{"MGetUsers": {"enable": false}, "Register": {"enable": true, "type": 0, "failure_policy": {"stop_policy": {"max_retry_times": 2}}}}`)
	polltest.UntilEvery(t, 15*time.Second, 50*time.Millisecond, "reads failing with retries off", func() bool { return failures(40, read) > 0 })
	put(categoryRetry, `{}`)
	polltest.UntilEvery(t, 15*time.Second, 50*time.Millisecond, "reads retried again", func() bool { return failures(60, read) == 0 })
	if r := p.retries.Dump().(map[string]interface{}); r["Register"] != nil {
		t.Errorf("a retry policy for Register, which is not idempotent, was accepted: %v", r["Register"])
	}

	// Circuit breakers: a per-method setting reaches the method's breaker.
	put(categoryBreaker, `{"MGetUsers": {"enable": true, "err_rate": 0.3, "min_sample": 7}}`)
	key := breakerKey(ServiceName("user"), "MGetUsers")
	breakerOf := func() circuitbreak.CBConfig {
		dump := p.breakers.Dump().(map[string]interface{})["cb_config"].(map[string]interface{})
		cfg, _ := dump["service"].(map[string]interface{})[key].(circuitbreak.CBConfig)
		return cfg
	}
	polltest.UntilEvery(t, 15*time.Second, 50*time.Millisecond, "the MGetUsers breaker setting", func() bool {
		cfg := breakerOf()
		return cfg.Enable && cfg.ErrRate == 0.3 && cfg.MinSample == 7
	})
	put(categoryBreaker, `{}`)
	polltest.UntilEvery(t, 15*time.Second, 50*time.Millisecond, "the default breaker back", func() bool { return breakerOf() == p.defaultBreaker })
	// The client's finalizer closes the breaker suite these polls read: keep it reachable.
	runtime.KeepAlive(users)
}

// A call the caller cancelled does not count against the called method's breaker; a real
// failure does.
func TestMethodBreakerIgnoresCallerCancellations(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if got := methodBreakerErrorType(cancelled, nil, nil, kerrors.ErrRPCTimeout.WithCause(context.Canceled)); got != circuitbreak.TypeIgnorable {
		t.Errorf("a cancelled call counts as %v, want ignorable", got)
	}
	if got := methodBreakerErrorType(context.Background(), nil, nil, kerrors.ErrRemoteOrNetwork); got != circuitbreak.TypeFailure {
		t.Errorf("a network failure counts as %v, want a failure", got)
	}
	if got := methodBreakerErrorType(context.Background(), nil, nil, nil); got != circuitbreak.TypeSuccess {
		t.Errorf("a success counts as %v", got)
	}
}

// A call that succeeds logs nothing: the client policy once made Kitex warn on every call of a
// retried method (a DDL stop without its hook), a log line per RPC on the hot path.
func TestClientPolicyCallsLogNothing(t *testing.T) {
	addr := healthyUserInstance(t)
	p, err := newClientPolicy(testConfig(DiscoveryDNS, ""), "user")
	if err != nil {
		t.Fatal(err)
	}
	users := userClientOn(t, p, addr)
	var logged strings.Builder
	klog.SetOutput(&logged)
	t.Cleanup(func() { klog.SetOutput(os.Stderr) })
	for range 10 {
		if _, err := users.MGetUsers(context.Background(), &userapi.MGetUsersRequest{UserIds: []int64{1}}); err != nil {
			t.Fatal(err)
		}
	}
	klog.SetOutput(os.Stderr)
	if logged.Len() > 0 {
		t.Errorf("successful calls logged:\n%s", logged.String())
	}
}
