package user

import (
	"context"
	"fmt"
	"testing"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
)

// TestHotQueriesUseIndexes checks with EXPLAIN on MariaDB and SQLite that login and profile
// batches read by key.
func TestHotQueriesUseIndexes(t *testing.T) { dbtest.Run(t, testHotQueriesUseIndexes) }

func testHotQueriesUseIndexes(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	gdb := open.Migrated(t, Migrate)
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
