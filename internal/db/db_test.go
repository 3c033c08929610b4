package db

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
)

type row struct {
	ID    int64  `gorm:"primaryKey"`
	Name  string `gorm:"uniqueIndex;size:32"`
	Count int64
}

func TestSQLiteConcurrentWritersAndUniqueErrors(t *testing.T) {
	cfg := Config{Driver: DriverSQLite, MaxOpenConns: 8, MaxIdleConns: 8}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	gdb, err := Open(cfg, filepath.Join(t.TempDir(), "nested"))
	if err != nil {
		t.Fatal(err)
	}
	defer Close(gdb)
	if err := gdb.AutoMigrate(&row{}); err != nil {
		t.Fatal(err)
	}
	if err := gdb.Create(&row{Name: "a"}).Error; err != nil {
		t.Fatal(err)
	}
	// Concurrent read-modify-write transactions must all commit: none may fail with "database is locked".
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- gdb.Transaction(func(tx *gorm.DB) error {
				var r row
				if err := tx.First(&r, "name = ?", "a").Error; err != nil {
					return err
				}
				return tx.Model(&r).Update("count", r.Count+1).Error
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent transaction failed: %v", err)
		}
	}
	var r row
	gdb.First(&r, "name = ?", "a")
	if r.Count != 40 {
		t.Fatalf("count = %d, want 40 (lost updates)", r.Count)
	}
	if err := gdb.Create(&row{Name: "a"}).Error; !errors.Is(err, gorm.ErrDuplicatedKey) {
		t.Fatalf("duplicate insert: got %v, want gorm.ErrDuplicatedKey", err)
	}
	// Hand-written statements (the like writer's insert) translate too.
	if err := gdb.Exec("INSERT INTO rows (name, count) VALUES (?, 0)", "a").Error; !errors.Is(err, gorm.ErrDuplicatedKey) {
		t.Fatalf("duplicate raw insert: got %v, want gorm.ErrDuplicatedKey", err)
	}
}

func TestValidate(t *testing.T) {
	const dsn = "u:secret@tcp(db:3306)/douyin"
	bad := map[string]Config{
		"unknown driver":         {Driver: "pg", MaxOpenConns: 1},
		"mysql without dsn":      {Driver: DriverMySQL, MaxOpenConns: 1},
		"dsn and dsn file":       {Driver: DriverMySQL, DSN: dsn, DSNFile: "/run/dsn", MaxOpenConns: 1},
		"no pool":                {Driver: DriverSQLite},
		"no database name":       {Driver: DriverMySQL, DSN: "u:secret@tcp(db:3306)/", MaxOpenConns: 1},
		"malformed dsn":          {Driver: DriverMySQL, DSN: "u:secret@tcp(db:3306", MaxOpenConns: 1},
		"clientFoundRows":        {Driver: DriverMySQL, DSN: dsn + "?clientFoundRows=true", MaxOpenConns: 1},
		"latin1":                 {Driver: DriverMySQL, DSN: dsn + "?charset=latin1", MaxOpenConns: 1},
		"utf8mb3 collation":      {Driver: DriverMySQL, DSN: dsn + "?collation=utf8_general_ci", MaxOpenConns: 1},
		"bad replica":            {Driver: DriverMySQL, DSN: dsn, Replicas: []string{"u:secret@tcp(r:3306)/"}, MaxOpenConns: 1},
		"sqlite with replicas":   {Driver: DriverSQLite, Replicas: []string{dsn}, MaxOpenConns: 1},
		"negative conn lifetime": {Driver: DriverSQLite, MaxOpenConns: 1, ConnMaxLifetime: -1},
	}
	for name, c := range bad {
		err := c.Validate()
		if err == nil {
			t.Errorf("%s: Validate(%+v) = nil, want error", name, c)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the error leaks the password: %v", name, err)
		}
	}
	good := []Config{
		{Driver: DriverSQLite, MaxOpenConns: 1},
		{Driver: DriverMySQL, DSN: dsn, Replicas: []string{dsn, dsn}, MaxOpenConns: 1},
		{Driver: DriverMySQL, DSN: dsn + "?charset=utf8mb4&collation=utf8mb4_bin", MaxOpenConns: 1},
		{Driver: DriverMySQL, DSNFile: "/run/secrets/dsn", MaxOpenConns: 1},
	}
	for _, c := range good {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", c, err)
		}
	}
}

func TestMySQLDefaults(t *testing.T) {
	cfg, err := mysqlConfig("u:p@tcp(db:3306)/douyin")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Collation != "utf8mb4_bin" || cfg.Timeout != 5*time.Second || cfg.ReadTimeout != 30*time.Second ||
		cfg.WriteTimeout != 30*time.Second || !cfg.InterpolateParams || cfg.Loc != time.UTC || cfg.ClientFoundRows {
		t.Fatalf("defaults not applied: %+v", cfg)
	}
	// What the DSN says wins, including explicit zero values.
	cfg, err = mysqlConfig("u:p@tcp(db:3306)/douyin?timeout=1s&readTimeout=0&writeTimeout=2m&interpolateParams=false&collation=utf8mb4_unicode_ci")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Collation != "utf8mb4_unicode_ci" || cfg.Timeout != time.Second || cfg.ReadTimeout != 0 ||
		cfg.WriteTimeout != 2*time.Minute || cfg.InterpolateParams {
		t.Fatalf("DSN settings overridden: %+v", cfg)
	}
	// A password holding '?' and '/' is not mistaken for parameters.
	if cfg, err = mysqlConfig("u:a?b/c@tcp(db:3306)/douyin"); err != nil || cfg.Passwd != "a?b/c" || cfg.Timeout != 5*time.Second {
		t.Fatalf("password with ? and /: %+v %v", cfg, err)
	}
}

