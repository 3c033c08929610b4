package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// client speaks the /douyin/ API and knows the seeded data set.
type client struct {
	base     string
	http     *http.Client
	m        Manifest
	tokens   []string // tokens[i] belongs to user id i+1
	pollFrom int64    // pre_msg_time of idle polls: after every seeded message
	// liked remembers, per worker, the videos it liked, so unlikes undo real likes and the
	// like scenario alternates like/unlike instead of mostly repeating no-ops.
	liked []map[int64]bool
}

func newClient(base string, m Manifest, concurrency int) *client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        concurrency * 2,
		MaxIdleConnsPerHost: concurrency * 2,
		MaxConnsPerHost:     concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	c := &client{
		base: strings.TrimRight(base, "/"),
		http: &http.Client{Transport: tr, Timeout: 30 * time.Second},
		m:    m,
		// The server's own clock can run ahead of the seed; one second after the last
		// seeded message is still before anything the run sends.
		pollFrom: m.MessageBase + int64(m.Sizes.Messages) + 1000,
	}
	c.liked = make([]map[int64]bool, concurrency)
	for i := range c.liked {
		c.liked[i] = map[int64]bool{}
	}
	return c
}

// apiError is a response that is not a success: its HTTP status and status_code.
type apiError struct {
	path   string
	status int
	code   int64
	msg    string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s: HTTP %d status_code %d %s", e.path, e.status, e.code, e.msg)
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// call sends one request and checks HTTP 200 and status_code 0. It reads the whole body (the
// server's work includes writing it) but decodes only the status, to keep the generator's
// own CPU use low: it shares the machine with the server.
func (c *client) call(ctx context.Context, method, path string, q url.Values) error {
	u := c.base + path + "?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	_, err = io.Copy(buf, resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	code, ok := statusCode(buf.Bytes())
	if resp.StatusCode != http.StatusOK || !ok || code != 0 {
		e := &apiError{path: path, status: resp.StatusCode, code: code}
		var env struct {
			Msg string `json:"status_msg"`
		}
		if json.Unmarshal(buf.Bytes(), &env) == nil {
			e.msg = env.Msg
		}
		return e
	}
	return nil
}

// statusCode finds "status_code":N in a JSON body without decoding the rest.
func statusCode(body []byte) (int64, bool) {
	const key = `"status_code":`
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return 0, false
	}
	rest := bytes.TrimLeft(body[i+len(key):], " ")
	j := 0
	for j < len(rest) && (rest[j] == '-' || rest[j] >= '0' && rest[j] <= '9') {
		j++
	}
	n, err := strconv.ParseInt(string(rest[:j]), 10, 64)
	return n, err == nil
}

// account is the logged-in user a worker acts as: workers share the accounts round-robin.
func (c *client) account(worker int) (int64, string) {
	i := worker % len(c.tokens)
	return int64(i + 1), c.tokens[i]
}

func (c *client) randomUser(rng *rand.Rand) int64 {
	return int64(rng.IntN(c.m.Sizes.Users) + 1)
}

