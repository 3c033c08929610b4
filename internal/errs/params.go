package errs

import (
	"fmt"
	"strings"
)

// The refusals of parameter rules that the HTTP edge and the services both check: one
// wording, whichever side refuses.

// NotPositive refuses an id parameter that is zero or negative.
func NotPositive(name string) error {
	return Invalid("%s must be a positive integer", name)
}

// Negative refuses a parameter that must be zero or more.
func Negative(name string) error {
	return Invalid("%s must not be negative", name)
}

// IDLEnum is a Go enum generated from the IDL.
type IDLEnum interface {
	~int64
	String() string
}

// NotOneOf refuses an enum parameter outside allowed, naming each value, e.g.
// "action_type must be 1 (like) or 2 (unlike)".
func NotOneOf[E IDLEnum](name string, allowed ...E) error {
	values := make([]string, len(allowed))
	for i, v := range allowed {
		values[i] = fmt.Sprintf("%d (%s)", int64(v), strings.ToLower(v.String()))
	}
	list := strings.Join(values, ", ")
	if n := len(values); n > 1 {
		list = strings.Join(values[:n-1], ", ") + " or " + values[n-1]
	}
	return Invalid("%s must be %s", name, list)
}

// BadLength refuses a text outside 1 to max characters.
func BadLength(name string, max int) error {
	return Invalid("%s must be 1-%d characters", name, max)
}
