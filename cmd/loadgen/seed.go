package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/auth"
	"github.com/douyin-backend/douyin/internal/db"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
	"github.com/douyin-backend/douyin/services/comment"
	"github.com/douyin-backend/douyin/services/favorite"
	"github.com/douyin-backend/douyin/services/message"
	"github.com/douyin-backend/douyin/services/relation"
	"github.com/douyin-backend/douyin/services/user"
	"github.com/douyin-backend/douyin/services/video"
)

// Sizes is the shape of a seeded data set.
type Sizes struct {
	Users    int `json:"users"`
	Videos   int `json:"videos"`
	Likes    int `json:"likes"`
	Comments int `json:"comments"`
	Follows  int `json:"follows"`
	Messages int `json:"messages"`
	// Accounts is how many of the users (ids 1..Accounts) the load phase logs in with.
	Accounts int `json:"accounts"`
}

// presets are the named data sets. "large" is the size; "small" is a tenth of it in
// every table, so per-user and per-video list lengths are the same and the scale check
// compares table size alone.
var presets = map[string]Sizes{
	"tiny":  {Users: 60, Videos: 200, Likes: 600, Comments: 300, Follows: 300, Messages: 300, Accounts: 16},
	"small": {Users: 1000, Videos: 10000, Likes: 100000, Comments: 20000, Follows: 10000, Messages: 10000, Accounts: 128},
	"large": {Users: 10000, Videos: 100000, Likes: 1000000, Comments: 200000, Follows: 100000, Messages: 100000, Accounts: 128},
}

// Validate checks that the sizes can be generated: pairs must fit the distinct-pair space.
func (s Sizes) Validate() error {
	switch {
	case s.Users < 2 || s.Videos < 1:
		return errors.New("need at least 2 users and 1 video")
	case s.Accounts < 1 || s.Accounts > s.Users:
		return fmt.Errorf("accounts %d must be 1..users (%d)", s.Accounts, s.Users)
	case s.Likes < 0 || s.Comments < 0 || s.Follows < 0 || s.Messages < 0:
		return errors.New("sizes must not be negative")
	case float64(s.Likes) > 0.5*float64(s.Users)*float64(s.Videos):
		return errors.New("likes must be at most half of users*videos (distinct pairs)")
	case float64(s.Follows) > 0.5*float64(s.Users)*float64(s.Users-1):
		return errors.New("follows must be at most half of the possible pairs")
	}
	return nil
}

// Manifest describes a seeded data set to the load phase: which ids exist and how to log in.
type Manifest struct {
	Preset   string `json:"preset"`
	Sizes    Sizes  `json:"sizes"`
	Password string `json:"password"`
	// Usernames are "<UsernamePrefix><id>".
	UsernamePrefix string `json:"username_prefix"`
	// MessageBase is the created_at (Unix ms) of the first seeded message; the latest seeded
	// message is MessageBase+Messages-1, so polls after it are idle until someone sends.
	MessageBase int64 `json:"message_base"`
	// SeedSeconds is how long seeding took.
	SeedSeconds float64 `json:"seed_seconds"`
	Driver      string  `json:"driver"`
}

// benchPassword is the password of every seeded account. The data set is synthetic and
// local, so a known password is what makes logging in from the load generator possible.
const benchPassword = "bench-password"

const usernamePrefix = "bench"

// Blob keys shared by every seeded video: one small real clip and one cover.
const (
	clipKey  = "bench/clip.mp4"
	coverKey = "bench/cover.jpg"
	// statusReady is a ready video's stored status (the IDL enum in the column's small
	// integer): only ready videos are served by the feed and lists.
	statusReady = int8(videoapi.VideoStatus_Ready)
)

// seedConfig is the configuration of the seed subcommand.
type seedConfig struct {
	DB       db.Config
	DataDir  string
	BlobDir  string
	Preset   string
	Sizes    Sizes
	Manifest string
	Batch    int
	Seed     uint64
	Clip     string
}