// randomVideo favours recent videos, as a feed-driven app does.
func (c *client) randomVideo(rng *rand.Rand) int64 {
	n := c.m.Sizes.Videos
	f := rng.Float64()
	return int64(n) - int64(float64(n)*f*f*f)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// scenarios returns every scenario by name. Reads use random ids of the data set; writes act
// as the worker's account.
func (c *client) scenarios() map[string]op {
	get := func(path string, q func(worker int, rng *rand.Rand) url.Values) op {
		return func(ctx context.Context, w int, rng *rand.Rand) error {
			return c.call(ctx, http.MethodGet, path, q(w, rng))
		}
	}
	withToken := func(w int, q url.Values) url.Values {
		_, tok := c.account(w)
		q.Set("token", tok)
		return q
	}
	return map[string]op{
		// Most feed opens ask for the newest page; a quarter scroll further back.
		"feed-anon": get("/douyin/feed/", func(_ int, rng *rand.Rand) url.Values {
			return c.feedQuery(rng)
		}),
		"feed-auth": get("/douyin/feed/", func(w int, rng *rand.Rand) url.Values {
			return withToken(w, c.feedQuery(rng))
		}),
		// A recommended page for a logged-in viewer: each call continues past what it saw.
		"feed-recommend": get("/douyin/feed/recommend/", func(w int, _ *rand.Rand) url.Values {
			return withToken(w, url.Values{})
		}),
		"user-info": get("/douyin/user/", func(w int, rng *rand.Rand) url.Values {
			return withToken(w, url.Values{"user_id": {itoa(c.randomUser(rng))}})
		}),
		"publish-list": get("/douyin/publish/list/", func(w int, rng *rand.Rand) url.Values {
			return withToken(w, url.Values{"user_id": {itoa(c.randomUser(rng))}})
		}),
		"like": func(ctx context.Context, w int, rng *rand.Rand) error {
			v := c.randomVideo(rng)
			action := "1"
			if c.liked[w][v] {
				action = "2"
			}
			err := c.call(ctx, http.MethodPost, "/douyin/favorite/action/", withToken(w, url.Values{"video_id": {itoa(v)}, "action_type": {action}}))
			if err == nil {
				c.liked[w][v] = action == "1"
			}
			return err
		},
		"favorite-list": get("/douyin/favorite/list/", func(w int, rng *rand.Rand) url.Values {
			return withToken(w, url.Values{"user_id": {itoa(c.randomUser(rng))}})
		}),
		"comment-post": func(ctx context.Context, w int, rng *rand.Rand) error {
			return c.call(ctx, http.MethodPost, "/douyin/comment/action/", withToken(w, url.Values{
				"video_id": {itoa(c.randomVideo(rng))}, "action_type": {"1"}, "comment_text": {"bench comment from the load generator"},
			}))
		},
		"comment-list": get("/douyin/comment/list/", func(w int, rng *rand.Rand) url.Values {
			return withToken(w, url.Values{"video_id": {itoa(c.randomVideo(rng))}})
		}),
		"follow": func(ctx context.Context, w int, rng *rand.Rand) error {
			me, _ := c.account(w)
			to := c.randomUser(rng)
			if to == me {
				to = to%int64(c.m.Sizes.Users) + 1
			}
			action := strconv.Itoa(rng.IntN(2) + 1)
			return c.call(ctx, http.MethodPost, "/douyin/relation/action/", withToken(w, url.Values{"to_user_id": {itoa(to)}, "action_type": {action}}))
		},
		"follow-list": get("/douyin/relation/follow/list/", func(w int, rng *rand.Rand) url.Values {
			return withToken(w, url.Values{"user_id": {itoa(c.randomUser(rng))}})
		}),
		"follower-list": get("/douyin/relation/follower/list/", func(w int, rng *rand.Rand) url.Values {
			return withToken(w, url.Values{"user_id": {itoa(c.randomUser(rng))}})
		}),
		"friend-list": get("/douyin/relation/friend/list/", func(w int, _ *rand.Rand) url.Values {
			me, _ := c.account(w)
			return withToken(w, url.Values{"user_id": {itoa(me)}})
		}),
		// Sends go to users outside the polled conversations, so idle polls stay idle.
		"chat-send": func(ctx context.Context, w int, rng *rand.Rand) error {
			me, _ := c.account(w)
			to := c.sendTarget(me, rng)
			return c.call(ctx, http.MethodPost, "/douyin/message/action/", withToken(w, url.Values{
				"to_user_id": {itoa(to)}, "action_type": {"1"}, "content": {"bench message from the load generator"},
			}))
		},
		"chat-poll": get("/douyin/message/chat/", func(w int, _ *rand.Rand) url.Values {
			me, _ := c.account(w)
			return withToken(w, url.Values{"to_user_id": {itoa(chatPeer(c.m.Sizes, me))}, "pre_msg_time": {itoa(c.pollFrom)}})
		}),
	}
}

func (c *client) feedQuery(rng *rand.Rand) url.Values {
	if rng.IntN(4) > 0 {
		return url.Values{}
	}
	// A random page: somewhere in the span of the seeded videos (a minute apart).
	back := rng.Int64N(int64(c.m.Sizes.Videos)) * 60_000
	return url.Values{"latest_time": {itoa(time.Now().UnixMilli() - back)}}
}

// sendTarget picks a chat partner that is neither the sender, nor anybody's polled peer.
func (c *client) sendTarget(me int64, rng *rand.Rand) int64 {
	lo := int64(2*c.m.Sizes.Accounts) + 1
	users := int64(c.m.Sizes.Users)
	if lo >= users {
		to := c.randomUser(rng)
		if to == me {
			to = to%users + 1
		}
		return to
	}
	return lo + rng.Int64N(users-lo+1)
}

// defaultMix weighs the scenarios roughly as an app session does: mostly scrolling the feed,
// idle chat polls every few seconds, profile and list views, and fewer writes.
const defaultMix = "feed-anon=15,feed-auth=25,user-info=8,publish-list=3,like=10,favorite-list=5,comment-post=3,comment-list=8,follow=3,follow-list=3,follower-list=3,friend-list=2,chat-send=2,chat-poll=13"

// parseMix turns "name=weight,…" into the weighted scenarios.
func (c *client) parseMix(spec string) ([]weighted, error) {
	all := c.scenarios()
	var mix []weighted
	for _, part := range strings.Split(spec, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			w = "1"
		}
		weight, err := strconv.Atoi(w)
		if err != nil || weight < 0 {
			return nil, fmt.Errorf("mix %q: weight must be a non-negative integer", part)
		}
		do, found := all[name]
		if !found {
			return nil, fmt.Errorf("mix: unknown scenario %q (known: %s)", name, scenarioNames())
		}
		if weight > 0 {
			mix = append(mix, weighted{name: name, weight: weight, do: do})
		}
	}
	if len(mix) == 0 {
		return nil, fmt.Errorf("mix %q has no scenario with a positive weight", spec)
	}
	return mix, nil
}

