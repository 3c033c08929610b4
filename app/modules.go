package app

import (
	"fmt"
	"slices"
	"sort"
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
	deps []string
	init func() error
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
		tokens:   {deps: tokenDeps, init: a.initTokens},

		User:     {deps: []string{database, cacheKV}, init: a.initUser},
		Video:    {deps: []string{database, cacheKV, queue, blobs}, init: a.initVideo},
		Favorite: {deps: []string{database, cacheKV, queue, Video}, init: a.initFavorite},
		// cacheKV: the comment counters live in Redis when it is configured; without the
		// dependency a comment process alone would keep them in its own memory, and each
		// replica would serve its own stale copy.
		// queue: comments and follows are published for the recommender.
		Comment:  {deps: []string{database, cacheKV, queue, Video}, init: a.initComment},
		Relation: {deps: []string{database, cacheKV, queue, User}, init: a.initRelation},
		Message:  {deps: []string{database, cacheKV, User}, init: a.initMessage},
		Media:    {deps: []string{queue, blobs, Video}, init: a.initMedia},
		// database: the model is rebuilt from SQL at start; queue: then fed by the events.
		Recommend: {deps: []string{database, queue}, init: a.initRecommend},
		Gateway:   {deps: []string{User, Video, Favorite, Comment, Relation, Message, Recommend, blobs, tokens, cacheKV}, init: a.initGateway},
		seeding:   {deps: []string{Gateway, Media}, init: a.initSeed},

		All: {deps: []string{Gateway, Media, seeding}},
	}
}

// Targets lists the modules -target accepts.
func Targets() []string {
	return []string{All, Gateway, User, Video, Favorite, Comment, Relation, Message, Media, Recommend}
}

func isTarget(name string) bool { return slices.Contains(Targets(), name) }

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
		if !isTarget(name) || local(name) {
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
