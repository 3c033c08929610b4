package app

import (
	"fmt"
	"slices"
	"sort"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/auth"
	"github.com/douyin-backend/douyin/services/comment"
	"github.com/douyin-backend/douyin/services/favorite"
	"github.com/douyin-backend/douyin/services/message"
	"github.com/douyin-backend/douyin/services/relation"
	"github.com/douyin-backend/douyin/services/user"
	"github.com/douyin-backend/douyin/services/video"
)

// Module names. Components are what -target selects; the rest are resources they share.
const (
	Gateway  = "gateway"
	User     = "user"
	Video    = "video"
	Favorite = "favorite"
	Comment  = "comment"
	Relation = "relation"
	Message  = "message"
	Media    = "media"
	// Recommend ranks videos per viewer from the event stream.
	Recommend = "recommend"
	// All is every component in one process.
	All = "all"

	database = "db"
	cacheKV  = "cache"
	queue    = "queue"
	blobs    = "blob"
	tokens   = "tokens"
	seeding  = "seed"
)

// module is one node of the graph: its dependencies and the constructor that builds it.
type module struct {
	// component: -target can run it in a process of its own; the other modules are resources
	// the components share.
	component bool
	deps      []string
	init      func() error
	// migrate creates or updates the module's tables (nil: it owns none).
	migrate func(*gorm.DB) error
}

// moduleTable is the whole wiring of the system in one place.
func (a *App) moduleTable() map[string]module {
	tokenDeps := []string{cacheKV}
	if revocationsInDB(a.cfg, a.inProcess) {
		tokenDeps = append(tokenDeps, database) // revocations in SQLite, see revocationsInDB
	}
	return map[string]module{
		database: {init: a.initDB},
		cacheKV:  {init: a.initCache},
		queue:    {init: a.initQueue},
		blobs:    {init: a.initBlobs},
		tokens:   {deps: tokenDeps, init: a.initTokens, migrate: auth.Migrate},

		User:     {component: true, deps: []string{database, cacheKV}, init: a.initUser, migrate: user.Migrate},
		Video:    {component: true, deps: []string{database, cacheKV, queue, blobs}, init: a.initVideo, migrate: video.Migrate},
		Favorite: {component: true, deps: []string{database, cacheKV, queue, Video}, init: a.initFavorite, migrate: favorite.Migrate},
		// cacheKV: the comment counters live in Redis when it is configured; without the
		// dependency a comment process alone would keep them in its own memory, and each
		// replica would serve its own stale copy.
		// queue: comments and follows are published for the recommender.
		Comment:  {component: true, deps: []string{database, cacheKV, queue, Video}, init: a.initComment, migrate: comment.Migrate},
		Relation: {component: true, deps: []string{database, cacheKV, queue, User}, init: a.initRelation, migrate: relation.Migrate},
		Message:  {component: true, deps: []string{database, cacheKV, User}, init: a.initMessage, migrate: message.Migrate},
		Media:    {component: true, deps: []string{queue, blobs, Video}, init: a.initMedia},
		// database: the model is rebuilt from SQL when its state is empty; queue: then fed by
		// the events; cacheKV: the state and the seen-sets live in Redis when it is
		// configured, shared by the replicas.
		Recommend: {component: true, deps: []string{database, cacheKV, queue}, init: a.initRecommend},
		Gateway:   {component: true, deps: []string{User, Video, Favorite, Comment, Relation, Message, Recommend, blobs, tokens, cacheKV}, init: a.initGateway},
		seeding:   {deps: []string{Gateway, Media}, init: a.initSeed},

		All: {deps: []string{Gateway, Media, seeding}},
	}
}

// describedTable is the module table as a description: names, dependencies and migrations,
// which do not depend on the configuration (only the tokens' dependencies do, see
// revocationsInDB); its constructors are not to be called.
func describedTable() map[string]module { return (&App{}).moduleTable() }

// Components lists the components in start order: each after the components it calls.
func Components() []string {
	table := describedTable()
	// A broken table (a cycle) leaves the list empty here and fails New with the cycle;
	// TestModuleGraph catches it first.
	order, _ := initOrder(table, []string{All}, everywhere)
	var components []string
	for _, name := range order {
		if table[name].component {
			components = append(components, name)
		}
	}
	return components
}

// Called reports whether another component calls component, so that it serves Kitex when it
// runs in a process of its own.
func Called(component string) bool {
	for name, m := range describedTable() {
		if m.component && name != component && slices.Contains(m.deps, component) {
			return true
		}
	}
	return false
}

// Single reports whether a deployment runs one instance of component only.

// Targets lists the modules -target accepts: all, then every component by name.
func Targets() []string { return append([]string{All}, slices.Sorted(slices.Values(Components()))...) }

func isTarget(name string) bool { return slices.Contains(Targets(), name) }

func everywhere(string) bool { return true }

// Migrate creates or updates the schema of every module that owns tables, in dependency order.
func Migrate(gdb *gorm.DB) error {
	table := describedTable()
	order, err := initOrder(table, []string{All}, everywhere)
	if err != nil {
		return err
	}
	for _, name := range order {
		if migrate := table[name].migrate; migrate != nil {
			if err := migrate(gdb); err != nil {
				return fmt.Errorf("migrate %s: %w", name, err)
			}
		}
	}
	return nil
}

// initOrder returns the modules needed by targets, each after its dependencies. A component
// that runs elsewhere (local reports false) is a leaf: this process only builds its client.
func initOrder(table map[string]module, targets []string, local func(string) bool) ([]string, error) {
	var order []string
	state := map[string]int{} // 1: visiting, 2: done
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case 2:
			return nil
		case 1:
			return fmt.Errorf("module cycle: %v", append(path, name))
		}
		m, ok := table[name]
		if !ok {
			return fmt.Errorf("unknown module %q", name)
		}
		state[name] = 1
		var deps []string
		if !m.component || local(name) {
			deps = slices.Clone(m.deps)
		}
		sort.Strings(deps) // deterministic order
		for _, d := range deps {
			if err := visit(d, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = 2
		order = append(order, name)
		return nil
	}
	for _, t := range targets {
		if err := visit(t, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}
