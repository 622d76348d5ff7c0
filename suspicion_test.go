package failover

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover/provider/memory"
)

// watchboard is a switchboard that is also a Watcher: the test raises
// notices with notice, and can hold the checks of a target in flight.
type watchboard struct {
	*switchboard
	notices map[string]chan error // per target
	mu      sync.Mutex
	hold    map[string]chan struct{} // checks of the target wait for it to close
}

func newWatchboard(targets ...string) *watchboard {
	w := &watchboard{switchboard: newSwitchboard(), notices: map[string]chan error{}, hold: map[string]chan struct{}{}}
	for _, t := range targets {
		w.notices[t] = make(chan error)
	}
	return w
}

// Check answers as the switchboard did when the check started, after
// waiting while the target is held.
func (w *watchboard) Check(ctx context.Context, target string) error {
	err := w.switchboard.Check(ctx, target)
	w.mu.Lock()
	hold := w.hold[target]
	w.mu.Unlock()
	if hold != nil {
		<-hold
	}
	return err
}

func (w *watchboard) Watch(ctx context.Context, target string, notice func(error)) {
	for {
		select {
		case <-ctx.Done():
			return
		case err := <-w.notices[target]:
			notice(err)
		}
	}
}

// notice raises a notice about target and waits until the loop took it.
func (w *watchboard) notice(target string) {
	w.notices[target] <- errors.New("connection closed")
}

// holdChecks makes the next checks of target wait until the returned
// func is called.
func (w *watchboard) holdChecks(target string) (release func()) {
	ch := make(chan struct{})
	w.mu.Lock()
	w.hold[target] = ch
	w.mu.Unlock()
	return func() {
		w.mu.Lock()
		delete(w.hold, target)
		w.mu.Unlock()
		close(ch)
	}
}

func watchedWWW(t *testing.T, pol Policy) (*harness, *watchboard, *memory.Provider) {
	t.Helper()
	w, p := newWatchboard("192.0.2.10", "192.0.2.11", "192.0.2.20"), memZone(t)
	h := run(t, oneZone(p, wwwRecord(w, pol)))
	h.settled()
	return h, w, p
}

// With watching on and no ConfirmInterval, the confirming checks run
// DefaultConfirmInterval apart, not FastInterval (issue 13): a notice
// about a dead endpoint takes it down within milliseconds.
func TestConfirmingChecksRunMillisecondsApartByDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, w, _ := watchedWWW(t, basePol)
		w.set("192.0.2.10", true)
		noticed := time.Now()
		w.notice("192.0.2.10")
		h.until(time.Minute, time.Millisecond, "endpoint down", func() bool { return len(h.of(EventEndpointDown)) > 0 })
		// FailAfter 3: checks at once, then twice DefaultConfirmInterval later.
		if got, want := h.last(EventEndpointDown).Time.Sub(noticed), 2*DefaultConfirmInterval; got != want {
			t.Fatalf("down %v after the notice, want %v", got, want)
		}
	})
}

// A check already in flight when a notice comes cannot lift the suspicion
// with a result from before the notice (issue 11, item 5): a check starts
// the moment it returns, and the confirming checks follow.
func TestSuspicionNotLiftedByACheckFromBeforeTheNotice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pol := basePol
		pol.ConfirmInterval = 5 * time.Millisecond
		h, w, _ := watchedWWW(t, pol)
		n0 := w.count("192.0.2.10")
		release := w.holdChecks("192.0.2.10")
		h.until(time.Minute, stepTime, "a check in flight", func() bool { return w.count("192.0.2.10") == n0+1 })
		w.set("192.0.2.10", true) // the server dies while the check, which saw it well, is in flight
		w.notice("192.0.2.10")
		time.Sleep(100 * time.Millisecond)
		released := time.Now()
		release()
		h.until(time.Minute, time.Millisecond, "endpoint down", func() bool { return len(h.of(EventEndpointDown)) > 0 })
		for _, e := range h.of(EventSuspicionEnded) {
			if e.Health != HealthDown {
				t.Fatalf("got %v, want the suspicion confirmed, not lifted by the check from before the notice", e)
			}
		}
		if got, want := h.last(EventEndpointDown).Time.Sub(released), 2*pol.ConfirmInterval; got != want {
			t.Fatalf("down %v after the check in flight returned, want %v", got, want)
		}
	})
}

// A burst of notices about a healthy endpoint (a server that closes
// connections as they come) raises one suspicion, not one per notice
// (issue 11, item 6).
func TestNoticesMergedIntoOneSuspicion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pol := basePol
		pol.ConfirmInterval = 5 * time.Millisecond
		h, w, _ := watchedWWW(t, pol)
		n0 := w.count("192.0.2.10")
		for range 1000 {
			w.notice("192.0.2.10")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if n := len(h.of(EventSuspected)); n != 1 {
			t.Fatalf("got %d suspected events for 1000 notices in a burst, want 1", n)
		}
		if n := w.count("192.0.2.10") - n0; n > 2 {
			t.Fatalf("got %d checks for 1000 notices in a burst, want at most 2", n)
		}
	})
}
