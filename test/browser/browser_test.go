package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const (
	stepTimeout  = 30 * time.Second
	readyTimeout = 3 * time.Minute // a published clip is transcoded before it plays
	password     = "browser-Pass-1"
)

// page is one person's browser (its own browser context: storage is not shared).
type page struct {
	t         *testing.T
	ctx       context.Context
	who       string
	dir       string
	step      int
	host      string
	mu        sync.Mutex
	console   []string
	errors    []string
	foreign   []string
	responses map[string]int // answers seen, by API path
}

func newPage(t *testing.T, browserCtx context.Context, who, dir string, width, height int64, mobile bool) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	u, _ := url.Parse(baseURL)
	p := &page{t: t, ctx: ctx, who: who, dir: dir, host: u.Host, responses: map[string]int{}}
	if err := chromedp.Listen(ctx, p.onEvent); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	var opts []chromedp.EmulateViewportOption
	if mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height, opts...)); err != nil {
		t.Fatalf("viewport: %v", err)
	}
	return p
}

func (p *page) onEvent(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range e.Args {
			if a.Value != nil {
				parts = append(parts, string(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		line := fmt.Sprintf("console.%s: %s", e.Type, strings.Join(parts, " "))
		p.console = append(p.console, line)
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			p.errors = append(p.errors, line)
		}
	case *runtime.EventExceptionThrown:
		line := "exception: " + e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			line += " " + e.ExceptionDetails.Exception.Description
		}
		p.console = append(p.console, line)
		p.errors = append(p.errors, line)
	case *log.EventEntryAdded:
		line := fmt.Sprintf("log.%s (%s): %s %s", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL)
		p.console = append(p.console, line)
		if e.Entry.Level == log.EntryLevelError {
			p.errors = append(p.errors, line)
		}
	case *network.EventRequestWillBeSent:
		u, err := url.Parse(e.Request.URL)
		if err == nil && (u.Scheme == "http" || u.Scheme == "https" || u.Scheme == "ws" || u.Scheme == "wss") && u.Host != p.host {
			p.foreign = append(p.foreign, e.Request.URL)
		}
	case *network.EventResponseReceived:
		if u, err := url.Parse(e.Response.URL); err == nil && strings.HasPrefix(u.Path, "/douyin/") {
			p.responses[strings.TrimSuffix(u.Path, "/")]++
		}
	}
}

func (p *page) answers(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.responses[strings.TrimSuffix(path, "/")]
}

// shot saves a screenshot of what the person sees now.
func (p *page) shot(name string) string {
	p.step++
	path := filepath.Join(p.dir, fmt.Sprintf("%s-%02d-%s.png", p.who, p.step, name))
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err == nil {
		err = os.WriteFile(path, png, 0o644)
	}
	if err != nil {
		p.t.Logf("%s: screenshot %s: %v", p.who, name, err)
	}
	return path
}

// fail keeps the screenshot and the console log of the failing step, then stops the test.
func (p *page) fail(step string, err error) {
	p.t.Helper()
	shot := p.shot("FAILED-" + step)
	p.mu.Lock()
	logPath := filepath.Join(p.dir, p.who+"-console.log")
	_ = os.WriteFile(logPath, []byte(strings.Join(p.console, "\n")+"\n"), 0o644)
	p.mu.Unlock()
	p.t.Fatalf("%s: %s: %v (screenshot %s, console log %s)", p.who, step, err, shot, logPath)
}

// do runs the actions of one step within stepTimeout.
func (p *page) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.fail(step, err)
	}
}

// eval returns the value of a script.
func eval[T any](p *page, step, script string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](script))
	if err != nil {
		p.fail(step, err)
	}
	return v
}

// waitFor polls a script until it is true; what, the script's last value, explains a timeout.
func (p *page) waitFor(step, script string, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+script+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			p.fail(step, fmt.Errorf("still false after %v: %s (last error %v)", timeout, script, err))
		}
		time.Sleep(100 * time.Millisecond) // polling the page, not synchronising
	}
}

