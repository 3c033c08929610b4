package db_test

import (
	"context"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/internal/db/dbtest"
)

// Many rows in one statement, concurrently, on both engines: every delta lands once, rows are
// created on first use, and all-zero rows are not written.
func TestAddCounterRows(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, open dbtest.Opener) {
		gdb := open(t)
		type pair struct {
			UserID int64 `gorm:"primaryKey;autoIncrement:false"`
			A, B   int64
		}
		if err := gdb.Table("pairs").AutoMigrate(&pair{}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Opposite key orders in alternate callers: the sorted insert must not deadlock.
				deltas := map[int64][]int64{1: {1, 0}, 2: {0, 2}, 3: {1, -1}, 4: {0, 0}}
				if i%2 == 1 {
					deltas = map[int64][]int64{3: {1, -1}, 2: {0, 2}, 1: {1, 0}}
				}
				err := db.Transact(context.Background(), gdb, func(tx *gorm.DB) error {
					return db.AddCounterRows(tx, "pairs", "user_id", []string{"a", "b"}, deltas)
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		var rows []pair
		if err := gdb.Table("pairs").Order("user_id").Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		want := []pair{{1, 16, 0}, {2, 0, 32}, {3, 16, -16}}
		if len(rows) != len(want) {
			t.Fatalf("rows %+v, want %+v (no row for all-zero deltas)", rows, want)
		}
		for i := range want {
			if rows[i] != want[i] {
				t.Fatalf("rows %+v, want %+v", rows, want)
			}
		}
		if err := db.AddCounterRows(gdb, "pairs", "user_id", []string{"a", "b"}, map[int64][]int64{}); err != nil {
			t.Fatalf("empty deltas: %v", err)
		}
	})
}
