package recommend

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	recommendapi "github.com/douyin-backend/douyin/kitex_gen/recommend"
)

// rankDepth is how many videos one ranking of a viewer holds: pages are cut from it, so the
// ranking (the walk plus sorting its candidates) runs once per rankDepth/pageSize = 20 pages
// at most.
const rankDepth = 600

// seenPerRankedVideo: a ranking holds at least one video per this many the viewer has seen.
// Ranking walks the trending list past everything the viewer has seen there, so for a deep
// scroller (thousands seen) that walk, not the scoring, is the ranking's cost; ranking deeper
// in proportion keeps its share of each page constant (at most (seenPerRankedVideo+1)·pageSize
// seen-set lookups per page) instead of growing with what was seen.
const seenPerRankedVideo = 4

// rankTTL is how long a viewer's ranking serves pages before it is computed again (other
// people's likes reach it then; the viewer's own likes and follows make it stale at once).
const rankTTL = 30 * time.Second

// tasteTTL is how long a viewer's taste walk serves their rankings while they do nothing
// themselves (their own likes and follows redo it at once): a ranking stale by rankTTL is
// made again with the same taste scores, a walk of the trending list alone. A viewer reading
// a page every minute would otherwise pay the whole walk, most of a ranking's cost, on each.
const tasteTTL = 5 * time.Minute

// rankSettle: a viewer's first ranking, or one made because of their own like or follow, is
// made once more this long after. Other users' events from just before it may still be on
// their way through other queues (consumption is concurrent), and they are what "people who
// liked this" means.
const rankSettle = 2 * time.Second

// errUnavailable refuses a page when the seen store cannot be reached (Redis down).
var errUnavailable = errs.New(base.ErrCode_Unavailable, "recommendations are unavailable right now, please retry")

// maxRankings bounds the rankings an instance keeps for viewers gone quiet: past it, those
// unused for rankTTL (which would be recomputed anyway) are dropped. A ranking with its taste
// scores is about 20 KB (30 KB for a viewer who has seen the most, MaxSeen/seenPerRankedVideo ids).
const maxRankings = 4096

// Recommend returns up to limit video ids ranked for the viewer, none of them returned to
// this viewer within the seen window; when fewer remain, the seen-set starts over and the
// page is filled from the rest. Anonymous viewers get the popular-and-fresh ranking.
func (s *Service) Recommend(ctx context.Context, req *recommendapi.RecommendRequest) (*recommendapi.RecommendResponse, error) {
	limit, err := PageLimit(req)
	if err != nil {
		return nil, err
	}
	return s.recommend(ctx, req, limit)
}

// PageLimit checks req and returns the most ids it wants: the one judge of a valid request,
// for merging clients too.
func PageLimit(req *recommendapi.RecommendRequest) (int, error) {
	if req.ViewerId < 0 {
		return 0, errs.Negative("viewer_id")
	}
	limit := int(req.Limit)
	switch {
	case limit == 0 || limit > pageSize:
		return pageSize, nil
	case limit < 0:
		return 0, errs.Negative("limit")
	}
	return limit, nil
}

func (s *Service) recommend(ctx context.Context, req *recommendapi.RecommendRequest, limit int) (*recommendapi.RecommendResponse, error) {
	m := s.state.Model()
	now := s.now()
	var ids []int64
	if req.ViewerId == 0 {
		ids = m.Trending(now, limit, nil)
		if len(ids) < limit {
			// The trending list is being built for the first time, or the catalogue is small.
			ids = m.Rank(0, now, limit)
		}
	} else {
		var err error
		if ids, err = s.page(ctx, m, req.ViewerId, limit, now); err != nil {
			s.log.WarnContext(ctx, "recommended page refused", "err", err)
			return nil, fmt.Errorf("recommend a page: %w (%w)", errUnavailable, err)
		}
	}
	resp := &recommendapi.RecommendResponse{VideoIds: ids}
	if req.WithAuthorIds {
		if authors, ok := m.AuthorsOf(ids); ok {
			resp.AuthorIds = authors
		}
	}
	return resp, nil
}

// MaxManyPages bounds the requests of one RecommendMany call (a merging client batches at
// most this many).
const MaxManyPages = 64

// RecommendMany answers each request as Recommend does. The pages are cut concurrently, so
// their seen-store Takes share round trips; one viewer's requests still run one after another
// (each waits for the viewer's ranking), in no set order.
func (s *Service) RecommendMany(ctx context.Context, req *recommendapi.RecommendManyRequest) (*recommendapi.RecommendManyResponse, error) {
	if len(req.Requests) > MaxManyPages {
		return nil, errs.Invalid("at most %d requests", MaxManyPages)
	}
	// Every request is checked before any page is cut: a bad one changes nothing.
	limits := make([]int, len(req.Requests))
	for i, r := range req.Requests {
		if r == nil {
			return nil, errs.Invalid("request %d is missing", i)
		}
		var err error
		if limits[i], err = PageLimit(r); err != nil {
			return nil, err
		}
	}
	pages := make([]*recommendapi.RecommendResponse, len(req.Requests))
	failed := make([]error, len(req.Requests))
	var wg sync.WaitGroup
	for i, r := range req.Requests {
		wg.Go(func() { pages[i], failed[i] = s.recommend(ctx, r, limits[i]) })
	}
	wg.Wait()
	for _, err := range failed {
		if err != nil {
			return nil, err
		}
	}
	return &recommendapi.RecommendManyResponse{Pages: pages}, nil
}

