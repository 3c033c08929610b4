package gateway

import (
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/douyin-backend/douyin/internal/cache"
)

// maxCachedPages bounds the anonymous first pages kept: one per URL base, and the Host header
// that picks the base comes from the client.
const maxCachedPages = 16

// pageCache keeps the encoded anonymous first feed page for a short time. That page is the
// same for every anonymous viewer (no is_favorite, no is_follow) and it is what every app
// start asks for. A write through this gateway that touches a video or user shown on a cached
// page drops that page (forget), so what a user just did shows at once; writes through other
// gateway replicas, and counts of an author moved through one of the author's other videos,
// show within the TTL. Concurrent misses of one page build it once.
type pageCache struct {
	ttl    time.Duration
	now    func() time.Time
	flight singleflight.Group

	mu    sync.RWMutex
	pages map[string]cachedPage // by URL base
}

type cachedPage struct {
	builtPage
	expires time.Time
}

// builtPage is an encoded page, the videos it shows with their authors (in order), and its
// next_time. A partial page (an optional part failed) is served but not kept.
type builtPage struct {
	body          []byte
	videos, users []int64
	nextTime      int64
	partial       bool
}

// newPageCache returns nil (no caching) for a TTL that is not positive.
func newPageCache(ttl time.Duration) *pageCache {
	if ttl <= 0 {
		return nil
	}
	return &pageCache{ttl: ttl, now: time.Now, pages: map[string]cachedPage{}}
}

// get returns the live page of key, or builds, keeps and returns it. A failed build is
// returned to its callers and not kept; a partial one is returned and not kept.
func (p *pageCache) get(key string, build func() (builtPage, error)) (builtPage, error) {
	if page, ok := p.live(key); ok {
		return page, nil
	}
	page, err, _ := p.flight.Do(key, func() (any, error) {
		// A build that finished between the check above and this call kept the page.
		if page, ok := p.live(key); ok {
			return page, nil
		}
		page, err := build()
		if err != nil {
			return nil, err
		}
		if !page.partial {
			p.keep(key, page)
		}
		return page, nil
	})
	if err != nil {
		return builtPage{}, err
	}
	return page.(builtPage), nil
}

// live returns the page of key unless it expired.
func (p *pageCache) live(key string) (builtPage, bool) {
	p.mu.RLock()
	page, ok := p.pages[key]
	p.mu.RUnlock()
	if !ok || !p.now().Before(page.expires) {
		return builtPage{}, false
	}
	return page.builtPage, true
}

// keep stores page under key, dropping expired pages to make room; when every slot holds a
// live page of another base, the page is served but not kept.
func (p *pageCache) keep(key string, page builtPage) {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, exists := p.pages[key]; !exists && len(p.pages) >= maxCachedPages {
		for k, page := range p.pages {
			if !now.Before(page.expires) {
				delete(p.pages, k)
			}
		}
		if len(p.pages) >= maxCachedPages {
			return
		}
	}
	p.pages[key] = cachedPage{builtPage: page, expires: now.Add(p.ttl)}
}

// forgetAll drops every page. A nil cache forgets nothing.
func (p *pageCache) forgetAll() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.pages)
}

// Sizes reports the kept pages against their bound.
func (p *pageCache) Sizes() []cache.Size {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return []cache.Size{{Name: "gateway:first_pages", Entries: len(p.pages), MaxEntries: maxCachedPages}}
}

// forget drops the pages that show the video or any of the users (0s are ignored). A nil
// cache forgets nothing.
func (p *pageCache) forget(videoID int64, userIDs ...int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, page := range p.pages {
		if (videoID > 0 && slices.Contains(page.videos, videoID)) ||
			slices.ContainsFunc(userIDs, func(id int64) bool { return id > 0 && slices.Contains(page.users, id) }) {
			delete(p.pages, k)
		}
	}
}
