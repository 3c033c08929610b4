package db

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/polltest"
)

// TestCheckpointWALCopiesTheLog writes fewer pages than the commit-time backstop, so only
// the runner can move them from the log into the database file, and checks that it does and
// stops with its context.
func TestCheckpointWALCopiesTheLog(t *testing.T) {
	dir := t.TempDir()
	gdb, err := Open(Config{Driver: DriverSQLite, MaxOpenConns: 2, MaxIdleConns: 2}, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer Close(gdb)
	if err := gdb.AutoMigrate(&row{}); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if err := gdb.Create(&row{Name: fmt.Sprintf("row-%04d", i)}).Error; err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "douyin.db")
	size := func() int64 {
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- CheckpointWAL(gdb, 10*time.Millisecond, slog.New(slog.DiscardHandler))(ctx) }()
	polltest.Until(t, 10*time.Second, "the log copied into the database file", func() bool { return size() > before })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("runner ended with %v, want nil", err)
	}
}