func (c *seedConfig) RegisterFlags(fs *flag.FlagSet) {
	c.DB.RegisterFlags(fs)
	fs.StringVar(&c.DataDir, "data.dir", "./data", "data dir of the embedded mode: the SQLite file is <data.dir>/douyin.db unless db.dsn names one")
	fs.StringVar(&c.BlobDir, "blob-dir", "", "local blob root to put the shared clip and cover in (default <data.dir>/blobs)")
	fs.StringVar(&c.Preset, "size", "small", "data set preset: tiny, small or large; the count flags override single sizes")
	fs.IntVar(&c.Sizes.Users, "users", 0, "users (0: preset)")
	fs.IntVar(&c.Sizes.Videos, "videos", 0, "videos (0: preset)")
	fs.IntVar(&c.Sizes.Likes, "likes", 0, "distinct likes (0: preset)")
	fs.IntVar(&c.Sizes.Comments, "comments", 0, "comments (0: preset)")
	fs.IntVar(&c.Sizes.Follows, "follows", 0, "distinct follows (0: preset)")
	fs.IntVar(&c.Sizes.Messages, "messages", 0, "chat messages (0: preset)")
	fs.IntVar(&c.Sizes.Accounts, "accounts", 0, "users the load phase logs in with, ids 1..n (0: preset)")
	fs.StringVar(&c.Manifest, "manifest", "", "write the data set manifest (JSON) here for the load phase")
	fs.IntVar(&c.Batch, "batch", 0, "rows per multi-row INSERT (0: 100 on SQLite, whose driver binds parameters in quadratic time, 1000 on MySQL)")
	fs.Uint64Var(&c.Seed, "seed", 1, "random seed: the same seed and sizes give the same data set")
	fs.StringVar(&c.Clip, "clip", "internal/seed/assets/testsrc.mp4", "the small MP4 every seeded video plays")
}

// resolve applies the preset under the explicit counts.
func (c *seedConfig) resolve() (Sizes, error) {
	p, ok := presets[c.Preset]
	if !ok {
		return Sizes{}, fmt.Errorf("unknown -size %q: want tiny, small or large", c.Preset)
	}
	s := c.Sizes
	for _, f := range []struct {
		dst *int
		def int
	}{
		{&s.Users, p.Users}, {&s.Videos, p.Videos}, {&s.Likes, p.Likes}, {&s.Comments, p.Comments},
		{&s.Follows, p.Follows}, {&s.Messages, p.Messages}, {&s.Accounts, p.Accounts},
	} {
		if *f.dst == 0 {
			*f.dst = f.def
		}
	}
	return s, s.Validate()
}

func (c *seedConfig) Validate() error {
	if err := c.DB.Validate(); err != nil {
		return err
	}
	if c.Batch < 0 || c.Batch > 5000 {
		return errors.New("-batch must be 0..5000")
	}
	_, err := c.resolve()
	return err
}

