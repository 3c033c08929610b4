package db_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/internal/db/dbtest"
	"github.com/douyin-backend/douyin/internal/polltest"
)

type item struct {
	ID    int64  `gorm:"primaryKey"`
	Name  string `gorm:"size:64;not null;uniqueIndex:uk_items_name"`
	Count int64  `gorm:"not null;default:0"`
}

type counter struct {
	UserID int64 `gorm:"primaryKey;autoIncrement:false"`
	A, B   int64
}

func TestMySQLConnectionIsUTF8MB4(t *testing.T) {
	gdb := dbtest.OpenMySQL(t)
	var charset, collation, dbCharset, dbCollation string
	if err := gdb.Raw("SELECT @@character_set_connection, @@collation_connection, @@character_set_database, @@collation_database").
		Row().Scan(&charset, &collation, &dbCharset, &dbCollation); err != nil {
		t.Fatal(err)
	}
	if charset != "utf8mb4" || collation != "utf8mb4_bin" || dbCharset != "utf8mb4" || dbCollation != "utf8mb4_bin" {
		t.Fatalf("connection %s/%s, database %s/%s; want utf8mb4/utf8mb4_bin for both", charset, collation, dbCharset, dbCollation)
	}
	if err := gdb.AutoMigrate(&item{}); err != nil {
		t.Fatal(err)
	}
	// Unique keys compare exactly, as on SQLite: a _ci collation would call these
	// duplicates (case, accents), and utf8mb4_unicode_ci would call all emoji equal.
	for _, name := range []string{"cafe", "Cafe", "café", "🎬", "🍕", "视频"} {
		if err := gdb.Create(&item{Name: name}).Error; err != nil {
			t.Fatalf("insert %q: %v", name, err)
		}
	}
	var got item
	if err := gdb.Where("name = ?", "🍕").Take(&got).Error; err != nil || got.Name != "🍕" {
		t.Fatalf("round trip of a 4-byte character: %q %v", got.Name, err)
	}
}

func TestMySQLRefusesANonUTF8MB4Database(t *testing.T) {
	cfg := dbtest.NewMySQLConfig(t)
	name := mustParse(t, cfg.DSN).DBName
	if _, err := dbtest.ServerConn(t).Exec("ALTER DATABASE " + db.QuoteIdentifier(name) + " CHARACTER SET latin1"); err != nil {
		t.Fatal(err)
	}
	if gdb, err := db.Open(cfg, ""); err == nil {
		db.Close(gdb)
		t.Fatal("Open accepted a latin1 database")
	} else if !strings.Contains(err.Error(), "latin1") {
		t.Fatalf("error does not say why: %v", err)
	}
}

func TestMySQLDuplicateKeyTranslates(t *testing.T) {
	gdb := dbtest.OpenMySQL(t)
	if err := gdb.AutoMigrate(&item{}); err != nil {
		t.Fatal(err)
	}
	if err := gdb.Create(&item{Name: "a"}).Error; err != nil {
		t.Fatal(err)
	}
	err := gdb.Create(&item{Name: "a"}).Error
	if !errors.Is(err, gorm.ErrDuplicatedKey) {
		t.Fatalf("duplicate insert: got %v, want gorm.ErrDuplicatedKey", err)
	}
	// Inside a transaction too: the stores translate errors raised there.
	err = gdb.Transaction(func(tx *gorm.DB) error { return tx.Create(&item{Name: "a"}).Error })
	if !errors.Is(err, gorm.ErrDuplicatedKey) {
		t.Fatalf("duplicate insert in a transaction: got %v, want gorm.ErrDuplicatedKey", err)
	}
	// Hand-written statements (the like writer's insert) translate too.
	err = gdb.Transaction(func(tx *gorm.DB) error { return tx.Exec("INSERT INTO items (name) VALUES (?)", "a").Error })
	if !errors.Is(err, gorm.ErrDuplicatedKey) {
		t.Fatalf("duplicate raw insert in a transaction: got %v, want gorm.ErrDuplicatedKey", err)
	}
}

