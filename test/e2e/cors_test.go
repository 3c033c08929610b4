package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestCORSForBrowserClients is what a web client on another origin needs: the login
// preflight answered 204 with the methods and headers (Authorization included), answers
// readable by the page, and a 401 on an expired token it can read to ask for a new login.
func TestCORSForBrowserClients(t *testing.T) {
	t.Parallel()
	const origin = "http://localhost:5173"
	req, err := http.NewRequest(http.MethodOptions, api.base+"/douyin/user/login/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	resp, err := api.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("login preflight: HTTP %d, want 204", resp.StatusCode)
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" && got != origin {
		t.Errorf("preflight Access-Control-Allow-Origin = %q", got)
	}
	methods := resp.Header.Get("Access-Control-Allow-Methods")
	for _, m := range []string{"GET", "POST"} {
		if !strings.Contains(methods, m) {
			t.Errorf("Access-Control-Allow-Methods %q lacks %s", methods, m)
		}
	}
	if h := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")); !strings.Contains(h, "authorization") {
		t.Errorf("Access-Control-Allow-Headers %q lacks Authorization", h)
	}
	if resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Error("credentials mode must stay off: tokens never travel in cookies")
	}

	hdr := http.Header{"Origin": {origin}}
	name := uniqueName("cors")
	reg := api.send(t, http.MethodPost, "/douyin/user/register/", vals("username", name, "password", testPassword), nil, "", hdr).mustOK(t)
	if got := reg.Header.Get("Access-Control-Allow-Origin"); got != "*" && got != origin {
		t.Errorf("register from another origin: Access-Control-Allow-Origin = %q", got)
	}
	expired := api.send(t, http.MethodGet, "/douyin/feed/", vals("token", "expired.token.value"), nil, "", hdr)
	expired.wantUnauth(t)
	if got := expired.Header.Get("Access-Control-Allow-Origin"); got != "*" && got != origin {
		t.Errorf("401 from another origin: Access-Control-Allow-Origin = %q; the page cannot read it to ask for a login", got)
	}
}
