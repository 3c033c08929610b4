package cache

import (
	"context"
	"strconv"
)

func parseInt(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }

func formatInt(v int64) string { return strconv.FormatInt(v, 10) }

// GetInt reads an int64 value; a missing or malformed value is a miss.
func GetInt(ctx context.Context, kv KV, key string) (int64, bool, error) {
	s, ok, err := kv.Get(ctx, key)
	if err != nil || !ok {
		return 0, false, err
	}
	v, err := parseInt(s)
	if err != nil {
		return 0, false, nil
	}
	return v, true, nil
}
