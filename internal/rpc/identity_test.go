package rpc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/pkg/kerrors"
	"github.com/cloudwego/kitex/server"

	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
	"github.com/douyin-backend/douyin/kitex_gen/user/userservice"
)

// TestCallerIdentityOverRealKitex serves the user component with caller identity checks on a
// real Kitex server and calls it over TCP: a call signed with the key passes; unsigned,
// wrongly keyed and stale calls are refused before the handler runs.
func TestCallerIdentityOverRealKitex(t *testing.T) {
	key := []byte(strings.Repeat("c", 32))
	addr := freeAddr(t)
	cfg := testConfig(DiscoveryDNS, addr)
	srv, err := NewServer(cfg, "user", func(s server.Server) error { return userservice.RegisterService(s, newUserService()) },
		NewCallerIdentity(key, "user").ServerOption())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	call := func(extra ...client.Option) error {
		opts, err := ClientOptions(Config{Discovery: DiscoveryDNS, DNSTemplate: addr, CallTimeout: 3 * time.Second, ConnTimeout: time.Second}, "user", nil)
		if err != nil {
			t.Fatal(err)
		}
		c, err := userservice.NewClient(ServiceName("user"), append(opts, extra...)...)
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, err = c.MGetUsers(context.Background(), &userapi.MGetUsersRequest{UserIds: []int64{1}})
			// The server may not listen yet: retry connection failures only.
			if err == nil || !errors.Is(err, kerrors.ErrGetConnection) || time.Now().After(deadline) {
				return err
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if err := call(NewCallerIdentity(key, "gateway").ClientOption()); err != nil {
		t.Fatalf("signed call refused: %v", err)
	}
	wantRefused := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "caller identity") {
			t.Errorf("%s: %v, want a refusal for the caller identity", what, err)
		}
	}
	wantRefused("unsigned call", call())
	wantRefused("call signed with another key", call(NewCallerIdentity([]byte(strings.Repeat("x", 32)), "gateway").ClientOption()))
	stale := NewCallerIdentity(key, "gateway")
	stale.now = func() time.Time { return time.Now().Add(-2 * callerMaxSkew) }
	wantRefused("call signed two minutes ago (a replay)", call(stale.ClientOption()))
}

func TestCallerIdentitySignatureIsBoundToMethod(t *testing.T) {
	id := NewCallerIdentity([]byte(strings.Repeat("c", 32)), "gateway")
	v := id.sign("gateway", "MGetUsers", time.Now())
	if got, err := id.verify(v, "MGetUsers"); err != nil || got != "gateway" {
		t.Fatalf("verify = %q, %v", got, err)
	}
	if _, err := id.verify(v, "Register"); err == nil {
		t.Error("a signature for one method was accepted for another")
	}
	for _, bad := range []string{"", "gateway", "gateway.1.x", "..", strings.Replace(v, "gateway", "user", 1)} {
		if _, err := id.verify(bad, "MGetUsers"); err == nil {
			t.Errorf("verify(%q) accepted", bad)
		}
	}
}

// The signature is on every call's path, both ends: its keyed HMAC is reused, also from
// concurrent calls, and still signs and checks what a fresh one would.
func TestCallerIdentityReusesItsHMAC(t *testing.T) {
	key := []byte(strings.Repeat("c", 32))
	id := NewCallerIdentity(key, "gateway")
	at := time.Now()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			method := fmt.Sprintf("M%d", i)
			for range 100 {
				if _, err := NewCallerIdentity(key, "user").verify(id.sign("gateway", method, at), method); err != nil {
					t.Errorf("%s: %v", method, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestIdentityKeyRequiredWithoutMesh(t *testing.T) {
	var c IdentityConfig
	if _, err := c.Resolve(DiscoveryConsul); err == nil {
		t.Error("consul discovery without a caller key was accepted")
	}
	if k, err := c.Resolve(DiscoveryDNS); err != nil || k != nil {
		t.Errorf("dns (Istio) without a key: %v %v, want no key and no error", k, err)
	}
	c.Key = "short"
	if _, err := c.Resolve(DiscoveryDNS); err == nil {
		t.Error("a short key was accepted")
	}
}
