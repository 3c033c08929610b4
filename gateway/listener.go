package gateway

import (
	"fmt"
	"net"
	"sync/atomic"
	"time"
)

// maxLimitEntries bounds the in-process store of login backoffs and upload quotas.
const maxLimitEntries = 1 << 20

// listen opens the gateway's listener with the connection limits of cfg applied.
func listen(cfg Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	return &guardedListener{Listener: ln, max: int64(cfg.MaxConnections), header: cfg.HeaderTimeout, write: cfg.WriteTimeout}, nil
}

// guardedListener closes connections beyond max at once (instead of letting them queue in
// the backlog), gives each new connection header seconds for its first request, and bounds
// every write by write.
type guardedListener struct {
	net.Listener
	max           int64
	open          atomic.Int64
	header, write time.Duration
}

func (l *guardedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.max > 0 && l.open.Add(1) > l.max {
			l.open.Add(-1)
			c.Close()
			continue
		}
		if l.header > 0 {
			// Hertz sets the deadlines of later requests on the connection itself
			// (idle timeout, then the read timeout once a request starts).
			_ = c.SetReadDeadline(time.Now().Add(l.header))
		}
		return &guardedConn{Conn: c, l: l}, nil
	}
}

type guardedConn struct {
	net.Conn
	l      *guardedListener
	closed atomic.Bool
}

func (c *guardedConn) Write(p []byte) (int, error) {
	if c.l.write > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.l.write))
	}
	return c.Conn.Write(p)
}

func (c *guardedConn) Close() error {
	if c.closed.CompareAndSwap(false, true) && c.l.max > 0 {
		c.l.open.Add(-1)
	}
	return c.Conn.Close()
}
