package e2e

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// maxUploadEnv overrides the upload limit the suite assumes (the server's default: 100 MiB).
const maxUploadEnv = "DOUYIN_E2E_MAX_UPLOAD_BYTES"

func TestPublishVideo(t *testing.T) {
	t.Parallel()
	u := api.register(t, "pub")
	title := "e2e 视频 🎬 first"

	if got := api.publishList(t, "", u.ID); len(got) != 0 {
		t.Fatalf("new user's publish list has %d videos, want []", len(got))
	}
	first := api.publish(t, u, title, "testsrc.mp4")

	if first.Title != title {
		t.Errorf("title = %q, want %q", first.Title, title)
	}
	if first.Author.ID != u.ID || first.Author.Name != u.Name {
		t.Errorf("author = {id %d, name %q}, want {id %d, name %q}", first.Author.ID, first.Author.Name, u.ID, u.Name)
	}
	if first.FavoriteCount != 0 || first.CommentCount != 0 || first.IsFavorite {
		t.Errorf("new video: favorite_count %d comment_count %d is_favorite %v, want 0 0 false",
			first.FavoriteCount, first.CommentCount, first.IsFavorite)
	}
	if first.Author.WorkCount != 1 {
		t.Errorf("author.work_count in the publish list = %d, want 1", first.Author.WorkCount)
	}
	api.wantCounts(t, "after the first publish", u.ID, counts{Work: 1})

	api.checkPlayable(t, "play_url", first.PlayURL)
	api.checkRange(t, "play_url", first.PlayURL)
	api.checkImage(t, "cover_url", first.CoverURL, true)

	inFeed := api.mustFindInFeed(t, "", first.ID)
	if !reflect.DeepEqual(inFeed, first) {
		t.Errorf("feed shows %+v, publish list shows %+v; want the same video", inFeed, first)
	}

	// A second upload, announced as a generic binary: the server sniffs the content.
	secondTitle := strings.Repeat("t", 100) // the longest allowed title
	api.publishRaw(t, map[string]string{"token": u.Token, "title": secondTitle},
		&upload{filename: "clip.mp4", contentType: "application/octet-stream", data: fixture(t, "mandelbrot.mp4")}, nil).mustOK(t)
	second := api.waitPublished(t, u, secondTitle)

	list := api.publishList(t, u.Token, u.ID)
	if got, want := videoIDs(list), []int64{second.ID, first.ID}; !equalIDs(got, want) {
		t.Errorf("publish list = %v, want newest first %v", got, want)
	}
	if anon := api.publishList(t, "", u.ID); !equalIDs(videoIDs(anon), videoIDs(list)) {
		t.Errorf("anonymous publish list = %v, owner's = %v; want the same", videoIDs(anon), videoIDs(list))
	}
	api.wantCounts(t, "after the second publish", u.ID, counts{Work: 2})
	api.checkPlayable(t, "second play_url", second.PlayURL)
	api.checkImage(t, "second cover_url", second.CoverURL, true)
}

func TestPublishRejects(t *testing.T) {
	t.Parallel()
	u := api.register(t, "pubrej")
	notVideo := &upload{filename: "x.mp4", contentType: "video/mp4", data: []byte(strings.Repeat("this is plain text, not a video\n", 64))}
	clip := mp4Upload(t, "testsrc.mp4")

	cases := []struct {
		name       string
		fields     map[string]string
		file       *upload
		httpStatus int
		code       int64
	}{
		{"missing file", map[string]string{"token": u.Token, "title": "no file"}, nil, http.StatusOK, codeInvalidParam},
		{"text file named x.mp4", map[string]string{"token": u.Token, "title": "not a video"}, notVideo, http.StatusOK, codeNotVideo},
		{"empty title", map[string]string{"token": u.Token, "title": ""}, clip, http.StatusOK, codeInvalidParam},
		{"whitespace title", map[string]string{"token": u.Token, "title": "  \t \n "}, clip, http.StatusOK, codeInvalidParam},
		{"101-char title", map[string]string{"token": u.Token, "title": strings.Repeat("t", 101)}, clip, http.StatusOK, codeInvalidParam},
		{"missing token", map[string]string{"title": "no token"}, clip, http.StatusUnauthorized, codeUnauthenticated},
		{"garbage token", map[string]string{"token": garbageToken, "title": "bad token"}, clip, http.StatusUnauthorized, codeUnauthenticated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api.publishRaw(t, tc.fields, tc.file, nil).wantErr(t, tc.httpStatus, tc.code)
		})
	}

	// Nothing was published.
	api.wantCounts(t, "after rejected uploads", u.ID, counts{})
	if got := api.publishList(t, u.Token, u.ID); len(got) != 0 {
		t.Errorf("after rejected uploads the publish list has %d videos (%v), want []", len(got), videoIDs(got))
	}
}

