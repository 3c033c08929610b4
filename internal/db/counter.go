package db

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// AddCounters adds deltas to the counter columns of the row keyed by key in table, creating
// the row (with the deltas as values) when it does not exist. It is one statement on SQLite
// (ON CONFLICT DO UPDATE) and MySQL (ON DUPLICATE KEY UPDATE), so concurrent adds never lose
// an increment. Call it inside the transaction that changes the rows being counted.
func AddCounters(tx *gorm.DB, table, keyColumn string, key int64, deltas map[string]int64) error {
	columns := make([]string, 0, len(deltas))
	for col := range deltas {
		columns = append(columns, col)
	}
	slices.Sort(columns) // one statement text per column set
	row := make([]int64, len(columns))
	for i, col := range columns {
		row[i] = deltas[col]
	}
	return AddCounterRows(tx, table, keyColumn, columns, map[int64][]int64{key: row})
}

// AddCounterRows is AddCounters for many rows in one statement: deltas maps each key to its
// deltas of columns (in that order). Rows whose deltas are all zero are skipped, and keys go
// in ascending order, so concurrent callers lock rows in the same order (no deadlock between
// two of them on MySQL).
//
// The statement is written by hand rather than through GORM's Create of maps: on the like
// writer's hot path GORM spent more time failing to parse a map as a model (an error built
// with fmt on every call) than the database spent running the upsert. On SQLite, rows after
// the first travel as one JSON parameter (JSONRows), so the text stays short.
func AddCounterRows(tx *gorm.DB, table, keyColumn string, columns []string, deltas map[int64][]int64) error {
	keys := make([]int64, 0, len(deltas))
	for k, ds := range deltas {
		if slices.ContainsFunc(ds, func(d int64) bool { return d != 0 }) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	quote := func(b *strings.Builder, name string) { tx.Dialector.QuoteTo(b, name) }
	var sql strings.Builder
	sql.WriteString("INSERT INTO ")
	quote(&sql, table)
	sql.WriteString(" (")
	quote(&sql, keyColumn)
	for _, col := range columns {
		sql.WriteString(",")
		quote(&sql, col)
	}
	sql.WriteString(")")
	mysql := tx.Dialector.Name() == DriverMySQL
	var args []any
	if mysql || len(keys) == 1 {
		args = valuesList(&sql, columns, keys, deltas)
	} else {
		args = jsonRowsOf(&sql, columns, keys, deltas)
	}
	// The inserted row's value is the delta: add it to the stored one.
	if mysql {
		sql.WriteString(" ON DUPLICATE KEY UPDATE ")
	} else {
		sql.WriteString(" ON CONFLICT (")
		quote(&sql, keyColumn)
		sql.WriteString(") DO UPDATE SET ")
	}
	for i, col := range columns {
		if i > 0 {
			sql.WriteString(",")
		}
		quote(&sql, col)
		sql.WriteString("=")
		quote(&sql, col)
		if mysql {
			sql.WriteString("+VALUES(")
			quote(&sql, col)
			sql.WriteString(")")
		} else {
			sql.WriteString("+excluded.")
			quote(&sql, col)
		}
	}
	if err := tx.Exec(sql.String(), args...).Error; err != nil {
		return fmt.Errorf("add counters to %s: %w", table, err)
	}
	return nil
}

// valuesList writes the rows of keys as a VALUES list, a parameter per value, and returns
// the parameters.
func valuesList(sql *strings.Builder, columns []string, keys []int64, deltas map[int64][]int64) []any {
	sql.WriteString(" VALUES ")
	placeholders := "(?" + strings.Repeat(",?", len(columns)) + ")"
	args := make([]any, 0, len(keys)*(len(columns)+1))
	for i, k := range keys {
		if i > 0 {
			sql.WriteString(",")
		}
		sql.WriteString(placeholders)
		args = append(args, k)
		for c := range columns {
			args = append(args, deltas[k][c])
		}
	}
	return args
}

// jsonRowsOf writes the rows of keys as a SELECT over json_each of one parameter (see
// JSONRows: SQLite parses a long VALUES list on every run) and returns that parameter. The
// WHERE clause is SQLite's rule for an upsert whose rows come from a SELECT.
func jsonRowsOf(sql *strings.Builder, columns []string, keys []int64, deltas map[int64][]int64) []any {
	sql.WriteString(" SELECT value->>0")
	for c := range columns {
		sql.WriteString(",value->>")
		sql.WriteString(strconv.Itoa(c + 1))
	}
	sql.WriteString(" FROM json_each(?) WHERE true")
	var rows JSONRows
	row := make([]int64, len(columns)+1)
	for _, k := range keys {
		row[0] = k
		copy(row[1:], deltas[k])
		rows.Add(row...)
	}
	return []any{rows.String()}
}
