package db

import (
	"fmt"

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