// TestPublishTooLarge uploads a file one byte over the limit (streamed, not held in memory).
func TestPublishTooLarge(t *testing.T) {
	t.Parallel()
	limit := int64(100 << 20)
	if v := os.Getenv(maxUploadEnv); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want a positive byte count", maxUploadEnv, v)
		}
		limit = n
	}
	u := api.register(t, "pubbig")
	api.publishStreamed(t, u.Token, "too large", fixture(t, "testsrc.mp4"), limit+1).wantErr(t, http.StatusRequestEntityTooLarge, codeTooLarge)

	api.wantCounts(t, "after an oversize upload", u.ID, counts{})
	if got := api.publishList(t, u.Token, u.ID); len(got) != 0 {
		t.Errorf("after an oversize upload the publish list has %d videos, want []", len(got))
	}
}

func TestPublishListErrors(t *testing.T) {
	t.Parallel()
	api.get(t, pathPublishList, vals()).wantInvalid(t)
	api.get(t, pathPublishList, vals("user_id", "abc")).wantInvalid(t)
}

// TestPublishGeneratedClipBecomesPlayable publishes a clip made by ffmpeg that needs a real
// transcode (MPEG-4 Part 2 and MP3 in Matroska, 1080p) and follows it to the feed: the cover
// serves a JPEG, the play URL a faststart H.264 MP4 that honours Range.
func TestPublishGeneratedClipBecomesPlayable(t *testing.T) {
	t.Parallel()
	data := generateClip(t, 2, "1920x1080")
	u := api.register(t, "pubgen")
	title := "generated " + uniqueCore()
	api.publishRaw(t, map[string]string{"token": u.Token, "title": title},
		&upload{filename: "clip.mkv", contentType: "video/x-matroska", data: data}, nil).mustOK(t)
	v := api.waitPublished(t, u, title)
	inFeed := api.mustFindInFeed(t, "", v.ID)
	if inFeed.PlayURL != v.PlayURL || inFeed.CoverURL != v.CoverURL {
		t.Errorf("feed shows play %q cover %q, publish list %q %q", inFeed.PlayURL, inFeed.CoverURL, v.PlayURL, v.CoverURL)
	}

	resp, cover := api.fetch(t, v.CoverURL, nil)
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(cover, jpegMagic) {
		t.Errorf("GET cover_url %s: HTTP %d, starts % x; want 200 and a JPEG", v.CoverURL, resp.StatusCode, cover[:min(len(cover), 4)])
	}
	resp, full := api.fetch(t, v.PlayURL, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET play_url %s: HTTP %d", v.PlayURL, resp.StatusCode)
	}
	if boxes := mp4Boxes(full); indexOf(boxes, "moov") < 0 || indexOf(boxes, "moov") > indexOf(boxes, "mdat") {
		t.Errorf("play_url top-level boxes %v: want moov before mdat (+faststart)", boxes)
	}
	if len(full) < 200 {
		t.Fatalf("play_url serves %d bytes", len(full))
	}
	resp, part := api.fetch(t, v.PlayURL, http.Header{"Range": {"bytes=100-199"}})
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, full[100:200]) {
		t.Errorf("Range bytes=100-199: HTTP %d, %d bytes (equal to the full body's: %v); want 206 with those 100 bytes",
			resp.StatusCode, len(part), bytes.Equal(part, full[100:200]))
	}
	if cr, want := resp.Header.Get("Content-Range"), fmt.Sprintf("bytes 100-199/%d", len(full)); cr != want {
		t.Errorf("Content-Range %q, want %q", cr, want)
	}

	// Renditions: within 720p and within 360p, play_url the default (720p), URLs differing
	// only by the resolution segment, each a faststart MP4 served with Range and cache headers.
	if len(v.Renditions) != 2 || v.Renditions[0].Height != 720 || v.Renditions[0].Width != 1280 ||
		v.Renditions[1].Height != 360 || v.Renditions[1].Width != 640 {
		t.Fatalf("renditions %+v, want 1280x720 and 640x360", v.Renditions)
	}
	if v.PlayURL != v.Renditions[0].URL || strings.Replace(v.Renditions[0].URL, "/720p/", "/360p/", 1) != v.Renditions[1].URL {
		t.Errorf("play_url %s, renditions %s and %s: want play_url the 720p one and URLs differing only by the resolution", v.PlayURL, v.Renditions[0].URL, v.Renditions[1].URL)
	}
	if !reflect.DeepEqual(inFeed.Renditions, v.Renditions) {
		t.Errorf("feed renditions %+v, publish list %+v", inFeed.Renditions, v.Renditions)
	}
	resp, small := api.fetch(t, v.Renditions[1].URL, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") == "" || len(small) >= len(full) {
		t.Errorf("GET 360p: HTTP %d, Cache-Control %q, %d bytes (720p %d); want 200, cached, smaller", resp.StatusCode, resp.Header.Get("Cache-Control"), len(small), len(full))
	}
	if boxes := mp4Boxes(small); indexOf(boxes, "moov") < 0 || indexOf(boxes, "moov") > indexOf(boxes, "mdat") {
		t.Errorf("360p top-level boxes %v: want moov before mdat", boxes)
	}
	if resp, part := api.fetch(t, v.Renditions[1].URL, http.Header{"Range": {"bytes=0-99"}}); resp.StatusCode != http.StatusPartialContent || len(small) < 100 || !bytes.Equal(part, small[:100]) {
		t.Errorf("Range on the 360p rendition: HTTP %d, %d bytes", resp.StatusCode, len(part))
	}
}

