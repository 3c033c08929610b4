package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
)

// Bursts of the per-key token buckets: a burst of sign-ups is a family on one Wi-Fi; reads
// come in bursts when the app opens (feed, profile, lists, chat).
const (
	authBurst  = 10
	writeBurst = 100
	readBurst  = 200
)

// loginBackoff slows down password guessing against one account from one address: after
// freeFailures failed logins the next attempt waits 1 s, then 2 s, 4 s … up to max, and an
// attempt made while waiting is refused without checking the password. It is keyed by
// account and client address, so failures from an attacker's address never delay the owner
// logging in from theirs (no lockout anyone else can trigger); the per-IP limit bounds the
// attempts per address across accounts. The state is in the shared cache (Redis with several
// gateways), so replicas share it.
type loginBackoff struct {
	kv           cache.KV
	freeFailures int
	max          time.Duration
	now          func() time.Time
}

func (b *loginBackoff) key(username, ip string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(username) + "\x00" + ip))
	return "login-backoff:" + hex.EncodeToString(sum[:16])
}

// state returns the failures recorded and when the last one happened.
func (b *loginBackoff) state(ctx context.Context, key string) (int, time.Time, error) {
	v, ok, err := b.kv.Get(ctx, key)
	if err != nil || !ok {
		return 0, time.Time{}, err
	}
	n, at, _ := strings.Cut(v, ":")
	failures, err1 := strconv.Atoi(n)
	ms, err2 := strconv.ParseInt(at, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, time.Time{}, nil // unreadable: start over
	}
	return failures, time.UnixMilli(ms), nil
}

// delay is how long to wait after the given number of failures.
func (b *loginBackoff) delay(failures int) time.Duration {
	if failures < b.freeFailures {
		return 0
	}
	d := time.Second
	for i := b.freeFailures; i < failures && d < b.max; i++ {
		d *= 2
	}
	return min(d, b.max)
}

// check returns a RateLimited error while the account is backing off for this address.
func (b *loginBackoff) check(ctx context.Context, username, ip string) error {
	if b.freeFailures <= 0 {
		return nil
	}
	failures, last, err := b.state(ctx, b.key(username, ip))
	if err != nil {
		return wrapUnavailable("read login backoff", err)
	}
	if wait := last.Add(b.delay(failures)).Sub(b.now()); wait > 0 {
		return rateLimited("too many failed logins for this account, please wait", wait)
	}
	return nil
}

// failed records a failed login.
func (b *loginBackoff) failed(ctx context.Context, username, ip string) error {
	if b.freeFailures <= 0 {
		return nil
	}
	key := b.key(username, ip)
	failures, _, err := b.state(ctx, key)
	if err != nil {
		return err
	}
	// The record outlives the longest wait, so the count keeps growing while guessing goes on.
	return b.kv.Set(ctx, key, fmt.Sprintf("%d:%d", failures+1, b.now().UnixMilli()), 2*b.max+time.Hour)
}

// succeeded forgets the failures.
func (b *loginBackoff) succeeded(ctx context.Context, username, ip string) error {
	if b.freeFailures <= 0 {
		return nil
	}
	return b.kv.Delete(ctx, b.key(username, ip))
}

// uploadQuota bounds what one user uploads per UTC day, in count and bytes, in the shared
// cache so every gateway replica counts together. Concurrent uploads of one user may pass
// together and exceed it by what is in flight; the per-user write limit bounds that.
type uploadQuota struct {
	kv       cache.KV
	perDay   int
	bytesDay int64
	now      func() time.Time
}

func (q *uploadQuota) key(user int64) (string, time.Duration) {
	now := q.now().UTC()
	midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	return fmt.Sprintf("upload-quota:%d:%s", user, now.Format("20060102")), midnight.Sub(now)
}

func (q *uploadQuota) used(ctx context.Context, key string) (int, int64, error) {
	v, ok, err := q.kv.Get(ctx, key)
	if err != nil || !ok {
		return 0, 0, err
	}
	n, b, _ := strings.Cut(v, ":")
	count, _ := strconv.Atoi(n)
	size, _ := strconv.ParseInt(b, 10, 64)
	return count, size, nil
}

// check refuses an upload of size bytes (0: not known yet) that would pass the day's quota.
func (q *uploadQuota) check(ctx context.Context, user, size int64) error {
	if q.perDay <= 0 && q.bytesDay <= 0 {
		return nil
	}
	key, untilMidnight := q.key(user)
	count, bytes, err := q.used(ctx, key)
	if err != nil {
		return wrapUnavailable("read upload quota", err)
	}
	if q.perDay > 0 && count >= q.perDay {
		return rateLimited(fmt.Sprintf("you have uploaded %d videos today, the daily limit", q.perDay), untilMidnight)
	}
	if q.bytesDay > 0 && bytes+size > q.bytesDay {
		return rateLimited(fmt.Sprintf("this upload would pass your daily upload volume of %d MiB", q.bytesDay>>20), untilMidnight)
	}
	return nil
}

// add counts an accepted upload.
func (q *uploadQuota) add(ctx context.Context, user, size int64) error {
	if q.perDay <= 0 && q.bytesDay <= 0 {
		return nil
	}
	key, untilMidnight := q.key(user)
	count, bytes, err := q.used(ctx, key)
	if err != nil {
		return err
	}
	return q.kv.Set(ctx, key, fmt.Sprintf("%d:%d", count+1, bytes+size), untilMidnight+time.Hour)
}

// spoolBudget bounds the bytes all uploads in flight may hold in the temporary directory.
type spoolBudget struct {
	limit int64 // 0: unbounded
	used  atomic.Int64
}

// reserve takes n bytes, reporting false (and taking nothing) when that would pass the limit.
func (s *spoolBudget) reserve(n int64) bool {
	if s.limit <= 0 {
		return true
	}
	if s.used.Add(n) > s.limit {
		s.used.Add(-n)
		return false
	}
	return true
}

func (s *spoolBudget) release(n int64) {
	if s.limit > 0 {
		s.used.Add(-n)
	}
}

// limitError is a refusal that tells the client when to try again (Retry-After).
type limitError struct {
	err   error
	after time.Duration
}

func (e limitError) Error() string { return e.err.Error() }
func (e limitError) Unwrap() error { return e.err }

func rateLimited(msg string, after time.Duration) error {
	return limitError{errs.New(base.ErrCode_RateLimited, msg), after}
}

func unavailable(msg string, after time.Duration) error {
	return limitError{errs.New(base.ErrCode_Unavailable, msg), after}
}

// wrapUnavailable reports a failed dependency of a limit (the shared cache) as 503.
func wrapUnavailable(action string, err error) error {
	return fmt.Errorf("%s: %v: %w", action, err, limitError{errs.New(base.ErrCode_Unavailable, ""), time.Second})
}

// asLimit reports whether err carries a limitError, storing it in target.
func asLimit(err error, target *limitError) bool { return errors.As(err, target) }
