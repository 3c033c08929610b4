package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/douyin-backend/douyin/app"
)

func TestComponentsListsTheModuleTable(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"components"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		fields := strings.Fields(line)
		name, roles := fields[0], fields[1:]
		names = append(names, name)
		want := []string{}
		if app.Called(name) {
			want = append(want, "kitex")
		}
		if !slices.Equal(append([]string{}, roles...), want) {
			t.Errorf("line %q: roles %v, want %v", line, roles, want)
		}
	}
	if !slices.Equal(names, app.Components()) {
		t.Fatalf("components %v, want %v", names, app.Components())
	}
	if !slices.Contains(names, app.Gateway) || app.Called(app.Gateway) || !app.Called(app.User) {
		t.Fatalf("unexpected table: %s", out.String())
	}
}
