package rpc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"hash"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bytedance/gopkg/cloud/metainfo"
	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/pkg/endpoint"
	"github.com/cloudwego/kitex/pkg/kerrors"
	"github.com/cloudwego/kitex/pkg/rpcinfo"
	"github.com/cloudwego/kitex/server"
)

// callerKey is the TTHeader metadata entry (a transient metainfo value: one hop only) carrying
// the signed identity of the calling component.
const callerKey = "DOUYIN_CALLER"

// callerMaxSkew is how old (or how far in the future) a signed call may be: the clocks of the
// components apart, plus the time a call waits in a queue.
const callerMaxSkew = time.Minute

// CallerKeyFlag names the caller key's setting; it is accepted only from the environment.
const CallerKeyFlag = "rpc.caller-key"

// IdentityConfig holds the key of the caller identity.
type IdentityConfig struct {
	Key     string
	KeyFile string
}

// RegisterFlags registers the caller identity settings.
func (c *IdentityConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Key, CallerKeyFlag, "", "HMAC key signing the caller identity of Kitex calls between components (environment only; at least 32 bytes; required with rpc.discovery=consul)")
	fs.StringVar(&c.KeyFile, "rpc.caller-key-file", "", "file holding the caller identity key")
}

// Resolve returns the key, or nil when none is configured. With Consul discovery (no mesh)
// a key is required: services would otherwise serve any pod that reaches them.
func (c *IdentityConfig) Resolve(discovery string) ([]byte, error) {
	key := c.Key
	if key == "" && c.KeyFile != "" {
		raw, err := os.ReadFile(c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("read rpc.caller-key-file: %w", err)
		}
		key = strings.TrimSpace(string(raw))
	}
	switch {
	case key == "" && discovery == DiscoveryConsul:
		return nil, errors.New("rpc.discovery=consul needs DOUYIN_RPC_CALLER_KEY or rpc.caller-key-file: without a mesh, Kitex calls are authenticated by it")
	case key == "":
		return nil, nil
	case len(key) < 32:
		return nil, errors.New("the caller identity key must be at least 32 bytes")
	}
	return []byte(key), nil
}

// CallerIdentity signs the calls a component makes and checks the calls it serves, so that
// without a mesh only the system's own components reach a service: a pod that can open a TCP
// connection to a service still cannot read a chat or act as a user. The key is shared by
// every component (from the Secret); under Istio, mTLS and the AuthorizationPolicy do this.
type CallerIdentity struct {
	component string
	now       func() time.Time
	// macs holds keyed HMACs to Reset and reuse: hmac.New allocates about twenty objects,
	// and every call is signed on one side and checked on the other.
	macs sync.Pool
}

// NewCallerIdentity returns the identity of component signed with key.
func NewCallerIdentity(key []byte, component string) *CallerIdentity {
	c := &CallerIdentity{component: component, now: time.Now}
	c.macs.New = func() any { return &macScratch{hash: hmac.New(sha256.New, key)} }
	return c
}

// macScratch is a keyed HMAC with the buffers of one signature.
type macScratch struct {
	hash hash.Hash
	text []byte
	sum  []byte
	out  []byte
}

// sign is "<component>.<unix ms>.<HMAC-SHA256 of component, method and time>".
func (c *CallerIdentity) sign(component, method string, at time.Time) string {
	ms := strconv.FormatInt(at.UnixMilli(), 10)
	return component + "." + ms + "." + c.mac(component, method, ms)
}

func (c *CallerIdentity) mac(component, method, ms string) string {
	m := c.macs.Get().(*macScratch)
	defer c.macs.Put(m)
	m.hash.Reset()
	m.text = append(append(append(append(append(m.text[:0], component...), 0), method...), 0), ms...)
	m.hash.Write(m.text)
	m.sum = m.hash.Sum(m.sum[:0])
	m.out = base64.RawURLEncoding.AppendEncode(m.out[:0], m.sum)
	return string(m.out)
}

// verify returns the calling component of a signed value for method.
func (c *CallerIdentity) verify(value, method string) (string, error) {
	component, rest, ok := strings.Cut(value, ".")
	ms, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || component == "" {
		return "", errors.New("malformed caller identity")
	}
	if !hmac.Equal([]byte(sig), []byte(c.mac(component, method, ms))) {
		return "", errors.New("caller identity signature does not match")
	}
	at, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return "", errors.New("malformed caller identity time")
	}
	if skew := c.now().Sub(time.UnixMilli(at)); skew > callerMaxSkew || skew < -callerMaxSkew {
		return "", fmt.Errorf("caller identity is %v old", skew.Round(time.Second))
	}
	return component, nil
}

// ClientOption signs every call of a client.
func (c *CallerIdentity) ClientOption() client.Option {
	return client.WithMiddleware(func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req, resp any) error {
			method := ""
			if ri := rpcinfo.GetRPCInfo(ctx); ri != nil {
				method = ri.To().Method()
			}
			return next(metainfo.WithValue(ctx, callerKey, c.sign(c.component, method, c.now())), req, resp)
		}
	})
}

// ServerOption refuses every served call that is not signed with the key.
func (c *CallerIdentity) ServerOption() server.Option {
	return server.WithMiddleware(func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req, resp any) error {
			value, _ := metainfo.GetValue(ctx, callerKey)
			method := ""
			if ri := rpcinfo.GetRPCInfo(ctx); ri != nil {
				method = ri.To().Method()
			}
			if _, err := c.verify(value, method); err != nil {
				return kerrors.ErrACL.WithCause(fmt.Errorf("refused a call without a valid caller identity: %w", err))
			}
			return next(ctx, req, resp)
		}
	})
}
