package app

import (
	"slices"
	"testing"
)

func TestModuleGraph(t *testing.T) {
	table := (&App{}).moduleTable()
	order, err := initOrder(table, []string{All}, everywhere)
	if err != nil {
		t.Fatalf("the module graph is not a DAG: %v", err)
	}
	for name, m := range table {
		if !slices.Contains(order, name) {
			t.Errorf("module %q is unreachable from %q", name, All)
		}
		for _, d := range m.deps {
			if _, ok := table[d]; !ok {
				t.Errorf("module %q depends on unknown module %q", name, d)
			}
			if slices.Index(order, d) > slices.Index(order, name) {
				t.Errorf("module %q is built before its dependency %q", name, d)
			}
		}
		if name != All && m.init == nil {
			t.Errorf("module %q has no constructor", name)
		}
	}
	for _, target := range Targets() {
		if _, ok := table[target]; !ok {
			t.Errorf("target %q is not in the module table", target)
		}
	}
}

func TestInitOrderDetectsCycles(t *testing.T) {
	table := map[string]module{"a": {deps: []string{"b"}}, "b": {deps: []string{"a"}}}
	if _, err := initOrder(table, []string{"a"}, everywhere); err == nil {
		t.Fatal("cycle not detected")
	}
	if _, err := initOrder(table, []string{"nope"}, everywhere); err == nil {
		t.Fatal("unknown module accepted")
	}
}

func everywhere(string) bool { return true }

func TestTargetBuildsOnlyWhatItRuns(t *testing.T) {
	table := (&App{}).moduleTable()
	cases := []struct {
		targets []string
		want    []string
	}{
		// The relation process serves relation and calls user remotely: no user store here.
		{[]string{Relation}, []string{cacheKV, database, queue, User, Relation}},
		// The gateway process opens no database: every service is a client. It uses the cache
		// for the login backoff, upload quotas and token revocations, shared by its replicas.
		{[]string{Gateway}, []string{blobs, cacheKV, Comment, Favorite, Message, Recommend, Relation, tokens, User, Video, Gateway}},
		{[]string{Recommend}, []string{database, queue, Recommend}},
		{[]string{Media}, []string{blobs, queue, Video, Media}},
		// The comment counters are shared through the cache, so replicas agree.
		{[]string{Comment}, []string{cacheKV, database, queue, Video, Comment}},
	}
	for _, tc := range cases {
		local := func(name string) bool { return slices.Contains(tc.targets, name) }
		order, err := initOrder(table, tc.targets, local)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(order, tc.want) {
			t.Errorf("initOrder(%v) = %v, want %v", tc.targets, order, tc.want)
		}
	}
}
