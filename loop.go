package failover

import (
	"container/heap"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// task is an entry in the loop's schedule: a check by probe, or a new
// decision for rec, due at at.
type task struct {
	at    time.Time
	index int // position in the schedule, -1 when not scheduled
	probe *probeRun
	rec   *recordRun
}

// schedule is a min-heap of tasks by due time.
type schedule []*task

func (s schedule) Len() int           { return len(s) }
func (s schedule) Less(i, j int) bool { return s[i].at.Before(s[j].at) }
func (s schedule) Swap(i, j int) {
	s[i], s[j] = s[j], s[i]
	s[i].index, s[j].index = i, j
}
func (s *schedule) Push(x any) { t := x.(*task); t.index = len(*s); *s = append(*s, t) }
func (s *schedule) Pop() any {
	old := *s
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*s = old[:len(old)-1]
	t.index = -1
	return t
}

// set schedules t at at (zero: unschedules it).
func (s *schedule) set(t *task, at time.Time) {
	switch {
	case at.IsZero() && t.index >= 0:
		heap.Remove(s, t.index)
	case at.IsZero():
	case t.index >= 0:
		t.at = at
		heap.Fix(s, t.index)
	default:
		t.at = at
		heap.Push(s, t)
	}
}

// checkResult is what a check goroutine sends back to the loop.
type checkResult struct {
	probe   *probeRun
	seq     uint64 // the check's number among the probe's checks
	start   time.Time
	latency time.Duration
	err     error
}

// loop owns the schedule and all record and endpoint state; it returns when
// ctx is done, leaving the checks it started to wg.
func (m *Manager) loop(ctx context.Context, wg *sync.WaitGroup) {
	var sched schedule
	now := time.Now()
	for _, pr := range m.probes {
		sched.set(&pr.task, now.Add(m.jitter(pr.policy.Jitter)))
	}
	for _, r := range m.records { // decided once at start: a carried record re-arms its timers and takes a changed policy
		sched.set(&r.task, now)
	}
	dirty, zones := map[*recordRun]bool{}, map[*zoneRun]bool{}
	if m.cl != nil {
		for _, pr := range m.probes { // carried over: the others are told at once
			if pr.state.health != HealthUnknown {
				m.cl.publish(pr)
			}
		}
		// A Cluster already running (lent across a reload) reports no
		// change of what it already holds: its votes are read, and a
		// leadership it holds is taken over, at once.
		m.applyClusterChanges(now, dirty, true)
	}
	m.startWatching(ctx, wg)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	take := func(res checkResult) {
		res.probe.inflight = false
		m.observe(res, &sched, dirty)
	}

	var clusterChanged <-chan struct{}
	if m.cl != nil {
		clusterChanged = m.cl.c.Changed()
	}

	for {
		if len(sched) > 0 {
			timer.Reset(max(time.Until(sched[0].at), 0))
		}
		select {
		case <-ctx.Done():
			return
		case <-clusterChanged:
			m.applyClusterChanges(time.Now(), dirty, false)
		case res := <-m.results:
			take(res)
			for more := true; more; { // take every result already waiting, so they share one write
				select {
				case res := <-m.results:
					take(res)
				default:
					more = false
				}
			}
		case n := <-m.notices:
			m.suspect(n, &sched, time.Now())
		case <-m.wake:
			m.mu.Lock()
			for _, r := range m.poked {
				dirty[r] = true
			}
			m.poked = nil
			m.mu.Unlock()
		case <-timer.C:
		}

		now := time.Now()
		for len(sched) > 0 && !sched[0].at.After(now) {
			t := heap.Pop(&sched).(*task)
			switch {
			case t.rec != nil:
				dirty[t.rec] = true
			case t.probe.inflight:
				m.overdue(t.probe, now, &sched, dirty)
			default:
				m.startCheck(ctx, wg, t.probe, t.at, &sched)
			}
		}

		if m.cl != nil && len(m.cl.published) > 0 {
			var eps []*endpointRun
			for _, pr := range m.cl.published {
				eps = append(eps, pr.eps...)
			}
			m.refreshVotes(eps, false, now, dirty)
			m.cl.published = m.cl.published[:0]
		}
		for r := range dirty {
			if !r.zone.adopted.Load() {
				continue // decided once its zone is read (runZone)
			}
			if changed, news := m.decideRecord(r, now, &sched); changed {
				zones[r.zone] = true
				if news {
					m.startPropagationCheck(ctx, wg, r, now)
				}
			}
		}
		for z := range zones {
			for _, w := range z.syncs {
				w.notify()
			}
		}
		clear(dirty)
		clear(zones)
	}
}

// startPropagationCheck asks the zone's authoritative servers for r's new
// decision, cancelling the check of the decision before it.
func (m *Manager) startPropagationCheck(ctx context.Context, wg *sync.WaitGroup, r *recordRun, now time.Time) {
	if !r.zone.spec.propagation || m.cfg.DryRun {
		return
	}
	if r.cancelPropagation != nil {
		r.cancelPropagation()
	}
	pctx, cancel := context.WithCancel(ctx)
	r.cancelPropagation = cancel
	values := slices.Clone(r.dec.values)
	wg.Go(func() {
		defer cancel()
		m.checkPropagation(pctx, r, values, now)
	})
}

// overdueAfter is how long after it started a check is counted failed
// for ignoring its deadline: its Timeout and a grace of half of it.
func overdueAfter(p Policy) time.Duration { return p.Timeout + p.Timeout/2 }

// overdue handles pr's task while a check of it is in flight: the check
// has not returned by its deadline plus a grace of half its Timeout. If it
// is still waiting for a slot, or started late, its deadline moves: a
// check that could not start on time is delayed, not failed. Otherwise it
// ignores its context: a failure is counted at each such deadline that
// passes, and no other check of pr starts until it returns.
func (m *Manager) overdue(pr *probeRun, now time.Time, sched *schedule, dirty map[*recordRun]bool) {
	p := pr.policy
	began := pr.began.Load()
	if began == 0 {
		sched.set(&pr.task, now.Add(p.Timeout))
		return
	}
	start := time.Unix(0, began)
	if deadline := start.Add(overdueAfter(p)); now.Before(deadline) {
		sched.set(&pr.task, deadline)
		return
	}
	m.observe(checkResult{probe: pr, seq: pr.checks, start: start, latency: now.Sub(start),
		err: fmt.Errorf("check still running %v after it started: it ignores its %v deadline", now.Sub(start).Round(time.Millisecond), p.Timeout)}, sched, dirty)
}

// startCheck runs one check of pr in its own goroutine, once a slot is
// free, bounded by the Timeout from when it starts; the result goes back
// to the loop. Until it does, pr's task waits at the check's deadline
// plus a grace (see overdue).
func (m *Manager) startCheck(ctx context.Context, wg *sync.WaitGroup, pr *probeRun, due time.Time, sched *schedule) {
	p := pr.policy
	pr.inflight, pr.started = true, time.Now()
	pr.began.Store(0)
	pr.checks++
	seq := pr.checks
	sched.set(&pr.task, pr.started.Add(overdueAfter(p)))
	check, target := pr.check, pr.target
	wg.Go(func() {
		release, ok := m.slots.acquire(ctx)
		if !ok {
			return
		}
		defer release()
		cctx, cancel := context.WithTimeout(ctx, p.Timeout)
		stop := context.AfterFunc(cctx, release) // a check that ignores its deadline gives its slot back then
		defer stop()
		start := time.Now()
		pr.began.Store(start.UnixNano())
		if m.onCheckStart != nil {
			m.onCheckStart(start.Sub(due))
		}
		pr.running.Store(true)
		err := check.Check(cctx, target)
		pr.running.Store(false)
		latency := time.Since(start)
		cancel()
		if err == nil && latency > p.Timeout {
			err = fmt.Errorf("check took %v, longer than the timeout %v", latency.Round(time.Millisecond), p.Timeout)
		}
		select {
		case m.results <- checkResult{probe: pr, seq: seq, start: start, latency: latency, err: err}:
		case <-ctx.Done():
		}
	})
}

// observe applies one check result to its probe's state, schedules the
// next check and marks the records of the probe's endpoints for a decision
// when it matters.
func (m *Manager) observe(res checkResult, sched *schedule, dirty map[*recordRun]bool) {
	pr := res.probe
	p := pr.policy
	now := time.Now()
	wasFailing := pr.state.failures > 0
	m.mu.Lock()
	state, changed := pr.state.observe(p, now, res.err)
	pr.state = state
	pr.lastCheck, pr.lastLatency, pr.lastErr = res.start, res.latency, res.err
	m.mu.Unlock()

	if changed && m.cl != nil { // at once: a watcher's confirmed suspicion reaches the others in milliseconds
		m.cl.publish(pr)
	}
	for _, ep := range pr.eps {
		if changed {
			kind := EventEndpointUp
			if state.health == HealthDown {
				kind = EventEndpointDown
			}
			m.emit(Event{Kind: kind, Time: now, Record: ep.rec.spec.id, Endpoint: pr.target, Health: state.health, CheckDuration: res.latency, Err: res.err})
		}
		if changed || (ep.rec.spec.policy.LowerTTLOnFailing && wasFailing != (state.failures > 0)) { // each record's own policy: it is not part of the probe's key
			dirty[ep.rec] = true
		}
	}
	if next, suspect := m.settleSuspicion(pr, res, now); suspect {
		sched.set(&pr.task, now.Add(next))
	} else {
		sched.set(&pr.task, now.Add(state.interval(p)+m.jitter(p.Jitter)))
	}
}

// decideRecord ends r's overrides that expired by now, makes a new
// decision for r and publishes it to the zone's desired state; it reports
// whether the desired state changed, and whether that is news: not merely
// the first decision confirming what DNS held at start-up.
func (m *Manager) decideRecord(r *recordRun, now time.Time, sched *schedule) (changed, news bool) {
	var events []Event
	id := r.spec.id
	cands := make([]candidate, len(r.eps))
	var overrideEnds time.Time

	leading := m.leading()
	requested := leading && m.cl != nil && m.cl.c.TakeFailback(id) // a follower leaves the request to the leader
	m.mu.Lock()
	floor := r.zone.floor()
	manual := r.failbackRequested || requested
	r.failbackRequested = false
	for i, ep := range r.eps {
		if ep.override != NoOverride && !ep.overrideUntil.IsZero() && !now.Before(ep.overrideUntil) {
			events = append(events, Event{Kind: EventOverrideEnded, Time: now, Record: id, Endpoint: ep.ep.Value, Override: ep.override, OverrideUntil: ep.overrideUntil, Reason: "expired"})
			ep.override, ep.overrideUntil = NoOverride, time.Time{}
		}
		st := ep.probe.state
		h := m.health(ep)
		c := candidate{value: ep.ep.Value, priority: ep.ep.Priority, health: h, failing: h == HealthUp && st.failures > 0}
		switch ep.override {
		case ForceUp:
			c.health, c.failing = HealthUp, false
		case ForceDown:
			c.health = HealthDown
		}
		if ep.override != NoOverride {
			overrideEnds = earliest(overrideEnds, ep.overrideUntil)
		}
		cands[i] = c
	}
	m.mu.Unlock()

	prev := r.dec
	served := prev
	served.ttl = max(prev.ttl, floor) // a change converges after the TTL the providers served
	next, wake := decide(r.spec.policy, cands, served, now, manual)
	if anyUnknown(cands) { // decide kept served: the TTL is the record's own, not raised
		next.ttl = prev.ttl
	}
	sched.set(&r.task, earliest(wake, overrideEnds))

	changed = next.decided && (!prev.decided || !sameValues(next.values, prev.values) || next.ttl != prev.ttl && len(next.values) > 0) // an empty RRset has no TTL
	// As held: the provider read at start-up holds next, its TTL raised to
	// that provider's floor (which may raise TTL and FailoverTTL alike).
	asHeld := !prev.decided && prev.adopted && sameValues(next.values, prev.values) && (max(next.ttl, prev.floor) == max(prev.ttl, prev.floor) || len(next.values) == 0)
	news = changed && !asHeld && leading
	switch {
	case !leading: // a follower decides for its Status alone: its decisions are not news
	case news:
		reason := next.reason
		if reason == "" && !prev.decided {
			reason = "first decision"
		}
		events = append(events, Event{Kind: EventRecordDecided, Time: now, Record: id, Values: slices.Clone(next.values), Previous: prev.values, TTL: next.ttl, Reason: reason})
	case changed:
		reason := next.reason
		if reason == "" {
			reason = "as DNS holds"
		}
		events = append(events, Event{Kind: EventRecordAdopted, Time: now, Record: id, Values: slices.Clone(next.values), TTL: next.ttl, Reason: reason})
	}
	if next.allDown && !prev.allDown && leading {
		events = append(events, Event{Kind: EventAllDown, Time: now, Record: id, Values: slices.Clone(next.values), TTL: next.ttl, Reason: next.reason})
	}

	m.mu.Lock()
	r.dec = next
	if changed {
		r.zone.desired[r.spec.key] = newRRset(next.values, next.ttl)
	}
	if !leading {
		events = slices.DeleteFunc(events, func(e Event) bool { return e.Kind == EventOverrideEnded }) // the leader reports the expiry
	}
	// Queued before unlocking: a zone sync that sees the new desired state
	// queues its record-written after these. Pushing never blocks.
	m.emit(events...)
	m.mu.Unlock()
	m.saveDecision(r)
	return changed, news
}
