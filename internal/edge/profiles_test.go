package edge

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/ids"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

// fakeUsers is a remote user service holding profiles by id, recording the ids of every
// MGetUsers call and failing while fail is set.
type fakeUsers struct {
	userapi.UserService
	mu       sync.Mutex
	profiles map[int64]*userapi.UserProfile
	calls    [][]int64
	fail     error
}

func (f *fakeUsers) MGetUsers(_ context.Context, req *userapi.MGetUsersRequest) (*userapi.MGetUsersResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, slices.Clone(req.UserIds))
	if f.fail != nil {
		return nil, f.fail
	}
	if len(req.UserIds) > ids.MaxBatch {
		return nil, errors.New("too many ids")
	}
	out := map[int64]*userapi.UserProfile{}
	for _, id := range req.UserIds {
		if p, ok := f.profiles[id]; ok {
			// A fresh copy per call, as decoding a response gives.
			out[id] = &userapi.UserProfile{Id: p.Id, Name: p.Name, Avatar: p.Avatar}
		}
	}
	return &userapi.MGetUsersResponse{Users: out}, nil
}

func (f *fakeUsers) add(id int64, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.profiles[id] = &userapi.UserProfile{Id: id, Name: name, Avatar: "/a/" + name}
}

func (f *fakeUsers) lastCall() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return nil
	}
	return f.calls[len(f.calls)-1]
}

func (f *fakeUsers) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// names reads userIDs through p and returns the names by id.
func names(t *testing.T, p *Profiles, userIDs ...int64) map[int64]string {
	t.Helper()
	resp, err := p.MGetUsers(context.Background(), &userapi.MGetUsersRequest{UserIds: userIDs})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]string{}
	for id, p := range resp.Users {
		out[id] = p.Name
	}
	return out
}

func newFake() *fakeUsers {
	f := &fakeUsers{profiles: map[int64]*userapi.UserProfile{}}
	f.add(1, "ann")
	f.add(2, "bob")
	f.add(3, "cy")
	return f
}

// Profiles seen once are served without a call; a page with new ids asks only for those.
func TestProfilesAsksOnlyForWhatItHasNotSeen(t *testing.T) {
	remote := newFake()
	p := NewProfiles(remote, time.Hour, 100, nil)

	got := names(t, p, 1, 2, 2)
	if want := map[int64]string{1: "ann", 2: "bob"}; !maps.Equal(got, want) {
		t.Fatalf("first read = %v, want %v", got, want)
	}
	if call := remote.lastCall(); !slices.Equal(call, []int64{1, 2}) {
		t.Errorf("first read asked for %v, want [1 2]", call)
	}

	calls := remote.callCount()
	got = names(t, p, 2, 1)
	if want := map[int64]string{1: "ann", 2: "bob"}; !maps.Equal(got, want) {
		t.Fatalf("cached read = %v, want %v", got, want)
	}
	if remote.callCount() != calls {
		t.Errorf("a read of cached profiles called the service: %v", remote.lastCall())
	}

	got = names(t, p, 1, 3, 2)
	if want := map[int64]string{1: "ann", 2: "bob", 3: "cy"}; !maps.Equal(got, want) {
		t.Fatalf("mixed read = %v, want %v", got, want)
	}
	if call := remote.lastCall(); !slices.Equal(call, []int64{3}) {
		t.Errorf("mixed read asked for %v, want only the unseen [3]", call)
	}
}

// An id without an account is asked for again next time: an account registered meanwhile
// shows up at once.
func TestProfilesDoesNotCacheAbsence(t *testing.T) {
	remote := newFake()
	p := NewProfiles(remote, time.Hour, 100, nil)
	if got := names(t, p, 1, 9); !maps.Equal(got, map[int64]string{1: "ann"}) {
		t.Fatalf("read = %v, want only 1", got)
	}
	remote.add(9, "new")
	if got := names(t, p, 1, 9); !maps.Equal(got, map[int64]string{1: "ann", 9: "new"}) {
		t.Fatalf("read after the account was registered = %v, want 1 and 9", got)
	}
}

// A failing service fails the read (the caller answers 503) and leaves the cache as it was;
// a batch over the limit gets the service's own refusal even when every id is cached.
func TestProfilesPassesFailuresAndRefusalsThrough(t *testing.T) {
	ctx := context.Background()
	remote := newFake()
	p := NewProfiles(remote, time.Hour, 100, nil)
	names(t, p, 1)

	down := errors.New("user service down")
	remote.fail = down
	if _, err := p.MGetUsers(ctx, &userapi.MGetUsersRequest{UserIds: []int64{1, 2}}); !errors.Is(err, down) {
		t.Fatalf("read with the service down: err = %v, want %v", err, down)
	}
	if got := names(t, p, 1); !maps.Equal(got, map[int64]string{1: "ann"}) {
		t.Errorf("cached read with the service down = %v, want 1", got)
	}
	remote.fail = nil

	tooMany := make([]int64, ids.MaxBatch+1)
	for i := range tooMany {
		tooMany[i] = int64(i + 1) // 1 is cached
	}
	if _, err := p.MGetUsers(ctx, &userapi.MGetUsersRequest{UserIds: tooMany}); err == nil {
		t.Error("a batch over ids.MaxBatch was answered, want the service's refusal")
	}
}

// The cache holds at most its bound.
func TestProfilesStaysBounded(t *testing.T) {
	remote := newFake()
	for id := int64(10); id < 60; id++ {
		remote.add(id, "u")
	}
	p := NewProfiles(remote, time.Hour, 20, nil)
	for id := int64(10); id < 60; id++ {
		names(t, p, id)
	}
	if n := p.cache.Len(); n > 20 {
		t.Errorf("cache holds %d profiles, want at most 20", n)
	}
}
