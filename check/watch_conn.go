package check

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/dnsfailover/failover/internal/reconnect"
)

// watchConn holds an idle TCP connection to addr, with TCP keepalive set
// short, and calls notice when it closes or fails, and when reconnecting
// fails after it was connected; it reconnects after 50 ms, waiting twice
// as long (up to 5 s) after each failed dial in a row, until ctx ends. A server process that dies has its connections
// closed (or reset) by its kernel at once, so the notice comes within a
// round trip.
func watchConn(ctx context.Context, addr string, notice func(error)) {
	d := net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: time.Second, Interval: time.Second, Count: 2}}
	connected := false // the last attempt connected: failing to reconnect is news
	reconnect.Loop(ctx, func() bool {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			if connected && ctx.Err() == nil {
				notice(fmt.Errorf("watching %s: reconnecting: %w", addr, unwrapOp(err)))
			}
			connected = false
			return false
		}
		connected = true
		stop := context.AfterFunc(ctx, func() { conn.Close() })
		_, err = io.Copy(io.Discard, conn) // whatever the server says, until it closes
		stop()
		conn.Close()
		if ctx.Err() != nil {
			return true
		}
		if err == nil {
			err = io.EOF
		}
		notice(fmt.Errorf("watching %s: connection closed: %w", addr, unwrapOp(err)))
		return true
	})
}
