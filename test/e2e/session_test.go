package e2e

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

const pathLogout = "/douyin/user/logout/"

// TestLogoutRevokesToken logs out one of a user's two tokens: it is refused at once, the
// other keeps working.
func TestLogoutRevokesToken(t *testing.T) {
	t.Parallel()
	u := api.register(t, "logout")
	other := checkAuth(t, api.loginRaw(t, u.Name, u.Password)).Token
	api.post(t, pathLogout, vals("token", u.Token)).mustOK(t)
	api.userInfoRaw(t, u.Token, 0).wantUnauth(t)
	api.feedRaw(t, u.Token, vals()).wantUnauth(t) // optional-token endpoints refuse it too
	api.post(t, pathLogout, vals("token", u.Token)).wantUnauth(t)
	api.userInfoRaw(t, other, 0).mustOK(t)
	api.post(t, pathLogout, nil).wantUnauth(t)
	// The Bearer header works as well.
	api.doBearer(t, http.MethodPost, pathLogout, nil, other).mustOK(t)
	api.userInfoRaw(t, other, 0).wantUnauth(t)
}

// TestRevokeCommandRevokesEveryToken runs the operator's `douyin revoke -user ID` against the
// deployment under test: every token of the user issued before it is refused (within the
// second the embedded mode remembers a read), another user's is not, and a new login works.
func TestRevokeCommandRevokesEveryToken(t *testing.T) {
	t.Parallel()
	u := api.register(t, "revoke")
	second := checkAuth(t, api.loginRaw(t, u.Name, u.Password)).Token
	bystander := api.register(t, "bystander")

	var cmd *exec.Cmd
	if binPath != "" {
		cmd = exec.Command(binPath, "revoke", "-data.dir", serverDataDir, "-user", strconv.FormatInt(u.ID, 10))
	} else {
		state := os.Getenv("DOUYIN_UP_DIR")
		if state == "" {
			t.Fatal("DOUYIN_UP_DIR must point at the scripts/up.sh deployment under test: the revoke command runs with its settings")
		}
		// The settings of the deployment are the DOUYIN_* variables its start scripts export.
		cmd = exec.Command("bash", "-c", `eval "$(grep '^declare -x DOUYIN_' "$1")" && exec "$2" revoke -user "$3"`,
			"revoke", filepath.Join(state, "start-gateway.sh"), filepath.Join(state, "douyin"), strconv.FormatInt(u.ID, 10))
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("douyin revoke: %v\n%s", err, out)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, tok := range []string{u.Token, second} {
		for {
			r := api.userInfoRaw(t, tok, 0)
			if r.HTTPStatus == http.StatusUnauthorized {
				r.wantUnauth(t)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a token of the revoked user still works 5s after douyin revoke: HTTP %d status_code %d", r.HTTPStatus, r.Code)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	api.userInfoRaw(t, bystander.Token, 0).mustOK(t)
	fresh := checkAuth(t, api.loginRaw(t, u.Name, u.Password)).Token
	api.userInfoRaw(t, fresh, 0).mustOK(t)
}
