package gateway

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/base"
	"github.com/douyin-backend/douyin/internal/cache"
)

// Bounds of the card cache's bookkeeping maps, in entries (the cards' own bound is
// Config.CardCacheEntries).
const (
	maxCardAuthors = 1 << 18
	maxCardWrites  = 1 << 18
	// defaultCardCacheEntries holds every video of the large bench data set (100 000).
	defaultCardCacheEntries = 1 << 17
	minCardCacheEntries     = 256
	// maxCardBases bounds the URL bases the cards share one copy of (allowed hosts, schemes).
	maxCardBases = 64
)

// The viewer's two fields of a card, as anonymous viewers see them.
const (
	followField   = `"is_follow":false`
	favoriteField = `"is_favorite":false`
)

// cardCache keeps each video's encoded JSON object as every viewer but its author sees it,
// except is_follow of the author and is_favorite: a logged-in page is these cards with the
// viewer's two flags spliced in. It is exact only where every write passes through this
// process (Deps.WritesHere): each write records a sequence number against the videos and users
// it touched, and a card counts only if its build started at or after the last write touching
// its video or its author. A write drops its video's card at once, and a card whose video was
// written during its build is not kept; a card points at its author's mark, so that a lookup
// checks a card with one map read.
type cardCache struct {
	seq atomic.Uint64
	// maxCards bounds cards; a card is ~700 bytes.
	maxCards int

	mu         sync.RWMutex
	cards      map[int64]*card
	authors    map[int64]int64 // video → author, so that a like reaches its author's cards
	videoWrite map[int64]uint64
	userWrite  map[int64]*writeMark
	// floor: cards built before it are stale (the write maps were cleared to stay bounded).
	floor uint64
	// bases holds one copy of each URL base the kept cards have: a lookup compares a card's
	// base with the request's by pointer (strings sharing their bytes compare equal without
	// reading them), where each request's own copy made it read every card's.
	bases map[string]string
}

// writeMark is the sequence number of the last write touching a user, guarded by the cache's
// lock.
type writeMark struct{ seq uint64 }

// card is one encoded video; is_follow and is_favorite are false in body at follow and
// favorite. createdAt (Unix ms) gives a recommended page its next_time.
type card struct {
	urlBase       string
	built         uint64
	video, author int64
	// authorWrite is the author's mark, set when the card is kept.
	authorWrite      *writeMark
	createdAt        int64
	body             []byte
	follow, favorite int
}

func newCardCache(maxCards int) *cardCache {
	return &cardCache{maxCards: maxCards, cards: map[int64]*card{}, authors: map[int64]int64{},
		videoWrite: map[int64]uint64{}, userWrite: map[int64]*writeMark{}, bases: map[string]string{}}
}

// base is the copy of urlBase the cards share, made on first use while there are fewer than
// maxCardBases (past that a card keeps its own: its lookups only read its bytes); the caller
// holds the write lock.
func (cc *cardCache) base(urlBase string) string {
	if shared, ok := cc.bases[urlBase]; ok {
		return shared
	}
	if len(cc.bases) < maxCardBases {
		cc.bases[urlBase] = urlBase
	}
	return urlBase
}

// markOf is user's write mark, made on first use; the caller holds the write lock.
func (cc *cardCache) markOf(user int64) *writeMark {
	m := cc.userWrite[user]
	if m == nil {
		m = &writeMark{}
		cc.userWrite[user] = m
	}
	return m
}

// begin is the sequence number of a build starting now: call it before reading anything.
func (cc *cardCache) begin() uint64 { return cc.seq.Load() }

// wrote records a committed write touching the video (0: none) and the users (0s ignored),
// and with authorToo the video's author when known. It reports whether that author was known
// (true when not asked).
func (cc *cardCache) wrote(videoID int64, authorToo bool, userIDs ...int64) bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if len(cc.videoWrite) >= maxCardWrites || len(cc.userWrite) >= maxCardWrites {
		cc.forgetWrites()
	}
	s := cc.seq.Add(1)
	known := true
	if videoID > 0 {
		cc.videoWrite[videoID] = s
		delete(cc.cards, videoID)
		if authorToo {
			var author int64
			if author, known = cc.authors[videoID]; known {
				cc.markOf(author).seq = s
			}
		}
	}
	for _, id := range userIDs {
		if id > 0 {
			cc.markOf(id).seq = s
		}
	}
	return known
}

// forgetWrites clears the write maps to keep them bounded, which makes every card built so
// far stale; the caller holds the write lock.
func (cc *cardCache) forgetWrites() {
	clear(cc.videoWrite)
	clear(cc.userWrite)
	cc.floor = cc.seq.Load() + 1
}

