package failover

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// errNotLeading is the error of a provider call not made because this
// instance does not lead its Cluster (or not with enough lease left, or
// under another term than its zone sync started with). It is no failure
// of the provider: it is never reported, and the zone sync waits for the
// leadership instead of retrying.
var errNotLeading = errors.New("failover: not the cluster's leader: no provider call")

// clusterRun is the Manager's side of its Cluster: each endpoint's votes
// and cluster health, the instances left out of every quorum, and the
// leadership the loop has taken over.
type clusterRun struct {
	c   Cluster
	q   Quorum
	eps map[EndpointID]*endpointRun // every endpoint, by the EndpointID its votes are read under

	// loop only
	published []*probeRun // probes whose own verdict changed: their endpoints' votes are read again
	tally     tally       // every endpoint's judgements, summed
	live      int         // live instances, as the votes last read count them
	connected bool        // as of the last read of votes: else no vote is read, and no endpoint has a cluster health

	// guarded by Manager.mu; written by the loop
	isolated     map[string]bool // instances whose votes are left out
	term         int64           // the leadership taken over (decision state loaded); 0 while following
	termChanged  chan struct{}   // closed, and replaced, whenever term changes
	selfIsolated bool
	isolatedList []string // sorted
}

func newClusterRun(c Cluster, q Quorum, records []*recordRun) *clusterRun {
	cl := &clusterRun{c: c, q: q, eps: map[EndpointID]*endpointRun{}, tally: tally{}, isolated: map[string]bool{}, termChanged: make(chan struct{})}
	for _, r := range records {
		for _, ep := range r.eps {
			cl.eps[ep.id()] = ep
		}
	}
	return cl
}

// clusterMember is the Cluster's Run while the Manager runs.
type clusterMember struct {
	stopRun context.CancelFunc
	done    chan error // receives the error the Cluster's Run failed with, or nil
}

// startCluster starts the Cluster's Run, on a context of its own, so that
// the leadership outlives Run's context until the writes have finished;
// when it fails, fail ends the Manager's Run.
func (m *Manager) startCluster(fail context.CancelFunc) *clusterMember {
	if m.cl == nil {
		return nil
	}
	ctx, stop := context.WithCancel(context.Background())
	cm := &clusterMember{stopRun: stop, done: make(chan error, 1)}
	go func() {
		err := m.cl.c.Run(ctx)
		if ctx.Err() != nil {
			err = nil // stopped: whatever it says is the stop's
		} else if err == nil {
			err = errors.New("it returned before its context ended")
		}
		if err != nil {
			err = fmt.Errorf("failover: cluster instance %s: %w", m.cl.c.Instance(), err)
			m.cfg.Logger.LogAttrs(context.Background(), slog.LevelError, "the cluster failed: stopping", slog.Any("err", err))
			fail()
		}
		cm.done <- err
	}()
	return cm
}

// stop ends the Cluster's Run and waits for it, at most within; it
// returns whether it is still running, and the error it failed with.
func (cm *clusterMember) stop(within time.Duration) (running bool, err error) {
	if cm == nil {
		return false, nil
	}
	cm.stopRun()
	t := time.NewTimer(within)
	defer t.Stop()
	select {
	case err = <-cm.done:
		return false, err
	case <-t.C:
		return true, nil
	}
}

// id names ep in the cluster: by its record and value, so that instances
// whose configurations differ (during a rolling change) still name alike
// what they all check.
func (ep *endpointRun) id() EndpointID {
	return EndpointID{Record: ep.rec.spec.id, Value: ep.ep.Value}
}

// publish tells the cluster this instance's verdict on pr, under every
// endpoint pr serves, and has their votes read again.
func (cl *clusterRun) publish(pr *probeRun) {
	for _, ep := range pr.eps {
		cl.c.PublishVerdict(ep.id(), pr.state.health)
	}
	cl.published = append(cl.published, pr)
}

// leading reports whether the loop has taken over the leadership. Loop
// only (others read cl.term under Manager.mu).
func (m *Manager) leading() bool { return m.cl == nil || m.cl.term != 0 }

