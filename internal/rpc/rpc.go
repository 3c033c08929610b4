// Package rpc holds what every Kitex server and client of the system shares: how services
// find each other (Consul, or Kubernetes DNS under Istio), how business errors cross the
// wire (TTHeader biz status), timeouts, and graceful stop with deregistration.
package rpc

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/pkg/connpool"
	"github.com/cloudwego/kitex/pkg/registry"
	"github.com/cloudwego/kitex/pkg/rpcinfo"
	"github.com/cloudwego/kitex/pkg/transmeta"
	"github.com/cloudwego/kitex/server"
	"github.com/cloudwego/kitex/transport"
	"github.com/hashicorp/consul/api"
	consul "github.com/kitex-contrib/registry-consul"
)

// Discovery modes.
const (
	// DiscoveryNone: no remote calls (every component in one process).
	DiscoveryNone = "none"
	// DiscoveryConsul: servers register with a health check, clients resolve passing instances.
	DiscoveryConsul = "consul"
	// DiscoveryDNS: clients dial a host name (a Kubernetes Service); the mesh balances and retries.
	DiscoveryDNS = "dns"
)

// ServiceName is the registered name of a component: "douyin-user", "douyin-video", ….
func ServiceName(component string) string { return "douyin-" + component }

// Config holds the RPC settings.
type Config struct {
	Discovery    string
	ConsulAddr   string
	ListenAddr   string
	AdvertiseIP  string
	DNSTemplate  string
	CallTimeout  time.Duration
	ConnTimeout  time.Duration
	CheckEvery   time.Duration
	ShutdownWait time.Duration
	// MaxIdlePerInstance is how many idle connections a client keeps to each instance.
	MaxIdlePerInstance int
	// ClientPolicy is PolicyClient (retries and circuit breakers in the client) or PolicyOff
	// (under a mesh); the rest tunes PolicyClient.
	ClientPolicy     string
	RetryMax         int
	RetryBudget      float64
	BreakerErrorRate float64
	// Calls in a breaker's window before its error rate counts: an instance's breaker counts
	// failed connections only, a method's every failure, so it needs more samples not to
	// open on what one dead instance costs before its own breaker opens.
	InstanceBreakerMinSamples int
	MethodBreakerMinSamples   int
	// PolicyFromConsul watches Consul KV for run-time changes of the client policy.
	PolicyFromConsul bool
}

// RegisterFlags registers the RPC settings.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Discovery, "rpc.discovery", DiscoveryNone, "how components find each other: none (all in one process), consul, or dns (Kubernetes Services, Istio)")
	fs.StringVar(&c.ConsulAddr, "rpc.consul-addr", "127.0.0.1:8500", "Consul agent HTTP address")
	fs.StringVar(&c.ListenAddr, "rpc.listen-addr", ":8888", "Kitex listen address of the RPC component this process serves")
	fs.StringVar(&c.AdvertiseIP, "rpc.advertise-ip", "", "IP registered in Consul (default: the listen IP, or the first non-loopback IPv4 when listening on all interfaces)")
	fs.StringVar(&c.DNSTemplate, "rpc.dns-template", "douyin-{component}:8888", "dns discovery: host:port of a component, {component} replaced by its name")
	fs.DurationVar(&c.CallTimeout, "rpc.call-timeout", 3*time.Second, "timeout of one RPC")
	fs.DurationVar(&c.ConnTimeout, "rpc.connect-timeout", 500*time.Millisecond, "timeout to connect to a service instance")
	fs.DurationVar(&c.CheckEvery, "rpc.health-check-interval", time.Second, "interval of Consul's TCP health check of each instance")
	fs.DurationVar(&c.ShutdownWait, "rpc.shutdown-wait", 5*time.Second, "how long in-flight RPCs may finish on shutdown")
	fs.IntVar(&c.MaxIdlePerInstance, "rpc.max-idle-conns-per-instance", 256, "idle connections a client keeps to each service instance; below the calls in flight, every extra call dials and closes a connection")
	fs.StringVar(&c.ClientPolicy, "rpc.client-policy", PolicyClient, "client: Kitex clients retry idempotent calls on another instance and break circuits per instance and per method (no mesh); off: timeouts only (under Istio, whose sidecars retry)")
	fs.IntVar(&c.RetryMax, "rpc.retry-max", 2, "client policy: retries of an idempotent call that failed to reach or hear from an instance")
	fs.Float64Var(&c.RetryBudget, "rpc.retry-budget", 0.1, "client policy: retries stop while they exceed this share of a method's calls, so they cannot multiply load")
	fs.Float64Var(&c.BreakerErrorRate, "rpc.breaker-error-rate", 0.5, "client policy: error rate that opens the circuit of an instance or a method")
	fs.IntVar(&c.InstanceBreakerMinSamples, "rpc.instance-breaker-min-samples", 10, "client policy: calls to an instance in the breaker's window before its rate of failed connections counts")
	fs.IntVar(&c.MethodBreakerMinSamples, "rpc.method-breaker-min-samples", 200, "client policy: calls of a method in the breaker's window before its error rate counts")
	fs.BoolVar(&c.PolicyFromConsul, "rpc.policy-from-consul", true, "consul discovery: apply run-time changes of timeouts, retries and circuit breakers from Consul KV (KitexConfig/<client>/<service>/rpc_timeout|retry|circuit_break)")
}

