// Package zonelock serialises a provider's read-modify-write calls per
// zone: a wrapper that reads an RRset, works out the change and then
// writes it must not interleave with another call doing the same to the
// same zone, or the second write undoes the first (libdns requires every
// method to be safe for concurrent use).
package zonelock

import (
	"context"
	"strings"
	"sync"
)

// Locks holds one lock per zone. The zero value is ready to use; it is
// safe for concurrent use and must not be copied after first use.
type Locks struct {
	// OnWait, when set, is called with the zone when Lock finds it held
	// and starts to wait: tests use it to know that a call is queued.
	OnWait func(zone string)

	mu    sync.Mutex
	zones map[string]chan struct{} // a full channel is a held lock
}

// Lock waits until no other holder has zone's lock, or ctx is done, and
// returns the function that releases it (call it exactly once). Zone
// names compare without case and without a trailing dot. Waiting is a
// channel operation, so it honours ctx, and a testing/synctest bubble sees
// a waiter as durably blocked when the Locks were first used inside it.
func (l *Locks) Lock(ctx context.Context, zone string) (unlock func(), err error) {
	key := strings.ToLower(strings.TrimSuffix(zone, "."))
	l.mu.Lock()
	if l.zones == nil {
		l.zones = map[string]chan struct{}{}
	}
	c, ok := l.zones[key]
	if !ok {
		c = make(chan struct{}, 1)
		l.zones[key] = c
	}
	l.mu.Unlock()
	select {
	case c <- struct{}{}:
		return func() { <-c }, nil
	default:
	}
	if l.OnWait != nil {
		l.OnWait(zone)
	}
	select {
	case c <- struct{}{}:
		return func() { <-c }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
