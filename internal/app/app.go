// Package app wires the modules of the system from one table and runs the ones a process
// is asked for: all of them on the embedded defaults, or one component per process.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"

	"golang.org/x/sync/errgroup"
	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/gateway"
	"github.com/douyin-backend/douyin/internal/auth"
	"github.com/douyin-backend/douyin/internal/blob"
	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/internal/seed"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
	messageapi "github.com/douyin-backend/douyin/kitex_gen/message"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
	"github.com/douyin-backend/douyin/services/comment"
	"github.com/douyin-backend/douyin/services/favorite"
	"github.com/douyin-backend/douyin/services/media"
	"github.com/douyin-backend/douyin/services/message"
	"github.com/douyin-backend/douyin/services/relation"
	"github.com/douyin-backend/douyin/services/user"
	"github.com/douyin-backend/douyin/services/video"
)

// embeddedCacheEntries bounds the in-process cache.
const embeddedCacheEntries = 1 << 20

// App holds what the modules built, in the order they were built.
type App struct {
	cfg Config
	log *slog.Logger

	gdb    *gorm.DB
	kv     cache.KV
	memQ   *mq.Memory
	blobs  blob.Store
	local  *blob.Local
	tokens *auth.Tokens

	users     userapi.UserService
	videos    videoapi.VideoService
	favorites favoriteapi.FavoriteService
	comments  commentapi.CommentService
	relations relationapi.RelationService
	messages  messageapi.MessageService

	runners []func(context.Context) error
	closers []func() error
}

// New builds every module the configured targets need, in dependency order.
func New(cfg Config, log *slog.Logger) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	targets := cfg.Targets()
	if !cfg.Embedded() || !slices.Equal(targets, []string{All}) {
		return nil, errors.New("components in separate processes need the production backends (MySQL, Redis, RocketMQ, Consul), which this build does not wire yet: run -target=all with db.driver=sqlite")
	}
	a := &App{cfg: cfg, log: log}
	table := a.moduleTable()
	order, err := initOrder(table, targets)
	if err != nil {
		return nil, err
	}
	for _, name := range order {
		init := table[name].init
		if init == nil {
			continue
		}
		if err := init(); err != nil {
			a.Close()
			return nil, fmt.Errorf("init %s: %w", name, err)
		}
	}
	return a, nil
}

// Run runs the long-lived modules until ctx ends or one of them fails, then closes all.
func (a *App) Run(ctx context.Context) error {
	defer a.Close()
	grp, gctx := errgroup.WithContext(ctx)
	for _, run := range a.runners {
		grp.Go(func() error { return run(gctx) })
	}
	return grp.Wait()
}

// Close releases the resources in reverse order of creation.
func (a *App) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			a.log.Warn("close", "err", err)
		}
	}
	a.closers = nil
}

func (a *App) initDB() error {
	gdb, err := db.Open(a.cfg.DB, a.cfg.DataDir)
	if err != nil {
		return err
	}
	a.closers = append(a.closers, func() error { return db.Close(gdb) })
	a.gdb = gdb
	if a.cfg.Embedded() {
		// The embedded mode keeps its schema current by itself; production runs `douyin migrate`.
		return Migrate(gdb)
	}
	return nil
}

// Migrate creates or updates the schema of every service.
func Migrate(gdb *gorm.DB) error {
	for name, migrate := range map[string]func(*gorm.DB) error{
		User: user.Migrate, Video: video.Migrate, Favorite: favorite.Migrate,
		Comment: comment.Migrate, Relation: relation.Migrate, Message: message.Migrate,
	} {
		if err := migrate(gdb); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	return nil
}

func (a *App) initCache() error {
	a.kv = cache.NewMemory(embeddedCacheEntries)
	return nil
}

func (a *App) initQueue() error {
	a.memQ = mq.NewMemory()
	return nil
}

func (a *App) initBlobs() error {
	local, err := blob.NewLocal(filepath.Join(a.cfg.DataDir, "blobs"))
	if err != nil {
		return err
	}
	a.local, a.blobs = local, local
	return nil
}

func (a *App) initTokens() error {
	key, err := a.cfg.Auth.Resolve(a.cfg.Embedded(), a.cfg.DataDir)
	if err != nil {
		return err
	}
	a.tokens = auth.NewTokens(key, a.cfg.Auth.TokenTTL)
	return nil
}

func (a *App) initUser() error {
	a.users = user.New(user.NewSQLStore(a.gdb), user.DefaultConfig())
	return nil
}

func (a *App) initVideo() error {
	a.videos = video.New(video.NewSQLStore(a.gdb), a.memQ, a.blobs)
	return nil
}

func (a *App) initFavorite() error {
	svc := favorite.New(favorite.NewSQLStore(a.gdb), a.videos, a.memQ)
	if err := svc.Subscribe(a.memQ); err != nil {
		return err
	}
	a.favorites = svc
	return nil
}

func (a *App) initComment() error {
	a.comments = comment.New(comment.NewSQLStore(a.gdb), a.videos)
	return nil
}

func (a *App) initRelation() error {
	a.relations = relation.New(relation.NewSQLStore(a.gdb), a.users)
	return nil
}

func (a *App) initMessage() error {
	a.messages = message.New(message.NewSQLStore(a.gdb), a.kv, a.users)
	return nil
}

func (a *App) initMedia() error {
	return media.New(a.blobs, a.videos, media.DefaultConfig()).Subscribe(a.memQ)
}

func (a *App) initGateway() error {
	deps := gateway.Deps{
		Users: a.users, Videos: a.videos, Favorites: a.favorites, Comments: a.comments,
		Relations: a.relations, Messages: a.messages, Blobs: a.blobs, Tokens: a.tokens,
		Ready: a.ready, Logger: a.log.With("module", Gateway),
	}
	if a.local != nil {
		deps.LocalMediaDir = a.local.Root()
	}
	g, err := gateway.New(a.cfg.HTTP, deps)
	if err != nil {
		return err
	}
	a.runners = append(a.runners, g.Run)
	return nil
}

// initSeed fills a fresh embedded installation with demo content.
func (a *App) initSeed() error {
	if !a.cfg.Seed || !a.cfg.Embedded() {
		return nil
	}
	seeded, err := a.Seed(context.Background())
	if seeded {
		a.log.Info("seeded demo users and videos")
	}
	return err
}

// Seed writes the demo content unless it is already there.
func (a *App) Seed(ctx context.Context) (bool, error) {
	return seed.Run(ctx, seed.Deps{
		Users: a.users, Videos: a.videos, Favorites: a.favorites, Comments: a.comments,
		Relations: a.relations, Messages: a.messages, Blobs: a.blobs,
	})
}

// ready checks the dependencies this process talks to.
func (a *App) ready(ctx context.Context) error {
	if a.gdb == nil {
		return nil
	}
	sqlDB, err := a.gdb.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}
