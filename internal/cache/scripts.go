package cache

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// ScriptCall is one run of a Lua script: its keys and arguments.
type ScriptCall struct {
	Script *redis.Script
	Keys   []string
	Args   []any
}

// RunPipelined runs calls in order in one pipelined round trip (EVALSHA) and returns each
// call's command, which carries its own result or error. A pipelined EVALSHA cannot fall back
// to EVAL the way Script.Run does: Redis answers NOSCRIPT when it lost a script (a fresh or
// restarted server, SCRIPT FLUSH), and the calls so answered run again by EVAL, which loads
// the script, in one more pipelined round trip.
func RunPipelined(ctx context.Context, c redis.UniversalClient, calls []ScriptCall) []*redis.Cmd {
	cmds := make([]*redis.Cmd, len(calls))
	_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, call := range calls {
			cmds[i] = call.Script.EvalSha(ctx, p, call.Keys, call.Args...)
		}
		return nil
	}) // each command carries its own error
	var lost []int
	for i, cmd := range cmds {
		if err := cmd.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			lost = append(lost, i)
		}
	}
	if len(lost) == 0 {
		return cmds
	}
	_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, i := range lost {
			cmds[i] = calls[i].Script.Eval(ctx, p, calls[i].Keys, calls[i].Args...)
		}
		return nil
	})
	return cmds
}
