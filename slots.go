package failover

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// checkSlots bounds how many checks run at once (Config.MaxChecks) and
// counts what that costs, for Status. Slots are given in the order they
// were asked for, so a slow check delays the others but never starves
// them; a check that ignores its deadline gives its slot back at the
// deadline.
type checkSlots struct {
	sem         *semaphore.Weighted
	max         int
	running     atomic.Int64
	waiting     atomic.Int64
	delayed     atomic.Uint64
	longestWait atomic.Int64 // nanoseconds
}

func newCheckSlots(n int) *checkSlots {
	return &checkSlots{sem: semaphore.NewWeighted(int64(n)), max: n}
}

// acquire waits for a slot, or until ctx ends (then ok is false). release
// gives the slot back; it may be called more than once.
func (s *checkSlots) acquire(ctx context.Context) (release func(), ok bool) {
	if !s.sem.TryAcquire(1) {
		s.waiting.Add(1)
		s.delayed.Add(1)
		start := time.Now()
		err := s.sem.Acquire(ctx, 1)
		s.waiting.Add(-1)
		if err != nil {
			return nil, false
		}
		waited := int64(time.Since(start))
		for cur := s.longestWait.Load(); waited > cur && !s.longestWait.CompareAndSwap(cur, waited); cur = s.longestWait.Load() {
		}
	}
	s.running.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			s.running.Add(-1)
			s.sem.Release(1)
		})
	}, true
}

// status returns the counts for Status.
func (s *checkSlots) status() CheckStatus {
	return CheckStatus{
		MaxChecks: s.max, Running: int(s.running.Load()), Waiting: int(s.waiting.Load()),
		Delayed: s.delayed.Load(), LongestWait: time.Duration(s.longestWait.Load()),
	}
}
