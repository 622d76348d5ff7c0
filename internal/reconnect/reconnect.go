// Package reconnect keeps a long-lived session going, such as an idle
// connection a check watches or a gRPC health stream: it starts the session
// again each time it ends, with exponential backoff while it keeps failing,
// until its context ends.
package reconnect

import (
	"context"
	"time"
)

// The waits between two sessions.
const (
	// MinWait is the wait after a session that came up, and the first wait
	// after one that did not.
	MinWait = 50 * time.Millisecond
	// MaxWait caps the wait: it doubles after each session in a row that
	// did not come up, up to MaxWait.
	MaxWait = 5 * time.Second
)

// Loop calls session, waits, and calls it again, until ctx ends. session
// runs one attempt (connect, then hold the connection or read the stream
// until it ends) and reports whether it came up (connected, or served).
// The wait before the next attempt is MinWait after a session that came
// up, and doubles, up to MaxWait, after each one in a row that did not.
// Loop returns when ctx ends, without waiting out the current wait; it
// never interrupts a session, which must itself return when ctx ends.
func Loop(ctx context.Context, session func() (up bool)) {
	next := MinWait // the wait after a session that does not come up
	for ctx.Err() == nil {
		wait := MinWait
		if !session() {
			wait, next = next, min(2*next, MaxWait)
		} else {
			next = MinWait
		}
		if ctx.Err() != nil {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
