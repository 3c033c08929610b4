package cache

import (
	"context"
	"fmt"
	"time"

	"github.com/bytedance/sonic"
	"github.com/redis/go-redis/v9"
)

// LookupObserver counts cache hits and misses (telemetry.Metrics implements it).
type LookupObserver interface {
	CacheLookups(cache string, hits, misses int)
}

// Records caches JSON records (encoded with sonic, as the HTTP edge does) by int64 id in one key space ("<prefix><space>:<id>"): a batch
// is read with one MGET and written with one pipeline, each key with a jittered TTL. It backs
// the cache-aside reads of the services; an undecodable or foreign value counts as a miss.
type Records[T any] struct {
	r        *Redis
	space    string
	ttl      time.Duration
	idOf     func(T) int64
	observer LookupObserver
}

// NewRecords returns a record cache on r; idOf tells the id a record is stored under.
func NewRecords[T any](r *Redis, space string, ttl time.Duration, idOf func(T) int64) *Records[T] {
	return &Records[T]{r: r, space: space, ttl: ttl, idOf: idOf}
}

// Observe reports every lookup's hits and misses to o.
func (c *Records[T]) Observe(o LookupObserver) *Records[T] {
	c.observer = o
	return c
}

func (c *Records[T]) key(id int64) string {
	return c.r.IDKey(id, c.space, ":")
}

func (c *Records[T]) keys(ids []int64) []string {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = c.key(id)
	}
	return keys
}

// splitMGet sorts the replies of an MGET of ids into found (the values decode accepts) and
// the missing ids, in request order: absent keys and values that do not decode are misses.
func splitMGet[V any](ids []int64, vals []any, found map[int64]V, decode func(id int64, s string) (V, bool)) []int64 {
	var missing []int64
	for i, v := range vals {
		s, ok := v.(string)
		if ok {
			var value V
			if value, ok = decode(ids[i], s); ok {
				found[ids[i]] = value
				continue
			}
		}
		missing = append(missing, ids[i])
	}
	return missing
}

// MGet returns the cached records among ids and, in request order, the ids it lacks.
func (c *Records[T]) MGet(ctx context.Context, ids []int64) (map[int64]T, []int64, error) {
	if len(ids) == 0 {
		return map[int64]T{}, nil, nil
	}
	vals, err := c.r.Client().MGet(ctx, c.keys(ids)...).Result()
	if err != nil {
		return nil, nil, fmt.Errorf("redis mget %s: %w", c.space, err)
	}
	found := make(map[int64]T, len(ids))
	missing := splitMGet(ids, vals, found, func(id int64, s string) (T, bool) {
		var rec T
		return rec, sonic.ConfigStd.UnmarshalFromString(s, &rec) == nil && c.idOf(rec) == id
	})
	if c.observer != nil {
		c.observer.CacheLookups(c.space, len(found), len(missing))
	}
	return found, missing, nil
}

// MSet caches the records in one pipeline, each with its own jittered expiry.
func (c *Records[T]) MSet(ctx context.Context, records []T) error {
	if len(records) == 0 {
		return nil
	}
	_, err := c.r.Client().Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, rec := range records {
			body, err := sonic.ConfigStd.Marshal(rec)
			if err != nil {
				return err
			}
			p.Set(ctx, c.key(c.idOf(rec)), body, TTL(c.ttl))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis set %s: %w", c.space, err)
	}
	return nil
}

// Delete drops the records of ids in one DEL.
func (c *Records[T]) Delete(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if err := c.r.Client().Del(ctx, c.keys(ids)...).Err(); err != nil {
		return fmt.Errorf("redis delete %s: %w", c.space, err)
	}
	return nil
}
