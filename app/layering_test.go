package app

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestInternalImportsNoDomain keeps the plumbing below the domain: no package under internal/
// may import a service or the gateway (only this composition root wires them together). A
// direct import is enough to check, since every package under internal/ is checked.
func TestInternalImportsNoDomain(t *testing.T) {
	// This package sits at <module>/app.
	module := strings.TrimSuffix(reflect.TypeOf(App{}).PkgPath(), "/app")
	forbidden := []string{module + "/services", module + "/gateway"}
	root := filepath.Join("..", "internal")
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, spec := range f.Imports {
			imported, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return err
			}
			for _, prefix := range forbidden {
				if imported == prefix || strings.HasPrefix(imported, prefix+"/") {
					t.Errorf("%s imports %s: plumbing under internal/ must not depend on the domain", path, imported)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatalf("no Go file found under %s", root)
	}
}
