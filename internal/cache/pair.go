package cache

import (
	"strconv"
	"strings"
)

// A pair of counters of one entity (a user's follows and followers, likes given and
// received) is cached as one string "a:b" rather than a hash, so a page's worth of entities is
// one MGET instead of an HMGET each.

// FormatPair is the cached value of the pair (a, b).
func FormatPair(a, b int64) string {
	return strconv.FormatInt(a, 10) + ":" + strconv.FormatInt(b, 10)
}

// ParsePair reads a cached pair (a GET or MGET reply); ok is false for a missing or malformed
// value, which callers treat as a miss.
func ParsePair(v any) (a, b int64, ok bool) {
	s, isString := v.(string)
	if !isString {
		return 0, 0, false
	}
	first, second, found := strings.Cut(s, ":")
	a, errA := strconv.ParseInt(first, 10, 64)
	b, errB := strconv.ParseInt(second, 10, 64)
	return a, b, found && errA == nil && errB == nil
}

// PairLua defines the same format for scripts:
//
//	formatPair(a, b)  the cached value of the pair (a, b)
//	parsePair(v)      a, b of a cached value; nil, nil for a malformed one
//	movePair(key, i, d)
//	                  adds d to the i-th (1 or 2) counter of the pair at key, keeping its
//	                  expiry; a missing pair stays missing (created from a delta it would be a
//	                  wrong absolute value), a malformed one fails the script
const PairLua = `
local function formatPair(a, b) return string.format('%d:%d', a, b) end
local function parsePair(v)
  local a, b = string.match(v, '^(-?%d+):(-?%d+)$')
  return tonumber(a), tonumber(b)
end
local function movePair(key, i, d)
  local v = redis.call('GET', key)
  if not v then return end
  local c = {parsePair(v)}
  c[i] = c[i] + d
  redis.call('SET', key, formatPair(c[1], c[2]), 'KEEPTTL')
end
`
