package cache

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// SetLoaded is the member that marks a cached id set as loaded from SQL. With it an empty set
// is cacheable (Redis deletes empty sets), and a set without it is a miss even if an
// increment-style step left members in it. Ids are positive integers, so it never collides.
const SetLoaded = "~loaded"

// fillSetScript creates a set only if it does not exist: a set that exists is at least as new
// as the SQL rows just read (every change applies to it atomically), so it must win.
// ARGV: ttl ms, then members. SADD goes in chunks because Lua's unpack has a stack limit.
var fillSetScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SADD', KEYS[1], ARGV[2])
local n = #ARGV
local i = 3
while i <= n do
  local j = math.min(i + 4999, n)
  redis.call('SADD', KEYS[1], unpack(ARGV, i, j))
  i = j + 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`)

// FillSet creates key as the set of members plus SetLoaded, expiring after ttl, unless key
// already exists. It returns the command so it can be queued on a pipeline.
func FillSet(ctx context.Context, c redis.Scripter, key string, members []int64, ttl time.Duration) *redis.Cmd {
	args := make([]any, 0, len(members)+2)
	args = append(args, ttl.Milliseconds(), SetLoaded)
	for _, m := range members {
		args = append(args, m)
	}
	// Eval rather than EvalSha: a fill may be queued on a pipeline, where the NOSCRIPT
	// fallback of Script.Run cannot happen. Fills only follow misses, so the bytes are cheap.
	return fillSetScript.Eval(ctx, c, []string{key}, args...)
}

// MembersOfLoaded asks which of ids are members of the set key filled by FillSet, in one
// SMISMEMBER whose first member is SetLoaded. It returns the command so it can be queued on a
// pipeline; LoadedMembers reads its answer.
func MembersOfLoaded(ctx context.Context, c redis.Cmdable, key string, ids []int64) *redis.BoolSliceCmd {
	members := make([]any, 0, len(ids)+1)
	members = append(members, SetLoaded)
	for _, id := range ids {
		members = append(members, id)
	}
	return c.SMIsMember(ctx, key, members...)
}

// LoadedMembers is the answer of MembersOfLoaded for n ids: whether each is a member, in
// order, and whether the set is loaded at all (false: no flags, the set is a miss).
func LoadedMembers(cmd *redis.BoolSliceCmd, n int) (members []bool, loaded bool) {
	flags := cmd.Val()
	if len(flags) != n+1 || !flags[0] {
		return nil, false
	}
	return flags[1:], true
}

// ParseCounter reads an optional integer reply (GET, MGET): ok is false for a missing or
// malformed value, which callers treat as a miss.
func ParseCounter(v any) (n int64, ok bool) {
	s, isString := v.(string)
	if !isString {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