func (p *page) waitAnswer(step, path string, after int) {
	p.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for p.answers(path) <= after {
		if time.Now().After(deadline) {
			p.fail(step, fmt.Errorf("no answer from %s", path))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// text is a script giving the visible text of the first match of a CSS selector.
func text(sel string) string {
	return fmt.Sprintf(`(document.querySelector(%q)?.innerText ?? '').trim()`, sel)
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// click clicks an element once it is visible, no longer moving (sheets slide in) and not
// covered, as a person would.
func (p *page) click(step, sel string) {
	p.t.Helper()
	p.waitFor(step+" (clickable)", fmt.Sprintf(`(() => {
		const e = document.querySelector(%s);
		if (!e) return false;
		const r = e.getBoundingClientRect();
		const key = [r.x, r.y, r.width, r.height].join();
		window.__testRects ??= new WeakMap();
		const prev = window.__testRects.get(e);
		window.__testRects.set(e, key);
		if (prev !== key || !r.width || !r.height) return false;
		const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
		return !!hit && (hit === e || e.contains(hit));
	})()`, jsString(sel)), stepTimeout)
	p.do(step, chromedp.Click(css(sel)))
}

// assertClean: no console errors and no request to another host.
func (p *page) assertClean(expected ...string) {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	var unexpected []string
	for _, e := range p.errors {
		known := false
		for _, x := range expected {
			known = known || strings.Contains(e, x)
		}
		if !known {
			unexpected = append(unexpected, e)
		}
	}
	if len(unexpected) > 0 {
		_ = os.WriteFile(filepath.Join(p.dir, p.who+"-console.log"), []byte(strings.Join(p.console, "\n")+"\n"), 0o644)
		p.t.Errorf("%s: console errors:\n%s", p.who, strings.Join(unexpected, "\n"))
	}
	if len(p.foreign) > 0 {
		p.t.Errorf("%s: requests to other hosts: %v", p.who, p.foreign)
	}
}

func (p *page) open(step, hash string) {
	p.t.Helper()
	p.do(step, chromedp.Navigate(baseURL+"/"+hash))
}

// login logs in (or registers) through the dialog the page offers.
func (p *page) login(step, name string, register bool) {
	p.t.Helper()
	p.do(step, chromedp.WaitVisible(css(".dialog form")))
	if register {
		p.click(step, ".dialog .seg button:nth-child(2)")
	}
	p.do(step,
		chromedp.SetValue(css(`.dialog input[name="username"]`), name),
		chromedp.SetValue(css(`.dialog input[name="password"]`), password))
	p.click(step, `.dialog button[type="submit"]`)
	p.do(step, chromedp.WaitNotPresent(css(".dialog")))
}

func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed: the browser tests need Debian's chromium (scripts/deps.sh installs it: apt-get install chromium)")
	return ""
}

var slideID = regexp.MustCompile(`^\d+$`)

func TestWebAppInBrowser(t *testing.T) {
	dir := filepath.Join(repoRoot, ".run", "browser-artifacts", placement+"-"+time.Now().Format("20060102-150405"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)

	// Setup over HTTP: an author with a ready video, so the feed has something to play.
	suffix := fmt.Sprint(time.Now().UnixNano() % 1e9)
	authorName, viewerName := "author"+suffix, "viewer"+suffix
	reg := apiCall(t, "POST", "/douyin/user/register/", url.Values{"username": {authorName}, "password": {password}}, nil, "")
	authorID := int64(reg["user_id"].(float64))
	publishClip(t, reg["token"].(string), authorID, "浏览器测试 "+suffix, makeClip(t, 4, "testsrc2"))

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath(t)), chromedp.Headless, chromedp.NoSandbox, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.DisableGPU, chromedp.Flag("mute-audio", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1440, 900))
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}

	viewer := newPage(t, browserCtx, "viewer", dir, 1440, 900, false)

	// 1. Register, then log out and log in again.
	viewer.open("open profile", "#/me")
	viewer.click("login prompt", ".state button.btn")
	viewer.waitFor("dialog shown", `getComputedStyle(document.querySelector('.dialog')).opacity === '1'`, stepTimeout)
	viewer.shot("login-dialog")
	viewer.login("register", viewerName, true)
	viewer.waitFor("registered profile", text(".p-head h1")+` === `+jsString(viewerName), stepTimeout)
	viewer.shot("registered")
	viewer.click("log out", "button.logout")
	viewer.waitFor("logged out", `!localStorage.getItem('douyin.session') && location.hash === '#/'`, stepTimeout)
	viewer.open("profile after logout", "#/me")
	viewer.click("login prompt again", ".state button.btn")
	viewer.login("log in", viewerName, false)
	viewer.waitFor("logged-in profile", text(".p-head h1")+` === `+jsString(viewerName), stepTimeout)
	if strings.Contains(eval[string](viewer, "url", "location.href"), eval[string](viewer, "token", "JSON.parse(localStorage.getItem('douyin.session')).token")) {
		t.Fatal("the token shows in the page's URL")
	}

	// 2. The first video plays: its currentTime advances.
	viewer.open("feed", "#/")
	viewer.waitFor("first video", `document.querySelector('.slide.active video')?.currentTime > 0.2`, stepTimeout)
	t0 := eval[float64](viewer, "time", `document.querySelector('.slide.active video').currentTime`)
	viewer.waitFor("video advances", fmt.Sprintf(`document.querySelector('.slide.active video').currentTime > %f + 0.3 || document.querySelector('.slide.active video').currentTime < %f`, t0, t0), stepTimeout)
	viewer.waitFor("notices gone", `!document.querySelector('#toasts .toast')`, stepTimeout)
	viewer.waitFor("muted autoplay", `document.querySelector('.slide.active video').muted && !document.querySelector('.slide.active video').paused`, stepTimeout)
	viewer.shot("feed-playing")

	// 3. Like; the state survives a reload.
	videoID := eval[string](viewer, "video id", `document.querySelector('.slide.active').dataset.videoId`)
	if !slideID.MatchString(videoID) {
		t.Fatalf("active slide has no video id: %q", videoID)
	}
	likes := eval[string](viewer, "like count", text(".slide.active .like .n"))
	before := viewer.answers("/douyin/favorite/action/")
	viewer.click("like", ".slide.active button.like")
	viewer.waitFor("liked", `document.querySelector('.slide.active button.like').getAttribute('aria-pressed') === 'true'`, stepTimeout)
	viewer.waitAnswer("like answered", "/douyin/favorite/action/", before)
	if got := eval[string](viewer, "like count", text(".slide.active .like .n")); got != fmt.Sprint(atoi(likes)+1) {
		t.Errorf("like count after liking = %s, want %d", got, atoi(likes)+1)
	}
	viewer.shot("liked")
	viewer.do("reload", chromedp.Reload())
	slide := fmt.Sprintf(`.slide[data-video-id="%s"]`, videoID)
	viewer.waitFor("video after reload", `document.querySelector('`+slide+`')`, stepTimeout)
	for range 30 { // newer videos may have arrived above it: move down as a person would
		if eval[bool](viewer, "active", `!!document.querySelector('.slide.active[data-video-id="`+videoID+`"]')`) {
			break
		}
		viewer.do("next video", chromedp.KeyEvent(kb.ArrowDown))
		time.Sleep(450 * time.Millisecond) // the wheel/key step lock of the page
	}
	viewer.waitFor("like kept after reload", `document.querySelector('.slide.active[data-video-id="`+videoID+`"] button.like')?.getAttribute('aria-pressed') === 'true'`, stepTimeout)
	viewer.shot("liked-after-reload")

	// 4. Comment, then delete the comment.
	comment := "来自浏览器的评论 " + suffix
	viewer.click("open comments", ".slide.active button.comment")
	viewer.waitFor("comments loaded", `document.querySelector('.sheet .body') && !document.querySelector('.sheet .body .spinner')`, stepTimeout)
	comments := atoi(eval[string](viewer, "comment count", text(".sheet header span")))
	viewer.do("write comment", chromedp.SetValue(css(".sheet .composer input"), comment))
	viewer.click("send comment", `.sheet .composer button[type="submit"]`)
	viewer.waitFor("comment shown", fmt.Sprintf(`[...document.querySelectorAll('.sheet li.comment .c-text')].some(e => e.innerText === %s)`, jsString(comment)), stepTimeout)
	viewer.waitFor("count shown", text(".sheet header span")+fmt.Sprintf(` === '%d 条评论'`, comments+1), stepTimeout)
	// The comment also crosses the playing video as a live comment (弹幕), pushed over the socket.
	viewer.waitFor("live comment shown", fmt.Sprintf(`[...document.querySelectorAll('.slide.active .danmaku .danmaku-item')].some(e => e.textContent === %s)`, jsString(comment)), stepTimeout)
	viewer.shot("commented")
	viewer.click("delete comment", `.sheet li.comment button.c-del`)
	viewer.waitFor("comment gone", fmt.Sprintf(`![...document.querySelectorAll('.sheet li.comment .c-text')].some(e => e.innerText === %s)`, jsString(comment)), stepTimeout)
	viewer.waitFor("count back", text(".sheet header span")+fmt.Sprintf(` === '%d 条评论'`, comments), stepTimeout)
	if comments == 0 {
		viewer.waitFor("empty comments", text(".sheet .body")+`.includes('还没有评论')`, stepTimeout)
	}
	viewer.shot("comment-deleted")
	viewer.do("close comments", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(css(".sheet")))
	viewer.shot("danmaku-on")
	viewer.click("danmaku off", "button.danmaku-toggle")
	viewer.waitFor("danmaku hidden", `!document.querySelector('.danmaku') && document.querySelector('button.danmaku-toggle').getAttribute('aria-pressed') === 'false'`, stepTimeout)
	viewer.click("danmaku on", "button.danmaku-toggle")
	viewer.waitFor("danmaku connected", `document.querySelector('.slide.active .danmaku')?.dataset.live === 'open'`, stepTimeout)

	// 5. Follow the author.
	authorHref := eval[string](viewer, "author", `document.querySelector('.slide.active .who a').getAttribute('href')`)
	followedID := strings.TrimPrefix(authorHref, "#/user/")
	before = viewer.answers("/douyin/relation/action/")
	viewer.click("follow", ".slide.active .follow-plus")
	viewer.waitAnswer("follow answered", "/douyin/relation/action/", before)
	viewer.waitFor("followed", text("#toasts")+`.includes('已关注')`, stepTimeout)
	viewer.shot("followed")
	viewer.waitFor("plus gone", `!document.querySelector('.slide.active .follow-plus')`, stepTimeout)

	// The 关注 tab holds the followed author's videos only; 推荐 shows a ranked page.
	viewer.click("following tab", `.feed-tabs button:nth-child(2)`)
	viewer.waitFor("following feed", `document.querySelector('.feed-tabs button:nth-child(2)').getAttribute('aria-selected') === 'true' && `+
		`document.querySelectorAll('.slide .who a').length > 0 && [...document.querySelectorAll('.slide .who a')].every(a => a.getAttribute('href') === `+jsString(authorHref)+`)`, stepTimeout)
	viewer.shot("following-feed")
	// The viewer liked this run's only video, and liked videos are not recommended: alone (one
	// process) the page is empty; beside the e2e suite's videos it plays one of those.
	before = viewer.answers("/douyin/feed/recommend/")
	viewer.click("recommend tab", `.feed-tabs button:nth-child(3)`)
	viewer.waitAnswer("recommend answered", "/douyin/feed/recommend/", before)
	viewer.waitFor("recommended feed", `document.querySelector('.feed-tabs button:nth-child(3)').getAttribute('aria-selected') === 'true' && `+
		`(document.querySelector('.slide.active video') || `+text(".feed .state")+`.includes('暂时没有新的推荐'))`, stepTimeout)
	if eval[bool](viewer, "recommended liked video", `!!document.querySelector('.slide[data-video-id="`+videoID+`"]')`) {
		t.Errorf("推荐 shows video %s, which the viewer liked", videoID)
	}
	viewer.shot("recommended-feed")

	// 6. Profile counts.
	viewer.open("own profile", "#/me")
	viewer.waitFor("own counts", text(".follow-count")+` === '1' && `+text(".follower-count")+` === '0' && `+text(".tabs")+`.includes('喜欢 1')`, stepTimeout)
	viewer.click("likes tab", ".tabs button:nth-child(2)")
	viewer.waitFor("liked grid", `document.querySelectorAll('.grid .tile').length === 1`, stepTimeout)
	viewer.shot("profile-likes")
	viewer.open("author profile", "#/user/"+followedID)
	viewer.waitFor("author counts", `Number(`+text(".follower-count")+`) >= 1 && `+text(".p-actions .btn")+` === '已关注'`, stepTimeout)
	viewer.waitFor("author works", `document.querySelectorAll('.grid .tile img').length >= 1 && [...document.querySelectorAll('.grid .tile img')].every(i => i.complete && i.naturalWidth > 0)`, stepTimeout)
	viewer.shot("author-profile")

	// 7. Chat between two browsers: the author on a phone-sized screen.
	author := newPage(t, browserCtx, "author", dir, 375, 667, true)
	author.open("author opens the app", "#/chat/"+eval[string](viewer, "my id", `String(JSON.parse(localStorage.getItem('douyin.session')).user_id)`))
	author.login("author logs in", authorName, false)
	author.waitFor("author chat ready", `document.querySelector('.messages') && !document.querySelector('.messages .spinner')`, stepTimeout)
	viewer.open("viewer opens chat", "#/chat/"+fmt.Sprint(authorID))
	viewer.waitFor("viewer chat ready", text(".page-head h1")+` === `+jsString(authorName)+` && !document.querySelector('.messages .spinner')`, stepTimeout)
	hello := "你好，我关注你了 " + suffix
	viewer.do("send", chromedp.SetValue(css(".composer input"), hello))
	viewer.click("send", `.composer button[type="submit"]`)
	viewer.waitFor("own message shown", fmt.Sprintf(`[...document.querySelectorAll('.msg.mine .bubble')].some(e => e.innerText === %s)`, jsString(hello)), stepTimeout)
	author.waitFor("message arrives", fmt.Sprintf(`[...document.querySelectorAll('.msg:not(.mine) .bubble')].some(e => e.innerText === %s)`, jsString(hello)), stepTimeout)
	reply := "谢谢关注！" + suffix
	author.do("reply", chromedp.SetValue(css(".composer input"), reply))
	author.click("reply", `.composer button[type="submit"]`)
	viewer.waitFor("reply arrives", fmt.Sprintf(`[...document.querySelectorAll('.msg:not(.mine) .bubble')].some(e => e.innerText === %s)`, jsString(reply)), stepTimeout)
	author.shot("chat")
	viewer.shot("chat")
	author.open("author feed on a phone", "#/")
	author.waitFor("phone feed plays", `document.querySelector('.slide.active video')?.currentTime > 0.2`, stepTimeout)
	author.shot("feed-phone")
	author.open("author profile on a phone", "#/me")
	author.waitFor("phone profile", text(".follower-count")+` === '1' && `+text(".tabs")+`.includes('作品 1') && document.querySelector('.grid .tile img') && [...document.querySelectorAll('.profile img')].every(i => i.complete && i.naturalWidth > 0)`, stepTimeout)
	author.shot("profile-phone")

	// 8. Upload a generated clip and watch it become ready and play.
	title := "我的新作品 " + suffix
	viewer.open("publish", "#/publish")
	viewer.do("pick file", chromedp.WaitVisible(css(`.publish input[type="file"]`)),
		chromedp.SetUploadFiles(css(`.publish input[type="file"]`), []string{makeClip(t, 3, "smptehdbars")}))
	viewer.waitFor("preview", `document.querySelector('.drop video')`, stepTimeout)
	viewer.do("title", chromedp.SetValue(css(`.publish input[name="title"]`), title))
	viewer.click("publish", `.publish button[type="submit"]`)
	viewer.waitFor("upload progress", `document.querySelector('.bar[role=progressbar]')`, stepTimeout)
	viewer.waitFor("uploaded", `document.querySelector('.bar[role=progressbar]')?.getAttribute('aria-valuenow') === '100' || document.querySelector('video.result')`, stepTimeout)
	viewer.shot("processing")
	viewer.waitFor("ready", `document.querySelector('video.result')`, readyTimeout)
	viewer.waitFor("published video plays", `document.querySelector('video.result').currentTime > 0.3`, stepTimeout)
	viewer.waitFor("success shown", text(".publish-status.ok")+`.includes('发布成功')`, stepTimeout)
	viewer.shot("published")
	viewer.open("own works", "#/me")
	viewer.waitFor("work listed", fmt.Sprintf(`[...document.querySelectorAll('.grid .tile img')].some(i => i.alt.includes(%s))`, jsString(title)), stepTimeout)
	viewer.waitFor("profile images", `[...document.querySelectorAll('.profile img')].every(i => i.complete && i.naturalWidth > 0)`, stepTimeout)
	viewer.shot("profile")

	// Session expiry: a refused token asks for a login over the same page, which then goes on.
	expired := newPage(t, browserCtx, "expired", dir, 375, 667, true)
	expired.open("open app", "#/")
	expired.do("forge an expired session", chromedp.Evaluate[chromedp.Void](
		`localStorage.setItem('douyin.session', JSON.stringify({token: 'expired.token.value', user_id: 1}))`))
	expired.open("messages with an expired token", "#/messages")
	expired.waitFor("login asked", text(".dialog .sub")+`.includes('登录已过期')`, stepTimeout)
	expired.shot("session-expired")
	expired.login("log in again", viewerName, false)
	expired.waitFor("same page goes on", `location.hash === '#/messages' && `+text(".page-head h1")+` === '消息' && !document.querySelector('.view .spinner') && !document.querySelector('.dialog')`, stepTimeout)
	expired.waitFor("session renewed", `JSON.parse(localStorage.getItem('douyin.session')).token !== 'expired.token.value'`, stepTimeout)
	expired.shot("after-relogin")

	viewer.assertClean()
	author.assertClean()
	expired.assertClean("status of 401") // the refused token's answer, which the page handles
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}
