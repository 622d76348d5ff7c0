package cloudflare

import (
	"context"
	"sync"
	"time"
)

// windowLimiter lets at most n requests start in any window: the k-th
// request starts no earlier than the (k-n)-th plus the window. Unlike a
// token bucket, a burst never buys more than n in a window.
type windowLimiter struct {
	window time.Duration

	mu    sync.Mutex
	slots []time.Time // start times of the last n requests, a ring
	next  int         // the oldest slot, reused by the next request
}

func newWindowLimiter(n int, window time.Duration) *windowLimiter {
	return &windowLimiter{window: window, slots: make([]time.Time, n)}
}

// wait blocks until a request may start, or ctx is done. A request that
// gives up keeps its slot: it is counted as if it had been sent.
func (l *windowLimiter) wait(ctx context.Context) error {
	l.mu.Lock()
	now := time.Now()
	at := now
	if free := l.slots[l.next].Add(l.window); !l.slots[l.next].IsZero() && free.After(now) {
		at = free
	}
	l.slots[l.next] = at
	l.next = (l.next + 1) % len(l.slots)
	l.mu.Unlock()
	if !at.After(now) {
		return ctx.Err()
	}
	t := time.NewTimer(at.Sub(now))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
