package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/douyin-backend/douyin/internal/polltest"
)

// findTitled returns the video with title in list.
func findTitled(list []Video, title string) (Video, bool) {
	for _, v := range list {
		if v.Title == title {
			return v, true
		}
	}
	return Video{}, false
}

// TestAuthorSeesProcessingUploadAtOnce publishes a clip that takes seconds to transcode and
// reads the lists right after the acknowledgement: the author's own list shows it processing
// (the upload as play_url, a placeholder cover), nobody else sees it until it is ready, and
// work_count agrees with what each viewer sees.
func TestAuthorSeesProcessingUploadAtOnce(t *testing.T) {
	t.Parallel()
	data := generateClip(t, 6, "1920x1080")
	author := api.register(t, "proc")
	other := api.register(t, "procv")
	title := "processing " + uniqueCore()
	api.publishRaw(t, map[string]string{"token": author.Token, "title": title},
		&upload{filename: "clip.mkv", contentType: "video/x-matroska", data: data}, nil).mustOK(t)

	own, ok := findTitled(api.publishList(t, author.Token, author.ID), title)
	if !ok {
		t.Fatal("the author's own publish list, read right after the upload, lacks the new video")
	}
	if strings.HasSuffix(own.CoverURL, "/static/cover-processing.png") {
		// Still processing (a 6 s 1080p transcode takes seconds): the upload plays as is.
		resp, body := api.fetch(t, own.PlayURL, nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
			t.Errorf("processing play_url %s: HTTP %d, %d bytes; want the original %d-byte upload", own.PlayURL, resp.StatusCode, len(body), len(data))
		}
		if resp, cover := api.fetch(t, own.CoverURL, nil); resp.StatusCode != http.StatusOK || !bytes.HasPrefix(cover, []byte("\x89PNG")) {
			t.Errorf("placeholder cover %s: HTTP %d", own.CoverURL, resp.StatusCode)
		}
		if len(own.Renditions) != 0 {
			t.Errorf("processing video lists renditions %+v", own.Renditions)
		}
		for name, token := range map[string]string{"anonymous": "", "another user": other.Token} {
			if _, seen := findTitled(api.publishList(t, token, author.ID), title); seen {
				t.Errorf("%s sees the processing video", name)
			}
		}
		if _, seen := api.findInFeed(t, other.Token, own.ID); seen {
			t.Error("the processing video is in the feed")
		}
		if n := api.userInfo(t, author.Token, author.ID).WorkCount; n != 1 {
			t.Errorf("the author's own work_count %d, want 1 (the processing video their list shows)", n)
		}
		if n := api.userInfo(t, other.Token, author.ID).WorkCount; n != 0 {
			t.Errorf("work_count seen by another user %d, want 0 (their list shows nothing)", n)
		}
	} else {
		t.Errorf("the video was ready before the first read (cover %s): the clip is too short to observe processing", own.CoverURL)
	}

	// Once ready it is the normal video for everyone.
	polltest.UntilEvery(t, 4*publishTimeout, publishInterval, "the video ready for another viewer", func() bool {
		_, seen := findTitled(api.publishList(t, other.Token, author.ID), title)
		return seen
	})
	ready, _ := findTitled(api.publishList(t, author.Token, author.ID), title)
	if strings.Contains(ready.CoverURL, "/static/cover-") || len(ready.Renditions) != 2 || ready.PlayURL != ready.Renditions[0].URL {
		t.Errorf("ready video %+v, want its real cover and renditions", ready)
	}
	for _, token := range []string{author.Token, other.Token} {
		if n := api.userInfo(t, token, author.ID).WorkCount; n != 1 {
			t.Errorf("work_count after ready %d, want 1", n)
		}
	}
}
