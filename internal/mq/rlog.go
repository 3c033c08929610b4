package mq

import (
	"sync"

	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/rlog"
	"github.com/sirupsen/logrus"
)

// clientLogLevel is the RocketMQ client's log level: it logs every heartbeat and rebalance
// at info level.
const clientLogLevel = logrus.WarnLevel

// installClientLogger makes the client library log through messageSafeLogger. The library's
// logger is process-wide state (rlog has one package variable, written unsynchronised), so it
// is installed once, before the first client of the process exists.
var installClientLogger = sync.OnceFunc(func() {
	l := logrus.New()
	l.SetLevel(clientLogLevel)
	rlog.SetLogger(messageSafeLogger{l})
})

// messageSafeLogger is the client library's default logger (logrus, the same output) except
// that messages in the fields are logged by id, never formatted. rocketmq-client-go v2.1.2
// logs whole pulled batches (when a handler fails, a handler overruns its consume timeout, a
// queue is dropped mid-handling); formatting a message reads its property map without the
// message's lock while the library's other consume workers write the properties of their own
// messages of the same batch (the consume start time): "fatal error: concurrent map
// iteration and map write", which no recover catches. Fixed upstream after the last release
// (apache/rocketmq-client-go#1141), so not reachable by a pinned version.
type messageSafeLogger struct{ l *logrus.Logger }

var _ rlog.Logger = messageSafeLogger{}

func (m messageSafeLogger) Debug(msg string, fields map[string]any) {
	m.l.WithFields(messageIDs(fields)).Debug(msg)
}

func (m messageSafeLogger) Info(msg string, fields map[string]any) {
	m.l.WithFields(messageIDs(fields)).Info(msg)
}

func (m messageSafeLogger) Warning(msg string, fields map[string]any) {
	m.l.WithFields(messageIDs(fields)).Warning(msg)
}

func (m messageSafeLogger) Error(msg string, fields map[string]any) {
	m.l.WithFields(messageIDs(fields)).Error(msg)
}

func (m messageSafeLogger) Fatal(msg string, fields map[string]any) {
	m.l.WithFields(messageIDs(fields)).Fatal(msg)
}

// Level keeps clientLogLevel: the level is ours to choose, not the library's.
func (m messageSafeLogger) Level(string) {}

// OutputPath keeps the output: the process's standard error, like every other log line.
func (m messageSafeLogger) OutputPath(string) error { return nil }

// messageIDs returns fields with every message replaced by its id (a copy when any is
// replaced; the library's map is not written).
func messageIDs(fields map[string]any) logrus.Fields {
	out := logrus.Fields(fields)
	copied := false
	for k, v := range fields {
		var ids any
		switch v := v.(type) {
		case *primitive.MessageExt:
			ids = messageID(v)
		case []*primitive.MessageExt:
			s := make([]string, len(v))
			for i, m := range v {
				s[i] = messageID(m)
			}
			ids = s
		case *primitive.Message:
			ids = "message to " + v.Topic
		case []*primitive.Message:
			ids = len(v)
		default:
			continue
		}
		if !copied {
			out = make(logrus.Fields, len(fields))
			for k, v := range fields {
				out[k] = v
			}
			copied = true
		}
		out[k] = ids
	}
	return out
}

// messageID names a received message by its id, without reading its properties.
func messageID(m *primitive.MessageExt) string {
	if m == nil {
		return "<nil>"
	}
	return m.MsgId
}
