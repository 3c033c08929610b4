package mq

import "log/slog"

// Queue is an opened backend: producers publish to it and consumers subscribe to it. Start
// begins the delivery once every consumer has subscribed; Close stops it.
type Queue interface {
	Producer
	Consumer
	Start() error
	Close() error
}

// Open builds the configured backend; log receives what the backend reports (RocketMQ's
// handler failures).
func Open(cfg Config, log *slog.Logger) (Queue, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch cfg.Backend {
	case BackendRocketMQ:
		q, err := NewRocketMQ(cfg.RocketMQ, log)
		if err != nil {
			return nil, err
		}
		return q, nil
	default:
		return NewMemory(), nil
	}
}

// Start does nothing: Memory delivers inside Publish, to the groups subscribed by then.
func (m *Memory) Start() error { return nil }

// Close does nothing: Memory holds no connection and no message between calls.
func (m *Memory) Close() error { return nil }

// InProcess reports whether the configured backend is the in-process queue: handlers run
// inside Publish (so slow work must be handed to a pool), and nothing queued survives a
// restart (so work in flight must be found again at start).
func (c Config) InProcess() bool { return c.Backend == BackendMemory }
