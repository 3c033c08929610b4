package gateway

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPageCacheServesBuildsOnceAndExpires(t *testing.T) {
	now := time.Unix(1000, 0)
	p := newPageCache(time.Second)
	p.now = func() time.Time { return now }
	var builds atomic.Int32
	gate := make(chan struct{})
	build := func() (builtPage, error) {
		<-gate
		return builtPage{body: []byte(fmt.Sprintf("page %d", builds.Add(1))), videos: []int64{10, 11}, users: []int64{1, 2}}, nil
	}
	// Concurrent misses build the page once.
	var wg sync.WaitGroup
	bodies := make([]string, 20)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			page, err := p.get("http://h", build)
			if err != nil {
				t.Error(err)
			}
			bodies[i] = string(page.body)
		}()
	}
	close(gate)
	wg.Wait()
	if n := builds.Load(); n != 1 {
		t.Fatalf("%d builds for 20 concurrent misses, want 1", n)
	}
	for _, b := range bodies {
		if b != "page 1" {
			t.Fatalf("a caller got %q, want the one build's page", b)
		}
	}
	if b, _ := p.get("http://h", build); string(b.body) != "page 1" {
		t.Fatalf("live page not served: %q", b.body)
	}
	before := builds.Load()
	now = now.Add(1500 * time.Millisecond)
	if b, _ := p.get("http://h", build); string(b.body) != fmt.Sprintf("page %d", before+1) {
		t.Fatalf("expired page served: %q", b.body)
	}
	// A failed build is returned and not kept.
	fail := errors.New("down")
	if _, err := p.get("http://other", func() (builtPage, error) { return builtPage{}, fail }); !errors.Is(err, fail) {
		t.Fatalf("failed build returned %v", err)
	}
	if b, err := p.get("http://other", func() (builtPage, error) { return builtPage{body: []byte("ok")}, nil }); err != nil || string(b.body) != "ok" {
		t.Fatalf("after a failed build: %q %v", b.body, err)
	}
	// A partial build is served and not kept.
	partial := func() (builtPage, error) { return builtPage{body: []byte("partial"), partial: true}, nil }
	for range 2 {
		if b, err := p.get("http://partial", partial); err != nil || string(b.body) != "partial" {
			t.Fatalf("partial build: %q %v", b.body, err)
		}
	}
	if _, kept := p.live("http://partial"); kept {
		t.Fatal("a partial page was kept")
	}
	// A write touching a shown video or user drops the page; others keep it.
	built := builds.Load()
	p.forget(99, 98, 0)
	if b, _ := p.get("http://h", build); string(b.body) != fmt.Sprintf("page %d", built) {
		t.Fatalf("an unrelated write dropped the page: %q", b.body)
	}
	for _, write := range []func(){func() { p.forget(11) }, func() { p.forget(0, 5, 2) }} {
		write()
		built++
		if b, _ := p.get("http://h", build); string(b.body) != fmt.Sprintf("page %d", built) {
			t.Fatalf("a write that touched the page left %q, want page %d", b.body, built)
		}
	}
	// Bases come from the Host header: no more than maxCachedPages are kept.
	for i := range 3 * maxCachedPages {
		key := fmt.Sprintf("http://h%d", i)
		if _, err := p.get(key, func() (builtPage, error) { return builtPage{body: []byte(key)}, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(p.pages); n > maxCachedPages {
		t.Fatalf("%d pages kept, bound is %d", n, maxCachedPages)
	}
	if newPageCache(0) != nil {
		t.Fatal("a zero TTL must disable the cache")
	}
}
