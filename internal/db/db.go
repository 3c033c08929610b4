// Package db opens the SQL database behind GORM: a SQLite file for the embedded mode and
// MySQL/MariaDB in production, optionally with read replicas.
package db

import (
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	"gorm.io/plugin/dbresolver"
)

// Drivers.
const (
	DriverSQLite = "sqlite"
	DriverMySQL  = "mysql"
)

// Names of the settings that hold credentials: config.Load accepts them only from the
// environment (DOUYIN_DB_DSN, DOUYIN_DB_REPLICAS), never from the command line or the file.
const (
	DSNFlag      = "db.dsn"
	ReplicasFlag = "db.replicas"
)

// SecretFlags returns the settings of this package that may carry a password, for the
// process's list of secrets.
func SecretFlags() []string { return []string{DSNFlag, ReplicasFlag} }

// Config selects and tunes the database.
type Config struct {
	Driver string
	// DSN is the primary's data source name; for SQLite, a file path. It is a secret.
	DSN string
	// DSNFile names a file holding the DSN, for secrets mounted as files.
	DSNFile string
	// Replicas are the DSNs of read replicas (MySQL only): reads outside transactions go to
	// one of them, writes and transactions to the primary. Replicas lag, so a read that must
	// see the caller's own write pins the primary with Primary; migrations should run
	// without replicas, as GORM's schema probes are reads. The flag separates DSNs with
	// commas, so a DSN cannot contain one.
	Replicas        []string
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
}

// RegisterFlags registers the database settings.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Driver, "db.driver", DriverSQLite, "SQL backend: sqlite (embedded, a file under -data.dir) or mysql (MySQL/MariaDB)")
	fs.StringVar(&c.DSN, DSNFlag, "", "data source name, secret: environment DOUYIN_DB_DSN only (or -db.dsn-file); "+
		"mysql: user:password@tcp(host:3306)/douyin (utf8mb4 and timeouts are added when absent); sqlite: a file path (default <data.dir>/douyin.db)")
	fs.StringVar(&c.DSNFile, "db.dsn-file", "", "file holding the data source name (instead of DOUYIN_DB_DSN), e.g. a mounted Kubernetes Secret")
	fs.Var((*listValue)(&c.Replicas), ReplicasFlag, "comma-separated DSNs of MySQL read replicas, secret: environment DOUYIN_DB_REPLICAS only; "+
		"reads outside transactions go to them, writes and transactions to the primary")
	fs.IntVar(&c.MaxOpenConns, "db.max-open-conns", 32, "maximum open connections per database (primary and each replica)")
	fs.IntVar(&c.MaxIdleConns, "db.max-idle-conns", 16, "maximum idle connections per database")
	fs.DurationVar(&c.ConnMaxLifetime, "db.conn-max-lifetime", 30*time.Minute, "recycle connections after this long (keep it below the server's wait_timeout)")
}

// Validate checks the settings. It does not read db.dsn-file; Open does.
func (c *Config) Validate() error {
	if c.DSN != "" && c.DSNFile != "" {
		return errors.New("set DOUYIN_DB_DSN or db.dsn-file, not both")
	}
	switch c.Driver {
	case DriverSQLite:
		if len(c.Replicas) > 0 {
			return errors.New("db.replicas needs db.driver=mysql")
		}
	case DriverMySQL:
		switch {
		case c.DSN == "" && c.DSNFile == "":
			return errors.New("db.driver=mysql needs DOUYIN_DB_DSN or db.dsn-file")
		case c.DSN != "":
			if _, err := mysqlConfig(c.DSN); err != nil {
				return fmt.Errorf("db.dsn: %w", err)
			}
		}
		for i, dsn := range c.Replicas {
			if _, err := mysqlConfig(dsn); err != nil {
				return fmt.Errorf("db.replicas[%d]: %w", i, err)
			}
		}
	default:
		return fmt.Errorf("db.driver %q: want sqlite or mysql", c.Driver)
	}
	if c.MaxOpenConns < 1 || c.MaxIdleConns < 0 {
		return errors.New("db pool sizes must be positive")
	}
	if c.ConnMaxLifetime < 0 {
		return errors.New("db.conn-max-lifetime must not be negative")
	}
	return nil
}

// PrimaryDSN returns the primary's DSN: db.dsn, or the trimmed content of db.dsn-file.
func (c *Config) PrimaryDSN() (string, error) {
	if c.DSN != "" || c.DSNFile == "" {
		return c.DSN, nil
	}
	raw, err := os.ReadFile(c.DSNFile)
	if err != nil {
		return "", fmt.Errorf("read db.dsn-file: %w", err)
	}
	dsn := strings.TrimSpace(string(raw))
	if dsn == "" {
		return "", fmt.Errorf("db.dsn-file %s is empty", c.DSNFile)
	}
	return dsn, nil
}

