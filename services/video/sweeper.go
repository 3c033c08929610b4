package video

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"
)

// reasonStuck is the failure reason of a video the media worker never finished.
const reasonStuck = "processing did not finish"

// SweeperConfig tunes the loop that re-enqueues videos stuck in processing: lost by the
// in-process queue on a restart, or redelivered by the broker until it gave up.
type SweeperConfig struct {
	// Interval is the pause between sweeps (0 disables the sweeper).
	Interval time.Duration
	// StuckAfter is how long after its last enqueue a processing video counts as stuck; it
	// must exceed the longest transcode.
	StuckAfter time.Duration
	// MaxRequeues is how often a video is re-enqueued before it is marked failed, so a file
	// that crashes the worker is not retried forever.
	MaxRequeues int
	// Batch bounds the videos re-enqueued per sweep, oldest first.
	Batch int
	// SweepAllAtStart re-enqueues every processing video on the first sweep, whatever its
	// age. It is for the embedded mode, whose in-process queue loses its work on a restart.
	SweepAllAtStart bool
}

// DefaultSweeperConfig returns the production defaults.
func DefaultSweeperConfig() SweeperConfig {
	return SweeperConfig{Interval: 30 * time.Second, StuckAfter: 5 * time.Minute, MaxRequeues: 5, Batch: 100}
}

// RegisterFlags registers the sweeper settings with the receiver's values as defaults.
func (c *SweeperConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.DurationVar(&c.Interval, "video.sweep-interval", c.Interval, "pause between sweeps for videos stuck in processing (0: no sweeper)")
	fs.DurationVar(&c.StuckAfter, "video.sweep-stuck-after", c.StuckAfter, "age of the last enqueue after which a processing video is enqueued again; must exceed the longest transcode")
	fs.IntVar(&c.MaxRequeues, "video.sweep-max-requeues", c.MaxRequeues, "re-enqueues of a stuck video before it is marked failed")
	fs.IntVar(&c.Batch, "video.sweep-batch", c.Batch, "most videos re-enqueued per sweep, oldest first")
}

// Validate checks the settings.
func (c *SweeperConfig) Validate() error {
	switch {
	case c.Interval < 0:
		return errors.New("video.sweep-interval must not be negative")
	case c.StuckAfter <= 0:
		return errors.New("video.sweep-stuck-after must be positive")
	case c.MaxRequeues < 1 || c.Batch < 1:
		return errors.New("video.sweep-max-requeues and video.sweep-batch must be at least 1")
	}
	return nil
}

// WithSweeper sets the sweeper's settings (DefaultSweeperConfig otherwise).
func WithSweeper(cfg SweeperConfig) Option {
	return func(s *Service) { s.sweep = cfg }
}

// RunSweeper re-enqueues stuck videos every Interval until ctx ends. A failed sweep is
// logged and retried at the next tick: the sweeper is a safety net, not a reason to stop
// the process.
func (s *Service) RunSweeper(ctx context.Context) error {
	if s.sweep.Interval <= 0 {
		return nil
	}
	stuckBefore := func() int64 { return s.now() - s.sweep.StuckAfter.Milliseconds() }
	first := stuckBefore()
	if s.sweep.SweepAllAtStart {
		first = s.now() + 1
	}
	if _, err := s.Sweep(ctx, first); err != nil && ctx.Err() == nil {
		s.log.WarnContext(ctx, "sweep stuck videos", "err", err)
	}
	tick := time.NewTicker(s.sweep.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if _, err := s.Sweep(ctx, stuckBefore()); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "sweep stuck videos", "err", err)
			}
		}
	}
}

// Sweep handles one batch of videos processing since before enqueuedBeforeMillis: each is
// enqueued again, or marked failed once it used up its re-enqueues. It returns how many
// videos it re-enqueued.
func (s *Service) Sweep(ctx context.Context, enqueuedBeforeMillis int64) (int, error) {
	stuck, err := s.store.ListStuck(ctx, enqueuedBeforeMillis, s.sweep.Batch)
	if err != nil {
		return 0, err
	}
	requeued := 0
	for _, v := range stuck {
		if int(v.Requeues) >= s.sweep.MaxRequeues {
			s.log.WarnContext(ctx, "video stuck in processing: marking it failed", "video_id", v.ID, "requeues", v.Requeues)
			if err := s.store.MarkFailed(ctx, v.ID, reasonStuck); err != nil && !errors.Is(err, ErrVideoNotFound) {
				return requeued, err
			}
			continue
		}
		// Counted before publishing: a publish that hangs or crashes the worker still uses
		// up one attempt.
		ok, err := s.store.MarkRequeued(ctx, v.ID, s.now())
		if err != nil {
			return requeued, err
		}
		if !ok {
			continue // finished meanwhile
		}
		if err := s.enqueue(ctx, &v); err != nil {
			return requeued, fmt.Errorf("re-enqueue: %w", err)
		}
		s.log.InfoContext(ctx, "re-enqueued a video stuck in processing", "video_id", v.ID, "requeues", v.Requeues+1)
		requeued++
	}
	return requeued, nil
}
