package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/batch"
	"github.com/douyin-backend/douyin/internal/cache"
)

// RevocationStore keeps what has been revoked: for a token (by its hash) the time it expires
// anyway, for a user the time before which every token of theirs was revoked, both in Unix
// milliseconds. A value only ever grows, so concurrent revocations never undo each other.
type RevocationStore interface {
	Get(ctx context.Context, key string) (int64, bool, error)
	SetIfGreater(ctx context.Context, key string, value int64, ttl time.Duration) error
}

// ErrRevocationUnavailable means the revocation store did not answer: the token can be neither
// accepted nor refused.
var ErrRevocationUnavailable = errors.New("token revocations unavailable")

func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "revoked-token:" + base64.RawURLEncoding.EncodeToString(sum[:18])
}

func userKey(userID int64) string { return "revoked-user:" + strconv.FormatInt(userID, 10) }

// kvRevocations keeps revocations in the cache: Redis when components run in several
// processes, so every gateway sees a logout at once.
type kvRevocations struct {
	kv cache.KV
	// reads shares one read among the checks that arrive while another is in flight, over a
	// kv that reads many keys at once (Redis): every signed-in request checks its token, and
	// under load one MGET answers all the checks waiting. A check is answered by a read that
	// starts after it arrived, so it sees every revocation acknowledged before it. nil: one
	// key at a time.
	reads *batch.Batcher[[]string, revocationRead]
}

// revocationRead is one check's share of a merged read.
type revocationRead struct {
	values []int64
	found  []bool
}

// maxMergedRevocationChecks bounds the token checks one merged read answers.
const maxMergedRevocationChecks = 128

// NewKVRevocations keeps revocations in kv (which must be shared, i.e. Redis, when several
// gateways verify tokens, and persistent for revocations to survive its restart).
func NewKVRevocations(kv cache.KV) RevocationStore {
	r := &kvRevocations{kv: kv}
	if many, ok := kv.(manyGetter); ok {
		r.reads = batch.New(maxMergedRevocationChecks, func(ctx context.Context, checks [][]string) ([]revocationRead, []error) {
			return readMerged(ctx, many, checks)
		})
	}
	return r
}

func (r *kvRevocations) Get(ctx context.Context, key string) (int64, bool, error) {
	v, ok, err := r.kv.Get(ctx, key)
	if err != nil || !ok {
		return 0, false, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("revocation %s: %q is not a time", key, v)
	}
	return n, true, nil
}

// manyGetter is a KV that reads several keys in one round trip (cache.Redis).
type manyGetter interface {
	GetMany(ctx context.Context, keys ...string) ([]string, []bool, error)
}

// getMany reads several revocations at once (a token's check reads two, its user's and its
// own), in the next merged read when kv reads many keys at once.
func (r *kvRevocations) getMany(ctx context.Context, keys ...string) ([]int64, []bool, error) {
	if r.reads == nil {
		return getEach(ctx, r, keys...)
	}
	read, err := r.reads.Do(ctx, keys)
	return read.values, read.found, err
}

// readMerged answers every check of checks (the keys each reads) with one GetMany.
func readMerged(ctx context.Context, kv manyGetter, checks [][]string) ([]revocationRead, []error) {
	var all []string
	for _, keys := range checks {
		all = append(all, keys...)
	}
	out, errs := make([]revocationRead, len(checks)), make([]error, len(checks))
	vals, found, err := kv.GetMany(ctx, all...)
	for i, keys := range checks {
		if err != nil {
			errs[i] = err
			continue
		}
		read := revocationRead{values: make([]int64, len(keys)), found: found[:len(keys):len(keys)]}
		for j, v := range vals[:len(keys)] {
			if !read.found[j] {
				continue
			}
			if read.values[j], errs[i] = strconv.ParseInt(v, 10, 64); errs[i] != nil {
				errs[i] = fmt.Errorf("revocation %s: %q is not a time", keys[j], v)
				break
			}
		}
		out[i] = read
		vals, found = vals[len(keys):], found[len(keys):]
	}
	return out, errs
}

// batchReader is a store that reads several revocations in one call: a token's check reads
// two (its user's and its own) on every request.
type batchReader interface {
	getMany(ctx context.Context, keys ...string) ([]int64, []bool, error)
}

// getEach reads revocations one at a time, from a store without getMany.
func getEach(ctx context.Context, store RevocationStore, keys ...string) ([]int64, []bool, error) {
	out, found := make([]int64, len(keys)), make([]bool, len(keys))
	for i, k := range keys {
		var err error
		if out[i], found[i], err = store.Get(ctx, k); err != nil {
			return nil, nil, err
		}
	}
	return out, found, nil
}

// revocations reads keys from store, in one call when it can.
func revocations(ctx context.Context, store RevocationStore, keys ...string) ([]int64, []bool, error) {
	if b, ok := store.(batchReader); ok {
		return b.getMany(ctx, keys...)
	}
	return getEach(ctx, store, keys...)
}

func (r *kvRevocations) SetIfGreater(ctx context.Context, key string, value int64, ttl time.Duration) error {
	return r.kv.SetIfGreater(ctx, key, value, ttl)
}

// Revocation is a row of the SQL revocation store.
type Revocation struct {
	Name      string `gorm:"primaryKey;size:64"`
	Value     int64  `gorm:"not null"`
	ExpiresAt int64  `gorm:"not null;index"` // Unix ms; past rows are ignored and pruned
}

// TableName names the table.
func (Revocation) TableName() string { return "token_revocations" }

