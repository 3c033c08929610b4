package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func generate(t *testing.T, idl string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "api.thrift"), filepath.Join(dir, "routes.go")
	if err := os.WriteFile(in, []byte(idl), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(in, out)
	src, _ := os.ReadFile(out)
	return string(src), err
}

func TestGeneratesPathsHandlersAndRoutes(t *testing.T) {
	src, err := generate(t, `namespace go api
struct PingRequest { 1: optional string token (api.query="token", api.form="token") }
struct PingResponse { 1: i32 status_code }
service API {
    // Ping answers.
    PingResponse Ping(1: PingRequest req) (api.get="/douyin/ping/")
    PingResponse Poke(1: PingRequest req) (api.post="/douyin/poke/")
}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`PingPath = "/douyin/ping/"`,
		`PokePath = "/douyin/poke/"`,
		"// Ping serves GET /douyin/ping/ with a PingRequest.\n\t// Ping answers.\n\tPing(ctx context.Context, c *app.RequestContext)",
		`{Name: "Ping", Method: "GET", Path: PingPath, Request: &PingRequest{}, Handler: h.Ping}`,
		`{Name: "Poke", Method: "POST", Path: PokePath, Request: &PingRequest{}, Handler: h.Poke}`,
	} {
		if !strings.Contains(src, want) {
			t.Errorf("the output lacks %q:\n%s", want, src)
		}
	}
}

func TestRefusesMethodsItCannotRoute(t *testing.T) {
	head := "namespace go api\nstruct Req { 1: i64 id (api.query=\"id\", api.form=\"id\") }\nstruct Resp { 1: i32 status_code }\n"
	for name, service := range map[string]string{
		"no path":       `service API { Resp A(1: Req req) }`,
		"two paths":     `service API { Resp A(1: Req req) (api.get="/a/", api.post="/a/") }`,
		"no slash":      `service API { Resp A(1: Req req) (api.get="/a") }`,
		"not a struct":  `service API { Resp A(1: i64 id) (api.get="/a/") }`,
		"two arguments": `service API { Resp A(1: Req req, 2: Req other) (api.get="/a/") }`,
		"no service":    ``,
	} {
		if _, err := generate(t, head+service); err == nil {
			t.Errorf("%s: generated without an error", name)
		}
	}
}
