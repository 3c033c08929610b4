package user

import (
	"context"
	"fmt"
	"testing"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
)

// openOn returns a migrated database on the backend of open.
func openOn(t *testing.T, open dbtest.Opener) *gorm.DB {
	t.Helper()
	gdb := open(t)
	if err := Migrate(gdb); err != nil {
		t.Fatal(err)
	}
	return gdb
}

// TestHotQueriesUseIndexes checks with EXPLAIN on MariaDB and SQLite that login and profile
// batches read by key.
func TestHotQueriesUseIndexes(t *testing.T) { dbtest.Run(t, testHotQueriesUseIndexes) }

func testHotQueriesUseIndexes(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	gdb := openOn(t, open)
	var accounts []Account
	for i := range 1000 {
		name := fmt.Sprintf("user%d", i)
		accounts = append(accounts, Account{Name: name, UsernameKey: name, PasswordHash: "h", CreatedAt: int64(i)})
	}
	if err := gdb.CreateInBatches(accounts, 500).Error; err != nil {
		t.Fatal(err)
	}
	dbtest.Analyze(t, gdb, Account{}.TableName())
	st := NewSQLStore(gdb)
	dbtest.RequireIndexed(t, gdb, "login lookup", func() error {
		_, err := st.AccountByUsernameKey(ctx, "user77")
		return err
	})
	dbtest.RequireIndexed(t, gdb, "profile batch", func() error {
		_, err := st.AccountsByIDs(ctx, []int64{1, 2, 3})
		return err
	})
}
