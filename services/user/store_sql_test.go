package user

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
)

func TestSQLStore(t *testing.T) { dbtest.Run(t, testSQLStore) }

func testSQLStore(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	store := NewSQLStore(open.Migrated(t, Migrate))
	a := &Account{Name: "Gina", UsernameKey: "gina", PasswordHash: "h", CreatedAt: 1}
	if err := store.CreateAccount(ctx, a); err != nil || a.ID <= 0 {
		t.Fatalf("create: id %d, %v", a.ID, err)
	}
	if err := store.CreateAccount(ctx, &Account{Name: "GINA", UsernameKey: "gina", PasswordHash: "h"}); !errors.Is(err, ErrUsernameTaken) {
		t.Fatalf("duplicate key: %v, want ErrUsernameTaken", err)
	}
	got, err := store.AccountByUsernameKey(ctx, "gina")
	if err != nil || got == nil || got.ID != a.ID || got.PasswordHash != "h" {
		t.Fatalf("by key: %+v %v", got, err)
	}
	if got, err := store.AccountByUsernameKey(ctx, "nobody"); got != nil || err != nil {
		t.Fatalf("missing key: %+v %v, want nil nil", got, err)
	}
	rows, err := store.AccountsByIDs(ctx, []int64{a.ID, a.ID + 100})
	if err != nil || len(rows) != 1 || rows[0].Name != "Gina" {
		t.Fatalf("by ids: %+v %v", rows, err)
	}
	if rows[0].PasswordHash != "" {
		t.Fatal("profile read loaded the password hash")
	}
	if rows, err := store.AccountsByIDs(ctx, nil); err != nil || rows == nil || len(rows) != 0 {
		t.Fatalf("no ids: %#v %v", rows, err)
	}
}

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
