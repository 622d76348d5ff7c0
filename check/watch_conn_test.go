package check

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// A watching TCP check notices when its idle connection is closed,
// reconnects, and notices once when reconnecting fails; Watch returns when
// its context ends.
func TestWatchConnNotices(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conns := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	_, port := hostPort(t, ln.Addr().String())
	notices := make(chan error, 10)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		(&TCP{Port: port, Watching: true}).Watch(ctx, "127.0.0.1", func(err error) { notices <- err })
		close(done)
	}()
	next := func(what string) net.Conn {
		t.Helper()
		select {
		case c := <-conns:
			return c
		case <-time.After(10 * time.Second):
			t.Fatalf("no connection %s within 10s", what)
			return nil
		}
	}
	notice := func(want ...string) {
		t.Helper()
		select {
		case err := <-notices:
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("got notice %q, want it to mention %q", err, w)
				}
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no notice mentioning %q within 10s", want)
		}
	}

	next("at first").Close()
	notice("watching 127.0.0.1:", "connection closed")
	c := next("after the close") // it reconnected
	ln.Close()
	c.Close()
	notice("connection closed")
	notice("reconnecting", "connection refused")
	cancel()
	<-done
	select {
	case err := <-notices:
		t.Fatalf("got notice %v, want one notice for failures in a row", err)
	default:
	}
}
