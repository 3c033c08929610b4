// Package dbtest gives tests a fresh, empty database of their own: a SQLite file in a temp
// dir, or a uniquely named database on the MySQL/MariaDB server that scripts/deps.sh starts,
// dropped when the test ends.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/db"
)

// Environment variables read by this package.
const (
	// MySQLDSNEnv holds the DSN of the test server, without a database name: each test
	// creates and drops its own.
	MySQLDSNEnv = "DOUYIN_TEST_MYSQL_DSN"
	// BackendEnv selects what Open returns: "sqlite" (default) or "mysql", so a package's
	// whole suite can run on MariaDB: DOUYIN_TEST_DB=mysql go test ./services/...
	BackendEnv = "DOUYIN_TEST_DB"
)

// DefaultMySQLDSN is the account scripts/deps.sh creates on the local server.
const DefaultMySQLDSN = "douyin:douyin-local-test@tcp(127.0.0.1:3306)/"

// Opener returns a fresh database for t, closed (and for MySQL dropped) when t ends.
type Opener func(t testing.TB) *gorm.DB

// Backend is a named Opener.
type Backend struct {
	Name string
	Open Opener
}

// Backends returns every backend the stores must work on.
func Backends() []Backend {
	return []Backend{{db.DriverSQLite, OpenSQLite}, {db.DriverMySQL, OpenMySQL}}
}

// Run runs test once per backend, each as a subtest named after it.
func Run(t *testing.T, test func(t *testing.T, open Opener)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) { test(t, b.Open) })
	}
}

// Open returns a fresh database on the backend named by DOUYIN_TEST_DB (SQLite by default).
func Open(t testing.TB) *gorm.DB {
	t.Helper()
	switch backend := os.Getenv(BackendEnv); backend {
	case "", db.DriverSQLite:
		return OpenSQLite(t)
	case db.DriverMySQL:
		return OpenMySQL(t)
	default:
		t.Fatalf("%s=%q: want sqlite or mysql", BackendEnv, backend)
		return nil
	}
}

// OpenSQLite returns a fresh SQLite database in t.TempDir().
func OpenSQLite(t testing.TB) *gorm.DB {
	t.Helper()
	gdb, err := db.Open(db.Config{Driver: db.DriverSQLite, MaxOpenConns: 8, MaxIdleConns: 8}, t.TempDir())
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = db.Close(gdb) })
	return gdb
}

// OpenMySQL creates the database douyin_test_<random> on the server of DOUYIN_TEST_MYSQL_DSN
// and returns it open; it is dropped when t ends. An unreachable server fails the test.
func OpenMySQL(t testing.TB) *gorm.DB {
	t.Helper()
	cfg := NewMySQLConfig(t)
	gdb, err := db.Open(cfg, "")
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { _ = db.Close(gdb) })
	return gdb
}

// NewMySQLConfig creates a fresh database douyin_test_<random> on the test server, dropped
// when t ends, and returns a db.Config for it, for tests that open it themselves.
func NewMySQLConfig(t testing.TB) db.Config {
	t.Helper()
	server := ServerDSN(t)
	mcfg, err := mysql.ParseDSN(server)
	if err != nil {
		t.Fatalf("%s: %v", MySQLDSNEnv, err)
	}
	mcfg.DBName = "douyin_test_" + randomSuffix(t)
	cfg := db.Config{Driver: db.DriverMySQL, DSN: mcfg.FormatDSN(), MaxOpenConns: 16, MaxIdleConns: 16, ConnMaxLifetime: time.Minute}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.EnsureDatabase(ctx, cfg); err != nil {
		t.Fatalf("MySQL/MariaDB test server at %s (%s) is unreachable or refuses us: %v\n"+
			"Run scripts/deps.sh to install and start it.", mcfg.Addr, MySQLDSNEnv, err)
	}
	t.Cleanup(func() { dropDatabase(t, server, mcfg.DBName) })
	return cfg
}

// ServerDSN returns the DSN of the test server (no database): DOUYIN_TEST_MYSQL_DSN or
// the local default.
func ServerDSN(t testing.TB) string {
	t.Helper()
	if dsn := os.Getenv(MySQLDSNEnv); dsn != "" {
		return dsn
	}
	return DefaultMySQLDSN
}

// ServerConn opens a plain connection pool to the test server, closed when t ends, for
// checks that must not go through the pool under test.
func ServerConn(t testing.TB) *sql.DB {
	t.Helper()
	conn, err := sql.Open("mysql", ServerDSN(t))
	if err != nil {
		t.Fatalf("%s: %v", MySQLDSNEnv, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func dropDatabase(t testing.TB, server, name string) {
	conn, err := sql.Open("mysql", server)
	if err != nil {
		t.Errorf("drop test database %s: %v", name, err)
		return
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+db.QuoteIdentifier(name)); err != nil {
		t.Errorf("drop test database %s: %v", name, err)
	}
}

func randomSuffix(t testing.TB) string {
	buf := make([]byte, 6)
	if _, err := rand.Read(buf); err != nil {
		t.Fatalf("random database name: %v", err)
	}
	return hex.EncodeToString(buf)
}

// Migrated returns a fresh database on open's backend with the migrations applied (each a
// service's Migrate), closed (and for MySQL dropped) when t ends.
func (open Opener) Migrated(t testing.TB, migrations ...func(*gorm.DB) error) *gorm.DB {
	t.Helper()
	gdb := open(t)
	for _, migrate := range migrations {
		if err := migrate(gdb); err != nil {
			t.Fatalf("migrate: %v", err)
		}
	}
	return gdb
}

// OpenMigrated is Migrated on the backend named by DOUYIN_TEST_DB (SQLite by default).
func OpenMigrated(t testing.TB, migrations ...func(*gorm.DB) error) *gorm.DB {
	t.Helper()
	return Opener(Open).Migrated(t, migrations...)
}
