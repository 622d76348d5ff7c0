package failover

import (
	"reflect"
	"sync/atomic"
	"time"
)

// probeRun is one scheduled check of one target, shared by every endpoint
// that would be checked the same way: the same comparable Checker (such as
// one *check.HTTP used by several records), the same target and the same
// timing and thresholds. Those endpoints would see the same results and
// reach the same states, so one check serves them all, and their records
// decide together, which lets their changes share one write.
type probeRun struct {
	check  Checker
	target string
	policy Policy
	eps    []*endpointRun
	task   task // when to check next

	began   atomic.Int64 // when the running check got its slot and started (unix ns); 0 while it waits
	running atomic.Bool  // a call to the Checker is under way

	// loop only
	inflight    bool      // a check is running
	started     time.Time // when it started
	checks      uint64    // checks started so far: the sequence number of the latest
	suspectedAt time.Time // when a watcher's notice made it suspect, until settled
	suspectSeq  uint64    // checks started before that notice: their results cannot lift it
	quiet       bool      // the suspicion was merged into the one just lifted: no events
	liftedAt    time.Time // when the last suspicion was lifted

	// written under Manager.mu: watching by the watch goroutine, the rest by the loop
	watching    bool      // a Watcher is watching the target
	suspected   time.Time // copy of suspectedAt for Status
	state       healthState
	lastCheck   time.Time
	lastLatency time.Duration
	lastErr     error
}

// probeKey is what the endpoints sharing a probe have in common besides
// their Checker, which is compared by sameChecker.
type probeKey struct {
	target                                                   string
	interval, timeout, jitter, fastInterval, confirmInterval time.Duration
	failAfter, recoverAfter                                  int
}

// probeFor returns the probe for endpoint value of a record with spec,
// sharing one in probes whose Checker is the same as the record's (see
// sameChecker) when there is one.
func probeFor(probes map[probeKey][]*probeRun, spec *recordSpec, value string) *probeRun {
	p := spec.policy
	key := probeKey{value, p.Interval, p.Timeout, p.Jitter, p.FastInterval, p.ConfirmInterval, p.FailAfter, p.RecoverAfter}
	for _, pr := range probes[key] {
		if sameChecker(pr.check, spec.check) {
			return pr
		}
	}
	pr := &probeRun{check: spec.check, target: value, policy: p}
	pr.task = task{index: -1, probe: pr}
	probes[key] = append(probes[key], pr)
	return pr
}

// sameChecker reports whether a and b check every target alike, so that
// one check serves both: they are one comparable value (such as one
// pointer), or values of one type whose SameCheck method says so (see
// Checker). Reflection never looks inside a Checker: its unexported state
// (a sync.Once, a client) is not its configuration.
func sameChecker(a, b Checker) bool {
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return false
	}
	if reflect.ValueOf(a).Comparable() && a == b {
		return true
	}
	s, ok := a.(interface{ SameCheck(other any) bool })
	return ok && s.SameCheck(b)
}
