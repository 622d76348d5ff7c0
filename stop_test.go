package failover

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// The event queue is bounded (issue 11, item 19): while OnEvent is
// blocked, events beyond EventBuffer are dropped and counted, and the loop
// goes on deciding and writing.
func TestEventQueueBoundedDropsCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		unblock := make(chan struct{})
		var once sync.Once
		defer once.Do(func() { close(unblock) })
		sb, p := newSwitchboard(), memZone(t)
		cfg := oneZone(p, wwwRecord(sb, basePol))
		cfg.EventBuffer = 4
		cfg.OnEvent = func(Event) { <-unblock }
		h := run(t, cfg)
		h.holds(p, time.Minute, primary)
		for range 5 { // failovers and failbacks, OnEvent blocked all along
			failover(h, sb, p)
			sb.set("192.0.2.10", false)
			sb.set("192.0.2.11", false)
			h.holds(p, 5*time.Minute, primary)
		}
		st := h.m.Status().Events
		if st.Buffer != 4 || st.Queued != 4 || st.Dropped == 0 {
			t.Fatalf("got %+v, want Buffer 4, Queued 4, Dropped above 0", st)
		}
		once.Do(func() { close(unblock) })
	})
}

// A reload does not hang on a checker that ignores its context, nor on
// an OnEvent that blocks (issue 11, item 18): Run returns StopTimeout
// after its context ends, with an error that names what it abandoned, and
// the next Manager carries over and runs.
func TestRunBoundsItsWaitOnStop(t *testing.T) {
	for _, tc := range []struct {
		name     string
		hangs    string // endpoint whose check ignores its context
		blockOn  bool   // OnEvent blocks
		wantText []string
	}{
		{"a checker ignores its context", "192.0.2.10", false, []string{"1 check still running", "www.example.test. A 192.0.2.10"}},
		{"OnEvent blocks", "", true, []string{"events not delivered"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				release := make(chan struct{})  // ends every hang, when the test is done
				stopping := make(chan struct{}) // closed just before Run's context ends
				hangs := make(chan struct{}, 1) // a check has started to hang
				check := CheckerFunc(func(ctx context.Context, target string) error {
					select {
					case <-stopping:
					default:
						return nil
					}
					if target == tc.hangs {
						hangs <- struct{}{}
						<-release // ignores ctx
					}
					return nil
				})
				p := memZone(t)
				cfg := oneZone(p, wwwRecord(check, basePol))
				cfg.StopTimeout = 3 * time.Second
				if tc.blockOn {
					cfg.OnEvent = func(Event) {
						select {
						case <-stopping:
							<-release
						default:
						}
					}
				}
				h := start(t, cfg, nil)
				h.until(time.Minute, stepTime, "settled", func() bool { return h.m.Status().Zones[0].Records[0].Decided })
				close(stopping)
				if tc.hangs != "" {
					<-hangs
				} else {
					h.m.SetOverride(www, "192.0.2.10", ForceDown, 0) // an event for OnEvent to block on
					synctest.Wait()
				}
				stoppedAt := time.Now()
				h.stop()
				err := <-h.done
				if took := time.Since(stoppedAt); took > cfg.StopTimeout {
					t.Errorf("Run returned %v after its context ended, want at most StopTimeout %v", took, cfg.StopTimeout)
				}
				if !errors.Is(err, ErrAbandoned) {
					t.Fatalf("Run returned %v, want ErrAbandoned", err)
				}
				for _, w := range tc.wantText {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("got %q, want it to mention %q", err, w)
					}
				}
				next := runAfter(t, oneZone(p, wwwRecord(newSwitchboard(), basePol)), carryAll(t, h.m))
				next.until(time.Minute, stepTime, "reloaded and decided", func() bool { return next.m.Status().Zones[0].Records[0].Decided })
				close(release)
			})
		})
	}
}