// applyClusterChanges takes what changed in the cluster (everything,
// with all) and marks the records to decide again: a leadership taken
// over (every record, adopted again) or lost, operator state, votes.
func (m *Manager) applyClusterChanges(now time.Time, dirty map[*recordRun]bool, all bool) {
	cl := m.cl
	ch := cl.c.TakeChanges()
	ch.Everything = ch.Everything || all
	_, term, ok := cl.c.Lead(0)
	switch {
	case ok && term != cl.term:
		m.takeOver(term, dirty)
	case !ok && cl.term != 0:
		m.stepDown()
	}
	if ch.Everything || len(ch.Records) > 0 {
		m.syncOverrides(dirty)
		for _, id := range ch.Records { // a failback request, for the leader to take
			if r, ok := m.byID[id]; ok {
				dirty[r] = true
			}
		}
	}
	var eps []*endpointRun
	if !ch.Everything {
		for _, id := range ch.Endpoints {
			if ep, ok := cl.eps[id]; ok {
				eps = append(eps, ep)
			}
		}
	}
	if ch.Everything || len(eps) > 0 {
		m.refreshVotes(eps, ch.Everything, now, dirty)
	}
}

// takeOver starts the loop's leadership of term: each record starts, as
// a single Manager's do, from what DNS holds, read again (see
// runZoneLeading), and nothing is written before the checks have spoken;
// the decision state the previous leader stored only seeds the timers
// (failback delay, stable-since) of a record where DNS holds what it
// decided (see seed). No record is decided before its zone is read.
func (m *Manager) takeOver(term int64, dirty map[*recordRun]bool) {
	cl := m.cl
	states := make([][]byte, len(m.records))
	for i, r := range m.records {
		states[i], _ = cl.c.Decision(r.spec.id)
	}
	m.mu.Lock()
	for i, r := range m.records {
		r.saved, r.stored = nil, nil
		if states[i] != nil {
			d, err := decodeDecision(states[i], r.spec.endpoints)
			if err == nil {
				r.saved = decisionKey(d, r.spec.endpoints)            // a decision that stays as stored is not stored again
				d.unstableAt = latest(d.unstableAt, r.dec.unstableAt) // not stored on every failing check: this instance saw them too
				r.stored = &d
			} else {
				m.cfg.Logger.LogAttrs(context.Background(), slog.LevelWarn, "stored decision state ignored: starting from DNS",
					slog.String("record", r.spec.id.String()), slog.Any("err", err))
			}
		}
		r.dec, r.carried = decision{}, false // what it decided as a follower, or carried, is not what DNS holds
		delete(r.zone.desired, r.spec.key)
		dirty[r] = true
	}
	for _, z := range m.zones {
		z.adopted.Store(false) // until read under this term
	}
	m.setTermLocked(term)
	m.mu.Unlock()
}

// seed returns d, what a record adopts from DNS at a takeover, with the
// failback timers, tier and change times of the decision the previous
// leader stored (nil: none) when DNS holds what that decision publishes;
// else d itself. It stays undecided: the first decision writes only what
// the checks call for.
func seed(d decision, stored *decision) decision {
	if stored == nil || !sameValues(d.values, stored.values) {
		return d
	}
	d.hasTier, d.tier, d.allDown = stored.hasTier, stored.tier, stored.allDown
	d.eligibleSince = stored.eligibleSince
	d.changedAt, d.convergedBy = stored.changedAt, stored.convergedBy
	if d.ttl == stored.ttl {
		d.unstableAt = stored.unstableAt
	}
	return d
}

// stepDown ends the loop's leadership: the zone syncs stop, and records
// are decided on for Status alone.
func (m *Manager) stepDown() {
	m.mu.Lock()
	for _, z := range m.zones {
		z.adopted.Store(true)
	}
	m.setTermLocked(0)
	m.mu.Unlock()
}

// setTermLocked sets the leadership the loop has taken over and wakes
// whoever waits for it to change. Manager.mu is held.
func (m *Manager) setTermLocked(term int64) {
	m.cl.term = term
	close(m.cl.termChanged)
	m.cl.termChanged = make(chan struct{})
}

