package video

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/cache/cachetest"
)

func TestTimelineContract(t *testing.T) {
	impls := map[string]func(t *testing.T, size int) Timeline{
		"memory": func(_ *testing.T, size int) Timeline { return NewMemoryTimeline(size) },
		"redis": func(t *testing.T, size int) Timeline {
			r, _ := cachetest.New(t)
			return NewRedisTimeline(r, size, time.Hour)
		},
	}
	ids := func(es []TimelineEntry) []int64 {
		out := make([]int64, len(es))
		for i, e := range es {
			out[i] = e.ID
		}
		return out
	}
	for name, newTimeline := range impls {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			tl := newTimeline(t, 4)
			if _, answer, err := tl.Before(ctx, 1000, 2); err != nil || answer != TimelineNotLoaded {
				t.Fatalf("Before on a fresh timeline = %v %v, want TimelineNotLoaded", answer, err)
			}
			// A video made ready while a load read SQL without it: the load must not lose it.
			if err := tl.Add(ctx, TimelineEntry{ID: 9, CreatedAt: 900}); err != nil {
				t.Fatal(err)
			}
			if _, answer, _ := tl.Before(ctx, 1000, 2); answer != TimelineNotLoaded {
				t.Fatalf("an Add alone must not mark the timeline loaded, got %v", answer)
			}
			stale := []TimelineEntry{{ID: 8, CreatedAt: 800}, {ID: 10, CreatedAt: 700}, {ID: 7, CreatedAt: 700}}
			if err := tl.Fill(ctx, stale); err != nil {
				t.Fatal(err)
			}
			page, answer, err := tl.Before(ctx, 1000, 4)
			if err != nil || answer != TimelineHit || !slices.Equal(ids(page), []int64{9, 8, 10, 7}) {
				t.Fatalf("Before(1000, 4) = %v %v %v, want [9 8 10 7] (ties by id, newest first)", ids(page), answer, err)
			}
			if page[0].CreatedAt != 900 {
				t.Fatalf("created_at %d, want 900", page[0].CreatedAt)
			}
			if page, _, _ := tl.Before(ctx, 800, 1); !slices.Equal(ids(page), []int64{10}) {
				t.Fatalf("Before(800, 1) = %v, want [10]: strictly before", ids(page))
			}
			// Full (4 of 4): a page reaching past the oldest kept entry may miss older videos.
			if _, answer, _ := tl.Before(ctx, 800, 5); answer != TimelinePastEnd {
				t.Fatalf("page past the end = %v, want TimelinePastEnd", answer)
			}
			// A newer video pushes the oldest out.
			if err := tl.Add(ctx, TimelineEntry{ID: 11, CreatedAt: 1100}); err != nil {
				t.Fatal(err)
			}
			if page, _, _ := tl.Before(ctx, 2000, 4); !slices.Equal(ids(page), []int64{11, 9, 8, 10}) {
				t.Fatalf("after a newer video: %v, want [11 9 8 10]", ids(page))
			}
			// Not full: the timeline holds every video, so a short page is the whole answer.
			small := newTimeline(t, 10)
			_ = small.Fill(ctx, []TimelineEntry{{ID: 1, CreatedAt: 100}})
			if page, answer, _ := small.Before(ctx, 2000, 30); answer != TimelineHit || !slices.Equal(ids(page), []int64{1}) {
				t.Fatalf("short timeline = %v %v, want hit [1]", ids(page), answer)
			}
		})
	}
}
