// Package app wires the modules of the system from one table and runs the ones a process
// is asked for: all of them on the embedded defaults, or one component per process.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/server"
	"golang.org/x/sync/errgroup"
	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/gateway"
	"github.com/douyin-backend/douyin/internal/activity"
	"github.com/douyin-backend/douyin/internal/auth"
	"github.com/douyin-backend/douyin/internal/blob"
	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/internal/edge"
	"github.com/douyin-backend/douyin/internal/live"
	"github.com/douyin-backend/douyin/internal/moderation"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/internal/rpc"
	"github.com/douyin-backend/douyin/internal/seed"
	"github.com/douyin-backend/douyin/internal/telemetry"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
	"github.com/douyin-backend/douyin/kitex_gen/comment/commentservice"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
	"github.com/douyin-backend/douyin/kitex_gen/favorite/favoriteservice"
	messageapi "github.com/douyin-backend/douyin/kitex_gen/message"
	"github.com/douyin-backend/douyin/kitex_gen/message/messageservice"
	recommendapi "github.com/douyin-backend/douyin/kitex_gen/recommend"
	"github.com/douyin-backend/douyin/kitex_gen/recommend/recommendservice"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
	"github.com/douyin-backend/douyin/kitex_gen/relation/relationservice"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
	"github.com/douyin-backend/douyin/kitex_gen/user/userservice"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
	"github.com/douyin-backend/douyin/kitex_gen/video/videoservice"
	"github.com/douyin-backend/douyin/services/comment"
	"github.com/douyin-backend/douyin/services/favorite"
	"github.com/douyin-backend/douyin/services/media"
	"github.com/douyin-backend/douyin/services/message"
	"github.com/douyin-backend/douyin/services/recommend"
	"github.com/douyin-backend/douyin/services/relation"
	"github.com/douyin-backend/douyin/services/user"
	"github.com/douyin-backend/douyin/services/video"
)

// App holds what the modules built, in the order they were built.
type App struct {
	cfg       Config
	log       *slog.Logger
	inProcess bool     // -target=all: every component here, calls stay in-process
	targets   []string // the components this process runs
	// serving: a Kitex server was built (the process's netpoll runner is set then).
	serving bool

	gdb        *gorm.DB
	kv         cache.KV
	redis      *cache.Redis // nil in the embedded mode: the services then use in-process caches
	shared     sharedState
	producer   mq.Producer
	consumer   mq.Consumer
	blobs      blob.Store
	localBlobs *blob.Local
	tokens     *auth.Tokens

	users     userapi.UserService
	videos    videoapi.VideoService
	favorites favoriteapi.FavoriteService
	comments  commentapi.CommentService
	relations relationapi.RelationService
	messages  messageapi.MessageService
	recommend recommendapi.RecommendService

	// identity signs the Kitex calls this process makes and checks those it serves (nil:
	// every component is in this process, or a mesh authenticates calls).
	identity *rpc.CallerIdentity

	start   []func() error // after every module is built
	metrics *telemetry.Metrics
	// tracing is the process's tracer (off unless WithTracing): every module's spans hang
	// on it, and with it off no module does tracing work.
	tracing *telemetry.Tracing
	runners []func(context.Context) error
	// policies applies run-time client policy settings (nil until a remote client needs it).
	policies *rpc.PolicyWatcher
	closers  []func() error
}

// Option adjusts how New builds the modules.
type Option func(*App)

// WithTracing traces every module on t: HTTP requests, Kitex calls both ways, queue messages,
// SQL and Redis. The process owns t (telemetry.NewTracing, InstallGlobal, Shutdown).
func WithTracing(t *telemetry.Tracing) Option { return func(a *App) { a.tracing = t } }