// awaitTerm waits until the loop has taken over a leadership other than
// last, and returns it; ok is false when ctx ended first.
func (m *Manager) awaitTerm(ctx context.Context, last int64) (term int64, ok bool) {
	for {
		m.mu.Lock()
		term, changed := m.cl.term, m.cl.termChanged
		m.mu.Unlock()
		if term != 0 && term != last {
			return term, true
		}
		select {
		case <-ctx.Done():
			return 0, false
		case <-changed:
		}
	}
}

// awaitTermEnd waits until the loop's leadership is no longer term, or
// ctx ends.
func (m *Manager) awaitTermEnd(ctx context.Context, term int64) {
	for {
		m.mu.Lock()
		now, changed := m.cl.term, m.cl.termChanged
		m.mu.Unlock()
		if now != term {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

// syncOverrides makes each endpoint's override the one the cluster holds,
// and marks the records whose overrides changed.
func (m *Manager) syncOverrides(dirty map[*recordRun]bool) {
	held := map[EndpointID]OverrideState{}
	for _, o := range m.cl.c.Overrides() {
		held[o.Endpoint] = o
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.records {
		for _, ep := range r.eps {
			o := held[EndpointID{Record: r.spec.id, Value: ep.ep.Value}]
			if o.Override != ep.override || !o.Until.Equal(ep.overrideUntil) {
				ep.override, ep.overrideUntil = o.Override, o.Until
				dirty[r] = true
			}
		}
	}
}

// refreshVotes reads the votes on eps (every endpoint with all), finds
// the isolated instances again, and recomputes the cluster health of the
// endpoints whose votes or quorum changed, marking their records. While
// the instance is not connected it reads nothing: it would see its own
// vote alone. Its endpoints have no cluster health then (their votes are
// the last read, and the isolation as last found), so that neither its
// Status nor its decisions take its own vote for the cluster's.
func (m *Manager) refreshVotes(eps []*endpointRun, all bool, now time.Time, dirty map[*recordRun]bool) {
	cl := m.cl
	if !cl.c.Status().Connected {
		m.disconnected(dirty)
		return
	}
	if !cl.connected {
		all = true // what changed while it was not connected was not told
	}
	if all {
		eps = eps[:0:0]
		for _, r := range m.records {
			eps = append(eps, r.eps...)
		}
	}
	votes := make([][]Vote, len(eps))
	for i, ep := range eps {
		votes[i] = cl.c.Votes(ep.id())
	}
	if !cl.c.Status().Connected { // asked again: the votes may have been read without a lease
		m.disconnected(dirty)
		return
	}
	cl.connected = true
	m.mu.Lock()
	defer m.mu.Unlock()
	if all {
		cl.tally, cl.live = tally{}, 0
	}
	for i, ep := range eps {
		if !all {
			cl.tally.add(ep.judged, -1)
		}
		ep.votes, ep.judged = votes[i], judge(votes[i])
		cl.tally.add(ep.judged, 1)
		if all {
			cl.live = max(cl.live, len(ep.votes)) // instances join and leave with everything
		}
	}
	isolated := cl.tally.isolated(cl.live, cl.isolated)
	if !sameKeys(isolated, cl.isolated) {
		m.noteIsolation(isolated, now)
		eps = eps[:0:0]
		for _, r := range m.records {
			eps = append(eps, r.eps...)
		}
	}
	for _, ep := range eps {
		h := cl.q.health(withoutVotesOf(ep.votes, cl.isolated))
		if h == ep.clusterHealth {
			continue
		}
		ep.clusterHealth = h
		dirty[ep.rec] = true
	}
}

// disconnected notes that the instance is not connected to its Cluster:
// no endpoint has a cluster health any more (their votes stay as last
// read, the isolation as last found), and the records are decided again.
func (m *Manager) disconnected(dirty map[*recordRun]bool) {
	cl := m.cl
	if !cl.connected {
		return
	}
	cl.connected = false
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ep := range cl.eps {
		if ep.clusterHealth != HealthUnknown {
			ep.clusterHealth = HealthUnknown
			dirty[ep.rec] = true
		}
	}
}

// noteIsolation takes isolated as the instances left out of every quorum,
// and reports this instance's own isolation, or its end. Manager.mu is
// held.
func (m *Manager) noteIsolation(isolated map[string]bool, now time.Time) {
	cl := m.cl
	cl.isolated = isolated
	cl.isolatedList = cl.isolatedList[:0:0]
	for name := range isolated {
		cl.isolatedList = append(cl.isolatedList, name)
	}
	slices.Sort(cl.isolatedList)
	self := isolated[cl.c.Instance()]
	if self == cl.selfIsolated {
		return
	}
	cl.selfIsolated = self
	e := Event{Kind: EventInstanceRejoined, Time: now, Instance: cl.c.Instance(), Reason: "its verdicts agree with the cluster again"}
	if self {
		e.Kind, e.Reason = EventInstanceIsolated, "its verdicts differ from the cluster's on most endpoints: they are left out of every quorum"
	}
	m.emit(e)
}

// sameKeys reports whether a and b hold the same keys set to true.
func sameKeys(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// health is the health ep is decided with: the cluster's when there is
// one, its probe's own otherwise. Manager.mu is held, or the caller is the
// loop.
func (m *Manager) health(ep *endpointRun) Health {
	if m.cl != nil {
		return ep.clusterHealth
	}
	return ep.probe.state.health
}

// saveDecision stores r's decision in the cluster when it changed, while
// the loop leads.
func (m *Manager) saveDecision(r *recordRun) {
	if m.cl == nil || !m.leading() || !r.dec.decided {
		return
	}
	key := decisionKey(r.dec, r.spec.endpoints)
	if string(key) == string(r.saved) {
		return
	}
	r.saved = key
	m.cl.c.SaveDecision(r.spec.id, encodeDecision(r.dec, r.spec.endpoints))
}

// runZoneLeading is runZone with a Cluster: for each leadership the loop
// takes over, it reads z from each provider, adopts what DNS holds for
// the records that have no stored decision, lets the loop decide z's
// records, and keeps each provider in line until the leadership ends.
func (m *Manager) runZoneLeading(ctx context.Context, z *zoneRun) {
	var last int64
	for {
		term, ok := m.awaitTerm(ctx, last)
		if !ok {
			return
		}
		last = term
		tctx, cancel := context.WithCancel(ctx)
		ended := make(chan struct{})
		go func() { defer close(ended); m.awaitTermEnd(tctx, term); cancel() }()
		m.readAll(tctx, z, term)
		if m.adopt(z, time.Now(), term) {
			m.runSyncs(tctx, z)
		}
		cancel()
		<-ended
	}
}

// readAll reads z from each of its providers, in parallel, under term.
func (m *Manager) readAll(ctx context.Context, z *zoneRun, term int64) {
	for _, w := range z.syncs {
		w.term, w.stale = term, true
	}
	done := make(chan struct{}, len(z.syncs))
	for _, w := range z.syncs {
		go func() {
			defer func() { done <- struct{}{} }()
			if err := w.read(ctx); err != nil && !errors.Is(err, errNotLeading) {
				w.failed(OpGet, err)
			}
		}()
	}
	for range z.syncs {
		<-done
	}
}

// gate is the Cluster's write gate before one provider call: it returns
// the context the call must end with (nil without a Cluster), or
// errNotLeading.
func (w *zoneSync) gate() (context.Context, error) {
	cl := w.m.cl
	if cl == nil {
		return nil, nil
	}
	lctx, term, ok := cl.c.Lead(w.m.cfg.ProviderTimeout)
	if !ok || term != w.term {
		return nil, fmt.Errorf("%w (zone %s, provider %s)", errNotLeading, w.zone.spec.name, w.p.name)
	}
	return lctx, nil
}

// awaitLead waits, after a call the gate refused, until the leadership
// ends (ctx, the term's, ends) or a tenth of the lease has passed: a
// leader whose lease was short of ProviderTimeout may have renewed it.
func (w *zoneSync) awaitLead(ctx context.Context) {
	t := time.NewTimer(w.m.cl.c.LeaseTTL() / 10)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