// runSeed fills an empty database with a synthetic data set. It writes rows straight through
// GORM with multi-row INSERTs (the services' own tables, migrated by their Migrate functions),
// and computes every counter table from the generated rows so all invariants hold.
func runSeed(ctx context.Context, cfg seedConfig) (Manifest, error) {
	start := time.Now()
	sizes, err := cfg.resolve()
	if err != nil {
		return Manifest{}, err
	}
	if cfg.DB.Driver == db.DriverMySQL {
		if err := db.EnsureDatabase(ctx, cfg.DB); err != nil {
			return Manifest{}, err
		}
	}
	gdb, err := db.Open(cfg.DB, cfg.DataDir)
	if err != nil {
		return Manifest{}, err
	}
	defer db.Close(gdb)
	gdb = gdb.WithContext(ctx)
	for _, m := range []func(*gorm.DB) error{user.Migrate, video.Migrate, favorite.Migrate, comment.Migrate, relation.Migrate, message.Migrate} {
		if err := m(gdb); err != nil {
			return Manifest{}, err
		}
	}
	var existing int64
	if err := gdb.Table(user.Account{}.TableName()).Count(&existing).Error; err != nil {
		return Manifest{}, fmt.Errorf("count users: %w", err)
	}
	if existing > 0 {
		return Manifest{}, fmt.Errorf("the database already has %d users: seed an empty one", existing)
	}
	if err := putBlobs(cfg); err != nil {
		return Manifest{}, err
	}
	hash, err := auth.HashPassword(benchPassword, 0)
	if err != nil {
		return Manifest{}, fmt.Errorf("hash password: %w", err)
	}
	g := newGenerator(sizes, cfg.Seed, time.Now().UnixMilli())
	w := &writer{gdb: gdb, batch: cfg.Batch, sqlite: cfg.DB.Driver == db.DriverSQLite}
	if w.batch == 0 {
		w.batch = 1000
		if w.sqlite {
			w.batch = 100
		}
	}
	steps := []struct {
		name string
		fn   func() error
	}{
		{"users", func() error { return g.users(w, hash) }},
		{"videos", func() error { return g.videos(w) }},
		{"likes", func() error { return g.likes(w) }},
		{"comments", func() error { return g.comments(w) }},
		{"follows", func() error { return g.follows(w) }},
		{"messages", func() error { return g.messages(w) }},
	}
	for _, s := range steps {
		t := time.Now()
		if err := s.fn(); err != nil {
			return Manifest{}, fmt.Errorf("seed %s: %w", s.name, err)
		}
		fmt.Fprintf(os.Stderr, "loadgen: seeded %s in %.1fs\n", s.name, time.Since(t).Seconds())
	}
	m := Manifest{
		Preset: cfg.Preset, Sizes: sizes, Password: benchPassword, UsernamePrefix: usernamePrefix,
		MessageBase: g.messageBase, SeedSeconds: time.Since(start).Seconds(), Driver: cfg.DB.Driver,
	}
	if cfg.Manifest != "" {
		if err := writeJSON(cfg.Manifest, m); err != nil {
			return Manifest{}, err
		}
	}
	return m, nil
}

// putBlobs writes the shared clip and cover once into the local blob store's layout.
func putBlobs(cfg seedConfig) error {
	dir := cfg.BlobDir
	if dir == "" {
		dir = filepath.Join(cfg.DataDir, "blobs")
	}
	clip, err := os.ReadFile(cfg.Clip)
	if err != nil {
		return fmt.Errorf("read seed clip: %w", err)
	}
	img := image.NewRGBA(image.Rect(0, 0, 36, 64))
	for i := range img.Pix {
		img.Pix[i] = 0x80
	}
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var cover bytes.Buffer
	if err := jpeg.Encode(&cover, img, nil); err != nil {
		return fmt.Errorf("encode cover: %w", err)
	}
	for key, body := range map[string][]byte{clipKey: clip, coverKey: cover.Bytes()} {
		path := filepath.Join(dir, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("put blob %s: %w", key, err)
		}
		if err := os.WriteFile(path, body, 0o644); err != nil {
			return fmt.Errorf("put blob %s: %w", key, err)
		}
	}
	return nil
}

// writer batches rows into multi-row INSERTs, one transaction per table.
type writer struct {
	gdb    *gorm.DB
	batch  int
	sqlite bool
}

