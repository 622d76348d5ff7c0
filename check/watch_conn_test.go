package check

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// How a watching check reacts to what servers do with its idle
// connection (issue 11, item 6): a connection closed cleanly after it
// lived is replaced without a notice (a server that closes idle
// connections); two accepted and closed at once count as a failed dial
// (a proxy without backends, a server at its connection limit): backoff,
// no notice storm; a reset, or a close followed by a refused reconnect (a
// killed server, even one killed right after the watcher connected), is
// noticed.
func TestWatchConnNotices(t *testing.T) {
	held := minConnLife + minConnLife/5
	for _, tc := range []struct {
		name       string
		serve      func(c net.Conn, ln net.Listener) // one accepted connection
		watch      time.Duration
		want       []string // substrings of the one notice wanted; nil: no notice
		minAccepts int
		maxAccepts int
	}{
		{"idle connections closed", func(c net.Conn, _ net.Listener) { time.Sleep(held); c.Close() },
			3 * held, nil, 3, 4},
		{"accepted and closed at once", func(c net.Conn, _ net.Listener) { c.Close() },
			2 * time.Second, nil, 4, 14},
		{"reset", func(c net.Conn, _ net.Listener) {
			time.Sleep(held)
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}, 2 * held, []string{"connection closed", "reset"}, 1, 3},
		{"killed", func(c net.Conn, ln net.Listener) { time.Sleep(held); ln.Close(); c.Close() },
			2 * held, []string{"reconnecting", "refused"}, 1, 1},
		{"killed at once", func(c net.Conn, ln net.Listener) { time.Sleep(50 * time.Millisecond); ln.Close(); c.Close() },
			time.Second, []string{"reconnecting", "refused"}, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			var accepts atomic.Int32
			var wg sync.WaitGroup
			defer wg.Wait()
			wg.Go(func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					accepts.Add(1)
					wg.Go(func() { tc.serve(c, ln) })
				}
			})
			_, port := hostPort(t, ln.Addr().String())
			var mu sync.Mutex
			var notices []string
			ctx, cancel := context.WithCancel(t.Context())
			defer time.AfterFunc(tc.watch, cancel).Stop() // cancelled as Run cancels it, not by a deadline
			(&TCP{Port: port, Watching: true}).Watch(ctx, "127.0.0.1", func(err error) {
				mu.Lock()
				notices = append(notices, err.Error())
				mu.Unlock()
			})
			ln.Close()
			mu.Lock()
			defer mu.Unlock()
			if tc.want == nil && len(notices) > 0 || tc.want != nil && len(notices) != 1 {
				t.Fatalf("got notices %q, want %d", notices, min(len(tc.want), 1))
			}
			for _, w := range tc.want {
				if !strings.Contains(notices[0], w) {
					t.Fatalf("got notice %q, want it to mention %q", notices[0], w)
				}
			}
			if n := int(accepts.Load()); n < tc.minAccepts || n > tc.maxAccepts {
				t.Fatalf("got %d connections in %v, want %d to %d", n, tc.watch, tc.minAccepts, tc.maxAccepts)
			}
		})
	}
}
