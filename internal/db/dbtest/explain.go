package dbtest

import (
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"
)

// PlanRow is one row of MySQL/MariaDB EXPLAIN output: how one table is read.
type PlanRow struct {
	Table string
	// Type is the access type: ALL is a full table scan; ref, eq_ref, range and const use an index.
	Type  string
	Key   string // the index used, "" for none
	Extra string
}

func (r PlanRow) String() string {
	return fmt.Sprintf("table=%s type=%s key=%s extra=%q", r.Table, r.Type, r.Key, r.Extra)
}

// Query is one statement captured from GORM with its arguments.
type Query struct {
	SQL  string
	Vars []any
}

// CaptureQueries runs fn and returns the SELECT statements it sent through gdb.
func CaptureQueries(t testing.TB, gdb *gorm.DB, fn func() error) []Query {
	t.Helper()
	var (
		mu       sync.Mutex
		captured []Query
	)
	record := func(tx *gorm.DB) {
		sqlText := tx.Statement.SQL.String()
		if tx.Error != nil || !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(sqlText)), "SELECT") {
			return
		}
		mu.Lock()
		captured = append(captured, Query{SQL: sqlText, Vars: append([]any(nil), tx.Statement.Vars...)})
		mu.Unlock()
	}
	name := "dbtest:capture_" + randomSuffix(t)
	if err := gdb.Callback().Query().After("gorm:query").Register(name, record); err != nil {
		t.Fatalf("register query capture: %v", err)
	}
	if err := gdb.Callback().Row().After("gorm:row").Register(name, record); err != nil {
		t.Fatalf("register row capture: %v", err)
	}
	defer func() {
		_ = gdb.Callback().Query().Remove(name)
		_ = gdb.Callback().Row().Remove(name)
	}()
	if err := fn(); err != nil {
		t.Fatalf("query under test: %v", err)
	}
	return captured
}

// Explain returns MySQL/MariaDB's plan of q.
func Explain(t testing.TB, gdb *gorm.DB, q Query) []PlanRow {
	t.Helper()
	rows, err := gdb.Raw("EXPLAIN "+q.SQL, q.Vars...).Rows()
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", q.SQL, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatalf("EXPLAIN columns: %v", err)
	}
	var plan []PlanRow
	for rows.Next() {
		// MySQL and MariaDB differ in columns (partitions, filtered): read by name.
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("scan EXPLAIN: %v", err)
		}
		byName := map[string]string{}
		for i, c := range cols {
			byName[strings.ToLower(c)] = vals[i].String
		}
		plan = append(plan, PlanRow{Table: byName["table"], Type: byName["type"], Key: byName["key"], Extra: byName["extra"]})
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read EXPLAIN: %v", err)
	}
	return plan
}

// IndexOption relaxes RequireIndexed.
type IndexOption int

// AllowFilesort accepts a sort after the indexed reads, for an order no index can give
// (e.g. ORDER BY an expression over two joined rows).
const AllowFilesort IndexOption = 1

// RequireIndexed runs fn, which must issue at least one SELECT through gdb, and fails
// t unless every table each SELECT reads is read through an index (EXPLAIN key set, type
// not ALL) and, unless AllowFilesort, the index also gives the order (no filesort of rows),
// so a dropped or mismatched index fails the build. Derived tables (subquery results) are
// exempt: the reads that fill them have rows of their own.
func RequireIndexed(t testing.TB, gdb *gorm.DB, name string, fn func() error, opts ...IndexOption) {
	t.Helper()
	allowFilesort := false
	for _, o := range opts {
		allowFilesort = allowFilesort || o == AllowFilesort
	}
	queries := CaptureQueries(t, gdb, fn)
	if len(queries) == 0 {
		t.Fatalf("%s: no SELECT captured", name)
	}
	if gdb.Dialector.Name() == "sqlite" {
		for _, q := range queries {
			requireIndexedSQLite(t, gdb, name, q, allowFilesort)
		}
		return
	}
	for _, q := range queries {
		plan := Explain(t, gdb, q)
		for _, r := range plan {
			if strings.HasPrefix(r.Table, "<derived") || strings.HasPrefix(r.Table, "<subquery") {
				continue
			}
			// MIN/MAX answered from the index ends: no table read at all.
			if r.Table == "" && strings.Contains(r.Extra, "Select tables optimized away") {
				continue
			}
			// A loose index scan yields one row per group: sorting those is not sorting the table.
			sortsRows := strings.Contains(r.Extra, "filesort") && !strings.Contains(r.Extra, "Using index for group-by")
			if r.Type == "ALL" || r.Key == "" || (!allowFilesort && sortsRows) {
				t.Errorf("%s: %s\n  is not served by an index: %v", name, q.SQL, plan)
				break
			}
		}
		if testing.Verbose() {
			t.Logf("%s: %s\n  %v", name, q.SQL, plan)
		}
	}
}