// page cuts the viewer's next page from their cached ranking, ranking again when it is
// stale or used up, and starting the seen-set over when the catalogue is exhausted.
func (s *Service) page(ctx context.Context, m *Model, viewer int64, limit int, now int64) ([]int64, error) {
	r := s.rankings.of(viewer, now)
	r.mu.Lock()
	defer r.mu.Unlock()
	cutoff := now - s.cfg.SeenWindow.Milliseconds()
	version := m.UserVersion(viewer)
	fresh := r.model != m || r.version != version // a first ranking, or the viewer acted
	settled := r.settling && now-r.at > rankSettle.Milliseconds()
	if fresh || settled || now-r.at > rankTTL.Milliseconds() {
		again := rankSameTaste // stale: other people's likes since reach the ranking
		if fresh || settled {
			again = rankAnew
		}
		if err := s.rank(ctx, m, r, viewer, now, cutoff, version, again); err != nil {
			return nil, err
		}
		r.settling = fresh
	}
	ids, err := s.take(ctx, m, r, viewer, limit, now, cutoff, version)
	if err != nil {
		return nil, err
	}
	if len(ids) < limit {
		// The ranking is used up: rank what is still unseen, with the same taste scores.
		if err := s.rank(ctx, m, r, viewer, now, cutoff, version, rankOn); err != nil {
			return nil, err
		}
		more, err := s.take(ctx, m, r, viewer, limit-len(ids), now, cutoff, version)
		if err != nil {
			return nil, err
		}
		ids = append(ids, more...)
	}
	if len(ids) < limit {
		// The catalogue is exhausted for this viewer: start over, this page's picks first.
		var picked idSet
		for _, id := range ids {
			picked.Add(id)
		}
		rest := m.RankWithTaste(viewer, r.taste, now, limit-len(ids), &picked)
		r.unrecorded = r.unrecorded[:0] // forgotten with the rest
		if err := s.seen.Reset(ctx, viewer); err != nil {
			return nil, err
		}
		// Recorded again after the reset, so the next page does not repeat them.
		t, err := s.seen.Take(ctx, viewer, 0, append(ids, rest...), limit, now, cutoff)
		if err == nil && t.behind {
			err = errSeenChanging
		}
		if err != nil {
			return nil, err
		}
		// The ranking is used up; its taste scores are not: the next page ranks what is unseen
		// with them (rankOn walks from the head when the rest of the list runs short).
		ids, r.ids, r.next = t.ids, nil, 0
	}
	return ids, nil
}

// reranking is how a ranking is made again.
type reranking int

const (
	// rankAnew walks the viewer's taste and the trending list from its head.
	rankAnew reranking = iota
	// rankSameTaste keeps the taste scores (up to tasteTTL) and walks the trending list from
	// its head.
	rankSameTaste
	// rankOn keeps the taste scores (up to tasteTTL) and continues the walk of the list where
	// it stopped.
	rankOn
)

// rank computes the viewer's ranking of what they have not seen, as again says. A ranking
// that continues one used up walks the trending list on from where it stopped, and from the
// head only once that runs short. The taste scores are walked again for rankAnew, when the
// model was rebuilt since, and past tasteTTL.
func (s *Service) rank(ctx context.Context, m *Model, r *ranking, viewer, now, cutoff int64, version uint64, again reranking) error {
	taste, tasteAt, from := r.taste, r.tasteAt, r.walked
	if again == rankAnew || r.model != m || now-r.tasteAt > tasteTTL.Milliseconds() {
		taste, tasteAt = m.Taste(viewer), now
	}
	if again != rankOn || r.model != m {
		from = scored{}
	}
	s.record(viewer, r)
	var ids []int64
	var walked scored
	seen, err := s.seen.Seen(ctx, viewer, cutoff, func(seen *idSet) {
		depth := max(rankDepth, seen.Len()/seenPerRankedVideo)
		ids, walked = m.RankAfter(viewer, taste, now, depth, seen, from)
		if len(ids) < depth && from.id != 0 {
			// The rest of the list is short: what the seen set has forgotten since the
			// head was walked is new again.
			ids, walked = m.RankAfter(viewer, taste, now, depth, seen, scored{})
		}
	})
	if err != nil {
		return err
	}
	r.ids, r.taste, r.tasteAt, r.walked, r.seen = ids, taste, tasteAt, walked, seen
	r.next, r.model, r.version, r.at = 0, m, version, now
	return nil
}

