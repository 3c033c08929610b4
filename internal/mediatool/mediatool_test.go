package mediatool

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s must be on PATH (scripts/deps.sh installs it): %v", name, err)
	}
	return p
}

// clip writes a one-second real MP4.
func clip(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "clip.mp4")
	out, err := exec.Command(tool(t, "ffmpeg"), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=duration=1:size=64x64:rate=5",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", p).CombinedOutput()
	if err != nil {
		t.Fatalf("make clip: %v\n%s", err, out)
	}
	return p
}

func probe(t *testing.T, file string) (string, error) {
	args := append(InputArgs(), "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", file)
	out, err := exec.Command(tool(t, "ffprobe"), args...).CombinedOutput()
	return string(out), err
}

// TestCraftedInputsAreRefused feeds ffprobe and ffmpeg files that name other local files (an
// HLS playlist, a concat list): with the whitelists both refuse them, while a real clip passes.
func TestCraftedInputsAreRefused(t *testing.T) {
	dir := t.TempDir()
	real := clip(t, dir)
	if out, err := probe(t, real); err != nil || !strings.Contains(out, "video") {
		t.Fatalf("a real clip was refused: %v %s", err, out)
	}
	secret := filepath.Join(dir, "secret.mp4")
	if err := os.Rename(real, secret); err != nil {
		t.Fatal(err)
	}
	crafted := map[string]string{
		"playlist.m3u8": "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:1,\nfile://" + secret + "\n#EXTINF:1,\n" + secret + "\n#EXT-X-ENDLIST\n",
		"list.txt":      "ffconcat version 1.0\nfile '" + secret + "'\n",
		"list.mp4":      "ffconcat version 1.0\nfile '" + secret + "'\n", // the name does not matter
	}
	for name, body := range crafted {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := probe(t, p); err == nil && strings.Contains(out, "video") {
			t.Errorf("ffprobe read the file %s names through %s", secret, name)
		}
		// Without the whitelists the same file is read (the test would prove nothing else).
		if name == "playlist.m3u8" {
			out, err := exec.Command(tool(t, "ffprobe"), "-v", "error", "-allowed_extensions", "ALL", "-show_entries", "stream=codec_type", "-of", "csv=p=0", p).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "video") {
				t.Logf("note: without whitelists ffprobe did not follow the playlist either: %v %s", err, out)
			}
		}
		dst := filepath.Join(dir, name+".out.mp4")
		args := append([]string{"-hide_banner", "-loglevel", "error", "-y"}, InputArgs()...)
		args = append(args, "-i", p, "-c", "copy", dst)
		if err := exec.Command(tool(t, "ffmpeg"), args...).Run(); err == nil {
			t.Errorf("ffmpeg transcoded %s (which names %s)", name, secret)
		}
	}
}

// TestLimitsApplyToTheChild runs a shell under the limits and reads them back.
func TestLimitsApplyToTheChild(t *testing.T) {
	prlimit := FindPrlimit()
	if prlimit == "" {
		t.Fatal("prlimit (util-linux) must be installed")
	}
	l := Limits{CPUSeconds: 7, MemoryBytes: 512 << 20, FileBytes: 3 << 20}
	name, args := l.Command(prlimit, "/bin/sh", []string{"-c", "ulimit -t; ulimit -v; ulimit -f"})
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatal(err)
	}
	// ulimit -v and -f report KiB and 512-byte blocks (dash: -f in 512-byte blocks).
	got := strings.Fields(string(out))
	if len(got) != 3 || got[0] != "7" || got[1] != "524288" || (got[2] != "6144" && got[2] != "3072") {
		t.Fatalf("limits seen by the child: %q, want cpu 7 s, memory 524288 KiB, file 3 MiB", out)
	}
	if n, a := (Limits{}).Command(prlimit, "ffmpeg", []string{"-x"}); n != "ffmpeg" || len(a) != 1 {
		t.Errorf("no limits must run the tool directly, got %s %v", n, a)
	}
}
