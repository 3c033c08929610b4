package blob

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLocal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Put(ctx, "videos/1/source.mp4", strings.NewReader("hello"))
	if err != nil || n != 5 {
		t.Fatalf("Put = %d, %v", n, err)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "videos", "1"): 0o700, filepath.Join(dir, "videos", "1", "source.mp4"): 0o600} {
		if fi, err := os.Stat(p); err != nil {
			t.Error(err)
		} else if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
	}
	r, err := s.Open(ctx, "videos/1/source.mp4")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != "hello" {
		t.Fatalf("read %q", b)
	}
	if got := s.URL("videos/1/source.mp4"); got != "/media/videos/1/source.mp4" {
		t.Fatalf("URL = %q", got)
	}
	for _, bad := range []string{"../x", "a/../../x", "/abs", "A/b", "", "a//b"} {
		if _, err := s.Put(ctx, bad, strings.NewReader("x")); err == nil {
			t.Errorf("Put(%q) accepted an unsafe key", bad)
		}
	}
	if err := s.Delete(ctx, "videos/1/source.mp4"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, "videos/1/source.mp4"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open after delete: %v", err)
	}
	if err := s.Delete(ctx, "videos/1/source.mp4"); err != nil {
		t.Fatalf("deleting a missing object: %v", err)
	}
	// A failed copy leaves neither the object nor a temporary file behind.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Put(cctx, "videos/2/source.mp4", strings.NewReader("x")); err == nil {
		t.Fatal("Put with a cancelled context succeeded")
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "videos", "2"))
	if len(entries) != 0 {
		t.Fatalf("leftovers after failed Put: %v", entries)
	}
}
