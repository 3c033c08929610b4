// Package db opens the SQL database behind GORM: a SQLite file for the embedded mode and
// MySQL/MariaDB in production.
package db

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Drivers.
const (
	DriverSQLite = "sqlite"
	DriverMySQL  = "mysql"
)

// Config selects and tunes the database.
type Config struct {
	Driver          string
	DSN             string
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
}

// RegisterFlags registers the database settings.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Driver, "db.driver", DriverSQLite, "SQL backend: sqlite (embedded, a file under -data.dir) or mysql")
	fs.StringVar(&c.DSN, "db.dsn", "", "data source name; for sqlite, a file path (default <data.dir>/douyin.db)")
	fs.IntVar(&c.MaxOpenConns, "db.max-open-conns", 32, "maximum open connections")
	fs.IntVar(&c.MaxIdleConns, "db.max-idle-conns", 16, "maximum idle connections")
	fs.DurationVar(&c.ConnMaxLifetime, "db.conn-max-lifetime", 30*time.Minute, "recycle connections after this long")
}

// Validate checks the settings.
func (c *Config) Validate() error {
	switch c.Driver {
	case DriverSQLite:
	case DriverMySQL:
		if c.DSN == "" {
			return fmt.Errorf("db.dsn is required for db.driver=mysql")
		}
	default:
		return fmt.Errorf("db.driver %q: want sqlite or mysql", c.Driver)
	}
	if c.MaxOpenConns < 1 || c.MaxIdleConns < 0 {
		return fmt.Errorf("db pool sizes must be positive")
	}
	return nil
}

// Open connects to the database. For SQLite, dataDir holds the file unless db.dsn names one.
func Open(cfg Config, dataDir string) (*gorm.DB, error) {
	gcfg := &gorm.Config{Logger: logger.Discard, TranslateError: true}
	var dialector gorm.Dialector
	switch cfg.Driver {
	case DriverSQLite:
		path := cfg.DSN
		if path == "" {
			path = filepath.Join(dataDir, "douyin.db")
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("create database dir: %w", err)
		}
		// WAL lets readers run beside the writer; immediate transactions take the write lock
		// up front so concurrent writers wait (busy_timeout) instead of failing to upgrade.
		dialector = sqlite.Open("file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate")
	default:
		return nil, fmt.Errorf("db.driver %q is not supported by this build", cfg.Driver)
	}
	gdb, err := gorm.Open(dialector, gcfg)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", cfg.Driver, err)
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(cfg.MaxOpenConns)
	sqlDB.SetMaxIdleConns(cfg.MaxIdleConns)
	sqlDB.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	return gdb, nil
}

// Close closes the connection pool.
func Close(gdb *gorm.DB) error {
	sqlDB, err := gdb.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// NowMillis is the clock every store uses for created_at columns, in Unix milliseconds.
func NowMillis() int64 { return time.Now().UnixMilli() }