// mp4Boxes lists the top-level box types of an MP4 file, stopping at a malformed size.
func mp4Boxes(data []byte) []string {
	var boxes []string
	for off := uint64(0); off+8 <= uint64(len(data)); {
		size := uint64(binary.BigEndian.Uint32(data[off:]))
		switch {
		case size == 0:
			size = uint64(len(data)) - off
		case size == 1 && off+16 <= uint64(len(data)):
			size = binary.BigEndian.Uint64(data[off+8:])
		}
		if size < 8 {
			break
		}
		boxes = append(boxes, string(data[off+4:off+8]))
		off += size
	}
	return boxes
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// generateClip makes a Matroska clip (MPEG-4 video, MP3 audio) of the given length and size
// with ffmpeg's lavfi sources: a file the media worker must transcode, not only remux.
func generateClip(t *testing.T, seconds int, size string) []byte {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatal("ffmpeg is required (scripts/deps.sh installs it)")
	}
	clip := filepath.Join(t.TempDir(), "clip.mkv")
	gen := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=duration=%d:size=%s:rate=25", seconds, size),
		"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:duration=%d", seconds),
		"-c:v", "mpeg4", "-q:v", "8", "-c:a", "libmp3lame", "-shortest", clip)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("generate clip: %v: %s", err, out)
	}
	data, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
