package recommend

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
	"sort"
	"sync"
	"time"
)

// Scoring weights and shapes; docs/feeds.md says the same in plain words.
const (
	// weightTaste weighs the collaborative-filtering score (normalised to 0..1 per request).
	weightTaste = 1.0
	// weightPopular weighs likes and comments with time decay (normalised to 0..1).
	weightPopular = 0.4
	// weightFresh weighs the age of the video: 1 when just published, halving per freshHalfLife.
	weightFresh = 0.25
	// weightFollowed is added for videos of authors the viewer follows.
	weightFollowed = 0.1
	// popularHalfLife: a like or comment counts half as much after this long.
	popularHalfLife = 3 * dayMillis
	// freshHalfLife: the freshness boost halves after this long.
	freshHalfLife = dayMillis
	// commentWeight: a comment counts as much as this many likes.
	commentWeight = 2.0
	dayMillis     = 24 * 60 * 60 * 1000
)

// Bounds on the collaborative-filtering walk, so a request costs the same whatever the data.
const (
	// tasteSeeds is how many of the viewer's likes (the newest) seed the walk.
	tasteSeeds = 20
	// tasteNeighbours is how many likers of each seed are followed (a random sample).
	tasteNeighbours = 25
	// tasteNeighbourLikes is how many likes of each such liker are counted (a random sample).
	tasteNeighbourLikes = 25
	// tasteCandidates is how many of the walk's best-scoring videos are ranked.
	tasteCandidates = 300
	// trendingPool is how much of the popular-and-fresh list joins the taste walk's candidates;
	// past it, the list is walked only while the candidates are fewer than the ranking wants.
	trendingPool = 500
	// trendingMaxAgeMillis: the popular-and-fresh list is rebuilt when older than this...
	trendingMaxAgeMillis = 1000
	// trendingBuildShare: ...or than this many times its last build took, so that ordering a
	// large catalogue costs at most about 1/trendingBuildShare of a core (at 100 000 videos a
	// build takes tens of ms: at 1/20 that was a few percent of a core, as much as a page).
	trendingBuildShare = 100
)

// videoState is what the model knows of a ready video.
type videoState struct {
	author    int64
	createdAt int64
	// likers are the users liking it now, with when they liked.
	likers map[int64]int64
	// likerCount is len(likers), kept beside it: the taste walk reads it for thousands of
	// videos, and the map's header would cost a cache miss more each.
	likerCount int
	// heat is the decayed popularity: the sum over likes and comments of
	// weight·2^((at−epoch)/popularHalfLife); multiplied by 2^(−(now−epoch)/popularHalfLife) when read.
	heat float64
}

// userState is what the model knows of a user.
type userState struct {
	// likes maps the videos the user likes now to when they liked them.
	likes map[int64]int64
	// likeSeq is the seq of the last like event applied per video, liked or not.
	likeSeq map[int64]int64
	// followees maps followed authors to the time of the last follow or unfollow applied,
	// negative for an unfollow (kept so an older event arriving late is ignored).
	followees map[int64]int64
	// version counts the user's own applied likes, unlikes and follows: a ranking cached for
	// them is stale once it moved.
	version uint64
}

// Model is the recommender's state: likes both ways, decayed popularity and follows. Every
// update is idempotent (likes by seq, comments by id, follows by time, videos by id), so a
// redelivered or reordered event is harmless.
type Model struct {
	mu     sync.RWMutex
	epoch  int64 // Unix ms the heat exponents count from
	videos map[int64]*videoState
	users  map[int64]*userState
	// comments maps applied comment ids to their video (negative once deleted).
	comments map[int64]int64
	// pending holds likes and comments of videos not known yet (their ready event is late):
	// applied when the video arrives.
	pendingHeat map[int64]float64
	// pendingLikers are the likers of videos not known yet.
	pendingLikers map[int64]map[int64]int64

	// rankWork pools the rankings' working memory (*rankWork).
	rankWork sync.Pool

	trendMu sync.Mutex
	// trending is the whole catalogue ordered by popularity and freshness, each video with its
	// freshness at trendAt.
	trending []candidate
	trendAt  int64
	// trendHeat is the hottest video's heat at trendAt: popularity is scaled by it.
	trendHeat  float64
	trendBuilt int64
	// trendEvery is how long the list is kept before it is rebuilt (ms).
	trendEvery int64
}

