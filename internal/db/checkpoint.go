package db

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
)

// CheckpointWAL returns a runner that copies the SQLite write-ahead log into the database
// every interval until its context ends. A checkpoint that a commit triggers (the
// wal_autocheckpoint backstop) runs in that writer's time, and everything queued behind it
// waits, for its copy and its two syncs; here a PASSIVE checkpoint, which waits for no reader
// or writer, does that work beside them. A failed checkpoint is logged: the next one, or the
// backstop, copies what it left.
func CheckpointWAL(gdb *gorm.DB, interval time.Duration, log *slog.Logger) func(context.Context) error {
	return func(ctx context.Context) error {
		sqlDB, err := gdb.DB()
		if err != nil {
			return fmt.Errorf("checkpoint wal: %w", err)
		}
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
			if _, err := sqlDB.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil && ctx.Err() == nil {
				log.WarnContext(ctx, "sqlite wal checkpoint failed", "err", err)
			}
		}
	}
}