// New builds every module the configured targets need, in dependency order.
func New(cfg Config, log *slog.Logger, opts ...Option) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	targets := cfg.Targets()
	a := &App{cfg: cfg, log: log, inProcess: slices.Contains(targets, All), targets: targets, metrics: telemetry.New(), tracing: telemetry.Off()}
	for _, o := range opts {
		o(a)
	}
	if !a.inProcess && cfg.Embedded() {
		return nil, errors.New("components in separate processes share no SQLite file or in-process queue: set db.driver=mysql, mq.backend=rocketmq and rpc.discovery=consul or dns, or run -target=all")
	}
	if !a.inProcess {
		key, err := cfg.Identity.Resolve(cfg.RPC.Discovery)
		if err != nil {
			return nil, err
		}
		if key != nil {
			a.identity = rpc.NewCallerIdentity(key, cfg.Target)
		}
	}
	table := a.moduleTable()
	order, err := initOrder(table, targets, a.local)
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
	if a.cfg.Telemetry.AdminAddr != "" {
		a.runners = append(a.runners, telemetry.NewAdmin(a.cfg.Telemetry.AdminAddr, a.cfg.Telemetry.Pprof, a.metrics, a.ready).Run)
	}
	for _, start := range a.start {
		if err := start(); err != nil {
			a.Close()
			return nil, err
		}
	}
	return a, nil
}

// Run runs the long-lived modules until ctx ends or one of them fails, then closes all.
func (a *App) Run(ctx context.Context) error {
	defer a.Close()
	grp, gctx := errgroup.WithContext(ctx)
	// A process of consumers only (the media worker) has no runner: it lives until stopped.
	grp.Go(func() error {
		<-gctx.Done()
		return nil
	})
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
	if a.tracing.Enabled() {
		if err := db.Trace(gdb, a.tracing.Provider()); err != nil {
			return err
		}
	}
	if sqlDB, err := gdb.DB(); err == nil {
		a.metrics.WatchDB(a.cfg.DB.Driver, sqlDB)
	}
	if a.cfg.DB.Driver == db.DriverSQLite {
		a.runners = append(a.runners, db.CheckpointWAL(gdb, walCheckpointInterval, a.log.With("module", "db")))
	}
	if a.cfg.Embedded() {
		// The embedded mode keeps its schema current by itself; production runs `douyin migrate`.
		return Migrate(gdb)
	}
	return nil
}

// walCheckpointInterval paces the SQLite checkpoints off the writers' path: at the like
// benchmark's write rate the log then stays below the commit-time backstop (see db.Open).
const walCheckpointInterval = 500 * time.Millisecond

func (a *App) initCache() error {
	kv, r, err := cache.Open(a.cfg.Cache, embeddedCacheEntries)
	if err != nil {
		return err
	}
	a.kv, a.redis = kv, r
	a.shared = newSharedState(a.cfg.Cache, a.cfg.Recommend, r, a.metrics, a.log.With("module", Recommend))
	a.metrics.WatchCaches(a.shared.sized(kv)...)
	if r != nil {
		a.closers = append(a.closers, r.Close)
		if a.tracing.Enabled() {
			return r.Trace(a.tracing.Provider())
		}
	}
	return nil
}

func (a *App) initQueue() error {
	q, err := mq.Open(a.cfg.MQ, a.log.With("module", queue))
	if err != nil {
		return err
	}
	a.producer, a.consumer = a.metrics.Producer(a.tracing.Producer(q)), a.metrics.Consumer(a.tracing.Consumer(q))
	a.closers = append(a.closers, q.Close)
	// Consumers start once every module has subscribed: the last step of New.
	a.start = append(a.start, q.Start)
	return nil
}

func (a *App) initBlobs() (err error) {
	// Local blobs are served by the gateway.
	a.blobs, a.localBlobs, err = blob.Open(a.cfg.Blob, a.cfg.DataDir)
	return err
}

func (a *App) initTokens() error {
	key, err := a.cfg.Auth.Resolve(a.cfg.Embedded(), a.cfg.DataDir)
	if err != nil {
		return err
	}
	a.tokens = auth.NewTokens(key, a.cfg.Auth.TokenTTL, auth.WithRevocations(a.revocationStore(a.kv, a.gdb)))
	a.metrics.WatchCaches(a.tokens)
	return nil
}

// revocationsInDB reports whether token revocations live in the database: when the cache is
// in-process and every component shares this process (the embedded mode), so that they survive
// a restart and `douyin revoke` reaches the running server through the database. Otherwise they
// live in the cache, which is Redis, shared by every gateway, in a real deployment.
func revocationsInDB(cfg Config, inProcess bool) bool {
	return inProcess && cfg.Cache.Backend == cache.BackendMemory
}