// Analyze refreshes the optimizer statistics of tables (MySQL), so EXPLAIN plans the way it
// would on a loaded database rather than from the empty table's estimates.
func Analyze(t testing.TB, gdb *gorm.DB, tables ...string) {
	t.Helper()
	for _, table := range tables {
		if gdb.Dialector.Name() == "sqlite" {
			// The embedded mode never analyzes its tables: plan as a fresh database does.
			return
		}
		if err := gdb.Exec("ANALYZE TABLE " + table).Error; err != nil {
			t.Fatalf("analyze %s: %v", table, err)
		}
	}
}

// RequireIndexedOnSQLite is RequireIndexed for one statement on SQLite given as is: for the
// writes that find their rows themselves (an UPDATE … FROM), which RequireIndexed does not
// capture.
func RequireIndexedOnSQLite(t testing.TB, gdb *gorm.DB, name string, q Query) {
	t.Helper()
	requireIndexedSQLite(t, gdb, name, q, false)
}

// requireIndexedSQLite is RequireIndexed on SQLite, from EXPLAIN QUERY PLAN: no step may scan
// a table or a whole index ("SCAN t", "SCAN t USING INDEX …"; scanning the constant rows of
// an IN list, a subquery's result or a table-valued function such as json_each over the
// query's own arguments is fine: the schema has no virtual tables of its own), and, unless allowFilesort, none may sort rows
// in a temporary b-tree.
func requireIndexedSQLite(t testing.TB, gdb *gorm.DB, name string, q Query, allowFilesort bool) {
	t.Helper()
	rows, err := gdb.Raw("EXPLAIN QUERY PLAN "+q.SQL, q.Vars...).Rows()
	if err != nil {
		t.Fatalf("EXPLAIN QUERY PLAN %s: %v", q.SQL, err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatalf("scan EXPLAIN QUERY PLAN: %v", err)
		}
		steps = append(steps, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read EXPLAIN QUERY PLAN: %v", err)
	}
	// Subquery results (co-routines, materialized views) are exempt, as on MySQL: the reads
	// that fill them are steps of their own.
	derived := map[string]bool{}
	for _, step := range steps {
		for _, prefix := range []string{"CO-ROUTINE ", "MATERIALIZE "} {
			if name, ok := strings.CutPrefix(step, prefix); ok {
				derived[name] = true
			}
		}
	}
	for _, step := range steps {
		table, _, _ := strings.Cut(strings.TrimPrefix(step, "SCAN "), " ")
		scans := strings.HasPrefix(step, "SCAN ") && !strings.HasSuffix(step, "CONSTANT ROWS") && !derived[table] &&
			!strings.Contains(step, " VIRTUAL TABLE ")
		sorts := strings.HasPrefix(step, "USE TEMP B-TREE FOR ORDER BY")
		if scans || (!allowFilesort && sorts) {
			t.Errorf("%s: %s\n  is not served by an index: %q", name, q.SQL, steps)
			return
		}
	}
	if testing.Verbose() {
		t.Logf("%s: %s\n  %q", name, q.SQL, steps)
	}
}
