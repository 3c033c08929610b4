package db_test

import (
	"testing"

	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/internal/db/dbtest"
)

// JSONRows round-trips through SQLite's json_each: every row, in order, values exact up to
// int64's ends; no rows is an empty array.
func TestJSONRowsReadBackByJSONEach(t *testing.T) {
	var empty db.JSONRows
	if got := empty.String(); got != "[]" {
		t.Fatalf("no rows = %q, want []", got)
	}
	gdb := dbtest.OpenSQLite(t)
	want := [][2]int64{{1, -2}, {9223372036854775807, -9223372036854775808}, {0, 42}}
	var rows db.JSONRows
	for _, r := range want {
		rows.Add(r[0], r[1])
	}
	var got []struct{ A, B int64 }
	if err := gdb.Raw("SELECT value->>0 AS a, value->>1 AS b FROM json_each(?)", rows.String()).Scan(&got).Error; err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read back %v from %s, want %v", got, rows.String(), want)
	}
	for i, r := range want {
		if got[i].A != r[0] || got[i].B != r[1] {
			t.Fatalf("row %d read back %v, want %v", i, got[i], r)
		}
	}
}
