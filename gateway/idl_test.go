package gateway

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cloudwego/thriftgo/parser"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/api"
)

// TestServedAPIMatchesTheIDL fails when what the gateway serves differs from idl/api.thrift:
// a route or method added, removed or renamed on either side, a stale table pairing a method
// with another request model, or a parameter whose name, type or optionality differs from the
// IDL's. (Which model a handler binds is its own code: the table's Request is not checked
// against it.)
func TestServedAPIMatchesTheIDL(t *testing.T) {
	tree, err := parser.ParseFile("../idl/api.thrift", []string{"../idl"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(tree.Services) != 1 {
		t.Fatalf("api.thrift holds %d services, want 1", len(tree.Services))
	}
	structs := map[string]*parser.StructLike{}
	for _, s := range tree.Structs {
		structs[s.Name] = s
	}
	enums := map[string]bool{}
	for _, e := range tree.Enums {
		enums[e.Name] = true
	}

	// Every method of the service, as the generated table and as the server answers it.
	g, _ := runGateway(t, Config{}, Deps{})
	generated := map[string]api.Route{}
	for _, r := range api.Routes(g) {
		generated[r.Name] = r
	}
	var wantServed []string
	for _, fn := range tree.Services[0].Functions {
		method, path := idlRoute(t, fn)
		served := []string{method + " " + path, method + " " + strings.TrimSuffix(path, "/")}
		if method == "GET" {
			served = append(served, "POST "+path, "POST "+strings.TrimSuffix(path, "/"))
		}
		wantServed = append(wantServed, served...)

		r, ok := generated[fn.Name]
		if !ok {
			t.Errorf("%s: in the IDL, not in the generated route table (run scripts/gen.sh)", fn.Name)
			continue
		}
		delete(generated, fn.Name)
		if r.Method != method || r.Path != path {
			t.Errorf("%s: the table routes %s %s, the IDL %s %s", fn.Name, r.Method, r.Path, method, path)
		}
		request := fn.Arguments[0].Type.Name
		if got := reflect.TypeOf(r.Request).Elem().Name(); got != request {
			t.Errorf("%s: the table binds %s, the IDL takes %s", fn.Name, got, request)
		}
		checkParameters(t, fn.Name, structs[request], enums, r.Request)
	}
	for name := range generated {
		t.Errorf("%s: in the generated route table, not in the IDL (run scripts/gen.sh)", name)
	}

	var served []string
	for _, r := range g.server.Routes() {
		if strings.HasPrefix(r.Path, "/douyin/") && strings.TrimSuffix(r.Path, "/") != strings.TrimSuffix(LivePath, "/") {
			served = append(served, r.Method+" "+r.Path)
		}
	}
	slices.Sort(served)
	slices.Sort(wantServed)
	if !slices.Equal(served, wantServed) {
		t.Errorf("the gateway serves under /douyin/\n%s\nthe IDL declares\n%s", strings.Join(served, "\n"), strings.Join(wantServed, "\n"))
	}
}

// idlRoute is the HTTP method and path of an IDL method.
func idlRoute(t *testing.T, fn *parser.Function) (string, string) {
	t.Helper()
	for _, method := range []string{"get", "post"} {
		if paths := fn.Annotations.Get("api." + method); len(paths) == 1 {
			return strings.ToUpper(method), paths[0]
		}
	}
	t.Fatalf("%s has no api.get or api.post path", fn.Name)
	return "", ""
}

// checkParameters compares the parameters the binder reads from model with the fields of
// request in the IDL: names, types and optionality.
func checkParameters(t *testing.T, method string, request *parser.StructLike, enums map[string]bool, model any) {
	t.Helper()
	kinds := map[string]reflect.Kind{"i64": reflect.Int64, "i32": reflect.Int32, "string": reflect.String}
	want := map[string]fieldPlan{}
	for _, f := range request.Fields {
		for _, source := range []string{"api.query", "api.form"} {
			if names := f.Annotations.Get(source); len(names) != 1 || names[0] != f.Name {
				t.Errorf("%s: %s.%s must be read from %s as %q", method, request.Name, f.Name, source, f.Name)
			}
		}
		kind, ok := kinds[f.Type.Name]
		if enums[f.Type.Name] {
			kind, ok = reflect.Int64, true // hz models an IDL enum as an int64 type
		}
		if !ok {
			t.Errorf("%s: %s.%s has type %s, which the binder does not read", method, request.Name, f.Name, f.Type.Name)
		}
		want[f.Name] = fieldPlan{name: f.Name, kind: kind, optional: f.Requiredness == parser.FieldType_Optional || f.Name == "token"}
	}
	var b binder
	got := map[string]fieldPlan{}
	for _, f := range b.plan(reflect.TypeOf(model).Elem()) {
		f.index = 0
		got[f.name] = f
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: the binder reads %+v from %s, the IDL declares %+v", method, got, request.Name, want)
	}
}
