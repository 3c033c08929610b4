package app

import (
	"slices"
	"testing"
)

func TestModuleGraph(t *testing.T) {
	table := (&App{}).moduleTable()
	order, err := initOrder(table, []string{All})
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
	if _, err := initOrder(table, []string{"a"}); err == nil {
		t.Fatal("cycle not detected")
	}
	if _, err := initOrder(table, []string{"nope"}); err == nil {
		t.Fatal("unknown module accepted")
	}
}

func TestTargetOnlyBuildsItsDependencies(t *testing.T) {
	order, err := initOrder((&App{}).moduleTable(), []string{Relation})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{database, User, Relation}
	if !slices.Equal(order, want) {
		t.Fatalf("initOrder(relation) = %v, want %v", order, want)
	}
}
