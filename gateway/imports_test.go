package gateway

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestOneNameForEachBase keeps the two base packages apart in every file of the gateway:
// base is the app's objects (generated from idl/api.thrift), basecode the error codes every
// service speaks (kitex_gen/base).
func TestOneNameForEachBase(t *testing.T) {
	want := map[string]string{
		"github.com/douyin-backend/douyin/kitex_gen/base":                 "basecode",
		"github.com/douyin-backend/douyin/gateway/internal/apimodel/base": "",
	}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			name, ok := want[strings.Trim(imp.Path.Value, `"`)]
			if !ok {
				continue
			}
			got := ""
			if imp.Name != nil {
				got = imp.Name.Name
			}
			if got != name && !strings.HasPrefix(path, filepath.Join("internal", "apimodel")) {
				t.Errorf("%s imports %s as %q, want %q", path, imp.Path.Value, got, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