// revocationReadFor is how long the embedded mode remembers a revocation read from the
// database: what `douyin revoke` writes from another process shows within it.
const revocationReadFor = time.Second

func (a *App) revocationStore(kv cache.KV, gdb *gorm.DB) auth.RevocationStore {
	if revocationsInDB(a.cfg, a.inProcess) {
		return auth.NewSQLRevocations(gdb, revocationReadFor)
	}
	return auth.NewKVRevocations(kv)
}

// RevokeUser revokes every token of userID issued until now, in the store the running
// deployment reads (`douyin revoke -user ID`).
func RevokeUser(ctx context.Context, cfg Config, userID int64) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	a := &App{cfg: cfg, inProcess: slices.Contains(cfg.Targets(), All)}
	var (
		kv  cache.KV
		gdb *gorm.DB
	)
	if revocationsInDB(cfg, a.inProcess) {
		var err error
		if gdb, err = db.Open(cfg.DB, cfg.DataDir); err != nil {
			return err
		}
		defer db.Close(gdb)
		if err := auth.Migrate(gdb); err != nil {
			return err
		}
	} else {
		var (
			r   *cache.Redis
			err error
		)
		if kv, r, err = cache.Open(cfg.Cache, 1); err != nil {
			return err
		}
		if r == nil {
			return errors.New("the cache is in-process: run revoke with the deployment's settings (-cache.backend=redis), or with -target=all for the embedded mode")
		}
		defer r.Close()
	}
	return auth.RevokeUser(ctx, a.revocationStore(kv, gdb), userID, time.Now(), cfg.Auth.TokenTTL)
}

// local reports whether component runs in this process.
// policyWatcher is the process's watcher of run-time client policy settings in Consul KV,
// made by the first client that needs it (nil without Consul or when switched off). Its keys
// name this process by its targets ("gateway", "favorite", …; several joined with "+").
func (a *App) policyWatcher() (*rpc.PolicyWatcher, error) {
	if a.cfg.RPC.Discovery != rpc.DiscoveryConsul || !a.cfg.RPC.PolicyFromConsul {
		return nil, nil
	}
	if a.policies == nil {
		w, err := rpc.NewPolicyWatcher(a.cfg.RPC.ConsulAddr, strings.Join(a.targets, "+"), a.log.With("module", "rpc-client-policy"))
		if err != nil {
			return nil, err
		}
		a.policies = w
		a.runners = append(a.runners, w.Run)
	}
	return a.policies, nil
}

func (a *App) local(component string) bool {
	return a.inProcess || slices.Contains(a.targets, component)
}

// Each service module builds the service when it runs here (and serves it over Kitex unless
// every component shares this process), or else a Kitex client behind the same interface.

func (a *App) initUser() (err error) {
	if !a.local(User) {
		a.users, err = remote(a, User, userservice.NewClient, userservice.NewServiceAdapter)
		if err == nil && slices.Contains(a.targets, Gateway) {
			// Nearly every page shows profiles, which never change: the gateway keeps them and
			// saves the hop to the user service.
			profiles := edge.NewProfiles(a.users, a.cfg.Cache.TTL, localTierEntries, a.metrics)
			a.metrics.WatchCaches(profiles)
			a.users = profiles
		}
		return err
	}
	opts := []user.Option{user.WithLogger(a.log.With("module", User)), user.WithProfileCache(a.shared.profiles)}
	userCfg := user.DefaultConfig()
	userCfg.PasswordCost = a.cfg.Auth.PasswordCost
	svc := user.New(user.NewSQLStore(a.gdb), userCfg, opts...)
	a.users = svc
	return a.serve(User, func(s server.Server) error { return userservice.RegisterService(s, svc) })
}