// NewModel returns an empty model whose decay counts from epochMillis (use the current time).
func NewModel(epochMillis int64) *Model {
	return &Model{
		epoch:         epochMillis,
		videos:        map[int64]*videoState{},
		users:         map[int64]*userState{},
		comments:      map[int64]int64{},
		pendingHeat:   map[int64]float64{},
		pendingLikers: map[int64]map[int64]int64{},
		rankWork:      sync.Pool{New: func() any { return new(rankWork) }},
	}
}

// Empty reports whether the model holds no video: it is then rebuilt from SQL.
func (m *Model) Empty() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.videos) == 0
}

func (m *Model) user(id int64) *userState {
	u := m.users[id]
	if u == nil {
		u = &userState{likes: map[int64]int64{}, likeSeq: map[int64]int64{}, followees: map[int64]int64{}}
		m.users[id] = u
	}
	return u
}

// heatOf is the weight of one like or comment at atMillis, in epoch units.
func (m *Model) heatOf(weight float64, atMillis int64) float64 {
	return weight * math.Exp2(float64(atMillis-m.epoch)/popularHalfLife)
}

func (m *Model) addHeat(videoID int64, h float64) {
	if v := m.videos[videoID]; v != nil {
		v.heat = max(v.heat+h, 0)
		return
	}
	m.pendingHeat[videoID] += h
}

// AddVideo records a ready video. Repeats are no-ops.
func (m *Model) AddVideo(videoID, authorID, createdAt int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.videos[videoID] != nil {
		return
	}
	v := &videoState{author: authorID, createdAt: createdAt, likers: m.pendingLikers[videoID]}
	if v.likers == nil {
		v.likers = map[int64]int64{}
	}
	v.likerCount = len(v.likers)
	v.heat = max(m.pendingHeat[videoID], 0)
	delete(m.pendingHeat, videoID)
	delete(m.pendingLikers, videoID)
	m.videos[videoID] = v
}

// ApplyLike applies a like (liked) or unlike of videoID by userID at atMillis, unless an event
// of the pair with a seq at least as large was applied. It reports whether it changed anything.
func (m *Model) ApplyLike(userID, videoID int64, liked bool, seq, atMillis int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.user(userID)
	if last, ok := u.likeSeq[videoID]; ok && seq <= last {
		return false
	}
	u.likeSeq[videoID] = seq
	prevAt, was := u.likes[videoID]
	if was == liked {
		return false
	}
	u.version++
	v := m.videos[videoID]
	likers := m.pendingLikers[videoID]
	if v != nil {
		likers = v.likers
	} else if likers == nil {
		likers = map[int64]int64{}
		m.pendingLikers[videoID] = likers
	}
	if liked {
		u.likes[videoID] = atMillis
		likers[userID] = atMillis
		m.addHeat(videoID, m.heatOf(1, atMillis))
	} else {
		delete(u.likes, videoID)
		delete(likers, userID)
		m.addHeat(videoID, -m.heatOf(1, prevAt))
	}
	if v != nil {
		v.likerCount = len(likers)
	}
	return true
}

// ApplyComment counts comment commentID on videoID at atMillis (added) or takes it back.
func (m *Model) ApplyComment(commentID, videoID int64, added bool, atMillis int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	state, seen := m.comments[commentID]
	switch {
	case added && !seen:
		m.comments[commentID] = videoID
		m.addHeat(videoID, m.heatOf(commentWeight, atMillis))
	case !added && (!seen || state > 0):
		// A delete seen before its add leaves a tombstone, so the late add is ignored.
		m.comments[commentID] = -videoID
		if seen {
			m.addHeat(videoID, -m.heatOf(commentWeight, atMillis))
		}
	}
}

