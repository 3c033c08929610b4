package mq

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/sirupsen/logrus"
)

// The client logs a pulled batch while its other consume workers write the properties of
// messages of that batch. Formatting those messages crashed the process (a concurrent map
// iteration and write); the logger must name them by id without reading their properties.
func TestClientLoggerNamesMessagesWithoutReadingTheirProperties(t *testing.T) {
	var out bytes.Buffer
	l := logrus.New()
	l.SetOutput(&out)
	log := messageSafeLogger{l}

	batch := make([]*primitive.MessageExt, 4)
	for i := range batch {
		batch[i] = &primitive.MessageExt{Message: primitive.Message{Topic: "t", Body: []byte("secret body")}, MsgId: "id-" + strconv.Itoa(i)}
		batch[i].WithProperty("KEYS", "k")
	}
	fields := map[string]any{"messages": batch, "message": batch[0], "consumerGroup": "g"}

	var writers sync.WaitGroup
	stop := make(chan struct{})
	for _, m := range batch {
		writers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
					// What the client's consume workers do to each message they start.
					m.WithProperty("CONSUME_START_TIME", strconv.Itoa(i))
				}
			}
		})
	}
	for range 2000 {
		log.Warning("consumeMessageCurrently error", fields)
	}
	close(stop)
	writers.Wait()

	first, _, _ := strings.Cut(out.String(), "\n")
	for _, want := range []string{"id-0", "id-3", "consumerGroup=g", "consumeMessageCurrently error"} {
		if !strings.Contains(first, want) {
			t.Errorf("log line %q lacks %q", first, want)
		}
	}
	if strings.Contains(out.String(), "secret body") || strings.Contains(out.String(), "CONSUME_START_TIME") {
		t.Errorf("a message was formatted (body or properties logged): %q", first)
	}
	if fields["messages"] == nil || len(fields) != 3 {
		t.Errorf("the library's fields were changed: %v", fields)
	}
	if _, ok := fields["messages"].([]*primitive.MessageExt); !ok {
		t.Errorf("the library's fields were changed: messages is %T", fields["messages"])
	}
}
