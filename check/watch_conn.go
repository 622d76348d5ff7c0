package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/dnsfailover/failover/internal/reconnect"
)

// minConnLife is how long a watched connection must live to count as
// connected: one closed sooner (a proxy without backends, a server at its
// connection limit, accepting and closing at once) counts as a failed
// dial, so the watcher backs off instead of reconnecting in a tight loop.
const minConnLife = time.Second

// watchConn holds an idle TCP connection to addr (from source, unless zero), with TCP keepalive set
// short, and calls notice when the connection is lost: reset or failed
// after it lived minConnLife, or closed by the server and the reconnect
// that follows at once is refused. A server process that dies has its
// connections closed by its kernel and refuses the reconnect, so the
// notice comes within two round trips; a server that merely closes idle
// connections is reconnected to without a notice.
//
// A server that accepts and closes at once (a proxy without backends, a
// server at its connection limit) is treated as a failed dial after two
// such connections in a row: no notice, and the wait before the next
// attempt grows as after failed dials; but if that next attempt is
// refused, the server is gone (a server killed less than minConnLife
// after the watcher connected, whose kernel completed and reset one more
// connection as it closed its listener): that is noticed. The watcher
// reconnects after 50 ms, waiting twice as long (up to 5 s) after each
// failed attempt in a row, until ctx ends. Connections are made from
// source when it is valid.
func watchConn(ctx context.Context, source netip.Addr, addr string, notice func(error)) {
	d := net.Dialer{LocalAddr: localAddr(source), KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: time.Second, Interval: time.Second, Count: 2}}
	watchDialed(ctx, addr, func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }, notice)
}

// watchDialed is watchConn with the connections made by dial.
func watchDialed(ctx context.Context, addr string, dial func(context.Context) (net.Conn, error), notice func(error)) {
	lost := false // the last session ended with connections closed at once: a refused dial now is news
	refused := func(err error, what string) {
		if ctx.Err() == nil {
			notice(fmt.Errorf("watching %s: %s: %w", addr, what, unwrapOp(err)))
		}
	}
	reconnect.Loop(ctx, func() bool {
		conn, err := dial(ctx)
		if err != nil {
			if lost {
				refused(err, "connections closed at once, then refused")
			}
			lost = false
			return false // else news only right after a lost connection, below
		}
		lost = false
		short := 0  // connections in a row that lived less than minConnLife
		up := false // a connection lived minConnLife: the session came up, and the backoff starts over
		for {
			lived, closed := holdConn(ctx, conn)
			switch {
			case ctx.Err() != nil:
				return true
			case lived >= minConnLife && !errors.Is(closed, io.EOF):
				notice(fmt.Errorf("watching %s: connection closed: %w", addr, unwrapOp(closed)))
				return true
			case lived < minConnLife:
				if short++; short == 2 { // a failed dial, unless the next one is refused
					lost = true
					return up
				}
			default:
				short, up = 0, true
			}
			// Closed by the server: news only if it refuses a new connection.
			if conn, err = dial(ctx); err != nil {
				refused(err, "connection closed, reconnecting")
				return up
			}
		}
	})
}

// holdConn reads conn until it closes or ctx ends, closes it, and returns
// how long it lived and why it ended (io.EOF when the server closed it).
func holdConn(ctx context.Context, conn net.Conn) (time.Duration, error) {
	start := time.Now()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	_, err := io.Copy(io.Discard, conn) // whatever the server says, until it closes
	stop()
	conn.Close()
	if err == nil {
		err = io.EOF
	}
	return time.Since(start), err
}