// record records the pages of r cut without a Take, with the seen store only this process
// writes (exclusiveSeen); r is locked.
func (s *Service) record(viewer int64, r *ranking) {
	if store, ok := s.seen.(exclusiveSeen); ok && len(r.unrecorded) > 0 {
		store.Record(viewer, r.ids, r.unrecorded)
	}
	r.unrecorded = r.unrecorded[:0]
}

// maxBehind bounds the rankings one page makes again because other instances served the
// viewer more than the seen store keeps apart since the ranking read it.
const maxBehind = 2

// errSeenChanging refuses a page whose viewer's seen videos kept changing under it.
var errSeenChanging = errors.New("the viewer's seen videos keep changing under this page")

// take returns the next up to limit videos of the ranking that the seen store agrees are
// unseen (another instance may have served some of them meanwhile). With a store only this
// process writes, they are the next of the ranking, recorded later (see exclusiveSeen).
func (s *Service) take(ctx context.Context, m *Model, r *ranking, viewer int64, limit int, now, cutoff int64, version uint64) ([]int64, error) {
	if _, ok := s.seen.(exclusiveSeen); ok {
		n := min(limit, len(r.ids)-r.next)
		out := slices.Clone(r.ids[r.next : r.next+n])
		if n > 0 {
			r.next += n
			r.unrecorded = append(r.unrecorded, pageEnd{r.next, now})
		}
		return out, nil
	}
	var out []int64
	for behind := 0; len(out) < limit && r.next < len(r.ids); {
		want := limit - len(out)
		// A page's worth of spare candidates, in case some were served elsewhere.
		end := min(r.next+2*want, len(r.ids))
		candidates := r.ids[r.next:end]
		t, err := s.seen.Take(ctx, viewer, r.seen, candidates, want, now, cutoff)
		if err != nil {
			return out, err
		}
		if t.behind {
			if behind++; behind > maxBehind {
				return out, errSeenChanging
			}
			// The ranking's read of the seen store is too old to check against: rank again
			// (this page's picks so far are recorded, so left out).
			if err := s.rank(ctx, m, r, viewer, now, cutoff, version, rankSameTaste); err != nil {
				return out, err
			}
			continue
		}
		if len(t.ids) == want {
			// Take stopped at its last pick: what follows it was not examined.
			last := t.ids[len(t.ids)-1]
			for i, id := range candidates {
				if id == last {
					end = r.next + i + 1
					break
				}
			}
		}
		r.next = end
		r.leaveOut(t.others)
		r.seen = t.version
		out = append(out, t.ids...)
	}
	return out, nil
}

// rankings caches each viewer's current ranking in this instance. It is a cache: the seen
// store decides what is served, so another instance's ranking of the same viewer is harmless.
type rankings struct {
	mu     sync.Mutex
	byUser map[int64]*ranking
	// dropping is called, with the ranking locked, for each ranking dropped.
	dropping func(viewer int64, r *ranking)
}

func newRankings(dropping func(viewer int64, r *ranking)) *rankings {
	return &rankings{byUser: map[int64]*ranking{}, dropping: dropping}
}

// of returns the viewer's ranking, created empty. Past maxRankings, rankings older than
// rankTTL (which would be recomputed anyway) are dropped first.
func (rs *rankings) of(viewer, now int64) *ranking {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r := rs.byUser[viewer]
	if r != nil {
		r.lastUsed.Store(now)
		return r
	}
	if len(rs.byUser) >= maxRankings {
		for id, old := range rs.byUser {
			if now-old.lastUsed.Load() > rankTTL.Milliseconds() {
				// Idle for rankTTL: no page holds it (of marks a ranking used as it returns it).
				old.mu.Lock()
				rs.dropping(id, old)
				old.mu.Unlock()
				delete(rs.byUser, id)
			}
		}
	}
	r = &ranking{}
	r.lastUsed.Store(now)
	rs.byUser[viewer] = r
	return r
}

// leaveOut removes ids from the ranking's candidates not served yet.
func (r *ranking) leaveOut(ids []int64) {
	if len(ids) == 0 {
		return
	}
	var out idSet
	for _, id := range ids {
		out.Add(id)
	}
	rest := slices.DeleteFunc(r.ids[r.next:], out.Has)
	r.ids = r.ids[:r.next+len(rest)]
}

// ranking is one viewer's cached ranking: the ids, the next one to serve, and the model,
// the viewer's version in it and the time it was computed at.
type ranking struct {
	mu   sync.Mutex
	ids  []int64
	next int
	// unrecorded are the pages cut from ids and not recorded yet (exclusiveSeen): the ranking
	// is recorded before the seen store is read again, or when it is dropped.
	unrecorded []pageEnd
	taste      Taste
	// tasteAt is when taste was walked.
	tasteAt int64
	// walked is where the ranking's walk of the trending list stopped (Model.RankAfter).
	walked scored
	// seen is the version of the viewer's seen videos the ranking leaves out: the one it read,
	// then the one after its last page.
	seen     seenVersion
	model    *Model
	version  uint64
	at       int64
	lastUsed atomic.Int64
	// settling: a first ranking or one after the viewer's own action; made again after rankSettle.
	settling bool
}
