//go:build reliability

package e2e

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
)

// TestLikesSurviveConsumerKills drives likes and unlikes from many users concurrently through
// the HTTP API of the multi-process deployment (scripts/up.sh) while the favorite process — the
// RocketMQ consumer that writes the durable rows — is killed with SIGKILL and restarted. Every
// operation is retried until acknowledged, so each (user, video) pair has a known final state.
// After the queue drains, no acknowledged operation may be lost and every count must be exact,
// both in the API and against the SQL rows.
//
// Run by scripts/test.sh with DOUYIN_UP_DIR (the deployment's state: pids, start scripts) and
// DOUYIN_E2E_BASE_URL set: go test -tags reliability -run TestLikesSurviveConsumerKills ./test/e2e/
func TestLikesSurviveConsumerKills(t *testing.T) {
	state := os.Getenv("DOUYIN_UP_DIR")
	if state == "" || os.Getenv(baseURLEnv) == "" {
		t.Fatal("DOUYIN_UP_DIR and DOUYIN_E2E_BASE_URL must point at a running scripts/up.sh deployment")
	}
	dsn, err := os.ReadFile(filepath.Join(state, "mysql.dsn"))
	if err != nil {
		t.Fatalf("read the deployment's DSN: %v", err)
	}
	const (
		users        = 40
		videos       = 8
		opsPerUser   = 60
		kills        = 3
		ackDeadline  = 90 * time.Second
		drainTimeout = 180 * time.Second
	)

	authors := make([]*testUser, videos)
	videoIDs := make([]int64, videos)
	for i := range videos {
		authors[i] = api.register(t, fmt.Sprintf("rel-author%d", i))
		videoIDs[i] = api.publish(t, authors[i], fmt.Sprintf("reliability %d", i), "testsrc.mp4").ID
	}
	likers := make([]*testUser, users)
	for i := range users {
		likers[i] = api.register(t, fmt.Sprintf("rel-liker%d", i))
	}

	// Each user works sequentially (so its own final state per video is defined), users in parallel.
	final := make([]map[int64]bool, users)
	var acked, retries atomic.Int64
	var done atomic.Int64
	httpc := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	errc := make(chan error, users)
	for u := range users {
		final[u] = map[int64]bool{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(u), 42))
			for range opsPerUser {
				video := videoIDs[rng.IntN(videos)]
				like := rng.IntN(3) > 0 // more likes than unlikes, so counts are not all zero
				deadline := time.Now().Add(ackDeadline)
				for !favoriteOnce(httpc, likers[u].Token, video, like) {
					retries.Add(1)
					if time.Now().After(deadline) {
						errc <- fmt.Errorf("user %d: like %d not acknowledged within %s", likers[u].ID, video, ackDeadline)
						return
					}
					time.Sleep(100 * time.Millisecond) // back off while the service restarts
				}
				final[u][video] = like
				acked.Add(1)
				done.Add(1)
			}
		}()
	}

	// Kill the consumer at evenly spaced points of the run, and start it again each time.
	killed := 0
	total := int64(users * opsPerUser)
	for k := 1; k <= kills; k++ {
		target := total * int64(k) / int64(kills+1)
		for done.Load() < target {
			time.Sleep(20 * time.Millisecond)
		}
		pid := pidOf(t, state, "favorite")
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill favorite (%d): %v", pid, err)
		}
		killed++
		waitGone(t, pid)
		if out, err := exec.Command(filepath.Join(state, "start-favorite.sh")).CombinedOutput(); err != nil {
			t.Fatalf("restart favorite: %v\n%s", err, out)
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	// Expected counts from the acknowledged final states.
	wantVideo := map[int64]int64{}
	wantUser := make([]int64, users)
	for u := range users {
		for v, liked := range final[u] {
			if liked {
				wantVideo[v]++
				wantUser[u]++
			}
		}
	}

	// Reads never wait for the consumer: every acknowledged state shows in the API at once.
	var lost int
	for u := range users {
		got := favoriteSet(t, likers[u])
		for v, liked := range final[u] {
			if got[v] != liked {
				lost++
			}
		}
	}

	// Drain: poll until the SQL rows hold every final state (the queue may still be catching up).
	db, err := sql.Open("mysql", strings.TrimSpace(string(dsn)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(drainTimeout)
	for {
		behind := 0
		for u := range users {
			rows := sqlLikedSet(t, db, likers[u].ID)
			for v, liked := range final[u] {
				if rows[v] != liked {
					behind++
				}
			}
		}
		if behind == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d acknowledged like states still missing from SQL after %s", behind, drainTimeout)
		}
		time.Sleep(500 * time.Millisecond)
	}

	for i, id := range videoIDs {
		v := api.publishedVideo(t, "", authors[i].ID, id)
		var rows, counter int64
		if err := db.QueryRow("SELECT COUNT(*) FROM favorites WHERE video_id = ? AND liked", id).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow("SELECT COALESCE(MAX(favorite_count), 0) FROM favorite_video_counts WHERE video_id = ?", id).Scan(&counter); err != nil {
			t.Fatal(err)
		}
		if v.FavoriteCount != wantVideo[id] || rows != wantVideo[id] || counter != wantVideo[id] {
			t.Errorf("video %d: API favorite_count %d, SQL rows %d, SQL counter %d; want %d", id, v.FavoriteCount, rows, counter, wantVideo[id])
		}
		if total := api.userInfo(t, "", authors[i].ID).TotalFavorited; total != wantVideo[id] {
			t.Errorf("author %d: total_favorited %d, want %d", authors[i].ID, total, wantVideo[id])
		}
	}
	for u := range users {
		if got := api.userInfo(t, "", likers[u].ID).FavoriteCount; got != wantUser[u] {
			t.Errorf("user %d: favorite_count %d, want %d", likers[u].ID, got, wantUser[u])
		}
	}
	t.Logf("likes: %d operations acknowledged (%d retries while the consumer was down), %d kills of the consumer, lost = %d", acked.Load(), retries.Load(), killed, lost)
	if lost != 0 {
		t.Errorf("%d acknowledged like states lost", lost)
	}
	fmt.Printf("like reliability: operations=%d retries=%d kills=%d lost=%d\n", acked.Load(), retries.Load(), killed, lost)
}

// sqlLikedSet is the set of videos the favorites rows say user likes.
func sqlLikedSet(t *testing.T, db *sql.DB, user int64) map[int64]bool {
	t.Helper()
	rows, err := db.Query("SELECT video_id FROM favorites WHERE user_id = ? AND liked", user)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	set := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		set[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return set
}

// favoriteOnce sends one like or unlike; true when the server acknowledged it.
func favoriteOnce(c *http.Client, token string, video int64, like bool) bool {
	action := "2"
	if like {
		action = "1"
	}
	q := url.Values{"token": {token}, "video_id": {strconv.FormatInt(video, 10)}, "action_type": {action}}
	resp, err := c.Post(api.base+pathFavorite+"?"+q.Encode(), "", nil)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var env struct {
		StatusCode int `json:"status_code"`
	}
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&env) == nil && env.StatusCode == 0
}

// favoriteSet is the set of videos u's favorite list shows.
func favoriteSet(t *testing.T, u *testUser) map[int64]bool {
	t.Helper()
	set := map[int64]bool{}
	for _, v := range api.favoriteList(t, u.Token, u.ID) {
		set[v.ID] = true
	}
	return set
}

// pidOf reads the latest pid of target from the deployment's pid file.
func pidOf(t *testing.T, state, target string) int {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(state, "pids"))
	if err != nil {
		t.Fatal(err)
	}
	pid := 0
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[1] == target {
			pid, _ = strconv.Atoi(f[0])
		}
	}
	if pid == 0 {
		t.Fatalf("no pid of %s in %s/pids", target, state)
	}
	return pid
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("process %d survived SIGKILL", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
