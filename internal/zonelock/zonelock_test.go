package zonelock

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
)

// A second holder of one zone (whatever its spelling) waits for the
// first; another zone does not; a waiter gives up with its context.
func TestLockSerialisesOneZone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l Locks
		var waited []string
		l.OnWait = func(zone string) { waited = append(waited, zone) }
		unlock, err := l.Lock(t.Context(), "example.com.")
		if err != nil {
			t.Fatal(err)
		}
		other, err := l.Lock(t.Context(), "example.net.")
		if err != nil {
			t.Fatalf("another zone: got %v, want the lock at once", err)
		}
		other()
		got := make(chan error)
		go func() {
			u, err := l.Lock(t.Context(), "Example.COM")
			if err == nil {
				u()
			}
			got <- err
		}()
		synctest.Wait()
		select {
		case err := <-got:
			t.Fatalf("second Lock of the zone returned %v while the first was held, want it to wait", err)
		default:
		}
		if want := []string{"Example.COM"}; !slices.Equal(waited, want) {
			t.Errorf("OnWait: got calls for %q, want %q", waited, want)
		}
		unlock()
		if err := <-got; err != nil {
			t.Fatalf("second Lock after the release: got %v, want the lock", err)
		}

		unlock, _ = l.Lock(t.Context(), "example.com.")
		defer unlock()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := l.Lock(ctx, "example.com."); !errors.Is(err, context.Canceled) {
			t.Fatalf("Lock with a cancelled context on a held zone: got %v, want context.Canceled", err)
		}
	})
}
