package favorite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
	"github.com/douyin-backend/douyin/kitex_gen/event"
)

// BenchmarkApplyLikes measures the SQL writer of the like pipeline on SQLite (the embedded
// mode, where it is the bottleneck of like throughput): group-commit batches of 1, 8 and 64
// events on a table of 20k likes, half new pairs and half toggles of stored ones. ns/like
// shows the fixed cost of a transaction against the cost of one more like in it.
//
//	go test -run '^$' -bench ApplyLikes -benchtime 1s ./services/favorite/
func BenchmarkApplyLikes(b *testing.B) {
	for _, batch := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) { benchmarkApplyLikes(b, batch) })
	}
}

func benchmarkApplyLikes(b *testing.B, batch int) {
	const users, videos = 1000, 10000
	ctx := context.Background()
	gdb := dbtest.Opener(dbtest.OpenSQLite).Migrated(b, Migrate)
	st := NewSQLStore(gdb)
	rng := rand.New(rand.NewPCG(1, 2))
	liked := map[likePair]bool{}
	var stored []likePair
	seq := time.Now().UnixNano()
	next := func(fresh bool) event.LikeEvent {
		seq++
		p := likePair{rng.Int64N(users) + 1, rng.Int64N(videos) + 1}
		if !fresh && len(stored) > 0 {
			p = stored[rng.IntN(len(stored))]
		}
		if _, ok := liked[p]; !ok {
			stored = append(stored, p)
		}
		liked[p] = !liked[p]
		return event.LikeEvent{UserId: p.userID, VideoId: p.videoID, AuthorId: p.videoID%users + 1, Liked: liked[p], Seq: seq, At: seq / 1e6}
	}
	apply := func(events []event.LikeEvent) {
		if _, errs := st.ApplyLikes(ctx, events); errs != nil {
			for _, err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	events := make([]event.LikeEvent, 64)
	for range 20_000 / len(events) {
		for i := range events {
			events[i] = next(true)
		}
		apply(events)
	}
	events = events[:batch]
	b.ResetTimer()
	for range b.N {
		for i := range events {
			events[i] = next(i%2 == 0)
		}
		apply(events)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/like")
}
