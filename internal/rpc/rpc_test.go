package rpc

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/cloudwego/kitex/server"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
	"github.com/douyin-backend/douyin/kitex_gen/user/userservice"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func testConfig(discovery, listen string) Config {
	var cfg Config
	fs := newFlagSet()
	cfg.RegisterFlags(fs)
	cfg.Discovery, cfg.ListenAddr = discovery, listen
	return cfg
}

// serve starts the user component's Kitex server and stops it when the test ends.
func serve(t *testing.T, cfg Config) {
	t.Helper()
	srv, err := NewServer(cfg, "user", func(s server.Server) error { return userservice.RegisterService(s, newUserService()) })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server stop: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("server did not stop")
		}
	})
}

// TestBusinessErrorsCrossTheWire proves a Kitex hop keeps the typed business codes the
// gateway's error table maps, and that the client adapter satisfies the service interface.
func TestBusinessErrorsCrossTheWire(t *testing.T) {
	addr := freeAddr(t)
	cfg := testConfig(DiscoveryDNS, addr)
	serve(t, cfg)

	clientCfg := testConfig(DiscoveryDNS, "")
	clientCfg.DNSTemplate = addr
	opts, err := ClientOptions(clientCfg, "user", nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := userservice.NewClient(ServiceName("user"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	users := userservice.NewServiceAdapter(c)
	ctx := context.Background()

	var reg *userapi.RegisterResponse
	deadline := time.Now().Add(10 * time.Second)
	for {
		reg, err = users.Register(ctx, &userapi.RegisterRequest{Username: "wire@x.io", Password: "secret-pw1"})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // the listener may not be up yet: poll until it answers
	}
	if err != nil || reg.UserId <= 0 {
		t.Fatalf("Register over Kitex: %v %v", reg, err)
	}
	_, err = users.Register(ctx, &userapi.RegisterRequest{Username: "wire@x.io", Password: "secret-pw1"})
	if code, msg := errs.Code(err); code != base.ErrCode_UserAlreadyExists || msg == "" {
		t.Fatalf("duplicate register over Kitex: code %v msg %q (err %v)", code, msg, err)
	}
	got, err := users.MGetUsers(ctx, &userapi.MGetUsersRequest{UserIds: []int64{reg.UserId, 999}})
	if err != nil || len(got.Users) != 1 || got.Users[reg.UserId].Name != "wire@x.io" {
		t.Fatalf("MGetUsers over Kitex: %+v %v", got, err)
	}
}