func (a *App) initVideo() (err error) {
	if !a.local(Video) {
		remoteVideos, err := remote(a, Video, videoservice.NewClient, videoservice.NewServiceAdapter)
		if err != nil {
			return err
		}
		a.videos = newMergedVideos(newMergedNewestFeed(remoteVideos))
		return nil
	}
	opts := []video.Option{video.WithLogger(a.log.With("module", Video)), video.WithRecordCache(a.shared.videoRecords),
		video.WithWorkCountCache(a.shared.workCounts), video.WithTimeline(a.shared.timeline)}
	if a.cfg.Embedded() && a.redis == nil {
		// One process writes every video here, so its own-count cache sees every write.
		own := video.NewOwnCounts(a.cfg.Cache.CounterTTL, embeddedCacheEntries)
		a.metrics.WatchCaches(own)
		opts = append(opts, video.WithOwnCounts(own))
	}
	sweep := a.cfg.Sweeper
	// The in-process queue loses queued work on a restart: re-enqueue every processing video.
	sweep.SweepAllAtStart = a.cfg.MQ.InProcess()
	opts = append(opts, video.WithSweeper(sweep), video.WithActivity(activity.NewPublisher(a.producer)))
	svc := video.New(video.NewSQLStore(a.gdb), a.producer, a.blobs, opts...)
	a.videos = svc
	a.runners = append(a.runners, svc.RunSweeper)
	return a.serve(Video, func(s server.Server) error { return videoservice.RegisterService(s, svc) })
}

func (a *App) initFavorite() (err error) {
	if !a.local(Favorite) {
		a.favorites, err = remote(a, Favorite, favoriteservice.NewClient, favoriteservice.NewServiceAdapter)
		return err
	}
	svc := favorite.New(favorite.NewSQLStore(a.gdb), a.videos, a.producer,
		favorite.WithLogger(a.log.With("module", Favorite)), favorite.WithReadModel(a.shared.likes))
	if err := svc.Subscribe(a.consumer); err != nil {
		return err
	}
	a.favorites = svc
	return a.serve(Favorite, func(s server.Server) error { return favoriteservice.RegisterService(s, svc) })
}

func (a *App) initComment() (err error) {
	if !a.local(Comment) {
		remoteComments, err := remote(a, Comment, commentservice.NewClient, commentservice.NewServiceAdapter)
		if err != nil {
			return err
		}
		a.comments = newMergedCommentCounts(remoteComments)
		return nil
	}
	svc := comment.New(comment.NewSQLStore(a.gdb), a.videos, comment.WithCountCache(a.shared.commentCounts),
		comment.WithListCache(a.shared.commentLists),
		comment.WithActivity(activity.NewPublisher(a.producer)), comment.WithLogger(a.log.With("module", Comment)))
	a.comments = svc
	return a.serve(Comment, func(s server.Server) error { return commentservice.RegisterService(s, svc) })
}

func (a *App) initRelation() (err error) {
	if !a.local(Relation) {
		a.relations, err = remote(a, Relation, relationservice.NewClient, relationservice.NewServiceAdapter)
		return err
	}
	svc := relation.New(relation.NewSQLStore(a.gdb), a.users, relation.WithLogger(a.log.With("module", Relation)),
		relation.WithActivity(activity.NewPublisher(a.producer)), relation.WithCache(a.shared.follows))
	a.relations = svc
	return a.serve(Relation, func(s server.Server) error { return relationservice.RegisterService(s, svc) })
}

func (a *App) initMessage() (err error) {
	if !a.local(Message) {
		a.messages, err = remote(a, Message, messageservice.NewClient, messageservice.NewServiceAdapter)
		return err
	}
	svc := message.New(message.NewSQLStore(a.gdb), a.kv, a.users, message.WithLogger(a.log.With("module", Message)))
	a.messages = svc
	return a.serve(Message, func(s server.Server) error { return messageservice.RegisterService(s, svc) })
}

// remote returns a Kitex client of component, adapted to its service interface.
func remote[C, S any](a *App, component string, newClient func(string, ...client.Option) (C, error), adapt func(C) S) (S, error) {
	var zero S
	watcher, err := a.policyWatcher()
	if err != nil {
		return zero, err
	}
	opts, err := rpc.ClientOptions(a.cfg.RPC, component, watcher)
	if err != nil {
		return zero, err
	}
	if a.identity != nil {
		opts = append(opts, a.identity.ClientOption())
	}
	opts = append(opts, client.WithMiddleware(a.metrics.RPCClientMiddleware(component)))
	if a.tracing.Enabled() {
		opts = append(opts, rpc.ClientTracing())
	}
	c, err := newClient(rpc.ServiceName(component), opts...)
	if err != nil {
		return zero, fmt.Errorf("%s client: %w", component, err)
	}
	return adapt(c), nil
}

