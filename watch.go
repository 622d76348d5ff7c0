package failover

import (
	"context"
	"sync"
	"time"
)

// Watcher is implemented by checkers that can also watch a target between
// checks, to notice trouble the moment it happens: a long-lived connection
// that the kernel closes when the server process dies, a health stream
// that reports not-serving.
//
// Watch runs until ctx ends, reconnecting by itself with backoff, and calls
// notice (from any goroutine, possibly often) each time it sees trouble,
// with what it saw. It may return at once when watching is not switched on
// for this checker. The Manager runs one Watch per endpoint (endpoints that
// share a check share it) for the life of Run, and takes a notice as suspicion, never as a verdict: it checks the
// endpoint at once and then every Policy.ConfirmInterval until FailAfter
// checks have failed (down) or one passes (the suspicion is lifted).
type Watcher interface {
	Watch(ctx context.Context, target string, notice func(error))
}

// notice is a watcher's report about a probe.
type notice struct {
	probe *probeRun
	err   error
}

// startWatching runs the Watch of every probe whose checker is a Watcher.
func (m *Manager) startWatching(ctx context.Context, wg *sync.WaitGroup) {
	for _, pr := range m.probes {
		w, ok := pr.check.(Watcher)
		if !ok {
			continue
		}
		wg.Go(func() {
			m.setWatching(pr, true)
			defer m.setWatching(pr, false) // Watch returns at once when watching is off
			w.Watch(ctx, pr.target, func(err error) {
				select {
				case m.notices <- notice{pr, err}:
				case <-ctx.Done():
				}
			})
		})
	}
}

// suspect handles a notice: the probe is checked at once (or, when a
// check is in flight, the moment it returns) and then at the confirm
// interval until its state settles. Notices are merged: one about a probe
// already suspected changes nothing, and one that comes less than
// ConfirmInterval after a suspicion was lifted reopens it quietly (no
// events), its first check ConfirmInterval after the lifting one, so
// that a burst of notices costs one suspicion and a check per
// ConfirmInterval at most.
func (m *Manager) suspect(n notice, sched *schedule, now time.Time) {
	pr := n.probe
	if pr.state.health == HealthDown || !pr.suspectedAt.IsZero() {
		return // down: nothing to suspect, its checks go on; suspected: merged
	}
	ci := pr.policy.ConfirmInterval
	pr.quiet = !pr.liftedAt.IsZero() && now.Sub(pr.liftedAt) < ci
	pr.suspectedAt, pr.suspectSeq = now, pr.checks
	m.mu.Lock()
	pr.suspected = now
	m.mu.Unlock()
	if !pr.quiet {
		for _, ep := range pr.eps {
			m.emit(Event{Kind: EventSuspected, Time: now, Record: ep.rec.spec.id, Endpoint: pr.target, Err: n.err})
		}
	}
	if pr.inflight {
		return // settleSuspicion checks again as soon as it returns
	}
	at := now
	if pr.quiet {
		at = pr.liftedAt.Add(ci)
	}
	sched.set(&pr.task, at)
}

// settleSuspicion ends a probe's suspicion once a check result decides it:
// the endpoint went down (confirmed), or a check started after the notice
// passed while it was up (lifted). While the suspicion lasts it returns
// the interval to the next check: none after a check that started before
// the notice, ConfirmInterval otherwise.
func (m *Manager) settleSuspicion(pr *probeRun, res checkResult, now time.Time) (time.Duration, bool) {
	if pr.suspectedAt.IsZero() {
		return 0, false
	}
	fresh := res.seq > pr.suspectSeq
	confirmed := pr.state.health == HealthDown
	lifted := fresh && res.err == nil && !confirmed
	if !confirmed && !lifted {
		if !fresh && !pr.inflight {
			return 0, true
		}
		return pr.policy.ConfirmInterval, true
	}
	reason := "lifted: a check passed"
	if confirmed {
		reason = "confirmed: down"
	}
	if !pr.quiet {
		for _, ep := range pr.eps {
			m.emit(Event{Kind: EventSuspicionEnded, Time: now, Record: ep.rec.spec.id, Endpoint: pr.target, Health: pr.state.health, Reason: reason, Elapsed: now.Sub(pr.suspectedAt), Err: res.err})
		}
	}
	if lifted {
		pr.liftedAt = now
	}
	pr.suspectedAt, pr.quiet = time.Time{}, false
	m.mu.Lock()
	pr.suspected = time.Time{}
	m.mu.Unlock()
	return 0, false
}

func (m *Manager) setWatching(pr *probeRun, on bool) {
	m.mu.Lock()
	pr.watching = on
	m.mu.Unlock()
}
