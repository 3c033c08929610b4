package moderation

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMatcherFindsCJKAndLatinCaseInsensitively(t *testing.T) {
	m := Compile([]string{"赌博", "Spam", "he", "she", "hers", "  "})
	cases := []struct {
		text   string
		found  bool
		masked string
	}{
		{"今天天气很好", false, "今天天气很好"},
		{"来赌博吧", true, "来**吧"},
		{"buy SPAM now", true, "buy **** now"},
		{"ｓｐａｍ全角", true, "****全角"},
		{"ushers", true, "u*****"}, // she, he and hers overlap: every character of each is masked
		{"h e", false, "h e"},
		{"", false, ""},
	}
	for _, c := range cases {
		if got := m.Contains(c.text); got != c.found {
			t.Errorf("Contains(%q) = %v, want %v", c.text, got, c.found)
		}
		masked, hit := m.Mask(c.text)
		if masked != c.masked || hit != c.found {
			t.Errorf("Mask(%q) = %q, %v; want %q, %v", c.text, masked, hit, c.masked, c.found)
		}
	}
	if m.Words() != 5 { // the blank line is not a word
		t.Errorf("Words() = %d, want 5", m.Words())
	}
	if n := m.Count("he said she"); n != 2 {
		t.Errorf("Count = %d, want 2", n)
	}
}

func TestMatcherAgreesWithNaiveSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("abcAB赌博色情")
	word := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 200 {
		var words []string
		for range 1 + rng.IntN(6) {
			words = append(words, word(1+rng.IntN(4)))
		}
		text := word(rng.IntN(30))
		m := Compile(words)
		want := false
		for _, w := range words {
			if strings.Contains(strings.ToLower(text), strings.ToLower(w)) {
				want = true
			}
		}
		if got := m.Contains(text); got != want {
			t.Fatalf("words %q text %q: Contains = %v, want %v", words, text, got, want)
		}
		masked, _ := m.Mask(text)
		if want == (masked == text) {
			t.Fatalf("words %q text %q: masked %q", words, text, masked)
		}
		if Compile(words).Contains(masked) {
			t.Fatalf("words %q text %q: masked %q still holds a word", words, text, masked)
		}
	}
}

func writeWords(t *testing.T, path string, words ...string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte("# test list\n"+strings.Join(words, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// lockedBuffer is a log sink the reloading goroutine and the test share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newFilter(t *testing.T, action Action, words ...string) (*Filter, *prometheus.Registry, string, *lockedBuffer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "words.txt")
	writeWords(t, path, words...)
	reg := prometheus.NewRegistry()
	var logs lockedBuffer
	f, err := New(Config{WordsFile: path, Action: string(action), ReloadInterval: 100 * time.Millisecond}, reg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return f, reg, path, &logs
}

func TestFilterRefusesOrMasksAndCountsHits(t *testing.T) {
	refuse, _, _, _ := newFilter(t, Refuse, "违禁词")
	if _, err := refuse.Check(CommentText, "这里有违禁词"); err != ErrRefused {
		t.Fatalf("refuse: err = %v, want ErrRefused", err)
	}
	if got, err := refuse.Check(CommentText, "clean"); err != nil || got != "clean" {
		t.Fatalf("refuse clean text: %q, %v", got, err)
	}

	mask, reg, _, _ := newFilter(t, Mask, "违禁词")
	for _, place := range []Place{CommentText, MessageText, VideoTitle} {
		got, err := mask.Check(place, "这里有违禁词!")
		if err != nil || got != "这里有***!" {
			t.Fatalf("mask %s: %q, %v", place, got, err)
		}
	}
	// A user name is what its owner logs in with: refused even under the mask action.
	if _, err := mask.Check(UserName, "违禁词"); err != ErrRefused {
		t.Fatalf("mask username: err = %v, want ErrRefused", err)
	}
	if n := testutil.ToFloat64(mask.hits.WithLabelValues("comment", "mask")); n != 1 {
		t.Errorf("comment mask hits = %v, want 1", n)
	}
	if n := testutil.ToFloat64(mask.hits.WithLabelValues("username", "refuse")); n != 1 {
		t.Errorf("username refuse hits = %v, want 1", n)
	}
	if n, err := testutil.GatherAndCount(reg, "douyin_moderation_hits_total"); err != nil || n != 4 {
		t.Errorf("registered hit series = %d, %v; want 4", n, err)
	}
}

func TestFilterWithoutFileLetsEverythingThrough(t *testing.T) {
	f, err := New(Config{Action: string(Refuse), ReloadInterval: time.Second}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.Check(CommentText, "anything"); err != nil || got != "anything" {
		t.Fatalf("%q, %v", got, err)
	}
	if err := f.Run(context.Background()); err != nil { // returns at once: nothing to watch
		t.Fatal(err)
	}
}

func TestFilterConfigIsValidated(t *testing.T) {
	if _, err := New(Config{Action: "delete", ReloadInterval: time.Second}, nil, nil); err == nil {
		t.Error("unknown action accepted")
	}
	if _, err := New(Config{WordsFile: filepath.Join(t.TempDir(), "missing"), Action: "refuse", ReloadInterval: time.Second}, nil, nil); err == nil {
		t.Error("missing words file accepted")
	}
}

func TestFilterReloadsWhenTheFileChangesAndNeverLogsWords(t *testing.T) {
	f, _, path, logs := newFilter(t, Refuse, "oldword")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	writeWords(t, path, "newword", "第二个")
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, errNew := f.Check(CommentText, "a NewWord here")
		_, errOld := f.Check(CommentText, "an oldword here")
		if errNew == ErrRefused && errOld == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("list not reloaded: new %v, old %v", errNew, errOld)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// An emptied file (e.g. caught while being rewritten) keeps the last list.
	writeWords(t, path)
	deadline = time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "not reloaded") {
		if time.Now().After(deadline) {
			t.Fatal("no warning about the empty list")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := f.Check(CommentText, "第二个"); err != ErrRefused {
		t.Fatalf("list lost after an empty file: %v", err)
	}
	for _, w := range []string{"newword", "oldword", "第二个"} {
		if strings.Contains(logs.String(), w) {
			t.Fatalf("log holds a listed word %q:\n%s", w, logs.String())
		}
	}
}

// BenchmarkMatch10kWords reports how many texts a second one core checks against a list
// of 10,000 words (comment-sized texts of 60 characters, CJK and Latin mixed).
func BenchmarkMatch10kWords(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	cjk := func() rune { return rune(0x4E00 + rng.IntN(3000)) }
	words := make([]string, 0, 10_000)
	for i := range 10_000 {
		var w strings.Builder
		for range 2 + rng.IntN(3) {
			if i%2 == 0 {
				w.WriteRune(cjk())
			} else {
				w.WriteRune(rune('a' + rng.IntN(26)))
			}
		}
		words = append(words, w.String())
	}
	m := Compile(words)
	texts := make([]string, 1000)
	for i := range texts {
		var s strings.Builder
		for range 60 {
			if rng.IntN(2) == 0 {
				s.WriteRune(cjk())
			} else {
				s.WriteRune(rune('a' + rng.IntN(26)))
			}
		}
		texts[i] = s.String()
	}
	for i := 0; b.Loop(); i++ {
		m.Mask(texts[i%len(texts)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "texts/s")
	b.ReportMetric(float64(b.N)*60/b.Elapsed().Seconds(), "chars/s")
}