// ApplyFollow records a follow (follow) or unfollow at atMillis unless a later one was applied.
func (m *Model) ApplyFollow(followerID, authorID int64, follow bool, atMillis int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.user(followerID)
	last := u.followees[authorID]
	if atMillis < abs(last) {
		return
	}
	if follow {
		u.followees[authorID] = atMillis
	} else {
		u.followees[authorID] = -atMillis
	}
	u.version++
}

// UserVersion is the number of changes applied to the user's likes and follows.
func (m *Model) UserVersion(userID int64) uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if u := m.users[userID]; u != nil {
		return u.version
	}
	return 0
}

// AuthorsOf is the author of each of videoIDs, in order, false when the model does not know
// one of them.
func (m *Model) AuthorsOf(videoIDs []int64) ([]int64, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	authors := make([]int64, len(videoIDs))
	for i, id := range videoIDs {
		v := m.videos[id]
		if v == nil {
			return nil, false
		}
		authors[i] = v.author
	}
	return authors, true
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// scored is a candidate with its score.
type scored struct {
	id    int64
	score float64
}

// candidate is a video a ranking may return, with what a ranking reads of its state, copied
// when the candidate was made: a ranking walks thousands of candidates, and a pointer to each
// video's state would cost a cache miss apiece (and the model's lock).
type candidate struct {
	id, author, createdAt int64
	// heat is the video's heat (videoState.heat) when the candidate was made.
	heat float64
	// fresh is its freshness when the trending list holding it was built, negative when
	// unknown (not from that list, or published after it was built). Freshness only decays,
	// by the same factor for every video, so a ranking scales it instead of computing each.
	fresh float64
}

// candidateOf is the candidate of video id with state v (mu held).
func candidateOf(id int64, v *videoState, fresh float64) candidate {
	return candidate{id: id, author: v.author, createdAt: v.createdAt, heat: v.heat, fresh: fresh}
}

// tasted is a candidate of one ranking with its taste score (0 for one the walk did not reach).
type tasted struct {
	candidate
	taste float64
}

// Taste is a viewer's taste scores: the videos the collaborative-filtering walk reached,
// each with its score, in no particular order, and the videos' state as of the walk.
type Taste []tasted

// Rank returns every candidate for viewerID (0: anonymous), best first, at most want of them
// (0: no limit). Candidates are the taste walk's and the trending list's, which orders the
// whole catalogue. The viewer's own and liked videos are never candidates.
func (m *Model) Rank(viewerID, nowMillis int64, want int) []int64 {
	return m.RankWithTaste(viewerID, m.Taste(viewerID), nowMillis, want, nil)
}

// Taste is the viewer's taste scores (the collaborative-filtering walk): the up to
// tasteCandidates best videos it reaches. A caller ranking one viewer several times keeps
// them while the viewer's likes and the model stay the same.
func (m *Model) Taste(viewerID int64) Taste {
	if viewerID <= 0 {
		return nil
	}
	work := m.rankWork.Get().(*rankWork)
	defer m.rankWork.Put(work)
	m.mu.RLock()
	defer m.mu.RUnlock()
	scores := m.tasteScores(m.users[viewerID], &work.tasteScores)
	if len(scores) == 0 {
		return nil
	}
	top := bestScored(scores, tasteCandidates)
	taste := make(Taste, len(top))
	for i, t := range top {
		// tasteScores scores only videos the model holds, and it never forgets one.
		taste[i] = tasted{candidateOf(t.id, m.videos[t.id], -1), t.score}
	}
	return taste
}

// RankWithTaste is Rank with the viewer's taste scores given (from Taste), leaving out the
// videos in seen (nil: none).
func (m *Model) RankWithTaste(viewerID int64, taste Taste, nowMillis int64, want int, seen *idSet) []int64 {
	ids, _ := m.RankAfter(viewerID, taste, nowMillis, want, seen, scored{})
	return ids
}

// RankAfter is RankWithTaste walking the trending list from below from (zero: from its head),
// and returns with the ranking where its walk stopped: the last video of the list that it
// returned, with its score in the list (from when it returned none). A ranking that ran out
// continues from there instead of walking again past everything the viewer has seen: a deep
// scroller's next ranking costs what it returns. The list may have been rebuilt meanwhile:
// scores move a little, so a video may rise above the mark and be skipped until a ranking
// starts from the head again.
//
// The trending list is in the order of popularity plus freshness, which is the whole score of
// a video that the taste walk did not reach and whose author the viewer does not follow. So
// only the others (the taste walk's, and the followed authors' met on the walk of the list: a
// few hundred) are scored and sorted, and merged into the walk's run of the list: a deep
// scroller's ranking of thousands costs the walk, not a sort of thousands.
func (m *Model) RankAfter(viewerID int64, taste Taste, nowMillis int64, want int, seen *idSet, from scored) ([]int64, scored) {
	m.refreshTrending(nowMillis)
	work := m.rankWork.Get().(*rankWork)
	defer m.rankWork.Put(work)
	m.trendMu.Lock()
	trending, trendAt, hottest := m.trending, m.trendAt, m.trendHeat
	m.trendMu.Unlock()
	// listed is each video's score in the list, the order it was built in.
	built := scorer{now: trendAt, decay: 1, hottest: hottest}
	listed := func(i int) scored { return scored{trending[i].id, built.popularFresh(&trending[i])} }
	start := 0
	if from.id != 0 {
		start = sort.Search(len(trending), func(i int) bool { return byScore(listed(i), from) > 0 })
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var u *userState
	if viewerID > 0 {
		u = m.users[viewerID]
	}
	// skip holds what the walk of the trending list passes over: the viewer's likes, and the
	// videos of the taste scores (judged before the walk). followed holds the authors the
	// viewer follows. Tables, not map lookups per video walked.
	skip, followed := &work.skip, &work.followed
	skip.reset()
	followed.reset()
	if u != nil {
		for id := range u.likes {
			skip.Add(id)
		}
		for author, at := range u.followees {
			if at > 0 {
				followed.Add(author)
			}
		}
	}
	// eligible checks seen first: past the head of the trending list, most videos a deep
	// scroller meets are ones they have seen.
	eligible := func(c *candidate) bool {
		if seen != nil && seen.Has(c.id) {
			return false
		}
		return c.author != viewerID && !skip.Has(c.id)
	}
	scoredAlone := work.scoredAlone[:0]
	for i := range taste {
		if eligible(&taste[i].candidate) {
			scoredAlone = append(scoredAlone, taste[i])
		}
		skip.Add(taste[i].id)
	}
	// run holds the positions in the trending list of the rest of the walk.
	run := work.run[:0]
	for i := start; i < len(trending); i++ {
		// The head of the list, deeper only while the ranking is short: the viewer has seen
		// the head. The walk costs what the viewer has seen plus want, however large the
		// catalogue.
		if i >= trendingPool && (want == 0 || len(scoredAlone)+len(run) >= want) {
			break
		}
		switch c := &trending[i]; {
		case !eligible(c): // the list holds each video once
		case followed.Has(c.author):
			scoredAlone = append(scoredAlone, tasted{*c, 0})
		default:
			run = append(run, int32(i))
		}
	}
	// Too few from the head, and the list does not have every video yet (the first request,
	// or videos newer than the list): score the whole catalogue.
	if start == 0 && want > 0 && len(scoredAlone)+len(run) < min(want, pageSize) && len(trending) < len(m.videos) {
		for _, i := range run {
			scoredAlone = append(scoredAlone, tasted{trending[i], 0})
		}
		run = run[:0]
		for _, t := range scoredAlone {
			skip.Add(t.id)
		}
		for id, v := range m.videos {
			hottest = max(hottest, v.heat)
			if c := candidateOf(id, v, -1); eligible(&c) {
				skip.Add(id)
				scoredAlone = append(scoredAlone, tasted{c, 0})
			}
		}
	}
	work.scoredAlone, work.run = scoredAlone, run
	score := scorer{now: nowMillis, decay: math.Exp2(-float64(nowMillis-trendAt) / freshHalfLife), hottest: hottest, followed: followed}
	ids, last := work.merge(&score, trending, want)
	if last < 0 {
		return ids, from
	}
	return ids, listed(last)
}

// scoreTable sums scores by id for the taste walk: a flat table of positions in entries
// (open addressing, linear probing), pooled with its ranking's working memory, where a map of
// the walk's reach (thousands of ids) grew and rehashed on every ranking. Its sample buffers
// hold the walk's samples of likers and likes.
type scoreTable struct {
	slots   []int32 // 0: empty, else 1 + a position in entries; len is a power of two
	shift   uint    // 64 - log2(len(slots))
	entries []scored
	likers  []int64
	likes   []int64
}

// scoreTableMinSlots is the table's starting size: at least twice the walk's bound
// (tasteWalkBound), so that it never grows in a walk.
const scoreTableMinSlots = 1 << 15

// tasteWalkBound is the most videos one taste walk reaches.
const tasteWalkBound = tasteSeeds * (tasteNeighbours + 1) * tasteNeighbourLikes

// reset empties the table.
func (t *scoreTable) reset() {
	if t.slots == nil {
		t.grow(scoreTableMinSlots)
	}
	clear(t.slots)
	t.entries = t.entries[:0]
}

// add adds score to id's sum.
func (t *scoreTable) add(id int64, score float64) {
	mask := len(t.slots) - 1
	for i := spread(uint64(id), t.shift); ; i = (i + 1) & mask {
		switch at := t.slots[i]; {
		case at == 0:
			t.entries = append(t.entries, scored{id, score})
			t.slots[i] = int32(len(t.entries))
			if 2*len(t.entries) > len(t.slots) {
				t.grow(2 * len(t.slots))
			}
			return
		case t.entries[at-1].id == id:
			t.entries[at-1].score += score
			return
		}
	}
}

// grow makes the table size slots and places the entries again.
func (t *scoreTable) grow(slots int) {
	t.slots, t.shift = make([]int32, slots), uint(64-bits.Len(uint(slots-1)))
	mask := slots - 1
	for at, e := range t.entries {
		i := spread(uint64(e.id), t.shift)
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = int32(at + 1)
	}
}

// rankWork is one ranking's working memory, pooled: a deep scroller's ranking holds
// thousands of candidates, and rankings run every few pages.
type rankWork struct {
	// tasteScores sums the taste walk's scores (Model.Taste).
	tasteScores scoreTable
	scoredAlone []tasted
	run         []int32
	skip        idSet
	followed    idSet
	list        []scored
	keys        []uint64
	spare       []uint64
	sorted      []scored
}

// scorer scores candidates as of now (docs/feeds.md says how in plain words).
type scorer struct {
	now int64
	// decay scales the freshness the trending list holds to now.
	decay float64
	// hottest is the heat popularity is scaled by: the hottest video's at the trending list's build.
	hottest float64
	// maxTaste is the taste score scaled to 1: the best of the ranking's candidates.
	maxTaste float64
	followed *idSet
}

// popularFresh is c's popularity and freshness: its whole score unless the taste walk reached
// it or the viewer follows its author, and the trending list's order.
func (s *scorer) popularFresh(c *candidate) float64 {
	fresh := c.fresh * s.decay
	if c.fresh < 0 || c.createdAt > s.now {
		fresh = freshness(c.createdAt, s.now)
	}
	sc := weightFresh * fresh
	if s.hottest > 0 {
		sc += weightPopular * c.heat / s.hottest
	}
	return sc
}

// score is t's whole score.
func (s *scorer) score(t *tasted) float64 {
	sc := s.popularFresh(&t.candidate)
	if s.maxTaste > 0 {
		sc += weightTaste * t.taste / s.maxTaste
	}
	if s.followed.Has(t.author) {
		sc += weightFollowed
	}
	return sc
}

// merge returns the best want (0: all) of work's candidates, ties broken by newer id: those
// scored alone, sorted, merged into the run of the trending list, which is in order already;
// and the position in the list of the last it returned from the run (-1: none).
func (work *rankWork) merge(score *scorer, trending []candidate, want int) ([]int64, int) {
	alone := work.scoredAlone
	score.maxTaste = 0
	for _, t := range alone {
		score.maxTaste = max(score.maxTaste, t.taste)
	}
	list := slices.Grow(work.list[:0], len(alone))
	for i := range alone {
		list = append(list, scored{alone[i].id, score.score(&alone[i])})
	}
	work.list = list
	if want > 0 && len(list) > 4*want {
		// A catalogue-wide ranking: select the best want before sorting them.
		list = bestScored(list, want)
	}
	list = work.sortByScore(list)
	run := work.run
	n := len(list) + len(run)
	if want > 0 {
		n = min(n, want)
	}
	out := make([]int64, n)
	last := int32(-1)
	var next scored // the run's next, scored
	if len(run) > 0 {
		next = scored{trending[run[0]].id, score.popularFresh(&trending[run[0]])}
	}
	for k := range out {
		if len(run) == 0 || len(list) > 0 && byScore(list[0], next) < 0 {
			out[k], list = list[0].id, list[1:]
			continue
		}
		out[k], last, run = next.id, run[0], run[1:]
		if len(run) > 0 {
			next = scored{trending[run[0]].id, score.popularFresh(&trending[run[0]])}
		}
	}
	return out, int(last)
}

// sortByScore returns list ordered as slices.SortFunc(list, byScore) orders it, in
// work.sorted. A ranking sorts thousands of candidates, every few pages of a scrolling viewer,
// so it sorts integer keys by radix instead of calling byScore per comparison: each key is the
// top half of a score's bits (ordered as the scores are, for scores that are not negative:
// sign, exponent and 20 bits of mantissa, so scores a millionth apart differ there), inverted
// for best first, with the entry's index in its lower half. Entries whose scores differ only
// beyond that half (or not at all) are ordered by byScore afterwards. Half the bits take half
// the radix passes.
func (work *rankWork) sortByScore(list []scored) []scored {
	if len(list) < 2 {
		return list
	}
	const scoreBits = 32
	index := uint64(1)<<scoreBits - 1
	if uint64(len(list)) > index {
		slices.SortFunc(list, byScore) // the index would not fit
		return list
	}
	keys := slices.Grow(work.keys[:0], len(list))
	for i, e := range list {
		if math.Signbit(e.score) || math.IsNaN(e.score) { // not in the bits' order
			slices.SortFunc(list, byScore)
			return list
		}
		keys = append(keys, ^math.Float64bits(e.score)&^index|uint64(i))
	}
	spare := slices.Grow(work.spare[:0], len(keys))[:len(keys)]
	work.keys, work.spare = keys, spare
	keys = radixSort(keys, spare, scoreBits)
	sorted := slices.Grow(work.sorted[:0], len(list))
	for _, k := range keys {
		sorted = append(sorted, list[k&index])
	}
	work.sorted = sorted
	for start := 0; start < len(keys); {
		end := start + 1
		for end < len(keys) && keys[end]&^index == keys[start]&^index {
			end++
		}
		if end-start > 1 {
			slices.SortFunc(sorted[start:end], byScore)
		}
		start = end
	}
	return sorted
}

// radixSort sorts keys by their bits from the lowest'th up, a byte at a time (least
// significant first, so keys equal there keep their order), using spare (as long as keys) and
// returning whichever of the two holds the result. A byte every key shares is skipped: the
// sign and most of the exponent of the scores.
func radixSort(keys, spare []uint64, lowest uint) []uint64 {
	for shift := lowest; shift < 64; shift += 8 {
		var at [256]int
		for _, k := range keys {
			at[k>>shift&0xff]++
		}
		if at[keys[0]>>shift&0xff] == len(keys) {
			continue
		}
		sum := 0
		for digit, n := range at {
			at[digit] = sum
			sum += n
		}
		for _, k := range keys {
			digit := k >> shift & 0xff
			spare[at[digit]] = k
			at[digit]++
		}
		keys, spare = spare, keys
	}
	return keys
}

// bestScored reorders list so that its first min(n, len) entries are the first n in byScore
// order (in no particular order among them), and returns them: a selection in O(len), not a
// sort, nor a heap of n over the walk's reach.
func bestScored(list []scored, n int) []scored {
	if len(list) <= n {
		return list
	}
	lo, hi := 0, len(list)-1 // the n-th is somewhere in list[lo:hi+1]
	for lo < hi {
		// The median of three as the pivot: the walk's scores come in no order, often equal.
		a, b, c := list[lo], list[lo+(hi-lo)/2], list[hi]
		if byScore(a, b) > 0 {
			a, b = b, a
		}
		pivot := b // a ≤ b; the pivot is the middle of a, b, c
		if byScore(b, c) > 0 {
			pivot = c
			if byScore(a, c) > 0 {
				pivot = a
			}
		}
		i, j := lo, hi
		for i <= j {
			for byScore(list[i], pivot) < 0 {
				i++
			}
			for byScore(list[j], pivot) > 0 {
				j--
			}
			if i <= j {
				list[i], list[j] = list[j], list[i]
				i++
				j--
			}
		}
		// Now list[lo:j+1] come no later than the pivot, list[i:hi+1] no earlier, and what
		// lies between is the pivot itself.
		switch {
		case n-1 <= j:
			hi = j
		case n-1 >= i:
			lo = i
		default:
			return list[:n]
		}
	}
	return list[:n]
}

// Trending returns up to want videos of the popular-and-fresh list, best first, skipping
// those keep rejects: an anonymous viewer's page, without ranking anything per request.
func (m *Model) Trending(nowMillis int64, want int, keep func(int64) bool) []int64 {
	m.refreshTrending(nowMillis)
	m.trendMu.Lock()
	defer m.trendMu.Unlock()
	out := make([]int64, 0, want)
	for _, c := range m.trending {
		if len(out) == want {
			break
		}
		if keep == nil || keep(c.id) {
			out = append(out, c.id)
		}
	}
	return out
}

// freshness is 1 for a video published now, halving every freshHalfLife.
func freshness(createdAt, nowMillis int64) float64 {
	age := max(nowMillis-createdAt, 0)
	return math.Exp2(-float64(age) / freshHalfLife)
}

// tasteScores is item-to-item collaborative filtering from the viewer's newest likes: each
// video liked by someone who shares a like with the viewer scores, per shared like,
// 1/(√likers of the shared video · ⁴√likers of the candidate). The first root is cosine's: a
// like shared through a video everyone likes says little. The fourth root (cosine would take
// the square root) damps what everybody likes without burying it: the offline evaluation's
// hit rate at the large size rose from 0.23 to 0.87 with it. The walk is bounded
// (tasteSeeds·tasteNeighbours·tasteNeighbourLikes).
func (m *Model) tasteScores(u *userState, table *scoreTable) []scored {
	if u == nil || len(u.likes) == 0 {
		return nil
	}
	table.reset()
	for _, seed := range newest(u.likes, tasteSeeds) {
		sv := m.videos[seed]
		if sv == nil || sv.likerCount < 2 {
			continue
		}
		shared := 1 / math.Sqrt(float64(sv.likerCount))
		table.likers = sample(table.likers, sv.likers, tasteNeighbours+1)
		for _, liker := range table.likers {
			lu := m.users[liker]
			if lu == nil || lu == u {
				continue
			}
			table.likes = sample(table.likes, lu.likes, tasteNeighbourLikes)
			for _, id := range table.likes {
				if id != seed {
					table.add(id, shared)
				}
			}
		}
	}
	// The candidate's root divides each of its shares alike: once per video reached, not per
	// share, and in a loop of its own, whose lookups do not wait on one another.
	scores := table.entries
	for i := 0; i < len(scores); {
		v := m.videos[scores[i].id]
		if v == nil { // a like of a video not known yet (its ready event is late)
			scores[i] = scores[len(scores)-1]
			scores = scores[:len(scores)-1]
			continue
		}
		scores[i].score /= math.Sqrt(math.Sqrt(float64(v.likerCount)))
		i++
	}
	return scores
}

// newest returns up to n keys of m with the largest values (times), newest first.
func newest(m map[int64]int64, n int) []int64 {
	type kv struct{ k, v int64 }
	all := make([]kv, 0, len(m))
	for k, v := range m {
		all = append(all, kv{k, v})
	}
	slices.SortFunc(all, func(a, b kv) int {
		if c := cmp.Compare(b.v, a.v); c != 0 {
			return c
		}
		return cmp.Compare(b.k, a.k)
	})
	if len(all) > n {
		all = all[:n]
	}
	out := make([]int64, len(all))
	for i, e := range all {
		out[i] = e.k
	}
	return out
}

// sample returns up to n keys of m in no particular order, in buf's memory: Go's map
// iteration order is randomised, so a popular video's likers are sampled at O(n) rather than
// sorted at O(likers).
func sample(buf []int64, m map[int64]int64, n int) []int64 {
	out := buf[:0]
	for k := range m {
		if len(out) == n {
			break
		}
		out = append(out, k)
	}
	return out
}

// refreshTrending rebuilds the popular-and-fresh order of the whole catalogue when it is
// older than trendingMaxAgeMillis (or trendingBuildShare builds): the candidates every viewer
// shares, and all an anonymous one gets.
func (m *Model) refreshTrending(nowMillis int64) {
	m.trendMu.Lock()
	if m.trendBuilt != 0 && nowMillis-m.trendBuilt < max(trendingMaxAgeMillis, m.trendEvery) {
		m.trendMu.Unlock()
		return
	}
	// Claim the rebuild: concurrent requests meanwhile use the previous list (or, on the very
	// first, fall back to ranking the catalogue).
	m.trendBuilt = nowMillis
	m.trendMu.Unlock()
	started := time.Now()
	m.mu.RLock()
	maxHeat := 0.0
	for _, v := range m.videos {
		maxHeat = max(maxHeat, v.heat)
	}
	// A ranking's score without taste or follows: a ranking merges the list in this order.
	built := scorer{now: nowMillis, decay: 1, hottest: maxHeat}
	type entry struct {
		scored
		c candidate
	}
	list := make([]entry, 0, len(m.videos))
	for id, v := range m.videos {
		fresh := -1.0 // for a video not published yet: its freshness stays 1 until it is
		if v.createdAt <= nowMillis {
			fresh = freshness(v.createdAt, nowMillis)
		}
		c := candidateOf(id, v, fresh)
		list = append(list, entry{scored{id, built.popularFresh(&c)}, c})
	}
	m.mu.RUnlock()
	slices.SortFunc(list, func(a, b entry) int { return byScore(a.scored, b.scored) })
	ordered := make([]candidate, len(list))
	for i, e := range list {
		ordered[i] = e.c
	}
	m.trendMu.Lock()
	m.trending, m.trendAt, m.trendHeat = ordered, nowMillis, maxHeat
	m.trendEvery = trendingBuildShare * time.Since(started).Milliseconds()
	m.trendMu.Unlock()
}

// byScore orders best first, ties broken by the newer id.
func byScore(a, b scored) int {
	if c := cmp.Compare(b.score, a.score); c != 0 {
		return c
	}
	return cmp.Compare(b.id, a.id)
}

// Stats is the size of the model, for the memory report.
type Stats struct {
	Videos, Users, Likes int
}

// Stats counts the model's entries.
func (m *Model) Stats() Stats {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := Stats{Videos: len(m.videos), Users: len(m.users)}
	for _, u := range m.users {
		s.Likes += len(u.likes)
	}
	return s
}
