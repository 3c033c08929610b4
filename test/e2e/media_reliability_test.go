//go:build reliability

package e2e

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/polltest"
)

// TestTranscodeSurvivesWorkerKill publishes a clip that needs a real transcode to the
// multi-process deployment, kills the media worker with SIGKILL while ffmpeg runs, starts it
// again, and expects the video to become ready and playable: the queue redelivers the
// message because its offset was never committed.
func TestTranscodeSurvivesWorkerKill(t *testing.T) {
	state := os.Getenv("DOUYIN_UP_DIR")
	if state == "" || os.Getenv(baseURLEnv) == "" {
		t.Fatal("DOUYIN_UP_DIR and DOUYIN_E2E_BASE_URL must point at a running scripts/up.sh deployment")
	}
	// Long enough at 1080p MPEG-4 that the transcode to H.264 takes seconds, not milliseconds.
	data := generateClip(t, 12, "1920x1080")
	u := api.register(t, "mediakill")
	title := "killed mid-transcode " + uniqueCore()
	api.publishRaw(t, map[string]string{"token": u.Token, "title": title},
		&upload{filename: "long.mkv", contentType: "video/x-matroska", data: data}, nil).mustOK(t)

	worker := pidOf(t, state, "media")
	var transcoder int
	polltest.UntilEvery(t, 60*time.Second, 20*time.Millisecond, "the media worker to start ffmpeg", func() bool {
		transcoder = childNamed(worker, "ffmpeg")
		return transcoder != 0
	})
	if err := syscall.Kill(worker, syscall.SIGKILL); err != nil {
		t.Fatalf("kill media worker: %v", err)
	}
	waitGone(t, worker)
	if out, err := exec.Command(filepath.Join(state, "start-media.sh")).CombinedOutput(); err != nil {
		t.Fatalf("restart media worker: %v\n%s", err, out)
	}

	var v Video
	polltest.UntilEvery(t, 240*time.Second, 250*time.Millisecond, "the video to become ready after the restart", func() bool {
		for _, listed := range api.publishList(t, "", u.ID) { // others see it only once ready
			if listed.Title == title {
				v = listed
				return true
			}
		}
		return false
	})
	resp, full := api.fetch(t, v.PlayURL, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET play_url: HTTP %d", resp.StatusCode)
	}
	if boxes := mp4Boxes(full); indexOf(boxes, "moov") < 0 || indexOf(boxes, "moov") > indexOf(boxes, "mdat") {
		t.Errorf("play_url boxes %v: want a faststart MP4", boxes)
	}
	if resp, cover := api.fetch(t, v.CoverURL, nil); resp.StatusCode != http.StatusOK || !bytes.HasPrefix(cover, jpegMagic) {
		t.Errorf("cover_url: HTTP %d, not a JPEG", resp.StatusCode)
	}
	t.Logf("media worker %d killed while ffmpeg %d ran; video %d ready after the restart", worker, transcoder, v.ID)
}

// childNamed returns the pid of a process named name whose parent is parent (directly or under
// nice), or 0.
func childNamed(parent int, name string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != name {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the ")" that closes the command name: state, ppid, …
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(parent) {
			return pid
		}
	}
	return 0
}