// insert writes rows (each len(cols) values) into table.
func (w *writer) insert(table string, cols []string, rows func(emit func(vals ...any) error) error) error {
	return w.gdb.Transaction(func(tx *gorm.DB) error {
		if w.sqlite {
			// SQLite's default page cache is 2 MiB: secondary indexes of a million rows
			// thrash it. 256 MiB for this connection only; the server keeps its default.
			if err := tx.Exec("PRAGMA cache_size = -262144").Error; err != nil {
				return fmt.Errorf("insert into %s: %w", table, err)
			}
		}
		head := "INSERT INTO " + table + " (" + strings.Join(cols, ",") + ") VALUES "
		tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
		args := make([]any, 0, w.batch*len(cols))
		n := 0
		flush := func() error {
			if n == 0 {
				return nil
			}
			var sb strings.Builder
			sb.Grow(len(head) + n*(len(tuple)+1))
			sb.WriteString(head)
			for i := range n {
				if i > 0 {
					sb.WriteByte(',')
				}
				sb.WriteString(tuple)
			}
			if err := tx.Exec(sb.String(), args...).Error; err != nil {
				return fmt.Errorf("insert into %s: %w", table, err)
			}
			args, n = args[:0], 0
			return nil
		}
		err := rows(func(vals ...any) error {
			args = append(args, vals...)
			n++
			if n == w.batch {
				return flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
		return flush()
	})
}

// generator makes a deterministic data set. Ids are 1..n for every table, so the load phase
// can pick valid ids without reading the database.
type generator struct {
	s           Sizes
	rng         *rand.Rand
	now         int64
	authors     []int64 // authors[v-1] is the author of video v
	videoTime   []int64
	messageBase int64
}

func newGenerator(s Sizes, seed uint64, now int64) *generator {
	return &generator{s: s, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: now}
}

// skewed picks 1..n with a heavy head (a few popular users and videos), as real traffic has.
func (g *generator) skewed(n int) int64 {
	f := g.rng.Float64()
	return int64(float64(n)*f*f*f) + 1
}

func (g *generator) users(w *writer, hash string) error {
	cols := []string{"id", "name", "username_key", "password_hash", "avatar", "background_image", "signature", "created_at"}
	return w.insert(user.Account{}.TableName(), cols, func(emit func(...any) error) error {
		for id := 1; id <= g.s.Users; id++ {
			name := fmt.Sprintf("%s%d", usernamePrefix, id)
			// Empty profile fields mean "the configured default", as for a fresh sign-up.
			if err := emit(id, name, name, hash, "", "", "", g.now-int64(g.s.Users-id)*1000-86_400_000); err != nil {
				return err
			}
		}
		return nil
	})
}

func (g *generator) videos(w *writer) error {
	g.authors = make([]int64, g.s.Videos)
	g.videoTime = make([]int64, g.s.Videos)
	works := map[int64]int64{}
	cols := []string{"id", "author_id", "title", "source_key", "play_key", "cover_key", "status", "failure_reason", "created_at"}
	err := w.insert(video.Video{}.TableName(), cols, func(emit func(...any) error) error {
		for i := range g.s.Videos {
			id := int64(i + 1)
			author := g.skewed(g.s.Users)
			// Newer ids are newer videos, a minute apart, all before now.
			created := g.now - int64(g.s.Videos-i)*60_000
			g.authors[i], g.videoTime[i] = author, created
			works[author]++
			if err := emit(id, author, fmt.Sprintf("bench video %d", id), clipKey, clipKey, coverKey, statusReady, "", created); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return writeCounts(w, video.WorkCount{}.TableName(), []string{"user_id", "work_count"}, works)
}

// pairs draws n distinct (a, b) pairs with a in 1..na and b in 1..nb, skewed on b, and
// visits them sorted by (a, b): rows then arrive in the order of the unique key, so the
// database appends to that index instead of updating random pages (ten times faster).
func (g *generator) pairs(n, na, nb int, distinctAB bool, visit func(a, b int64) error) error {
	seen := make(map[uint64]struct{}, n)
	for len(seen) < n {
		a := uint64(g.rng.IntN(na) + 1)
		b := uint64(g.skewed(nb))
		if distinctAB && a == b {
			continue
		}
		seen[a<<32|b] = struct{}{}
	}
	keys := make([]uint64, 0, n)
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := visit(int64(k>>32), int64(k&0xffffffff)); err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) likes(w *writer) error {
	videoCounts := map[int64]int64{}
	liked := map[int64]int64{}
	received := map[int64]int64{}
	cols := []string{"id", "user_id", "video_id", "author_id", "liked", "seq", "updated_at"}
	id := int64(0)
	err := w.insert(favorite.Favorite{}.TableName(), cols, func(emit func(...any) error) error {
		return g.pairs(g.s.Likes, g.s.Users, g.s.Videos, false, func(u, v int64) error {
			id++
			author := g.authors[v-1]
			videoCounts[v]++
			liked[u]++
			received[author]++
			at := g.videoTime[v-1] + 1 + g.rng.Int64N(g.now-g.videoTime[v-1])
			// Seq is the event order of a pair; any positive value older than a live event
			// (Unix ns) keeps later likes and unlikes applicable.
			return emit(id, u, v, author, true, at*1_000_000, at)
		})
	})
	if err != nil {
		return err
	}
	if err := writeCounts(w, favorite.VideoCount{}.TableName(), []string{"video_id", "favorite_count"}, videoCounts); err != nil {
		return err
	}
	users := map[int64][2]int64{}
	for u, n := range liked {
		c := users[u]
		c[0] = n
		users[u] = c
	}
	for u, n := range received {
		c := users[u]
		c[1] = n
		users[u] = c
	}
	return w.insert(favorite.UserCount{}.TableName(), []string{"user_id", "favorite_count", "total_favorited"}, func(emit func(...any) error) error {
		for u, c := range users {
			if err := emit(u, c[0], c[1]); err != nil {
				return err
			}
		}
		return nil
	})
}

func (g *generator) comments(w *writer) error {
	counts := map[int64]int64{}
	cols := []string{"id", "video_id", "user_id", "content", "created_at"}
	err := w.insert(comment.Comment{}.TableName(), cols, func(emit func(...any) error) error {
		for i := range g.s.Comments {
			id := int64(i + 1)
			v := g.skewed(g.s.Videos)
			u := int64(g.rng.IntN(g.s.Users) + 1)
			counts[v]++
			at := g.videoTime[v-1] + 1 + g.rng.Int64N(g.now-g.videoTime[v-1])
			if err := emit(id, v, u, fmt.Sprintf("bench comment %d", id), at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return writeCounts(w, comment.CommentCount{}.TableName(), []string{"video_id", "comment_count"}, counts)
}

func (g *generator) follows(w *writer) error {
	counts := map[int64][2]int64{}
	cols := []string{"id", "follower_id", "followee_id", "created_at"}
	id := int64(0)
	err := w.insert(relation.Follow{}.TableName(), cols, func(emit func(...any) error) error {
		return g.pairs(g.s.Follows, g.s.Users, g.s.Users, true, func(a, b int64) error {
			id++
			ca, cb := counts[a], counts[b]
			ca[0]++
			counts[a] = ca
			cb = counts[b]
			cb[1]++
			counts[b] = cb
			return emit(id, a, b, g.now-g.rng.Int64N(30*86_400_000)-1)
		})
	})
	if err != nil {
		return err
	}
	return w.insert(relation.Counts{}.TableName(), []string{"user_id", "follow_count", "follower_count"}, func(emit func(...any) error) error {
		for u, c := range counts {
			if err := emit(u, c[0], c[1]); err != nil {
				return err
			}
		}
		return nil
	})
}

// chatPeer is the user an account polls its chat with: a fixed partner, so polls have a
// conversation to read and stay idle unless someone writes into it.
func chatPeer(s Sizes, account int64) int64 {
	p := account + int64(s.Accounts)
	if p > int64(s.Users) {
		p = (account % int64(s.Users)) + 1
	}
	return p
}

func (g *generator) messages(w *writer) error {
	// Every message has its own millisecond, so (conversation, created_at) is unique; half of
	// them are in the accounts' polled conversations, the rest between random users.
	g.messageBase = g.now - int64(g.s.Messages) - 60_000
	cols := []string{"id", "conversation_key", "from_user_id", "to_user_id", "content", "created_at"}
	return w.insert(message.Message{}.TableName(), cols, func(emit func(...any) error) error {
		for i := range g.s.Messages {
			var a, b int64
			if i%2 == 0 {
				a = int64((i/2)%g.s.Accounts + 1)
				b = chatPeer(g.s, a)
			} else {
				a = int64(g.rng.IntN(g.s.Users) + 1)
				if b = int64(g.rng.IntN(g.s.Users) + 1); b == a {
					b = a%int64(g.s.Users) + 1
				}
			}
			if g.rng.IntN(2) == 0 {
				a, b = b, a
			}
			key := fmt.Sprintf("%d_%d", min(a, b), max(a, b))
			if err := emit(int64(i+1), key, a, b, fmt.Sprintf("bench message %d", i+1), g.messageBase+int64(i)); err != nil {
				return err
			}
		}
		return nil
	})
}

func writeCounts(w *writer, table string, cols []string, counts map[int64]int64) error {
	return w.insert(table, cols, func(emit func(...any) error) error {
		for k, n := range counts {
			if err := emit(k, n); err != nil {
				return err
			}
		}
		return nil
	})
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}
