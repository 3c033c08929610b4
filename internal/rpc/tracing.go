package rpc

import (
	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/server"
	"github.com/kitex-contrib/obs-opentelemetry/tracing"
)

// ClientTracing returns the option that makes a Kitex client open a client span per call and
// carry its context to the server (kitex-contrib/obs-opentelemetry). The suite reads the
// process's global tracer provider and propagator (telemetry.Tracing.InstallGlobal): add it
// only when tracing is on, so a process that does not trace does no propagation work.
func ClientTracing() client.Option { return client.WithSuite(tracing.NewClientSuite()) }

// ServerTracing returns the option that makes a Kitex server continue the caller's trace with a
// server span per call; see ClientTracing.
func ServerTracing() server.Option { return server.WithSuite(tracing.NewServerSuite()) }
