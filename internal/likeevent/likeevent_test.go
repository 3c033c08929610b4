package likeevent

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/douyin-backend/douyin/kitex_gen/event"
)

// TestCodecIsEncodingJSON holds the codec to encoding/json's bytes (what RocketMQ consumers
// of any version read) and checks that Decode reads them back.
func TestCodecIsEncodingJSON(t *testing.T) {
	events := []event.LikeEvent{
		{},
		{UserId: 1, VideoId: 2, AuthorId: 3, Liked: true, Seq: 4, At: 5},
		{UserId: math.MaxInt64, VideoId: math.MinInt64, AuthorId: -1, Seq: 1_765_080_000_123_456_789, At: 1_765_080_000_123},
		{UserId: 10, VideoId: 100, AuthorId: 1000, Liked: true, Seq: -10, At: math.MaxInt64},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		events = append(events, event.LikeEvent{
			UserId: rng.Int64() >> rng.IntN(64), VideoId: -rng.Int64() >> rng.IntN(64), AuthorId: rng.Int64N(1000),
			Liked: rng.IntN(2) == 0, Seq: rng.Int64(), At: rng.Int64() >> 20,
		})
	}
	for _, e := range events {
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Encode(e)
		if err != nil || string(got) != string(want) {
			t.Fatalf("Encode(%+v) = %s, %v; encoding/json gives %s", e, got, err, want)
		}
		decoded, err := Decode(got)
		if err != nil || decoded != e {
			t.Fatalf("Decode(%s) = %+v, %v; want %+v", got, decoded, err, e)
		}
	}
}

// TestDecodeReadsWhatEncodingJSONReads gives the decoder other forms of an event:
// it must read each as encoding/json does, and refuse what it refuses.
func TestDecodeReadsWhatEncodingJSONReads(t *testing.T) {
	bodies := []string{
		`{"user_id":1,"video_id":2,"author_id":3,"liked":true,"seq":4,"at":5}`,
		`{"user_id":-0,"video_id":2,"author_id":3,"liked":false,"seq":4,"at":5}`,
		`{"user_id":9223372036854775807,"video_id":-9223372036854775808,"author_id":3,"liked":true,"seq":4,"at":5}`,
		// Other spacing, order, fields, a newer producer's extra field.
		`{ "user_id": 1, "video_id": 2, "author_id": 3, "liked": true, "seq": 4, "at": 5 }`,
		`{"video_id":2,"user_id":1,"author_id":3,"liked":true,"seq":4,"at":5}`,
		`{"user_id":1,"video_id":2,"liked":true,"seq":4}`,
		`{"user_id":1,"video_id":2,"author_id":3,"liked":true,"seq":4,"at":5,"source":"app"}`,
		`{"user_id":1.0,"video_id":2,"author_id":3,"liked":true,"seq":4,"at":5}`,
		// What encoding/json refuses.
		`{"user_id":01,"video_id":2,"author_id":3,"liked":true,"seq":4,"at":5}`,
		`{"user_id":+1,"video_id":2,"author_id":3,"liked":true,"seq":4,"at":5}`,
		`{"user_id":1e3,"video_id":2,"author_id":3,"liked":true,"seq":4,"at":5}`,
		`{"user_id":9223372036854775808,"video_id":2,"author_id":3,"liked":true,"seq":4,"at":5}`,
		`{"user_id":-9223372036854775809,"video_id":2,"author_id":3,"liked":true,"seq":4,"at":5}`,
		`{"user_id":99999999999999999999,"video_id":2,"author_id":3,"liked":true,"seq":4,"at":5}`,
		`{"user_id":-,"video_id":2,"author_id":3,"liked":true,"seq":4,"at":5}`,
		`{"user_id":1,"video_id":2,"author_id":3,"liked":1,"seq":4,"at":5}`,
		`{"user_id":1,"video_id":2,"author_id":3,"liked":true,"seq":4,"at":5}x`,
		`{"user_id":1,"video_id":2,"author_id":3,"liked":true,"seq":4,"at":5`,
		`{"user_id":1,"video_id":2,"author_id":3,"liked":tru`,
		``,
	}
	for _, body := range bodies {
		var want event.LikeEvent
		wantErr := json.Unmarshal([]byte(body), &want)
		got, err := Decode([]byte(body))
		if (err != nil) != (wantErr != nil) || (err == nil && got != want) {
			t.Errorf("Decode(%s) = %+v, %v; encoding/json gives %+v, %v", body, got, err, want, wantErr)
		}
	}
}

// BenchmarkCodec is one like's encode and decode.
func BenchmarkCodec(b *testing.B) {
	e := event.LikeEvent{UserId: 123, VideoId: 4567, AuthorId: 89, Liked: true, Seq: 1_765_080_000_123_456_789, At: 1_765_080_000_123}
	b.ReportAllocs()
	for b.Loop() {
		body, err := Encode(e)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}
