package db

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
)

// erLockDeadlock is MySQL's ER_LOCK_DEADLOCK: the server rolled the whole transaction back
// to break a lock cycle.
const erLockDeadlock = 1213

// TransactAttempts bounds the runs of one Transact call.
const TransactAttempts = 10

// IsRetryable reports whether err means the database rolled the transaction back to resolve
// a conflict with a concurrent one (a MySQL/InnoDB deadlock), so running the whole
// transaction again is the expected remedy. Under InnoDB, transactions that upsert several
// counter rows, or insert into a gap they read with a locking read, deadlock now and then;
// SQLite serialises writers instead.
func IsRetryable(err error) bool {
	var myErr *mysql.MySQLError
	return errors.As(err, &myErr) && myErr.Number == erLockDeadlock
}

// Backoff waits before retry number attempt (1 for the first retry) of a transaction that
// IsRetryable failed: a random delay that grows with attempt, up to 16 ms, so the
// transactions that collided do not collide again in lockstep. It returns early with the
// context's error.
func Backoff(ctx context.Context, attempt int) error {
	limit := time.Millisecond << min(max(attempt-1, 0), 4)
	timer := time.NewTimer(rand.N(limit) + time.Millisecond/4)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// Transact runs fn in a transaction on gdb, and runs it again (up to TransactAttempts
// times, after a Backoff) when the database rolled it back to break a deadlock. fn may
// therefore run more than once: it must set its results afresh on each run.
func Transact(ctx context.Context, gdb *gorm.DB, fn func(tx *gorm.DB) error) error {
	var err error
	for attempt := range TransactAttempts {
		if attempt > 0 {
			if waitErr := Backoff(ctx, attempt); waitErr != nil {
				return err
			}
		}
		err = gdb.WithContext(ctx).Transaction(fn)
		if !IsRetryable(err) {
			return err
		}
	}
	return err
}
