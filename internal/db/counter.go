package db

import (
	"fmt"
	"slices"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// AddCounters adds deltas to the counter columns of the row keyed by key in table, creating
// the row (with the deltas as values) when it does not exist. It is one statement on SQLite
// (ON CONFLICT DO UPDATE) and MySQL (ON DUPLICATE KEY UPDATE), so concurrent adds never lose
// an increment. Call it inside the transaction that changes the rows being counted.
func AddCounters(tx *gorm.DB, table, keyColumn string, key int64, deltas map[string]int64) error {
	values := map[string]any{keyColumn: key}
	updates := map[string]any{}
	for col, d := range deltas {
		values[col] = d
		updates[col] = gorm.Expr(col+" + ?", d)
	}
	err := tx.Table(table).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: keyColumn}},
		DoUpdates: clause.Assignments(updates),
	}).Create(values).Error
	if err != nil {
		return fmt.Errorf("add counters to %s: %w", table, err)
	}
	return nil
}

// AddCounterRows is AddCounters for many rows in one statement: deltas maps each key to its
// deltas of columns (in that order). Rows whose deltas are all zero are skipped, and keys go
// in ascending order, so concurrent callers lock rows in the same order (no deadlock between
// two of them on MySQL).
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
	values := make([]map[string]any, len(keys))
	for i, k := range keys {
		row := map[string]any{keyColumn: k}
		for c, col := range columns {
			row[col] = deltas[k][c]
		}
		values[i] = row
	}
	// The inserted row's value is the delta: add it to the stored one.
	inserted := "excluded.%s"
	if tx.Dialector.Name() == DriverMySQL {
		inserted = "VALUES(%s)"
	}
	updates := map[string]any{}
	for _, col := range columns {
		updates[col] = gorm.Expr(col + " + " + fmt.Sprintf(inserted, col))
	}
	err := tx.Table(table).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: keyColumn}},
		DoUpdates: clause.Assignments(updates),
	}).Create(values).Error
	if err != nil {
		return fmt.Errorf("add counters to %s: %w", table, err)
	}
	return nil
}
