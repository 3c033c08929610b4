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
		name, role, _ := strings.Cut(line, " ")
		names = append(names, name)
		if want := app.Called(name); (role == "kitex") != want || (role != "" && role != "kitex") {
			t.Errorf("line %q: serving Kitex should be %v", line, want)
		}
	}
	if !slices.Equal(names, app.Components()) {
		t.Fatalf("components %v, want %v", names, app.Components())
	}
	if !slices.Contains(names, app.Gateway) || app.Called(app.Gateway) || !app.Called(app.User) {
		t.Fatalf("unexpected table: %s", out.String())
	}
}
