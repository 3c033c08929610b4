package recommend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/douyin-backend/douyin/internal/batch"
	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/db"
)

// Tuning of the Redis state.
const (
	// stateLogMaxLen bounds the change log (approximately): an instance further behind than
	// this reloads its model from the state.
	stateLogMaxLen = 1_000_000
	// stateBatch is how many events one pipeline of the rebuild, and one read of the
	// snapshot or the log, carries.
	stateBatch = 1000
	// rebuildLease is how long an instance may hold the rebuild before another takes over.
	rebuildLease = 10 * time.Minute
	// followBlock is how long one read of the log waits for changes; between reads the
	// instance checks that the state was not lost (a flushed or restarted Redis), and at most
	// once per followBlock that the log was not trimmed past it.
	followBlock = time.Second
	// maxPipelinedEvents bounds the consumed events applied in one pipelined round trip.
	maxPipelinedEvents = 128
)

// RedisState is the State shared by the recommend instances of a deployment. Redis holds the
// model's facts, and a log of the changes. Every instance reads the facts into its own model at
// start and then follows the log, so an event consumed by any instance reaches them all. Keys,
// under the deployment's prefix:
//
//	rec:v          HASH video id → "author:created" (ready videos)
//	rec:l:{user}   HASH video id → "seq:at:1|0" (the last like event applied per pair)
//	rec:f:{user}   HASH author id → at of the last follow, negative for an unfollow
//	rec:users      SET users with a rec:l or rec:f hash
//	rec:c          HASH comment id → "video:at:1|0" (0: deleted, a tombstone)
//	rec:log        STREAM of applied events (field e: the JSON Event), about stateLogMaxLen long
//	rec:ready      STRING set once the facts were rebuilt from SQL; missing: the state is empty
//	rec:rebuild    STRING the rebuild's lock
type RedisState struct {
	r     *cache.Redis
	log   *slog.Logger
	model atomic.Pointer[Model]
	// applies shares one pipelined round trip among the events the queue's consumers hand
	// over at the same time: each script still runs atomically, in the order they queued.
	applies *batch.Batcher[Event, struct{}]
	// pos is the last log entry applied to the model; checkedPos and checkedAt are the
	// position and time of the last check for trimming (the follower's alone).
	pos        string
	checkedPos string
	checkedAt  time.Time
	source     Source
	stop       context.CancelFunc
	done       chan struct{}
}

var _ State = (*RedisState)(nil)

// NewRedisState returns the state on r; Start loads it.
func NewRedisState(r *cache.Redis, log *slog.Logger) *RedisState {
	s := &RedisState{r: r, log: log}
	s.applies = batch.New(maxPipelinedEvents, s.applyMany)
	s.model.Store(NewModel(db.NowMillis()))
	return s
}

func (s *RedisState) key(name string) string { return s.r.Key("rec:" + name) }

func (s *RedisState) userKey(kind string, user int64) string {
	return s.r.IDKey(user, "rec:", kind, ":")
}

// Model returns the instance's current model.
func (s *RedisState) Model() *Model { return s.model.Load() }

// applyScript applies one event to its hash unless what is there is as new (see Event),
// records its user, and appends it to the log when asked. KEYS: the hash, rec:users,
// rec:log. ARGV: kind, field, value, event JSON, log max length, "1" to log, user ("" for
// none), and the event's order: the like's seq, the comment's 1|0, the follow's at.
var applyScript = redis.NewScript(`
local kind, field = ARGV[1], ARGV[2]
local cur = redis.call('HGET', KEYS[1], field)
if cur then
  if kind == 'video' then return 0 end
  if kind == 'like' and tonumber(string.match(cur, '^%d+')) >= tonumber(ARGV[8]) then return 0 end
  if kind == 'comment' and (ARGV[8] == '1' or string.sub(cur, -2) == ':0') then return 0 end
  if kind == 'follow' and math.abs(tonumber(cur)) > tonumber(ARGV[8]) then return 0 end
end
redis.call('HSET', KEYS[1], field, ARGV[3])
if ARGV[7] ~= '' then redis.call('SADD', KEYS[2], ARGV[7]) end
if ARGV[6] == '1' then redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'e', ARGV[4]) end
return 1
`)