// serve exposes a local service over Kitex when other processes may call it.
func (a *App) serve(component string, register func(server.Server) error) error {
	if a.inProcess {
		return nil
	}
	opts := []server.Option{server.WithMiddleware(a.metrics.RPCMiddleware(component))}
	if a.identity != nil {
		opts = append(opts, a.identity.ServerOption())
	}
	if a.tracing.Enabled() {
		opts = append(opts, rpc.ServerTracing())
	}
	if !a.serving {
		if err := rpc.KeepHandlerGoroutines(a.log.With("module", "rpc")); err != nil {
			return fmt.Errorf("rpc handler runner: %w", err)
		}
		a.serving = true
	}
	srv, err := rpc.NewServer(a.cfg.RPC, component, register, opts...)
	if err != nil {
		return err
	}
	a.runners = append(a.runners, srv.Run)
	return nil
}

func (a *App) initRecommend() (err error) {
	if !a.local(Recommend) {
		remoteRecommend, err := remote(a, Recommend, recommendservice.NewClient, recommendservice.NewServiceAdapter)
		if err != nil {
			return err
		}
		a.recommend = newMergedRecommend(remoteRecommend)
		return nil
	}
	log := a.log.With("module", Recommend)
	svc, err := recommend.New(context.Background(), a.cfg.Recommend, recommend.NewSQLSource(a.gdb), recommend.WithLogger(log),
		recommend.WithState(a.shared.recommendState), recommend.WithSeen(a.shared.recommendSeen))
	if err != nil {
		return err
	}
	a.closers = append(a.closers, svc.Close)
	if err := svc.Subscribe(a.consumer); err != nil {
		return err
	}
	a.recommend = svc
	return a.serve(Recommend, func(s server.Server) error { return recommendservice.RegisterService(s, svc) })
}

func (a *App) initMedia() error {
	w := media.New(a.blobs, a.videos, a.cfg.Media, media.WithLogger(a.log.With("module", Media)))
	if a.cfg.MQ.InProcess() {
		// The in-process queue runs handlers inside Publish, i.e. inside the upload request:
		// queue the work for a pool instead of transcoding there.
		a.runners = append(a.runners, w.Run)
		return w.SubscribeQueued(a.consumer)
	}
	// A broker commits the message once the handler returns: process synchronously.
	return w.Subscribe(a.consumer)
}

func (a *App) initGateway() error {
	filter, err := moderation.New(a.cfg.Moderation, a.metrics.Registry, a.log.With("module", Gateway))
	if err != nil {
		return err
	}
	a.runners = append(a.runners, filter.Run)
	deps := gateway.Deps{
		Users: a.users, Videos: a.videos, Favorites: a.favorites, Comments: a.comments,
		Relations: a.relations, Messages: a.messages, Recommend: a.recommend, Blobs: a.blobs, Tokens: a.tokens, KV: a.kv,
		Ready: a.ready, Logger: a.log.With("module", Gateway), Metrics: a.metrics, Moderator: filter, Tracing: a.tracing,
		Live: a.shared.liveComments, InProcess: a.inProcess,
	}
	// Every write passes through this process only with every service here on the in-process
	// caches and queue (another process writing the same database is not supported there).
	if a.inProcess && a.redis == nil && a.cfg.MQ.InProcess() {
		deps.WritesHere, deps.Events = true, a.consumer
	}
	if deps.LiveMetrics, err = live.NewMetrics(a.metrics.Registry); err != nil {
		return err
	}
	if a.localBlobs != nil {
		deps.LocalMediaDir = a.localBlobs.Root()
	}
	g, err := gateway.New(a.cfg.HTTP, deps)
	if err != nil {
		return err
	}
	a.metrics.WatchCaches(g)
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
	if a.gdb != nil {
		sqlDB, err := a.gdb.DB()
		if err != nil {
			return err
		}
		if err := sqlDB.PingContext(ctx); err != nil {
			return fmt.Errorf("database: %w", err)
		}
	}
	if a.redis != nil {
		if err := a.redis.Client().Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redis: %w", err)
		}
	}
	return nil
}
