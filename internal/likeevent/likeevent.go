// Package likeevent is the wire form of a like event (event.LikeEvent) on the favorite topic:
// the JSON encoding/json gives it, which every consumer, RocketMQ's of any version included,
// reads. It is encoded and decoded with sonic, as the HTTP edge's JSON is: in the embedded
// mode an event is encoded and decoded on every like (the in-process queue passes bytes), and
// encoding/json's reflection cost more than the rest of the hand-off.
package likeevent

import (
	"github.com/bytedance/sonic"

	"github.com/douyin-backend/douyin/kitex_gen/event"
)

// Encode is e's wire form.
func Encode(e event.LikeEvent) ([]byte, error) {
	return sonic.ConfigStd.Marshal(&e)
}

// Decode reads an event in any JSON form encoding/json reads.
func Decode(body []byte) (event.LikeEvent, error) {
	var e event.LikeEvent
	err := sonic.ConfigStd.Unmarshal(body, &e)
	return e, err
}
