package db

import "strconv"

// JSONRows builds rows of integers as one JSON array of arrays, a single bound parameter that
// SQLite's json_each turns back into rows (`value->>0` is a row's first value). A statement over many rows then
// keeps one short text whatever their number: the SQLite driver prepares every statement it
// runs again, and a VALUES list with a parameter per value cost more to parse and bind than
// to run on the like writer's hot path.
type JSONRows struct{ buf []byte }

// Add appends one row.
func (r *JSONRows) Add(values ...int64) {
	if len(r.buf) == 0 {
		r.buf = append(r.buf, '[')
	} else {
		r.buf = append(r.buf, ',')
	}
	r.buf = append(r.buf, '[')
	for i, v := range values {
		if i > 0 {
			r.buf = append(r.buf, ',')
		}
		r.buf = strconv.AppendInt(r.buf, v, 10)
	}
	r.buf = append(r.buf, ']')
}

// String returns the JSON array of the rows added.
func (r *JSONRows) String() string {
	if len(r.buf) == 0 {
		return "[]"
	}
	return string(r.buf) + "]"
}
