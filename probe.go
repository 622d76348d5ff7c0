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

// probeKey identifies the endpoints that can share a probe.
type probeKey struct {
	check                                                    Checker
	target                                                   string
	interval, timeout, jitter, fastInterval, confirmInterval time.Duration
	failAfter, recoverAfter                                  int
}

// probeFor returns the probe for endpoint value of a record with spec,
// sharing it through probes when the record's Checker can be compared
// (a func or a struct holding one cannot: it gets a probe of its own).
func probeFor(probes map[probeKey]*probeRun, spec *recordSpec, value string) *probeRun {
	p := spec.policy
	key := probeKey{spec.check, value, p.Interval, p.Timeout, p.Jitter, p.FastInterval, p.ConfirmInterval, p.FailAfter, p.RecoverAfter}
	shareable := reflect.ValueOf(spec.check).Comparable()
	if shareable {
		if pr, ok := probes[key]; ok {
			return pr
		}
	}
	pr := &probeRun{check: spec.check, target: value, policy: p}
	pr.task = task{index: -1, probe: pr}
	if shareable {
		probes[key] = pr
	}
	return pr
}
