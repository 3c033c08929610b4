package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// codeContentRefused is the status_code of a text holding a word of the moderation list.
const codeContentRefused = 10014

// moderatedServer starts an instance of its own whose word list holds "badword" and "违禁"
// under the given action, and returns a client of it.
func moderatedServer(t *testing.T, action string) *client {
	t.Helper()
	dir := t.TempDir()
	words := filepath.Join(dir, "words.txt")
	if err := os.WriteFile(words, []byte("# test list\nbadword\n违禁\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := startServer(binPath, filepath.Join(dir, "data"), filepath.Join(dir, "server.log"),
		"-seed.enabled=false", "-moderation.words-file="+words, "-moderation.action="+action)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(srv.baseURL)
	t.Cleanup(func() {
		c.closeIdle()
		if err := srv.stop(); err != nil {
			t.Errorf("stop %s server: %v", action, err)
		}
		if t.Failed() {
			t.Logf("%s server log:\n%s", action, srv.logTail(16<<10))
		}
	})
	return c
}

// TestModeration checks both actions in every place the list applies: user names, video
// titles, comments and chat messages. The list is applied by the gateway, so an instance of
// the test's own (with its own list) covers the edge every placement runs.
func TestModeration(t *testing.T) {
	if os.Getenv(baseURLEnv) != "" {
		t.Skipf("%s is set: this test needs processes of its own, with a word list", baseURLEnv)
	}
	t.Parallel()
	for _, action := range []string{"refuse", "mask"} {
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			c := moderatedServer(t, action)

			// A user name is refused under both actions (a masked name could not log in).
			r := c.registerRaw(t, uniqueName("BadWord"), testPassword)
			r.wantErr(t, http.StatusOK, codeContentRefused)
			if r.Code == codeContentRefused && r.Msg != "the username contains a word that is not allowed" {
				t.Errorf("register: status_msg %q does not name the field", r.Msg)
			}
			author := c.register(t, "mod")
			viewer := c.register(t, "modv")

			// Video title.
			core := uniqueCore()
			title := fmt.Sprintf("clip %s 违禁 BADWORD", core)
			r = c.publishRaw(t, map[string]string{"token": author.Token, "title": title}, mp4Upload(t, "testsrc.mp4"), nil)
			// Comments and messages go on a clean video.
			clean := c.publish(t, author, "clean "+uniqueCore(), "testsrc.mp4")
			comment := c.commentRaw(t, viewer.Token, vals("video_id", clean.ID, "action_type", 1, "comment_text", "so Badword 违禁!"))
			message := c.messageRaw(t, viewer.Token, vals("to_user_id", author.ID, "action_type", 1, "content", "违禁词 here"))

			switch action {
			case "refuse":
				r.wantErr(t, http.StatusOK, codeContentRefused)
				comment.wantErr(t, http.StatusOK, codeContentRefused)
				message.wantErr(t, http.StatusOK, codeContentRefused)
				// Nothing was stored.
				if list := c.publishList(t, author.Token, author.ID); len(list) != 1 || list[0].ID != clean.ID {
					t.Errorf("publish list after a refused title = %+v, want only the clean video", list)
				}
				if list := c.commentList(t, viewer.Token, clean.ID); len(list) != 0 {
					t.Errorf("comments after a refused comment = %+v", list)
				}
				if list := c.chat(t, author, viewer.ID, -1); len(list) != 0 {
					t.Errorf("chat after a refused message = %+v", list)
				}
			case "mask":
				r.mustOK(t)
				c.waitPublished(t, author, fmt.Sprintf("clip %s ** *******", core))
				comment.mustOK(t)
				if got := c.commentList(t, viewer.Token, clean.ID); len(got) != 1 || got[0].Content != "so ******* **!" {
					t.Errorf("comments = %+v, want one masked %q", got, "so ******* **!")
				}
				message.mustOK(t)
				if got := c.chat(t, author, viewer.ID, -1); len(got) != 1 || got[0].Content != "**词 here" {
					t.Errorf("chat = %+v, want one masked %q", got, "**词 here")
				}
			}
		})
	}
}
