package check

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"
)

// watchConn holds an idle TCP connection to addr, with TCP keepalive set
// short, and calls notice when it closes or fails, and when reconnecting
// fails after it was connected; it reconnects with backoff until ctx ends.
// A server process that dies has its connections closed (or reset) by its
// kernel at once, so the notice comes within a round trip.
func watchConn(ctx context.Context, addr string, notice func(error)) {
	const minBackoff, maxBackoff = 50 * time.Millisecond, 5 * time.Second
	d := net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: time.Second, Interval: time.Second, Count: 2}}
	backoff, connected := minBackoff, false
	for ctx.Err() == nil {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if connected {
				notice(fmt.Errorf("watching %s: reconnecting: %w", addr, unwrapOp(err)))
				connected = false
			}
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff, connected = minBackoff, true
		stop := context.AfterFunc(ctx, func() { conn.Close() })
		_, err = io.Copy(io.Discard, conn) // whatever the server says, until it closes
		stop()
		conn.Close()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = io.EOF
		}
		notice(fmt.Errorf("watching %s: connection closed: %w", addr, unwrapOp(err)))
	}
}
