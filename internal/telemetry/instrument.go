package telemetry

import (
	"context"
	"time"

	"github.com/cloudwego/kitex/pkg/endpoint"
	"github.com/cloudwego/kitex/pkg/rpcinfo"

	"github.com/douyin-backend/douyin/internal/mq"
)

// RPCMiddleware records every RPC a Kitex server of component serves.
func (m *Metrics) RPCMiddleware(component string) endpoint.Middleware {
	return timedRPC(component, m.ObserveRPC)
}

// RPCClientMiddleware records every RPC a Kitex client calls on component (the callee), as
// the caller saw it: the server-side figures miss calls that never reached a server.
func (m *Metrics) RPCClientMiddleware(component string) endpoint.Middleware {
	return timedRPC(component, m.observeRPCCall)
}

// observeRPCCall records one called RPC; code is as in ObserveRPC.
func (m *Metrics) observeRPCCall(callee, method string, code int32, took time.Duration) {
	m.rpcCalls.observe(callee, method, int(code), took)
}

// timedRPC times each call through it and hands observe its method and result code: 0, the
// business code, or -1 for a failure without one.
func timedRPC(component string, observe func(component, method string, code int32, took time.Duration)) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req, resp any) error {
			start := time.Now()
			err := next(ctx, req, resp)
			method, code := "unknown", int32(0)
			if ri := rpcinfo.GetRPCInfo(ctx); ri != nil {
				method = ri.To().Method()
				if biz := ri.Invocation().BizStatusErr(); biz != nil {
					code = biz.BizStatusCode()
				}
			}
			if err != nil && code == 0 {
				code = -1
			}
			observe(component, method, code, time.Since(start))
			return err
		}
	}
}

// Producer counts what p publishes.
func (m *Metrics) Producer(p mq.Producer) mq.Producer { return producer{next: p, m: m} }

type producer struct {
	next mq.Producer
	m    *Metrics
}

func (p producer) Publish(ctx context.Context, topic, key string, body []byte) error {
	err := p.next.Publish(ctx, topic, key, body)
	p.m.mqPublished.WithLabelValues(topic, result(err)).Inc()
	return err
}

// Consumer counts what the handlers subscribed through c handle, and how late.
func (m *Metrics) Consumer(c mq.Consumer) mq.Consumer { return consumer{next: c, m: m} }

type consumer struct {
	next mq.Consumer
	m    *Metrics
}

func (c consumer) Subscribe(topic, group string, h mq.Handler) error {
	return c.next.Subscribe(topic, group, func(ctx context.Context, body []byte) error {
		if born, ok := mq.BornAt(ctx); ok {
			c.m.mqLag.WithLabelValues(topic, group).Observe(time.Since(born).Seconds())
		}
		err := h(ctx, body)
		c.m.mqConsumed.WithLabelValues(topic, group, result(err)).Inc()
		return err
	})
}

func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}
