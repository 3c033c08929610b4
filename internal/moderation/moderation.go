// Package moderation checks user text (comments, chat messages, video titles, user names)
// against a word list read from a file and reloaded when the file changes; the configured
// action refuses the text or masks the words. The words themselves are never logged.
package moderation

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Action is what happens to a text holding a listed word.
type Action string

// Actions.
const (
	// Refuse rejects the request; nothing is stored.
	Refuse Action = "refuse"
	// Mask stores the text with each character of each word replaced by '*'.
	Mask Action = "mask"
)

// Place names where a text comes from; it labels the hit metric and the refusal message.
type Place string

// Places the list applies to.
const (
	CommentText Place = "comment"
	MessageText Place = "message"
	VideoTitle  Place = "title"
	UserName    Place = "username"
)

// Config holds the moderation settings.
type Config struct {
	// WordsFile holds one word or phrase a line ('#' starts a comment); empty: no moderation.
	WordsFile      string
	Action         string
	ReloadInterval time.Duration
}

// RegisterFlags registers the moderation settings.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.WordsFile, "moderation.words-file", "", "file of words refused or masked in comments, chat messages, video titles and user names, one a line, '#' comments (empty: no moderation)")
	fs.StringVar(&c.Action, "moderation.action", string(Refuse), "what a listed word does: refuse (the request fails and nothing is stored) or mask (each of its characters becomes '*'; user names are refused either way)")
	fs.DurationVar(&c.ReloadInterval, "moderation.reload-interval", 5*time.Second, "how often the words file is checked for changes")
}

// Validate checks the settings.
func (c *Config) Validate() error {
	switch Action(c.Action) {
	case Refuse, Mask:
	default:
		return fmt.Errorf("moderation.action must be %s or %s", Refuse, Mask)
	}
	if c.ReloadInterval < 100*time.Millisecond {
		return errors.New("moderation.reload-interval must be at least 100ms")
	}
	return nil
}

// ErrRefused is returned for a text holding a listed word under the refuse action.
var ErrRefused = errors.New("text holds a word that is not allowed")

// Filter applies the current word list. Its zero value is not usable; see New.
type Filter struct {
	cfg     Config
	action  Action
	log     *slog.Logger
	matcher atomic.Pointer[Matcher]
	hits    *prometheus.CounterVec
	// version identifies the file content the matcher was built from.
	version fileVersion
}

type fileVersion struct {
	modTime time.Time
	size    int64
}

// New loads the word list (a file that cannot be read is an error) and registers the hit
// metric on reg. With no words file configured the filter lets everything through.
func New(cfg Config, reg prometheus.Registerer, log *slog.Logger) (*Filter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f := &Filter{
		cfg: cfg, action: Action(cfg.Action), log: log,
		hits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "douyin_moderation_hits_total",
			Help: "Texts that held a listed word, by place and the action taken.",
		}, []string{"place", "action"}),
	}
	if reg != nil {
		if err := reg.Register(f.hits); err != nil {
			return nil, fmt.Errorf("register moderation metric: %w", err)
		}
	}
	f.matcher.Store(Compile(nil))
	if cfg.WordsFile != "" {
		if _, err := f.reload(); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// Words reports how many words the current list holds.
func (f *Filter) Words() int { return f.matcher.Load().Words() }

// Check returns text as it may be stored: unchanged when it holds no listed word, masked
// under the mask action, or ErrRefused. User names are never masked: the name is what its
// owner logs in with, so a changed one would lock them out.
func (f *Filter) Check(place Place, text string) (string, error) {
	m := f.matcher.Load()
	action := f.action
	if place == UserName {
		action = Refuse
	}
	if action == Refuse {
		if !m.Contains(text) {
			return text, nil
		}
		f.hits.WithLabelValues(string(place), string(Refuse)).Inc()
		return "", ErrRefused
	}
	masked, hit := m.Mask(text)
	if hit {
		f.hits.WithLabelValues(string(place), string(Mask)).Inc()
	}
	return masked, nil
}

// Run reloads the list whenever the file changes (by polling, which also sees the
// symlink swaps of a Kubernetes ConfigMap), until ctx ends. A file that becomes unreadable
// or empty keeps the last list in force.
func (f *Filter) Run(ctx context.Context) error {
	if f.cfg.WordsFile == "" {
		return nil
	}
	tick := time.NewTicker(f.cfg.ReloadInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		changed, err := f.reload()
		switch {
		case err != nil:
			f.log.Warn("moderation list not reloaded, the previous one stays in force", "file", f.cfg.WordsFile, "err", err)
		case changed:
			f.log.Info("moderation list reloaded", "file", f.cfg.WordsFile, "words", f.Words())
		}
	}
}

// reload rebuilds the matcher when the file differs from the one loaded.
func (f *Filter) reload() (bool, error) {
	info, err := os.Stat(f.cfg.WordsFile)
	if err != nil {
		return false, fmt.Errorf("moderation words file: %w", err)
	}
	v := fileVersion{modTime: info.ModTime(), size: info.Size()}
	if v == f.version {
		return false, nil
	}
	data, err := os.ReadFile(f.cfg.WordsFile)
	if err != nil {
		return false, fmt.Errorf("moderation words file: %w", err)
	}
	words := ParseWords(data)
	if len(words) == 0 && f.version != (fileVersion{}) {
		// Most likely caught half-written: an emptied list would silently let everything through.
		return false, errors.New("the words file holds no words")
	}
	f.matcher.Store(Compile(words))
	f.version = v
	return true, nil
}

// ParseWords reads one word or phrase a line; blank lines and lines starting with '#' are
// skipped, surrounding spaces trimmed.
func ParseWords(data []byte) []string {
	var words []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		w := strings.TrimSpace(sc.Text())
		if w == "" || strings.HasPrefix(w, "#") {
			continue
		}
		words = append(words, w)
	}
	return words
}