// Validate checks the settings.
func (c *Config) Validate() error {
	switch c.Discovery {
	case DiscoveryNone, DiscoveryConsul:
	case DiscoveryDNS:
		if !strings.Contains(c.DNSTemplate, "{component}") {
			return errors.New("rpc.dns-template must contain {component}")
		}
	default:
		return fmt.Errorf("rpc.discovery %q: want none, consul or dns", c.Discovery)
	}
	if c.CallTimeout <= 0 || c.ConnTimeout <= 0 || c.CheckEvery < time.Second {
		return errors.New("rpc timeouts must be positive and the health check interval at least 1s")
	}
	if c.MaxIdlePerInstance < 1 {
		return errors.New("rpc.max-idle-conns-per-instance must be at least 1")
	}
	switch c.ClientPolicy {
	case PolicyClient, PolicyOff:
	default:
		return fmt.Errorf("rpc.client-policy %q: want client or off", c.ClientPolicy)
	}
	if c.RetryMax < 0 || c.RetryMax > 5 {
		return errors.New("rpc.retry-max must be 0..5")
	}
	if c.RetryBudget <= 0 || c.RetryBudget > 0.3 {
		return errors.New("rpc.retry-budget must be in (0, 0.3]: Kitex accepts no larger share")
	}
	if c.BreakerErrorRate <= 0 || c.BreakerErrorRate > 1 || c.InstanceBreakerMinSamples < 1 || c.MethodBreakerMinSamples < 1 {
		return errors.New("rpc.breaker-error-rate must be in (0, 1] and the breakers' min samples at least 1")
	}
	return nil
}

