package reconnect

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// The attempts of a session that fails or comes up, and when Loop starts
// each one, measured from the first.
func TestLoopWaits(t *testing.T) {
	for _, tc := range []struct {
		name string
		up   []bool // what each attempt reports; the test stops after the last
		want []time.Duration
	}{
		{"failing: doubles up to the cap", []bool{false, false, false, false, false, false, false, false, false, false},
			[]time.Duration{0, 50, 150, 350, 750, 1550, 3150, 6350, 11350, 16350}},
		{"up: waits the minimum", []bool{true, true, true}, []time.Duration{0, 50, 100}},
		{"up again after failures: back to the minimum", []bool{false, false, false, true, false, false},
			[]time.Duration{0, 50, 150, 350, 400, 450}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				start := time.Now()
				var got []time.Duration
				Loop(ctx, func() bool {
					got = append(got, time.Since(start))
					if len(got) == len(tc.up) {
						cancel()
					}
					return tc.up[len(got)-1]
				})
				want := make([]time.Duration, len(tc.want))
				for i, ms := range tc.want {
					want[i] = ms * time.Millisecond
				}
				if !slices.Equal(got, want) {
					t.Fatalf("got attempts at %v, want %v", got, want)
				}
			})
		})
	}
}

// Loop returns as soon as ctx ends during a wait, and never starts a
// session after that.
func TestLoopStopsDuringAWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		attempts := 0
		done := make(chan struct{})
		go func() {
			Loop(ctx, func() bool { attempts++; return false })
			close(done)
		}()
		time.Sleep(MaxWait) // attempts at 0, 50, 150, 350, 750, 1550, 3150 ms
		cancel()
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatal("Loop still running after ctx ended")
		}
		if attempts != 7 {
			t.Fatalf("got %d attempts, want 7", attempts)
		}
	})
}

func TestLoopWithEndedContextDoesNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	Loop(ctx, func() bool { t.Fatal("session called after ctx ended"); return false })
}