// The relation store counts a follow only when its ON CONFLICT DO NOTHING insert affected a
// row; on MySQL that is ON DUPLICATE KEY UPDATE id=id, whose RowsAffected is 0 for a
// duplicate only while clientFoundRows is off.
func TestMySQLInsertIgnoringDuplicatesReportsRowsAffected(t *testing.T) {
	gdb := dbtest.OpenMySQL(t)
	if err := gdb.AutoMigrate(&item{}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int64{1, 0, 0} {
		res := gdb.Clauses(clause.OnConflict{DoNothing: true}).Create(&item{Name: "x"})
		if res.Error != nil || res.RowsAffected != want {
			t.Fatalf("insert #%d: rows affected %d err %v, want %d", i+1, res.RowsAffected, res.Error, want)
		}
	}
	// An UPDATE that sets the values already stored changes nothing and says so.
	res := gdb.Model(&item{}).Where("name = ?", "x").Update("count", 0)
	if res.Error != nil || res.RowsAffected != 0 {
		t.Fatalf("no-op update: rows affected %d err %v, want 0", res.RowsAffected, res.Error)
	}
}

func TestMySQLAddCountersIsAtomic(t *testing.T) {
	gdb := dbtest.OpenMySQL(t)
	if err := gdb.Table("counts").AutoMigrate(&counter{}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := gdb.Transaction(func(tx *gorm.DB) error {
				return db.AddCounters(tx, "counts", "user_id", 9, map[string]int64{"a": 1, "b": 2})
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := db.AddCounters(gdb, "counts", "user_id", 9, map[string]int64{"a": -5}); err != nil {
		t.Fatal(err)
	}
	var c counter
	if err := gdb.Table("counts").Take(&c, "user_id = ?", 9).Error; err != nil {
		t.Fatal(err)
	}
	if c.A != 15 || c.B != 40 {
		t.Fatalf("counters a=%d b=%d, want 15 40", c.A, c.B)
	}
}

func TestMySQLPoolSettingsAndStats(t *testing.T) {
	cfg := dbtest.NewMySQLConfig(t)
	cfg.MaxOpenConns = 3
	gdb, err := db.Open(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(gdb)
	if got := db.Stats(gdb).MaxOpenConnections; got != 3 {
		t.Fatalf("MaxOpenConnections = %d, want 3", got)
	}
	if err := gdb.Exec("SELECT 1").Error; err != nil {
		t.Fatal(err)
	}
	if db.Stats(gdb).OpenConnections < 1 {
		t.Fatal("no open connection counted after a query")
	}
}

// Replicas are proven by pointing the "replica" at a second database on the same server
// that holds different rows: what a read returns tells which side served it.
func TestMySQLReplicasServeReadsOutsideTransactions(t *testing.T) {
	primaryCfg := dbtest.NewMySQLConfig(t)
	replicaCfg := dbtest.NewMySQLConfig(t)
	for name, cfg := range map[string]db.Config{"primary": primaryCfg, "replica": replicaCfg} {
		side, err := db.Open(cfg, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := side.AutoMigrate(&item{}); err != nil {
			t.Fatal(err)
		}
		if err := side.Create(&item{ID: 1, Name: name}).Error; err != nil {
			t.Fatal(err)
		}
		db.Close(side)
	}

	cfg := primaryCfg
	cfg.Replicas = []string{replicaCfg.DSN}
	gdb, err := db.Open(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	nameOf := func(tx *gorm.DB) string {
		t.Helper()
		var it item
		if err := tx.Take(&it, 1).Error; err != nil {
			t.Fatal(err)
		}
		return it.Name
	}
	if got := nameOf(gdb); got != "replica" {
		t.Errorf("plain read served by %s, want replica", got)
	}
	primary := db.Primary(gdb)
	for range 2 { // the session is reusable
		if got := nameOf(primary); got != "primary" {
			t.Errorf("Primary read served by %s, want primary", got)
		}
	}
	if got := nameOf(gdb); got != "replica" {
		t.Errorf("plain read after Primary served by %s, want replica", got)
	}
	err = gdb.Transaction(func(tx *gorm.DB) error {
		if got := nameOf(tx); got != "primary" {
			t.Errorf("read in a transaction served by %s, want primary", got)
		}
		return tx.Model(&item{}).Where("id = 1").Update("count", 7).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := gdb.Model(&item{}).Where("id = 1").Update("count", 8).Error; err != nil {
		t.Fatal(err)
	}
	var counts []int64
	for _, c := range []db.Config{primaryCfg, replicaCfg} {
		side, err := db.Open(c, "")
		if err != nil {
			t.Fatal(err)
		}
		var it item
		if err := side.Take(&it, 1).Error; err != nil {
			t.Fatal(err)
		}
		counts = append(counts, it.Count)
		db.Close(side)
	}
	if counts[0] != 8 || counts[1] != 0 {
		t.Fatalf("count on primary %d, on replica %d; want 8 and 0 (writes go to the primary)", counts[0], counts[1])
	}

	// Close must release the replica's connections too: watch them leave the server.
	replicaDB := mustParse(t, replicaCfg.DSN).DBName
	server := dbtest.ServerConn(t)
	connsOnReplica := func() int {
		var n int
		if err := server.QueryRow("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = ?", replicaDB).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if connsOnReplica() == 0 {
		t.Fatal("no connection to the replica before Close: the check below would prove nothing")
	}
	if err := db.Close(gdb); err != nil {
		t.Fatal(err)
	}
	polltest.UntilEvery(t, 10*time.Second, 20*time.Millisecond, "the replica connections closed after Close", func() bool { return connsOnReplica() == 0 })
}

func TestEnsureDatabaseIsIdempotent(t *testing.T) {
	cfg := dbtest.NewMySQLConfig(t)
	name := mustParse(t, cfg.DSN).DBName
	ctx := context.Background()
	gdb, err := db.Open(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(gdb)
	if err := gdb.AutoMigrate(&item{}); err != nil {
		t.Fatal(err)
	}
	if err := gdb.Create(&item{Name: "kept"}).Error; err != nil {
		t.Fatal(err)
	}
	// Through a DSN file, as `douyin migrate` would in a pod.
	file := filepath.Join(t.TempDir(), "dsn")
	if err := os.WriteFile(file, []byte(cfg.DSN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile := db.Config{Driver: db.DriverMySQL, DSNFile: file, MaxOpenConns: 1}
	if err := db.EnsureDatabase(ctx, fromFile); err != nil {
		t.Fatalf("second EnsureDatabase of %s: %v", name, err)
	}
	var n int64
	if err := gdb.Model(&item{}).Count(&n).Error; err != nil || n != 1 {
		t.Fatalf("rows after EnsureDatabase: %d %v, want the existing row kept", n, err)
	}
}

func TestMySQLUnreachableFailsFast(t *testing.T) {
	// Port 1 on loopback refuses at once; the dial timeout bounds the other failure modes.
	cfg := db.Config{Driver: db.DriverMySQL, DSN: "u:p@tcp(127.0.0.1:1)/douyin", MaxOpenConns: 1}
	start := time.Now()
	if _, err := db.Open(cfg, ""); err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	} else if strings.Contains(err.Error(), ":p@") {
		t.Fatalf("error leaks the DSN: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Open took %v to fail", d)
	}
}

func mustParse(t *testing.T, dsn string) *mysql.Config {
	t.Helper()
	c, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
