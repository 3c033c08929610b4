package dbtest

import (
	"fmt"
	"testing"
)

// recorder is a testing.TB that records Errorf instead of failing, to test a checker.
type recorder struct {
	*testing.T
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

type event struct {
	ID      int64 `gorm:"primaryKey"`
	OwnerID int64 `gorm:"not null"`
	At      int64 `gorm:"not null"`
}

// TestRequireIndexedCatchesScansAndSorts proves the check can fail: on the same query it
// must reject a full scan and a sort, and accept an index that filters and orders.
func TestRequireIndexedCatchesScansAndSorts(t *testing.T) {
	gdb := OpenMySQL(t)
	if err := gdb.AutoMigrate(&event{}); err != nil {
		t.Fatal(err)
	}
	var rows []event
	for i := range 3000 {
		rows = append(rows, event{OwnerID: int64(i % 100), At: int64(i)})
	}
	if err := gdb.CreateInBatches(rows, 500).Error; err != nil {
		t.Fatal(err)
	}
	list := func() error {
		var out []event
		return gdb.Where("owner_id = ?", 7).Order("at DESC").Limit(10).Find(&out).Error
	}
	steps := []struct {
		name, ddl  string
		wantFailed bool
	}{
		{"no index: full scan", "", true},
		{"index on owner only: filesort", "CREATE INDEX idx_events_owner ON events (owner_id)", true},
		{"index on owner and time", "CREATE INDEX idx_events_owner_at ON events (owner_id, at)", false},
	}
	for _, s := range steps {
		if s.ddl != "" {
			if err := gdb.Exec(s.ddl).Error; err != nil {
				t.Fatal(err)
			}
		}
		Analyze(t, gdb, "events")
		rec := &recorder{T: t}
		RequireIndexed(rec, gdb, s.name, list)
		if failed := len(rec.errors) > 0; failed != s.wantFailed {
			t.Errorf("%s: failed=%v %q, want failed=%v", s.name, failed, rec.errors, s.wantFailed)
		}
	}
	// A sort the caller declared unavoidable is accepted, a scan still is not.
	rec := &recorder{T: t}
	RequireIndexed(rec, gdb, "owner list by id", func() error {
		var out []event
		return gdb.Where("owner_id = ?", 7).Order("id + 0 DESC").Limit(10).Find(&out).Error
	}, AllowFilesort)
	if len(rec.errors) != 0 {
		t.Errorf("AllowFilesort still failed: %q", rec.errors)
	}
}

// TestRequireIndexedOnSQLiteTableValuedInput: scanning json_each over the query's own
// argument is the input, not a table scan; the stored table it joins must still be searched
// by an index.
func TestRequireIndexedOnSQLiteTableValuedInput(t *testing.T) {
	gdb := OpenSQLite(t)
	if err := gdb.AutoMigrate(&event{}); err != nil {
		t.Fatal(err)
	}
	join := func(column string) func() error {
		return func() error {
			var out []event
			return gdb.Raw("SELECT e.* FROM json_each(?) AS j CROSS JOIN events AS e ON e."+column+" = j.value", "[1,2,3]").Scan(&out).Error
		}
	}
	for _, c := range []struct {
		column     string
		wantFailed bool
	}{{"id", false}, {"owner_id", true}} {
		rec := &recorder{T: t}
		RequireIndexed(rec, gdb, "join on "+c.column, join(c.column))
		if failed := len(rec.errors) > 0; failed != c.wantFailed {
			t.Errorf("join on %s: failed=%v %q, want failed=%v", c.column, failed, rec.errors, c.wantFailed)
		}
	}
}