// Open connects to the database. For SQLite, dataDir holds the file unless db.dsn names one.
// For MySQL it fails when the primary or a replica cannot be reached.
func Open(cfg Config, dataDir string) (*gorm.DB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dsn, err := cfg.PrimaryDSN()
	if err != nil {
		return nil, err
	}
	var dialector gorm.Dialector
	switch cfg.Driver {
	case DriverSQLite:
		path := dsn
		if path == "" {
			path = filepath.Join(dataDir, "douyin.db")
		}
		if err := privateFiles(path, dsn == ""); err != nil {
			return nil, err
		}
		// WAL lets readers run beside the writer; immediate transactions take the write lock
		// up front so concurrent writers wait (busy_timeout) instead of failing to upgrade.
		// Statement journals (multi-row upserts write one) stay in memory instead of a temp
		// file, and each connection caches up to 8 MiB of pages. A commit checkpoints the WAL
		// only past 10 000 pages (40 MiB; SQLite's default is 1 000), a backstop: a like batch
		// writes ~60 pages, mostly the same hot index pages again, and a checkpoint copies each
		// page once however often it changed, and syncs twice, in the committing writer's time
		// (CheckpointWAL does it beside the writers). Durability is unchanged (synchronous is):
		// only when the log is copied into the database moves.
		dialector = sqlite.Open("file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-8192)&_pragma=wal_autocheckpoint(10000)&_txlock=immediate")
	case DriverMySQL:
		if dialector, err = mysqlDialector(dsn); err != nil {
			return nil, fmt.Errorf("db.dsn: %w", err)
		}
	}
	// TranslateError turns each engine's unique-key violation into gorm.ErrDuplicatedKey,
	// which the stores rely on.
	gdb, err := gorm.Open(dialector, &gorm.Config{Logger: logger.Discard, TranslateError: true})
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", cfg.Driver, err)
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", cfg.Driver, err)
	}
	sqlDB.SetMaxOpenConns(cfg.MaxOpenConns)
	sqlDB.SetMaxIdleConns(cfg.MaxIdleConns)
	sqlDB.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	if cfg.Driver == DriverMySQL {
		if err := checkCharset(gdb); err != nil {
			_ = Close(gdb)
			return nil, err
		}
	}
	if len(cfg.Replicas) > 0 {
		if err := useReplicas(gdb, cfg); err != nil {
			_ = Close(gdb)
			return nil, err
		}
	}
	return gdb, nil
}

// useReplicas routes reads to the replicas. The resolver keeps the primary as the only
// source, so writes, locking reads and everything inside a transaction stay on it.
func useReplicas(gdb *gorm.DB, cfg Config) error {
	replicas := make([]gorm.Dialector, 0, len(cfg.Replicas))
	for i, dsn := range cfg.Replicas {
		d, err := mysqlDialector(dsn)
		if err != nil {
			return fmt.Errorf("db.replicas[%d]: %w", i, err)
		}
		replicas = append(replicas, d)
	}
	resolver := dbresolver.Register(dbresolver.Config{Replicas: replicas, Policy: dbresolver.RandomPolicy{}}).
		SetMaxOpenConns(cfg.MaxOpenConns).
		SetMaxIdleConns(cfg.MaxIdleConns).
		SetConnMaxLifetime(cfg.ConnMaxLifetime)
	if err := gdb.Use(resolver); err != nil {
		return fmt.Errorf("connect read replicas: %w", err)
	}
	return nil
}

// Primary returns a reusable session whose reads go to the primary even when replicas are
// configured: for reads that must see the caller's own writes. Without replicas it is gdb's
// equal.
func Primary(gdb *gorm.DB) *gorm.DB {
	return gdb.Clauses(dbresolver.Write).Session(&gorm.Session{})
}

// Close closes the connection pools of the primary and of every replica.
func Close(gdb *gorm.DB) error {
	var errs []error
	if plugin, ok := gdb.Plugins[(&dbresolver.DBResolver{}).Name()]; ok {
		if resolver, ok := plugin.(*dbresolver.DBResolver); ok {
			// Call visits the primary too; closing a sql.DB twice is harmless.
			errs = append(errs, resolver.Call(func(pool gorm.ConnPool) error {
				if c, ok := pool.(interface{ Close() error }); ok {
					return c.Close()
				}
				return nil
			}))
		}
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return err
	}
	errs = append(errs, sqlDB.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

// Stats returns the statistics of the primary's connection pool.
func Stats(gdb *gorm.DB) sql.DBStats {
	sqlDB, err := gdb.DB()
	if err != nil {
		return sql.DBStats{}
	}
	return sqlDB.Stats()
}

// NowMillis is the clock every store uses for created_at columns, in Unix milliseconds.
func NowMillis() int64 { return time.Now().UnixMilli() }

// listValue is a comma-separated list flag.
type listValue []string

func (l *listValue) String() string { return strings.Join(*l, ",") }

func (l *listValue) Set(s string) error {
	*l = nil
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*l = append(*l, item)
		}
	}
	return nil
}

// privateFiles makes the SQLite file at path (password hashes, private messages) readable by
// its owner only: the file 0600 (SQLite gives its -wal and -shm files the same mode), and, when
// it is the data dir's own (ownDir), that directory 0700.
func privateFiles(path string, ownDir bool) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create database dir: %w", err)
	}
	if ownDir {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("restrict database dir: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create database file: %w", err)
	}
	f.Close()
	// Files of an earlier version were created 0644.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("restrict database file: %w", err)
		}
	}
	return nil
}
