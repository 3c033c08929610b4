package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/douyin-backend/douyin/internal/errs"
)

// binder fills the generated request models from, in this order, the query string, an
// urlencoded or multipart form, and a JSON body: the app sends everything in the query, some
// clients repeat it as a form, a browser client sends JSON. Fields are named by their
// `query` tag; a pointer field is optional, any other is required (except the token, which
// may also come from the Authorization header).
type binder struct {
	plans sync.Map // reflect.Type → []fieldPlan
}

type fieldPlan struct {
	index    int
	name     string
	kind     reflect.Kind
	optional bool
}

func (b *binder) plan(t reflect.Type) []fieldPlan {
	if p, ok := b.plans.Load(t); ok {
		return p.([]fieldPlan)
	}
	var plan []fieldPlan
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("query")
		if name == "" {
			continue
		}
		ft, optional := f.Type, name == "token"
		if ft.Kind() == reflect.Pointer {
			ft, optional = ft.Elem(), true
		}
		plan = append(plan, fieldPlan{index: i, name: name, kind: ft.Kind(), optional: optional})
	}
	b.plans.Store(t, plan)
	return plan
}

// bind fills req (a pointer to a generated request struct) or returns an InvalidParam error
// that names the offending parameter.
func (b *binder) bind(c *app.RequestContext, req any) error {
	v := reflect.ValueOf(req).Elem()
	var body map[string]json.RawMessage
	if bytes.HasPrefix(c.Request.Header.ContentType(), []byte("application/json")) && len(c.Request.Body()) > 0 {
		if err := json.Unmarshal(c.Request.Body(), &body); err != nil {
			return errs.Invalid("the JSON body is malformed")
		}
	}
	for _, f := range b.plan(v.Type()) {
		raw, found := lookup(c, body, f.name)
		if !found {
			if !f.optional {
				return errs.Invalid("%s is required", f.name)
			}
			continue
		}
		if err := set(v.Field(f.index), f, raw); err != nil {
			return err
		}
	}
	return nil
}

func lookup(c *app.RequestContext, body map[string]json.RawMessage, name string) (string, bool) {
	if v, ok := c.QueryArgs().PeekExists(name); ok {
		return v, true
	}
	if v, ok := c.GetPostForm(name); ok {
		return v, true
	}
	raw, ok := body[name]
	if !ok || string(raw) == "null" {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	return string(raw), true // a JSON number, read as its literal
}

func set(field reflect.Value, f fieldPlan, raw string) error {
	var val reflect.Value
	switch f.kind {
	case reflect.String:
		val = reflect.ValueOf(raw)
	case reflect.Int64, reflect.Int32:
		bits := 64
		if f.kind == reflect.Int32 {
			bits = 32
		}
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, bits)
		if err != nil {
			return errs.Invalid("%s must be an integer", f.name)
		}
		t := field.Type()
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		val = reflect.New(t).Elem()
		val.SetInt(n)
	default:
		panic(fmt.Sprintf("gateway: no binding for %s of kind %s", f.name, f.kind))
	}
	if field.Kind() == reflect.Pointer {
		ptr := reflect.New(field.Type().Elem())
		ptr.Elem().Set(val)
		field.Set(ptr)
		return nil
	}
	field.Set(val)
	return nil
}

func orEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func orZero(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}