// needsAccounts tells whether a mix acts as the data set's accounts: only the anonymous feed
// does not, so a run of it alone logs nobody in (the reference server has no login).
func needsAccounts(mix []weighted) bool {
	for _, w := range mix {
		if w.name != "feed-anon" {
			return true
		}
	}
	return false
}

func scenarioNames() string {
	return "feed-anon, feed-auth, user-info, publish-list, like, favorite-list, comment-post, comment-list, follow, follow-list, follower-list, friend-list, chat-send, chat-poll"
}

// login logs in the data set's accounts, or reuses the tokens cached in path for the same
// target and data set (logins are bcrypt-bound: about 50 ms of server CPU each).
func (c *client) login(ctx context.Context, path string) error {
	type cached struct {
		Target string   `json:"target"`
		Preset string   `json:"preset"`
		Tokens []string `json:"tokens"`
	}
	if path != "" {
		var tc cached
		if err := readJSON(path, &tc); err == nil && tc.Target == c.base && len(tc.Tokens) == c.m.Sizes.Accounts {
			c.tokens = tc.Tokens
			return nil
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	n := c.m.Sizes.Accounts
	c.tokens = make([]string, n)
	errs := make(chan error, n)
	ids := make(chan int, n)
	for i := range n {
		ids <- i
	}
	close(ids)
	var wg sync.WaitGroup
	for range min(8, n) {
		wg.Go(func() {
			for i := range ids {
				tok, err := c.loginOne(ctx, fmt.Sprintf("%s%d", c.m.UsernamePrefix, i+1))
				if err != nil {
					errs <- err
					return
				}
				c.tokens[i] = tok
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	if path != "" {
		return writeJSON(path, cached{Target: c.base, Preset: c.m.Preset, Tokens: c.tokens})
	}
	return nil
}

// loginRetries bounds the attempts of one login the server answered 503 ("retry later"): on a
// loaded machine a burst of logins (bcrypt, tens of ms of CPU each) can outlast the login
// RPC's timeout, and a client of the app would try again.
const (
	loginRetries   = 4
	loginRetryWait = 250 * time.Millisecond
)

// loginOne logs name in, trying again after a growing wait when the server answers 503.
func (c *client) loginOne(ctx context.Context, name string) (string, error) {
	for attempt := 1; ; attempt++ {
		token, retry, err := c.tryLogin(ctx, name)
		if !retry || attempt == loginRetries {
			return token, err
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(loginRetryWait << (attempt - 1)):
		}
	}
}

// tryLogin is one login attempt; retry reports a refusal worth trying again (HTTP 503).
func (c *client) tryLogin(ctx context.Context, name string) (token string, retry bool, err error) {
	q := url.Values{"username": {name}, "password": {c.m.Password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/douyin/user/login/?"+q.Encode(), nil)
	if err != nil {
		return "", false, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", false, fmt.Errorf("log in %s: %w", name, err)
	}
	defer resp.Body.Close()
	var body struct {
		StatusCode int64  `json:"status_code"`
		StatusMsg  string `json:"status_msg"`
		Token      string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", false, fmt.Errorf("log in %s: decode: %w", name, err)
	}
	if body.StatusCode != 0 || body.Token == "" {
		return "", resp.StatusCode == http.StatusServiceUnavailable, fmt.Errorf("log in %s: HTTP %d status_code %d %s (is the server started with -http.auth-rate-per-minute=0 on the seeded data?)", name, resp.StatusCode, body.StatusCode, body.StatusMsg)
	}
	return body.Token, false, nil
}
