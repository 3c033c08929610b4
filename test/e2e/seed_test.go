package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/polltest"
)

// TestSeededServer starts its own instance with seeding on (the default) and checks that a
// newcomer sees a working feed: authors with full profiles, playable videos, real covers.
func TestSeededServer(t *testing.T) {
	if os.Getenv(baseURLEnv) != "" {
		t.Skipf("%s is set: this test needs a process of its own", baseURLEnv)
	}
	t.Parallel()
	dir := t.TempDir()
	srv, err := startServer(binPath, filepath.Join(dir, "data"), filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	seeded := newClient(srv.baseURL)
	t.Cleanup(func() {
		seeded.closeIdle()
		if err := srv.stop(); err != nil {
			t.Errorf("stop seeded server: %v", err)
		}
		if t.Failed() {
			t.Logf("seeded server log:\n%s", srv.logTail(16<<10))
		}
	})

	// Seeded videos may still be processing when /readyz turns 200: poll, and report the delay.
	var feed feedResp
	ready := time.Now()
	polltest.UntilEvery(t, readyTimeout, 100*time.Millisecond, "a non-empty feed on the seeded server", func() bool {
		feed = seeded.feedNow(t, "")
		return len(feed.VideoList) > 0
	})
	if d := time.Since(ready); d > time.Second {
		t.Logf("the seeded feed became non-empty %v after /readyz", d.Round(time.Millisecond))
	}

	for _, v := range feed.VideoList {
		a := v.Author
		if a.ID <= 0 || a.Name == "" || a.Avatar == "" || a.BackgroundImage == "" || a.Signature == "" {
			t.Errorf("seeded video %d: author {id %d name %q avatar %q background_image %q signature %q}, want every field set",
				v.ID, a.ID, a.Name, a.Avatar, a.BackgroundImage, a.Signature)
		}
		if v.Title == "" {
			t.Errorf("seeded video %d has an empty title", v.ID)
		}
		seeded.checkPlayable(t, "seeded play_url", v.PlayURL)
		seeded.checkImage(t, "seeded cover_url", v.CoverURL, true)
	}
	seeded.checkRange(t, "seeded play_url", feed.VideoList[0].PlayURL)
}