// applyArgs returns the keys and arguments of applyScript for e.
func (s *RedisState) applyArgs(e Event, logged bool) ([]string, []any, error) {
	var body []byte
	if logged {
		var err error
		if body, err = json.Marshal(e); err != nil {
			return nil, nil, err
		}
	}
	var hash, field, value, user, order string
	flag := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	switch e.Kind {
	case EventVideo:
		hash, field, value = s.key("v"), id(e.Video), id(e.Author)+":"+id(e.At)
	case EventLike:
		hash, field, value = s.userKey("l", e.User), id(e.Video), id(e.Seq)+":"+id(e.At)+":"+flag(e.On)
		user, order = id(e.User), id(e.Seq)
	case EventComment:
		hash, field, value = s.key("c"), id(e.Comment), id(e.Video)+":"+id(e.At)+":"+flag(e.On)
		order = flag(e.On)
	case EventFollow:
		at := e.At
		if !e.On {
			at = -at
		}
		hash, field, value = s.userKey("f", e.User), id(e.Author), id(at)
		user, order = id(e.User), id(e.At)
	default:
		return nil, nil, fmt.Errorf("unknown event kind %q", e.Kind)
	}
	return []string{hash, s.key("users"), s.key("log")},
		[]any{string(e.Kind), field, value, body, stateLogMaxLen, flag(logged), user, order}, nil
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

// Apply writes e to Redis and its log, then to this instance's model (the others get it
// from the log), in one pipelined round trip with the events applied at the same time.
func (s *RedisState) Apply(ctx context.Context, e Event) error {
	_, err := s.applies.Do(ctx, e)
	return err
}

// applyMany writes events to Redis and its log in one pipelined round trip, then applies to
// this instance's model those that Redis took; an error is reported per event.
func (s *RedisState) applyMany(ctx context.Context, events []Event) ([]struct{}, []error) {
	errs := make([]error, len(events))
	for i, err := range s.runApplies(ctx, events, true) {
		if err != nil {
			errs[i] = fmt.Errorf("apply %s event: %w", events[i].Kind, err)
			continue
		}
		s.Model().Apply(events[i])
	}
	return make([]struct{}, len(events)), errs
}

// runApplies runs applyScript for each event in one pipelined round trip (logged: appending
// what changed to the log) and returns each event's error.
func (s *RedisState) runApplies(ctx context.Context, events []Event, logged bool) []error {
	errs := make([]error, len(events))
	calls := make([]cache.ScriptCall, 0, len(events))
	called := make([]int, 0, len(events)) // the index in events of each call
	for i, e := range events {
		keys, args, err := s.applyArgs(e, logged)
		if err != nil {
			errs[i] = err
			continue
		}
		calls = append(calls, cache.ScriptCall{Script: applyScript, Keys: keys, Args: args})
		called = append(called, i)
	}
	for j, cmd := range cache.RunPipelined(ctx, s.r.Client(), calls) {
		errs[called[j]] = cmd.Err()
	}
	return errs
}

// Start rebuilds the facts from source when Redis holds none, loads them into the model,
// and follows the log from before the load (entries applied twice change nothing).
func (s *RedisState) Start(ctx context.Context, source Source) error {
	if s.stop != nil {
		return errors.New("the recommender's Redis state was started twice")
	}
	s.source = source
	pos, err := s.logEnd(ctx)
	if err != nil {
		return err
	}
	if err := s.ensureBuilt(ctx); err != nil {
		return err
	}
	m := NewModel(db.NowMillis())
	if err := s.load(ctx, m); err != nil {
		return err
	}
	s.model.Store(m)
	s.pos, s.checkedPos, s.checkedAt = pos, pos, time.Now()
	followCtx, stop := context.WithCancel(context.Background())
	s.stop, s.done = stop, make(chan struct{})
	go s.follow(followCtx)
	return nil
}

// Close stops following the log.
func (s *RedisState) Close() error {
	if s.stop != nil {
		s.stop()
		<-s.done
		s.stop = nil
	}
	return nil
}

// logEnd is the id of the log's last entry ("0-0" when it has none).
func (s *RedisState) logEnd(ctx context.Context) (string, error) {
	last, err := s.r.Client().XRevRangeN(ctx, s.key("log"), "+", "-", 1).Result()
	if err != nil {
		return "", fmt.Errorf("read the recommender's log: %w", err)
	}
	if len(last) == 0 {
		return "0-0", nil
	}
	return last[0].ID, nil
}

// ensureBuilt returns once the facts are in Redis: rebuilt from SQL by this instance, or by
// another one that holds the rebuild's lock.
func (s *RedisState) ensureBuilt(ctx context.Context) error {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		n, err := s.r.Client().Exists(ctx, s.key("ready")).Result()
		if err != nil {
			return fmt.Errorf("check the recommender's state: %w", err)
		}
		if n == 1 {
			return nil
		}
		token := strconv.FormatInt(time.Now().UnixNano(), 36)
		got, err := s.r.Client().SetNX(ctx, s.key("rebuild"), token, rebuildLease).Result()
		if err != nil {
			return fmt.Errorf("lock the recommender's rebuild: %w", err)
		}
		if got {
			return s.rebuild(ctx)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the recommender's rebuild: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// rebuild writes every fact of source to Redis (not to the log: instances that are running
// have them already), then marks the state ready.
func (s *RedisState) rebuild(ctx context.Context) error {
	started := time.Now()
	var batch []Event
	var n int
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := errors.Join(s.runApplies(ctx, batch, false)...)
		n += len(batch)
		batch = batch[:0]
		return err
	}
	if s.source != nil {
		err := s.source.Load(ctx, func(e Event) error {
			batch = append(batch, e)
			if len(batch) == stateBatch {
				return flush()
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		if err != nil {
			return fmt.Errorf("rebuild the recommender's state from SQL: %w", err)
		}
	}
	if err := s.r.Client().Set(ctx, s.key("ready"), "1", 0).Err(); err != nil {
		return fmt.Errorf("mark the recommender's state ready: %w", err)
	}
	_ = s.r.Client().Del(ctx, s.key("rebuild")).Err() // the lease expires anyway
	s.log.Info("recommender state rebuilt from SQL into Redis", "events", n, "took", time.Since(started))
	return nil
}

// load reads every fact in Redis into m: videos, then likes and follows per user, then comments.
func (s *RedisState) load(ctx context.Context, m *Model) error {
	c := s.r.Client()
	err := scanHash(ctx, c, s.key("v"), func(field, value string) error {
		video, err1 := strconv.ParseInt(field, 10, 64)
		author, created, ok := strings.Cut(value, ":")
		a, err2 := strconv.ParseInt(author, 10, 64)
		at, err3 := strconv.ParseInt(created, 10, 64)
		if err := errors.Join(err1, err2, err3); err != nil || !ok {
			return fmt.Errorf("bad video %q: %q", field, value)
		}
		m.AddVideo(video, a, at)
		return nil
	})
	if err == nil {
		err = s.loadUsers(ctx, m)
	}
	if err == nil {
		err = scanHash(ctx, c, s.key("c"), func(field, value string) error {
			comment, err1 := strconv.ParseInt(field, 10, 64)
			parts := strings.Split(value, ":")
			if len(parts) != 3 || err1 != nil {
				return fmt.Errorf("bad comment %q: %q", field, value)
			}
			video, err2 := strconv.ParseInt(parts[0], 10, 64)
			at, err3 := strconv.ParseInt(parts[1], 10, 64)
			if err := errors.Join(err2, err3); err != nil {
				return fmt.Errorf("bad comment %q: %q", field, value)
			}
			m.ApplyComment(comment, video, parts[2] == "1", at)
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("load the recommender's state: %w", err)
	}
	return nil
}

// loadUsers reads the likes and follows of every user in rec:users, stateBatch users a pipeline.
func (s *RedisState) loadUsers(ctx context.Context, m *Model) error {
	c := s.r.Client()
	var users []int64
	flush := func() error {
		if len(users) == 0 {
			return nil
		}
		likes := make([]*redis.MapStringStringCmd, len(users))
		follows := make([]*redis.MapStringStringCmd, len(users))
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, u := range users {
				likes[i] = p.HGetAll(ctx, s.userKey("l", u))
				follows[i] = p.HGetAll(ctx, s.userKey("f", u))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i, u := range users {
			for field, value := range likes[i].Val() {
				video, err1 := strconv.ParseInt(field, 10, 64)
				parts := strings.Split(value, ":")
				if len(parts) != 3 || err1 != nil {
					return fmt.Errorf("bad like %d/%q: %q", u, field, value)
				}
				seq, err2 := strconv.ParseInt(parts[0], 10, 64)
				at, err3 := strconv.ParseInt(parts[1], 10, 64)
				if err := errors.Join(err2, err3); err != nil {
					return fmt.Errorf("bad like %d/%q: %q", u, field, value)
				}
				m.ApplyLike(u, video, parts[2] == "1", seq, at)
			}
			for field, value := range follows[i].Val() {
				author, err1 := strconv.ParseInt(field, 10, 64)
				at, err2 := strconv.ParseInt(value, 10, 64)
				if err := errors.Join(err1, err2); err != nil {
					return fmt.Errorf("bad follow %d/%q: %q", u, field, value)
				}
				m.ApplyFollow(u, author, at > 0, abs(at))
			}
		}
		users = users[:0]
		return nil
	}
	iter := c.SScan(ctx, s.key("users"), 0, "", stateBatch).Iterator()
	for iter.Next(ctx) {
		u, err := strconv.ParseInt(iter.Val(), 10, 64)
		if err != nil {
			return fmt.Errorf("bad user %q", iter.Val())
		}
		users = append(users, u)
		if len(users) == stateBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	return flush()
}

// scanHash calls each for every field of the hash at key.
func scanHash(ctx context.Context, c redis.UniversalClient, key string, each func(field, value string) error) error {
	iter := c.HScan(ctx, key, 0, "", stateBatch).Iterator()
	for iter.Next(ctx) {
		field := iter.Val()
		if !iter.Next(ctx) {
			break
		}
		if err := each(field, iter.Val()); err != nil {
			return err
		}
	}
	return iter.Err()
}

// follow applies the log to the model until ctx ends. Between reads it checks that the
// state is still there: when Redis lost it, the facts are rebuilt from SQL (this instance's
// model has them all already); when the log was trimmed past this instance's position, the
// model is reloaded from the facts.
func (s *RedisState) follow(ctx context.Context) {
	defer close(s.done)
	c := s.r.Client()
	for ctx.Err() == nil {
		streams, err := c.XRead(ctx, &redis.XReadArgs{
			Streams: []string{s.key("log"), s.pos}, Count: stateBatch, Block: followBlock,
		}).Result()
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, redis.Nil):
			s.check(ctx)
			s.checkTrimmed(ctx)
			continue
		case err != nil:
			s.log.Warn("follow the recommender's log", "err", err)
			s.pause(ctx)
			continue
		}
		m := s.Model()
		for _, st := range streams {
			for _, msg := range st.Messages {
				var e Event
				if body, ok := msg.Values["e"].(string); ok && json.Unmarshal([]byte(body), &e) == nil {
					m.Apply(e)
				} else {
					s.log.Warn("malformed entry of the recommender's log skipped", "id", msg.ID)
				}
				s.pos = msg.ID
			}
		}
		s.checkTrimmed(ctx)
	}
}

// check rebuilds the facts when Redis lost them.
func (s *RedisState) check(ctx context.Context) {
	n, err := s.r.Client().Exists(ctx, s.key("ready")).Result()
	if err != nil || n == 1 {
		return
	}
	s.log.Warn("the recommender's state is gone from Redis: rebuilding it from SQL")
	if err := s.ensureBuilt(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("rebuild the recommender's state", "err", err)
	}
}

// checkTrimmed reloads the model when entries after the position of the last check may have
// been trimmed before they were read: the log's first entry is past that position, and some
// entries were removed. It runs at most once per followBlock, not after every read (a round
// trip as costly as the read); measuring from the last check, not the last read, still
// catches every gap.
func (s *RedisState) checkTrimmed(ctx context.Context) {
	if time.Since(s.checkedAt) < followBlock {
		return
	}
	from := s.checkedPos
	s.checkedPos, s.checkedAt = s.pos, time.Now()
	info, err := s.r.Client().XInfoStream(ctx, s.key("log")).Result()
	if err != nil || info.EntriesAdded <= info.Length || !streamIDBefore(from, info.FirstEntry.ID) {
		return
	}
	s.log.Warn("the recommender fell behind its log: reloading the model", "at", from, "log starts at", info.FirstEntry.ID)
	pos := info.LastGeneratedID
	m := NewModel(db.NowMillis())
	if err := s.load(ctx, m); err != nil {
		s.log.Error("reload the recommender's model", "err", err)
		return
	}
	s.model.Store(m)
	s.pos, s.checkedPos = pos, pos
}

func (s *RedisState) pause(ctx context.Context) {
	t := time.NewTimer(followBlock)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// streamIDBefore reports whether stream entry id a is older than b.
func streamIDBefore(a, b string) bool {
	pa, pb := parseStreamID(a), parseStreamID(b)
	if pa[0] != pb[0] {
		return pa[0] < pb[0]
	}
	return pa[1] < pb[1]
}

func parseStreamID(id string) [2]uint64 {
	ms, seq, _ := strings.Cut(id, "-")
	a, _ := strconv.ParseUint(ms, 10, 64)
	b, _ := strconv.ParseUint(seq, 10, 64)
	return [2]uint64{a, b}
}
