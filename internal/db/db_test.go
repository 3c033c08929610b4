package db

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"gorm.io/gorm"
)

type row struct {
	ID    int64  `gorm:"primaryKey"`
	Name  string `gorm:"uniqueIndex;size:32"`
	Count int64
}

func TestSQLiteConcurrentWritersAndUniqueErrors(t *testing.T) {
	cfg := Config{Driver: DriverSQLite, MaxOpenConns: 8, MaxIdleConns: 8}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	gdb, err := Open(cfg, filepath.Join(t.TempDir(), "nested"))
	if err != nil {
		t.Fatal(err)
	}
	defer Close(gdb)
	if err := gdb.AutoMigrate(&row{}); err != nil {
		t.Fatal(err)
	}
	if err := gdb.Create(&row{Name: "a"}).Error; err != nil {
		t.Fatal(err)
	}
	// Concurrent read-modify-write transactions must all commit: none may fail with "database is locked".
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- gdb.Transaction(func(tx *gorm.DB) error {
				var r row
				if err := tx.First(&r, "name = ?", "a").Error; err != nil {
					return err
				}
				return tx.Model(&r).Update("count", r.Count+1).Error
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent transaction failed: %v", err)
		}
	}
	var r row
	gdb.First(&r, "name = ?", "a")
	if r.Count != 40 {
		t.Fatalf("count = %d, want 40 (lost updates)", r.Count)
	}
	if err := gdb.Create(&row{Name: "a"}).Error; !errors.Is(err, gorm.ErrDuplicatedKey) {
		t.Fatalf("duplicate insert: got %v, want gorm.ErrDuplicatedKey", err)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []Config{{Driver: "pg", MaxOpenConns: 1}, {Driver: DriverMySQL, MaxOpenConns: 1}, {Driver: DriverSQLite}} {
		if c.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want error", c)
		}
	}
}

func TestAddCountersUpserts(t *testing.T) {
	gdb, err := Open(Config{Driver: DriverSQLite, MaxOpenConns: 4, MaxIdleConns: 4}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer Close(gdb)
	type counts struct {
		UserID int64 `gorm:"primaryKey;autoIncrement:false"`
		A, B   int64
	}
	if err := gdb.Table("counts").AutoMigrate(&counts{}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := gdb.Transaction(func(tx *gorm.DB) error {
				return AddCounters(tx, "counts", "user_id", 9, map[string]int64{"a": 1, "b": 2})
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := AddCounters(gdb, "counts", "user_id", 9, map[string]int64{"a": -5}); err != nil {
		t.Fatal(err)
	}
	var c counts
	if err := gdb.Table("counts").First(&c, "user_id = ?", 9).Error; err != nil {
		t.Fatal(err)
	}
	if c.A != 15 || c.B != 40 {
		t.Fatalf("counters a=%d b=%d, want 15 40", c.A, c.B)
	}
}
