package mq

// Delivery guarantees, the same on both backends, which is what lets the deployment pick one:
//
//   - At least once. Publish returns nil only once the message is safe: handled by every
//     group (Memory) or stored by the broker with SEND_OK (RocketMQ). Any other outcome is an
//     error and the caller must fail its request, so an acknowledged operation is never lost.
//     The converse does not hold: a failed Publish (a timeout, a flush timeout) may still have
//     stored the message, and a message is redelivered when its handler fails or when a
//     consumer stops between handling it and committing its offset.
//   - No order. RocketMQ consumes concurrently (no broker queue locks, so a dead consumer's
//     queues move to the others at once, see RocketMQ.Subscribe): messages with one key may be
//     handled out of publish order, and a failing message is retried later while the others
//     go on. Handlers that need an order carry it in the message (the like events' per-pair
//     seq: an event older than the applied one changes nothing). Messages published at the same
//     time share one send and one queue (RocketMQ.Publish); the key routes one sent alone.
//   - Idempotent handlers are therefore required: handling a message twice, or a message
//     whose Publish reported an error, must leave the same state as handling it once.
//   - Poison messages. On RocketMQ a message that still fails after mq.rocketmq.max-reconsume
//     retries goes to the group's dead-letter topic (%DLQ%<group>); alert on that topic. Memory has no such limit: the failure reaches the publisher.
//   - A consumer group seen for the first time starts at the oldest retained message, so a
//     group deployed after messages were published still gets them.

import (
	"flag"
	"fmt"
)

// Backends.
const (
	BackendMemory   = "memory"
	BackendRocketMQ = "rocketmq"
)

// Config selects the queue backend.
type Config struct {
	Backend  string
	RocketMQ RocketMQConfig
}

// RegisterFlags registers the queue settings.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Backend, "mq.backend", BackendMemory, "queue backend: memory (in-process, synchronous; embedded mode) or rocketmq")
	c.RocketMQ.RegisterFlags(fs)
}

// Validate checks the settings; the RocketMQ ones only when that backend is selected, so an
// embedded deployment is not refused over settings it does not use.
func (c *Config) Validate() error {
	switch c.Backend {
	case BackendMemory:
		return nil
	case BackendRocketMQ:
		return c.RocketMQ.Validate()
	default:
		return fmt.Errorf("mq.backend %q: want %s or %s", c.Backend, BackendMemory, BackendRocketMQ)
	}
}