// Migrate creates the revocation table of the SQL store.
func Migrate(gdb *gorm.DB) error {
	if err := gdb.AutoMigrate(&Revocation{}); err != nil {
		return fmt.Errorf("migrate token_revocations: %w", err)
	}
	return nil
}

// sqlRevocations keeps revocations in the database: the embedded mode has no shared cache,
// and the operator's `douyin revoke` must reach the running server through its data.
type sqlRevocations struct {
	gdb *gorm.DB
	now func() time.Time
}

// NewSQLRevocations keeps revocations in gdb (see Migrate), with reads remembered for
// readFor (a revocation made by another process shows within it; this process's own at
// once).
func NewSQLRevocations(gdb *gorm.DB, readFor time.Duration) RevocationStore {
	return newRememberedRevocations(&sqlRevocations{gdb: gdb, now: time.Now}, readFor)
}

func (s *sqlRevocations) Get(ctx context.Context, key string) (int64, bool, error) {
	var rows []Revocation
	err := s.gdb.WithContext(ctx).Where("name = ? AND expires_at > ?", key, s.now().UnixMilli()).Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return 0, false, err
	}
	return rows[0].Value, true, nil
}

// getMany reads keys in one query.
func (s *sqlRevocations) getMany(ctx context.Context, keys ...string) ([]int64, []bool, error) {
	var rows []Revocation
	err := s.gdb.WithContext(ctx).Where("name IN ? AND expires_at > ?", keys, s.now().UnixMilli()).Find(&rows).Error
	if err != nil {
		return nil, nil, err
	}
	out, found := make([]int64, len(keys)), make([]bool, len(keys))
	for _, row := range rows {
		for i, k := range keys {
			if k == row.Name {
				out[i], found[i] = row.Value, true
			}
		}
	}
	return out, found, nil
}

func (s *sqlRevocations) SetIfGreater(ctx context.Context, key string, value int64, ttl time.Duration) error {
	now := s.now()
	expires := now.Add(ttl).UnixMilli()
	return s.gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Expired rows go with any write: revocations are rare, so the table stays small.
		if err := tx.Where("expires_at <= ?", now.UnixMilli()).Delete(&Revocation{}).Error; err != nil {
			return err
		}
		var rows []Revocation
		if err := tx.Where("name = ?", key).Limit(1).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return tx.Create(&Revocation{Name: key, Value: value, ExpiresAt: expires}).Error
		}
		if rows[0].Value >= value {
			return nil
		}
		return tx.Model(&Revocation{}).Where("name = ?", key).Updates(map[string]any{"value": value, "expires_at": max(expires, rows[0].ExpiresAt)}).Error
	})
}

// rememberedRevocations remembers reads of a slower store for a short time. Reads are what
// every signed-in request does, writes are a logout: the remembered reads sit behind a
// read-write lock.
type rememberedRevocations struct {
	store   RevocationStore
	readFor time.Duration
	now     func() time.Time

	mu    sync.RWMutex
	known *cache.Bounded[string, remembered]
	// writes counts this process's revocations: a store read that a revocation overtook
	// may be stale and is not remembered.
	writes uint64
}

type remembered struct {
	value int64
	found bool
}

// maxRememberedRevocations bounds the remembered reads (one per active user and token).
const maxRememberedRevocations = 200_000

func newRememberedRevocations(store RevocationStore, readFor time.Duration) *rememberedRevocations {
	r := &rememberedRevocations{store: store, readFor: readFor, now: time.Now, known: cache.NewBounded[string, remembered](maxRememberedRevocations)}
	r.known.SetClock(func() time.Time { return r.now() })
	return r
}

func (r *rememberedRevocations) Get(ctx context.Context, key string) (int64, bool, error) {
	values, found, err := r.getMany(ctx, key)
	if err != nil {
		return 0, false, err
	}
	return values[0], found[0], nil
}

// getMany answers keys from memory, reading those it does not remember from the store in
// one call.
func (r *rememberedRevocations) getMany(ctx context.Context, keys ...string) ([]int64, []bool, error) {
	values, found := make([]int64, len(keys)), make([]bool, len(keys))
	var missing []string
	now := r.now()
	r.mu.RLock()
	writes := r.writes
	for i, k := range keys {
		if e, ok := r.known.GetAt(k, now); ok {
			values[i], found[i] = e.value, e.found
		} else {
			missing = append(missing, k)
		}
	}
	r.mu.RUnlock()
	if len(missing) == 0 {
		return values, found, nil
	}
	read, readFound, err := revocations(ctx, r.store, missing...)
	if err != nil {
		return nil, nil, err
	}
	r.mu.Lock()
	if r.writes == writes {
		for j, k := range missing {
			r.known.Put(k, remembered{read[j], readFound[j]}, r.readFor)
		}
	}
	r.mu.Unlock()
	for i, k := range keys {
		if j := slices.Index(missing, k); j >= 0 {
			values[i], found[i] = read[j], readFound[j]
		}
	}
	return values, found, nil
}

// Sizes reports the remembered reads against their bound.
func (r *rememberedRevocations) Sizes() []cache.Size {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return []cache.Size{{Name: "auth:revocations", Entries: r.known.Len(), MaxEntries: r.known.Cap()}}
}

func (r *rememberedRevocations) SetIfGreater(ctx context.Context, key string, value int64, ttl time.Duration) error {
	err := r.store.SetIfGreater(ctx, key, value, ttl)
	r.mu.Lock()
	r.writes++
	r.known.Delete(key) // this process sees its own revocation at once
	r.mu.Unlock()
	return err
}