func TestSecretsAndFlags(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	c.RegisterFlags(fs)
	for _, name := range append(SecretFlags(), "db.dsn-file") {
		if fs.Lookup(name) == nil {
			t.Errorf("flag %s not registered", name)
		}
	}
	if err := fs.Parse([]string{"-db.replicas", " a:b@tcp(r1)/d , ,c:d@tcp(r2)/d"}); err != nil {
		t.Fatal(err)
	}
	if len(c.Replicas) != 2 || c.Replicas[0] != "a:b@tcp(r1)/d" || c.Replicas[1] != "c:d@tcp(r2)/d" {
		t.Fatalf("replicas %q", c.Replicas)
	}
}

func TestDSNFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "dsn")
	if err := os.WriteFile(file, []byte("  u:p@tcp(db:3306)/douyin\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Config{Driver: DriverMySQL, DSNFile: file, MaxOpenConns: 1}
	if dsn, err := c.PrimaryDSN(); err != nil || dsn != "u:p@tcp(db:3306)/douyin" {
		t.Fatalf("PrimaryDSN = %q, %v", dsn, err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{empty, filepath.Join(dir, "absent")} {
		c.DSNFile = f
		if _, err := Open(c, dir); err == nil {
			t.Errorf("Open with DSN file %s succeeded", f)
		}
	}
	// An SQLite path may come from the file too.
	path := filepath.Join(dir, "from-file.db")
	if err := os.WriteFile(file, []byte(path), 0o600); err != nil {
		t.Fatal(err)
	}
	gdb, err := Open(Config{Driver: DriverSQLite, DSNFile: file, MaxOpenConns: 1}, dir)
	if err != nil {
		t.Fatal(err)
	}
	Close(gdb)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("SQLite file from db.dsn-file not created: %v", err)
	}
}

func TestAddCountersUpserts(t *testing.T) {
	gdb, err := Open(Config{Driver: DriverSQLite, MaxOpenConns: 4, MaxIdleConns: 4}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer Close(gdb)
	type counts struct {
		UserID int64 `gorm:"primaryKey;autoIncrement:false"`
		A, B   int64
	}
	if err := gdb.Table("counts").AutoMigrate(&counts{}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := gdb.Transaction(func(tx *gorm.DB) error {
				return AddCounters(tx, "counts", "user_id", 9, map[string]int64{"a": 1, "b": 2})
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := AddCounters(gdb, "counts", "user_id", 9, map[string]int64{"a": -5}); err != nil {
		t.Fatal(err)
	}
	var c counts
	if err := gdb.Table("counts").First(&c, "user_id = ?", 9).Error; err != nil {
		t.Fatal(err)
	}
	if c.A != 15 || c.B != 40 {
		t.Fatalf("counters a=%d b=%d, want 15 40", c.A, c.B)
	}
}

// TestSQLiteFilesArePrivate checks that the embedded database (password hashes, private
// messages) is readable by its owner only, also when an earlier version left it world-readable.
func TestSQLiteFilesArePrivate(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "douyin.db"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	gdb, err := Open(Config{Driver: DriverSQLite, MaxOpenConns: 2, MaxIdleConns: 2}, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := gdb.AutoMigrate(&row{}); err != nil {
		t.Fatal(err)
	}
	if err := gdb.Create(&row{Name: "private"}).Error; err != nil {
		t.Fatal(err)
	}
	defer Close(gdb)
	if fi, err := os.Stat(dataDir); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v, want 0700", fi.Mode().Perm())
	}
	for _, name := range []string{"douyin.db", "douyin.db-wal", "douyin.db-shm"} {
		fi, err := os.Stat(filepath.Join(dataDir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
}

// TestSQLiteSettings checks the settings every connection of the pool runs with: the WAL
// with synchronous NORMAL (the durability of an acknowledged write) and the checkpoint
// interval the like writer relies on.
func TestSQLiteSettings(t *testing.T) {
	gdb, err := Open(Config{Driver: DriverSQLite, MaxOpenConns: 3, MaxIdleConns: 3}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer Close(gdb)
	sqlDB, err := gdb.DB()
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	// Hold three connections at once, so each setting is read on distinct connections.
	for i := range 3 {
		conn, err := sqlDB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var mode string
		var synchronous, checkpoint int
		if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&synchronous); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&checkpoint); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || synchronous != 1 || checkpoint != 10000 {
			t.Errorf("connection %d: journal_mode %s, synchronous %d, wal_autocheckpoint %d; want wal, 1 (NORMAL), 10000",
				i, mode, synchronous, checkpoint)
		}
	}
}