// wroteAny makes every card built so far stale: a write whose reach is not known.
func (cc *cardCache) wroteAny() {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.floor = cc.seq.Add(1)
	clear(cc.cards)
}

// lookup puts the live card of each video for urlBase into out (nil where there is none).
func (cc *cardCache) lookup(urlBase string, videoIDs []int64, out []*card) {
	cc.mu.RLock()
	defer cc.mu.RUnlock()
	if shared, ok := cc.bases[urlBase]; ok {
		urlBase = shared
	}
	// Probes first, checks after: a page's cards are mostly out of the CPU's caches when they
	// are scattered over the catalogue (recommended pages), and independent loads in a loop of
	// their own wait for memory together rather than one after another.
	for i, id := range videoIDs {
		out[i] = cc.cards[id]
	}
	for i, c := range out {
		if c != nil && (c.urlBase != urlBase || c.built < cc.floor || c.built < c.authorWrite.seq) {
			out[i] = nil
		}
	}
}

// touch reads a byte of each cache line of the cards' bodies, for the same reason: the page's
// copy then finds them in the CPU's caches. The sum keeps the loads from being dropped.
//
//go:noinline
func touch(cards []*card) (sum byte) {
	for _, c := range cards {
		if c != nil {
			for i := 0; i < len(c.body); i += 64 {
				sum += c.body[i]
			}
		}
	}
	return sum
}

// keep stores cards, remembering their authors, except those whose video was written since
// their build began; an older build does not replace a newer one.
func (cc *cardCache) keep(cards []*card) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if len(cc.authors)+len(cards) > maxCardAuthors {
		clear(cc.authors) // refilled by the next builds; a like on an unknown video looks it up
	}
	for _, c := range cards {
		cc.authors[c.video] = c.author
	}
	if len(cc.cards)+len(cards) > cc.maxCards {
		for id := range cc.cards { // map order: an arbitrary eighth goes
			delete(cc.cards, id)
			if len(cc.cards) <= cc.maxCards*7/8 {
				break
			}
		}
	}
	if len(cc.userWrite)+len(cards) > maxCardWrites {
		cc.forgetWrites()
	}
	for _, c := range cards {
		if c.built < cc.floor || c.built < cc.videoWrite[c.video] {
			continue
		}
		if old := cc.cards[c.video]; old == nil || old.built <= c.built {
			c.urlBase = cc.base(c.urlBase)
			c.authorWrite = cc.markOf(c.author)
			cc.cards[c.video] = c
		}
	}
}

// Sizes reports the cards and their bookkeeping against their bounds.
func (cc *cardCache) Sizes() []cache.Size {
	cc.mu.RLock()
	defer cc.mu.RUnlock()
	return []cache.Size{
		{Name: "gateway:cards", Entries: len(cc.cards), MaxEntries: cc.maxCards},
		{Name: "gateway:card-authors", Entries: len(cc.authors), MaxEntries: maxCardAuthors},
		{Name: "gateway:card-writes", Entries: max(len(cc.videoWrite), len(cc.userWrite)), MaxEntries: maxCardWrites},
	}
}

// encodeCard encodes v, published at createdAt and assembled for the anonymous viewer, as
// jsonBody would write it within a page (sonic with jsonOptions, then HTML-escaped), and finds
// its viewer's fields. Neither field's text can occur inside an encoded string (a quote there
// is always escaped), so the first occurrence is the field.
func encodeCard(v *base.Video, createdAt int64, urlBase string, built uint64, scratch *[]byte) (*card, error) {
	escaped, err := appendJSON(nil, scratch, v)
	if err != nil {
		return nil, err
	}
	body := bytes.Clone(escaped) // escaping leaves half as much room again; a kept card holds its bytes only
	follow := bytes.Index(body, []byte(followField))
	favorite := bytes.Index(body, []byte(favoriteField))
	if follow < 0 || favorite < follow {
		return nil, fmt.Errorf("video %d encodes without its viewer's fields", v.ID)
	}
	return &card{urlBase: urlBase, built: built, video: v.ID, author: v.Author.ID, createdAt: createdAt, body: body,
		follow: follow + len(followField) - len("false"), favorite: favorite + len(favoriteField) - len("false")}, nil
}

// appendCard appends c with the viewer's flags.
func appendCard(dst []byte, c *card, follows, favorite bool) []byte {
	dst = append(dst, c.body[:c.follow]...)
	dst = appendBool(dst, follows)
	dst = append(dst, c.body[c.follow+len("false"):c.favorite]...)
	dst = appendBool(dst, favorite)
	return append(dst, c.body[c.favorite+len("false"):]...)
}

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}