// ClientOptions returns the options of a Kitex client calling component: discovery, the
// connection pool, and the client policy (timeouts per method; with PolicyClient retries and
// circuit breakers), changed at run time by watcher when it is not nil.
func ClientOptions(cfg Config, component string, watcher *PolicyWatcher) ([]client.Option, error) {
	policy, err := newClientPolicy(cfg, component)
	if err != nil {
		return nil, err
	}
	if watcher != nil {
		watcher.register(policy)
	}
	opts := []client.Option{
		// TTHeader carries the business status, so errs codes survive the hop.
		client.WithTransportProtocol(transport.TTHeader),
		client.WithMetaHandler(transmeta.ClientTTHeaderHandler),
		// A feed fans out to six calls at once: a small idle pool would dial and close
		// connections on every request (the default keeps 10 per instance).
		client.WithLongConnection(connpool.IdleConfig{
			MinIdlePerAddress: 2, MaxIdlePerAddress: cfg.MaxIdlePerInstance, MaxIdleTimeout: time.Minute,
		}),
	}
	opts = append(opts, policy.options()...)
	switch cfg.Discovery {
	case DiscoveryConsul:
		resolver, err := consul.NewConsulResolver(cfg.ConsulAddr)
		if err != nil {
			return nil, fmt.Errorf("consul resolver: %w", err)
		}
		opts = append(opts, client.WithResolver(resolver))
	case DiscoveryDNS:
		opts = append(opts, client.WithHostPorts(strings.ReplaceAll(cfg.DNSTemplate, "{component}", component)))
	default:
		return nil, fmt.Errorf("component %s is remote but rpc.discovery is %q: set consul or dns", component, cfg.Discovery)
	}
	return opts, nil
}

// Server is a Kitex server of one component with its lifecycle.
type Server struct {
	component string
	server    server.Server
	stop      chan error
}

// NewServer builds the Kitex server of component; register adds the handler to it (the
// generated <svc>service.RegisterService); extra options add middleware.
func NewServer(cfg Config, component string, register func(server.Server) error, extra ...server.Option) (*Server, error) {
	addr, err := net.ResolveTCPAddr("tcp", cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("rpc.listen-addr: %w", err)
	}
	s := &Server{component: component, stop: make(chan error, 1)}
	opts := []server.Option{
		server.WithServiceAddr(addr),
		server.WithServerBasicInfo(&rpcinfo.EndpointBasicInfo{ServiceName: ServiceName(component)}),
		server.WithMetaHandler(transmeta.ServerTTHeaderHandler),
		server.WithExitWaitTime(cfg.ShutdownWait),
		// The process owns signals: the server stops when Run's context ends.
		server.WithExitSignal(func() <-chan error { return s.stop }),
	}
	opts = append(opts, extra...)
	if cfg.Discovery == DiscoveryConsul {
		reg, info, err := consulRegistration(cfg, component, addr)
		if err != nil {
			return nil, err
		}
		opts = append(opts, server.WithRegistry(reg), server.WithRegistryInfo(info))
	}
	s.server = server.NewServer(opts...)
	if err := register(s.server); err != nil {
		return nil, fmt.Errorf("register %s handler: %w", component, err)
	}
	return s, nil
}

// consulRegistration registers the instance with an explicit TCP health check: Consul marks
// it passing only once it accepts connections, and removes it when it stays critical.
func consulRegistration(cfg Config, component string, listen *net.TCPAddr) (registry.Registry, *registry.Info, error) {
	reg, err := consul.NewConsulRegister(cfg.ConsulAddr, consul.WithCheck(&api.AgentServiceCheck{
		Interval:                       cfg.CheckEvery.String(),
		Timeout:                        cfg.CheckEvery.String(),
		DeregisterCriticalServiceAfter: "1m",
	}))
	if err != nil {
		return nil, nil, fmt.Errorf("consul registry: %w", err)
	}
	ip := cfg.AdvertiseIP
	if ip == "" && listen.IP != nil && !listen.IP.IsUnspecified() {
		ip = listen.IP.String()
	}
	var advertise net.Addr = listen // unspecified IP: the registry picks the first non-loopback IPv4
	if ip != "" {
		advertise = &net.TCPAddr{IP: net.ParseIP(ip), Port: listen.Port}
	}
	return reg, &registry.Info{ServiceName: ServiceName(component), Addr: advertise, Weight: 10}, nil
}

// Run serves until ctx ends, then deregisters and drains.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.server.Run() }()
	select {
	case err := <-errc:
		return fmt.Errorf("rpc server %s: %w", s.component, err)
	case <-ctx.Done():
		close(s.stop)
		if err := <-errc; err != nil {
			return fmt.Errorf("rpc server %s stop: %w", s.component, err)
		}
		return nil
	}
}
