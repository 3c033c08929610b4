package blob

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/blob/qiniufake"
)

func TestOpenLocalUnderDataDir(t *testing.T) {
	dataDir := t.TempDir()
	store, local, err := Open(Config{Backend: BackendLocal}, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if local == nil || store != Store(local) {
		t.Fatalf("Open(local) = %T, %v; want the local store twice", store, local)
	}
	if want := filepath.Join(dataDir, "blobs"); local.Root() != want {
		t.Fatalf("root %q, want %q", local.Root(), want)
	}
	if fi, err := os.Stat(local.Root()); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("root directory: %v %v", fi, err)
	}
}

func TestOpenQiniu(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir()) // the SDK caches lookups under os.TempDir()
	fake := qiniufake.New(qiniufake.Options{Bucket: testBucket, AccessKey: testAccessKey, SecretKey: testSecretKey})
	t.Cleanup(fake.Close)
	cfg := Config{Backend: BackendQiniu, Qiniu: QiniuConfig{
		Bucket: testBucket, AccessKey: testAccessKey, SecretKey: testSecretKey, Domain: fake.URL,
		URLTTL: time.Hour, UpHosts: []string{fake.URL}, RSHosts: []string{fake.URL},
		ResumableThreshold: defaultResumableThreshold,
	}}
	store, local, err := Open(cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := store.(*Qiniu); !ok || local != nil {
		t.Fatalf("Open(qiniu) = %T, %v; want *Qiniu and no local store", store, local)
	}
	if u := store.URL("videos/1.mp4"); !strings.HasPrefix(u, fake.URL+"/") {
		t.Fatalf("URL %q is not on the configured domain %s", u, fake.URL)
	}
}

func TestOpenRefusesBadSettings(t *testing.T) {
	for _, cfg := range []Config{
		{Backend: "s3"},
		{Backend: BackendQiniu}, // no bucket
	} {
		if store, local, err := Open(cfg, t.TempDir()); err == nil || store != nil || local != nil {
			t.Errorf("Open(%+v) = %v, %v, %v; want an error only", cfg, store, local, err)
		}
	}
}
