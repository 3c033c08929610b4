package video

import (
	"context"
)

// DefaultTimelineSize is how many of the newest videos the shared (Redis) timeline keeps: 33
// pages of the app; older pages are one index-only query.
const DefaultTimelineSize = 1000

// EmbeddedTimelineSize is the in-process timeline's size: 16 bytes a video, so the embedded
// mode keeps a catalogue of up to a million videos whole (16 MB) and never queries a page.
const EmbeddedTimelineSize = 1 << 20

// TimelineEntry is one ready video on the feed timeline.
type TimelineEntry struct {
	ID        int64
	CreatedAt int64 // Unix milliseconds
}

// Timeline holds the newest ready videos, newest first, so that a feed page near the top (what
// the app asks for almost always) is found without a query. Ready videos never leave the
// ready state, so the timeline only ever gains entries; it keeps the newest Size of them.
//
// A video becoming ready is added even while the timeline is not loaded, and a load merges
// what it read from SQL with what is there: a load racing a publish cannot lose the new video.
type Timeline interface {
	// Before returns up to limit entries created strictly before beforeMillis, newest first,
	// when the answer is TimelineHit.
	Before(ctx context.Context, beforeMillis int64, limit int) ([]TimelineEntry, TimelineAnswer, error)
	// Add records a video that became ready.
	Add(ctx context.Context, e TimelineEntry) error
	// Fill merges the newest entries read from SQL (at most Size) and marks the timeline loaded.
	Fill(ctx context.Context, entries []TimelineEntry) error
	// Size is the number of newest videos the timeline keeps.
	Size() int
}

// TimelineAnswer tells whether the timeline could answer a page.
type TimelineAnswer int

const (
	// TimelineHit: the entries are the page.
	TimelineHit TimelineAnswer = iota
	// TimelineNotLoaded: nothing (or no complete load) is held yet.
	TimelineNotLoaded
	// TimelinePastEnd: the page reaches past the oldest entry kept while older videos may exist.
	TimelinePastEnd
)
