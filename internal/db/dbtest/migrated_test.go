package dbtest

import (
	"testing"

	"gorm.io/gorm"
)

func TestMigratedAppliesEveryMigrationInOrder(t *testing.T) {
	Run(t, func(t *testing.T, open Opener) {
		var order []string
		table := func(name string) func(*gorm.DB) error {
			return func(gdb *gorm.DB) error {
				order = append(order, name)
				return gdb.Exec("CREATE TABLE " + name + " (id BIGINT PRIMARY KEY)").Error
			}
		}
		gdb := open.Migrated(t, table("first_rows"), table("second_rows"))
		if len(order) != 2 || order[0] != "first_rows" || order[1] != "second_rows" {
			t.Fatalf("migrations ran as %v", order)
		}
		for _, name := range order {
			if !gdb.Migrator().HasTable(name) {
				t.Errorf("table %s missing", name)
			}
		}
	})
}
