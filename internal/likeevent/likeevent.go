// Package likeevent is the wire form of a like event (event.LikeEvent) on the favorite topic:
// the JSON encoding/json gives it, which every consumer, RocketMQ's of any version included,
// reads. It is written and read here by hand because in the embedded mode an event is
// encoded and decoded on every like (the in-process queue passes bytes), and encoding/json's
// reflection cost more than the rest of the hand-off.
package likeevent

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"

	"github.com/douyin-backend/douyin/kitex_gen/event"
)

// Append appends e to b exactly as json.Marshal(e) writes it.
func Append(b []byte, e event.LikeEvent) []byte {
	b = append(b, `{"user_id":`...)
	b = strconv.AppendInt(b, e.UserId, 10)
	b = append(b, `,"video_id":`...)
	b = strconv.AppendInt(b, e.VideoId, 10)
	b = append(b, `,"author_id":`...)
	b = strconv.AppendInt(b, e.AuthorId, 10)
	b = append(b, `,"liked":`...)
	b = strconv.AppendBool(b, e.Liked)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, `,"at":`...)
	b = strconv.AppendInt(b, e.At, 10)
	return append(b, '}')
}

// Decode reads an event: the form Append writes directly, anything else
// (other spacing or field order, a producer of another version) through encoding/json.
func Decode(body []byte) (event.LikeEvent, error) {
	if e, ok := parse(body); ok {
		return e, nil
	}
	var e event.LikeEvent
	err := json.Unmarshal(body, &e)
	return e, err
}

// parse parses exactly Append's form; ok is false for anything else.
func parse(b []byte) (e event.LikeEvent, ok bool) {
	p := parser{rest: b}
	e.UserId = p.int(`{"user_id":`)
	e.VideoId = p.int(`,"video_id":`)
	e.AuthorId = p.int(`,"author_id":`)
	switch {
	case p.literal(`,"liked":true`):
		e.Liked = true
	case p.literal(`,"liked":false`):
	default:
		p.failed = true
	}
	e.Seq = p.int(`,"seq":`)
	e.At = p.int(`,"at":`)
	if !p.literal("}") || len(p.rest) != 0 || p.failed {
		return event.LikeEvent{}, false
	}
	return e, true
}

// parser consumes the canonical form piece by piece; after a mismatch every step
// fails.
type parser struct {
	rest   []byte
	failed bool
}

// literal consumes s if the input continues with it (and nothing failed before).
func (p *parser) literal(s string) bool {
	if p.failed || !bytes.HasPrefix(p.rest, []byte(s)) {
		return false
	}
	p.rest = p.rest[len(s):]
	return true
}

// int consumes the field name and an integer in JSON's form (an optional minus, no leading
// zero, no sign or exponent otherwise) that fits in an int64.
func (p *parser) int(name string) int64 {
	if !p.literal(name) {
		p.failed = true
		return 0
	}
	n, neg := 0, len(p.rest) > 0 && p.rest[0] == '-'
	if neg {
		n++
	}
	var u uint64
	digits := n
	for n < len(p.rest) && p.rest[n] >= '0' && p.rest[n] <= '9' {
		u = u*10 + uint64(p.rest[n]-'0')
		n++
	}
	// 19 digits cannot overflow the uint64; the bounds are int64's.
	if n == digits || n-digits > 19 || (p.rest[digits] == '0' && n > digits+1) ||
		(!neg && u > math.MaxInt64) || (neg && u > 1<<63) {
		p.failed = true
		return 0
	}
	v := int64(u)
	if neg {
		v = -v
	}
	p.rest = p.rest[n:]
	return v
}
