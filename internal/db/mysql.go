package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	gormmysql "gorm.io/driver/mysql"
	"gorm.io/gorm"
)

// Connection defaults added to a MySQL DSN that does not set them.
const (
	// defaultCollation is the connection's and new databases' collation. Binary, like
	// SQLite's, so unique keys and lookups compare exactly on both engines: the _ci
	// collations fold case and accents, and utf8mb4_unicode_ci even holds all emoji equal.
	// MySQL 5.7+/8 and MariaDB all know it. Sent in the handshake, it makes the connection
	// utf8mb4 without the extra SET NAMES round trip that the charset parameter costs.
	defaultCollation = "utf8mb4_bin"
	// defaultDialTimeout bounds connecting, so an unreachable server fails a request
	// instead of hanging it.
	defaultDialTimeout = 5 * time.Second
	// defaultIOTimeout bounds each read and write on a connection: a backstop for a peer
	// that vanished without closing; statements are bounded by their request's context.
	// Long migrations on big tables may need a larger readTimeout in the DSN.
	defaultIOTimeout = 30 * time.Second
)

// mysqlConfig parses dsn and adds the defaults it lacks: a utf8mb4 connection, dial/read/write
// timeouts and client-side parameter interpolation (loc stays the driver's UTC; timestamps
// are int64 milliseconds anyway). It rejects settings the stores cannot work with.
func mysqlConfig(dsn string) (*mysql.Config, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, err // the driver's messages do not echo the password
	}
	if cfg.DBName == "" {
		return nil, errors.New("the MySQL DSN names no database (…/dbname)")
	}
	given := dsnParams(dsn)
	// RowsAffected must count changed rows, not matched ones: an upsert that changed
	// nothing then reports 0, which the stores read as "already there".
	if cfg.ClientFoundRows {
		return nil, errors.New("clientFoundRows=true is not supported: the stores rely on RowsAffected counting changed rows")
	}
	if cs, ok := cfg.Params["charset"]; ok && cs != "utf8mb4" {
		return nil, fmt.Errorf("charset=%s: want utf8mb4 (or leave it out)", cs)
	}
	if given.Has("collation") && !strings.HasPrefix(cfg.Collation, "utf8mb4_") {
		return nil, fmt.Errorf("collation=%s: want a utf8mb4 collation", cfg.Collation)
	}
	if !given.Has("collation") {
		cfg.Collation = defaultCollation
	}
	if !given.Has("timeout") {
		cfg.Timeout = defaultDialTimeout
	}
	if !given.Has("readTimeout") {
		cfg.ReadTimeout = defaultIOTimeout
	}
	if !given.Has("writeTimeout") {
		cfg.WriteTimeout = defaultIOTimeout
	}
	// Interpolating arguments client-side (safe with utf8mb4) turns each statement into one
	// round trip instead of prepare + execute.
	if !given.Has("interpolateParams") {
		cfg.InterpolateParams = true
	}
	return cfg, nil
}

// dsnParams returns the query parameters written in dsn, to tell a parameter set to its
// zero value from one left out.
func dsnParams(dsn string) url.Values {
	i := strings.LastIndex(dsn, "?")
	if i < 0 || strings.LastIndex(dsn, "/") > i {
		return url.Values{}
	}
	params, err := url.ParseQuery(dsn[i+1:])
	if err != nil {
		return url.Values{}
	}
	return params
}

func mysqlDialector(dsn string) (gorm.Dialector, error) {
	cfg, err := mysqlConfig(dsn)
	if err != nil {
		return nil, err
	}
	// Without RETURNING, as on MySQL: with it, MariaDB ≥ 10.5 reports a row for an insert
	// whose duplicate key left the row unchanged, and the stores read RowsAffected == 0 as
	// "already there".
	return gormmysql.New(gormmysql.Config{DSNConfig: cfg, DisableWithReturning: true}), nil
}

// EnsureDatabase creates the database named by the MySQL DSN of cfg when it does not exist,
// with utf8mb4. Production creates its database out of band; `douyin migrate` and the
// tests call this first. For SQLite it does nothing: Open creates the file.
func EnsureDatabase(ctx context.Context, cfg Config) error {
	if cfg.Driver != DriverMySQL {
		return nil
	}
	dsn, err := cfg.PrimaryDSN()
	if err != nil {
		return err
	}
	mcfg, err := mysqlConfig(dsn)
	if err != nil {
		return fmt.Errorf("db.dsn: %w", err)
	}
	name := mcfg.DBName
	// Connect without a database: the one we want may not exist yet.
	mcfg.DBName = ""
	conn, err := sql.Open("mysql", mcfg.FormatDSN())
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	defer conn.Close()
	stmt := "CREATE DATABASE IF NOT EXISTS " + QuoteIdentifier(name) +
		" CHARACTER SET utf8mb4 COLLATE " + defaultCollation
	if _, err := conn.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// QuoteIdentifier quotes a MySQL identifier such as a database name.
func QuoteIdentifier(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// checkCharset refuses a database whose default character set is not utf8mb4: the tables
// Migrate creates inherit it, and another one rejects or mangles 4-byte characters (emoji)
// at the first insert instead of at startup.
func checkCharset(gdb *gorm.DB) error {
	var name, charset string
	err := gdb.Raw("SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()").
		Row().Scan(&name, &charset)
	if err != nil {
		return fmt.Errorf("read the database's character set: %w", err)
	}
	if charset != "utf8mb4" {
		return fmt.Errorf("database %s has character set %s: want utf8mb4 (ALTER DATABASE %s CHARACTER SET utf8mb4 COLLATE %s)",
			name, charset, QuoteIdentifier(name), defaultCollation)
	}
	return nil
}
