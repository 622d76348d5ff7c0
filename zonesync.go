package failover

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libdns/libdns"
)

// ErrCallAbandoned is wrapped by the error of a provider call that did not
// return within ProviderTimeout (it ignores its context), so that the
// Manager went on without it (see ProviderStatus.Abandoned), and by the
// error of a call not made because MaxAbandonedCalls are still running.
var ErrCallAbandoned = errors.New("failover: provider call abandoned: it did not return within ProviderTimeout")

// ErrRRsetRefused is matched (with errors.Is) by the error of a write that
// a provider refuses because of what the RRsets it carries are, not
// because of a failure of its own: provider/owner's refusal to write an
// RRset another deployment owns. A call of one RRset that fails with it
// quarantines that RRset at once; other errors quarantine an RRset only
// once the provider has taken some other write meanwhile (see
// EventRecordQuarantined), so that a provider in trouble quarantines
// nothing.
var ErrRRsetRefused = errors.New("failover: the provider refuses the RRset")

// MaxAbandonedCalls is how many abandoned calls to one provider for one
// zone may still be running before the Manager stops making new ones:
// while that many are, every attempt fails at once with ErrCallAbandoned.
const MaxAbandonedCalls = 3

// ReadFailuresBeforeBlindWrite is how many failed reads of a zone in a row
// make the Manager write the decided RRsets it believes the provider lacks
// without reading the zone first (SetRecords replaces whole RRsets, so
// nothing else is touched); and, since a change made behind its back
// cannot be seen then, every decided RRset once a ReconcileInterval has
// passed without a successful read, and every ReconcileInterval after
// (except those decided empty: a delete must name the records it
// removes, and libdns's empty-value wildcard is not reliable).
// Such writes are reported with a Reason saying so; the zone is read
// again, with backoff, until a read succeeds.
const ReadFailuresBeforeBlindWrite = 3

// zoneSync keeps one provider of one zone in line with the zone's desired
// RRsets: it reads the zone (at start-up, after a failed call and every
// ReconcileInterval), writes what differs, repairs drift, and backs off
// after a failed call. It is the only goroutine that writes to that (zone,
// provider), so writes to it are serialised; every change waiting when it
// writes goes into one SetRecords call, unless a batch keeps failing: then
// it is split until the RRset the provider rejects is found and
// quarantined (see isolation).
type zoneSync struct {
	m       *Manager
	zone    *zoneRun
	p       providerSpec
	managed map[rrKey]bool
	wake    chan struct{} // capacity 1
	late    atomic.Bool   // an abandoned call returned: what it did is unknown

	// owned by the zoneSync goroutine (and by the adoption read, before it
	// starts)
	known         map[rrKey]rrset // what the provider holds, as last read or written
	everRead      bool            // a read succeeded: an RRset absent from known is absent from the provider
	stale         bool            // known may be wrong: read before writing
	drift         map[rrKey]rrset // RRsets found changed behind our back, until repaired
	failures      int             // failed calls in a row
	readFailures  int             // failed reads in a row
	rewritten     time.Time       // every decided RRset last written without a read
	writeFailures int             // failed write attempts in a row
	tried         map[rrKey]tried // changes of failed calls, until a read tells whether they were applied
	verify        map[rrKey]time.Duration
	iso           isolation
	quarantined   map[rrKey]*quarantine
	term          int64 // with a Cluster: the leadership the zone was read under; calls are made under it alone

	// guarded by Manager.mu
	status ProviderStatus
}

// tried is a change sent in a call that failed.
type tried struct {
	want        rrset
	ttl         time.Duration
	previous    []string
	previousTTL time.Duration
}

// appliedDespiteFloor reports whether held shows t applied by a provider
// that raised its TTL to a floor it does not declare: the values asked,
// and either they changed or the TTL moved toward the one asked.
func (t tried) appliedDespiteFloor(held rrset) bool {
	if len(t.want.values) == 0 || !slices.Equal(held.values, t.want.values) {
		return false
	}
	distance := func(d time.Duration) time.Duration { return max(d-t.ttl, t.ttl-d) }
	return !slices.Equal(t.previous, t.want.values) || distance(held.ttl) < distance(t.previousTTL)
}

// isolation is how a zoneSync finds the RRset a provider rejects in a batch
// that keeps failing. After a second failed write in a row, the RRsets
// are written in groups of half the failed call's size, a group that
// fails is halved again, and each group that succeeds doubles the size of
// the next (so that a provider back from an outage is not written one
// RRset per call). A call the provider did not answer in time is no step
// of this: a provider that hangs is in trouble, it does not reject what
// the call carried. An RRset that fails alone becomes a suspect, written
// last and alone; a suspect that fails alone again, after some other write
// succeeded during the isolation, is the provider's quarrel with that
// RRset: it is quarantined. The isolation ends with an attempt that wrote
// (or quarantined) everything it tried.
type isolation struct {
	group    int     // most RRsets per call; 0: no limit
	evidence bool    // a write succeeded while isolating
	suspects []rrKey // failed alone without evidence: written last, each alone
}

// quarantine is an RRset the provider rejects, set aside until retryAt.
type quarantine struct {
	want     rrset
	err      error
	since    time.Time
	failures int
	retryAt  time.Time
}

func newZoneSync(m *Manager, z *zoneRun, p providerSpec) *zoneSync {
	w := &zoneSync{m: m, zone: z, p: p, managed: map[rrKey]bool{}, wake: make(chan struct{}, 1), stale: true, known: map[rrKey]rrset{},
		drift: map[rrKey]rrset{}, tried: map[rrKey]tried{}, verify: map[rrKey]time.Duration{}, quarantined: map[rrKey]*quarantine{}}
	for _, r := range z.records {
		w.managed[r.spec.key] = true
	}
	w.status.Name = p.name
	return w
}

// notify tells the zoneSync that the desired state changed. It never blocks.
func (w *zoneSync) notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// floor is the TTL below which the provider does not hold a TTL: the one
// it declares or the one learned, whichever is higher. Only the zoneSync
// goroutine changes it, under Manager.mu.
func (w *zoneSync) floor() time.Duration { return max(w.p.floor, w.status.LearnedMinTTL) }

// floor is the highest TTL floor among the zone's providers: the TTL a
// resolver may hold an answer for is the decided one raised to it.
// Manager.mu must be held.
func (z *zoneRun) floor() time.Duration {
	var f time.Duration
	for _, w := range z.syncs {
		f = max(f, w.floor())
	}
	return f
}

// change is one RRset to write.
type change struct {
	rec  *recordRun
	want rrset
	ttl  time.Duration // TTL to write, raised to the provider's floor
}

// run reads, writes and reconciles until ctx is done. A write already
// started is finished first, or abandoned after ProviderTimeout.
func (w *zoneSync) run(ctx context.Context) {
	m := w.m
	var reconcile <-chan time.Time
	if !m.cfg.DryRun {
		t := time.NewTicker(m.cfg.ReconcileInterval)
		defer t.Stop()
		reconcile = t.C
	}
	if w.failures > 0 { // the first read, at adoption, failed
		w.backoff(ctx, false)
	}
	for ctx.Err() == nil {
		if w.late.Swap(false) {
			w.stale = true
		}
		readFailed := false
		if w.stale {
			if err := w.read(ctx); errors.Is(err, errNotLeading) {
				w.awaitLead(ctx)
				continue
			} else if err != nil {
				w.failed(OpGet, err)
				readFailed = true
			}
		}
		now := time.Now()
		changes, retry := w.pending(now, false)
		blind := readFailed && w.readFailures >= ReadFailuresBeforeBlindWrite
		reason := ""
		if blind {
			reason = fmt.Sprintf("written without reading the zone: %d reads in a row failed", w.readFailures)
		}
		rewrite := blind && !m.cfg.DryRun && now.Sub(latest(w.status.LastRead, w.rewritten)) >= m.cfg.ReconcileInterval
		if rewrite { // the reconcile that cannot read: drift may hide anywhere
			changes, _ = w.pending(now, true)
			reason = fmt.Sprintf("written again without reading the zone, in case it drifted: %d reads in a row failed", w.readFailures)
		}
		switch {
		case readFailed && (!blind || len(changes) == 0):
			w.backoff(ctx, blind)
			continue
		case len(changes) == 0:
			w.failures, w.iso = 0, isolation{}
			w.idle(ctx, reconcile, retry)
			continue
		}
		if rewrite { // done, even if a part of it fails: a part that fails is retried as a change, not as a rewrite
			w.rewritten = now
		}
		if op, err := w.writeChanges(ctx, changes, reason); errors.Is(err, errNotLeading) {
			w.awaitLead(ctx)
			continue
		} else if err != nil {
			w.failed(op, err)
			w.backoff(ctx, w.iso.group > 0 || len(w.iso.suspects) > 0) // an RRset the provider may reject does not hold back a new decision
			continue
		}
		if blind {
			w.backoff(ctx, true) // before the next read, which is likely to fail too
			continue
		}
		w.failures = 0
	}
}

// idle waits for a new decision, the next reconcile (then the zone is read
// back) or the next retry of a quarantined RRset.
func (w *zoneSync) idle(ctx context.Context, reconcile <-chan time.Time, retry time.Time) {
	var retryC <-chan time.Time
	if !retry.IsZero() {
		t := time.NewTimer(time.Until(retry))
		defer t.Stop()
		retryC = t.C
	}
	select {
	case <-ctx.Done():
	case <-w.wake:
	case <-retryC:
	case <-reconcile:
		w.stale = true // read the zone back and repair what differs
	}
}

// read replaces what the zoneSync knows with what the provider holds. It
// notes the managed RRsets that changed behind the Manager's back (those
// it believed in line with the decision that are no longer), reports as
// written the changes of failed calls that the provider holds after all,
// and learns a TTL floor from RRsets just written to repair their TTL that
// still hold a higher one.
func (w *zoneSync) read(ctx context.Context) error {
	held, err := w.get(ctx)
	if err != nil {
		return err
	}
	m := w.m
	now := time.Now()
	var events []Event
	m.mu.Lock()
	for key, wrote := range w.verify {
		h, want := held[key], w.zone.desired[key]
		if len(want.values) > 0 && !h.auto && slices.Equal(h.values, want.values) && h.ttl > wrote && h.ttl > w.floor() {
			w.status.LearnedMinTTL = h.ttl
			events = append(events, Event{Kind: EventTTLFloorLearned, Time: now, Record: w.recordID(key), Provider: w.p.name, Values: slices.Clone(h.values), TTL: h.ttl,
				Reason: fmt.Sprintf("written with TTL %v, read back right after with %v: TTLs written are raised to %v from now on", wrote, h.ttl, h.ttl)})
		}
	}
	clear(w.verify)
	floor := w.floor()
	for key, want := range w.zone.desired {
		old, ok := w.known[key]
		if ok && old.matches(want, floor) && !held[key].matches(want, floor) {
			w.drift[key] = held[key]
		}
	}
	for key, t := range w.tried { // applied, though since superseded by another decision: written all the same
		h := held[key]
		if !h.matches(t.want, floor) && !t.appliedDespiteFloor(h) {
			continue
		}
		events = append(events, Event{Kind: EventRecordWritten, Time: now, Record: w.recordID(key), Provider: w.p.name, Values: slices.Clone(t.want.values), Previous: t.previous, TTL: t.ttl,
			Reason: "found in line by the read-back after a failed call"})
		if want, ok := w.zone.desired[key]; ok && want.same(t.want) {
			delete(w.drift, key)
		}
		delete(w.tried, key)
	}
	if w.status.Abandoned == 0 { // else an abandoned call may still apply them: the read after it returns reports them
		clear(w.tried)
	}
	w.status.LastRead = now
	w.known, w.stale, w.readFailures, w.everRead = held, false, 0, true
	m.mu.Unlock()
	m.emit(events...)
	return nil
}

// recordID returns the RecordID of the managed RRset key.
func (w *zoneSync) recordID(key rrKey) RecordID {
	return RecordID{Zone: w.zone.spec.name, Name: key.name, Type: key.typ}
}

// get reads the managed RRsets of the zone from the provider.
func (w *zoneSync) get(ctx context.Context) (map[rrKey]rrset, error) {
	var recs []libdns.Record
	err := w.call(ctx, false, func(ctx context.Context) error {
		var err error
		recs, err = w.p.p.GetRecords(ctx, w.zone.spec.name)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading zone %s from %s: %w", w.zone.spec.name, w.p.name, err)
	}
	sets := managedRRsets(w.zone.spec.name, recs, w.managed)
	for key, s := range sets {
		if w.p.auto > 0 && s.ttl == w.p.auto {
			s.auto = true
			sets[key] = s
		}
	}
	return sets, nil
}

// call runs f, one call to the provider, on a context bounded by
// ProviderTimeout; a write's context (write true) is not cancelled with
// ctx, so that stopping the Manager never interrupts a write. A call that
// has not returned a tenth of ProviderTimeout after its deadline ignores
// its context: it is abandoned (its goroutine left to finish, counted in
// ProviderStatus.Abandoned until it does, the zone read again after) and
// call returns an error wrapping ErrCallAbandoned.
//
// With a Cluster, a call is made only through the write gate (see gate):
// under the leadership the zone was read under, with more than
// ProviderTimeout of lease left, and its context ends with the
// leadership; otherwise it returns errNotLeading without calling.
func (w *zoneSync) call(ctx context.Context, write bool, f func(context.Context) error) error {
	m := w.m
	lead, err := w.gate()
	if err != nil {
		return err
	}
	m.mu.Lock()
	running := w.status.Abandoned
	m.mu.Unlock()
	if running >= MaxAbandonedCalls {
		return fmt.Errorf("%w: not calling while %d abandoned calls are still running", ErrCallAbandoned, running)
	}
	if write {
		ctx = context.WithoutCancel(ctx)
	}
	timeout := m.cfg.ProviderTimeout
	cctx, cancel := context.WithTimeout(ctx, timeout)
	unlead := func() bool { return false }
	if lead != nil {
		unlead = context.AfterFunc(lead, cancel) // the leadership ends: so does the call
	}
	var mu sync.Mutex // orders the call's return with giving up on it
	gaveUp := false
	done := make(chan error, 1)
	go func() { // waited for below, unless abandoned
		err := f(cctx)
		unlead()
		cancel()
		mu.Lock()
		defer mu.Unlock()
		if !gaveUp {
			done <- err
			return
		}
		m.mu.Lock()
		w.status.Abandoned--
		m.mu.Unlock()
		w.late.Store(true)
		w.notify()
	}()
	wait := timeout + timeout/10
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
	}
	mu.Lock()
	defer mu.Unlock()
	select {
	case err := <-done:
		return err
	default:
	}
	gaveUp = true
	m.mu.Lock()
	w.status.Abandoned++
	m.mu.Unlock()
	return fmt.Errorf("%w: no answer %v after the call", ErrCallAbandoned, wait)
}

// pending returns the decided RRsets the provider does not hold yet (with
// all, also those it is believed to hold), except quarantined ones not
// due for a retry, and when the next of those is due (zero if none); it
// updates the provider's status.
func (w *zoneSync) pending(now time.Time, all bool) (changes []change, retry time.Time) {
	m := w.m
	m.mu.Lock()
	defer m.mu.Unlock()
	floor := w.floor()
	var names []string
	for _, r := range w.zone.records {
		key := r.spec.key
		want, ok := w.zone.desired[key]
		held, knownHeld := w.known[key]
		unknown := !knownHeld && !w.everRead // the provider may hold anything
		if !ok || (held.matches(want, floor) && !(unknown && len(want.values) == 0)) {
			delete(w.quarantined, key)
			if ok && all && len(want.values) > 0 { // a delete names what it removes: none is known
				changes = append(changes, change{rec: r, want: want, ttl: max(want.ttl, floor)})
			}
			continue
		}
		names = append(names, r.spec.id.String())
		if q := w.quarantined[key]; q != nil {
			if !q.want.same(want) {
				delete(w.quarantined, key) // a new decision: try it afresh
			} else if now.Before(q.retryAt) {
				retry = earliest(retry, q.retryAt)
				continue
			}
		}
		changes = append(changes, change{rec: r, want: want, ttl: max(want.ttl, floor)})
	}
	w.status.InSync = len(names) == 0 && w.readFailures == 0
	w.status.Pending = names
	var quarantined []QuarantinedRecord // a new slice: Status shares the old one
	for _, r := range w.zone.records {
		if q := w.quarantined[r.spec.key]; q != nil {
			quarantined = append(quarantined, QuarantinedRecord{Record: r.spec.id.String(), Error: q.err.Error(), Since: q.since, Failures: q.failures, RetryAt: q.retryAt})
		}
	}
	w.status.Quarantined = quarantined
	return changes, retry
}

// writeChanges writes changes, in one call or, while isolating a
// rejected RRset, in the calls batches says. It stops at the first failed
// call, unless that call was of one RRset it quarantines, and returns
// that call's operation and error; once ctx is done it starts no new
// call. reason, when not empty, says why the zone was not read first.
func (w *zoneSync) writeChanges(ctx context.Context, changes []change, reason string) (Operation, error) {
	for batches := w.batches(changes); len(batches) > 0; {
		if ctx.Err() != nil { // stopping: no new call; what is left stays pending
			return OpNone, nil
		}
		batch := batches[0]
		batches = batches[1:]
		op, err := w.write(ctx, batch, reason)
		if err == nil { // w.failures, which sets the backoff, is reset by a whole attempt that succeeds
			w.writeFailures = 0
			if len(w.iso.suspects) > 0 {
				w.iso.evidence = true
			}
			if w.iso.group > 0 { // the provider takes writes: grow the groups back
				w.iso.evidence = true
				w.iso.group *= 2
				batches = w.regroup(batches)
			}
			continue
		}
		if unanswered(err) || errors.Is(err, errNotLeading) { // says nothing of what the call carried: no step of an isolation
			return op, err
		}
		if len(batch) == 1 {
			key := batch[0].rec.spec.key
			if w.quarantined[key] != nil || w.iso.evidence && slices.Contains(w.iso.suspects, key) || errors.Is(err, ErrRRsetRefused) {
				w.quarantine(batch[0], op, err)
				continue
			}
			w.iso.suspects = append(slices.DeleteFunc(w.iso.suspects, func(k rrKey) bool { return k == key }), key)
		} else if w.iso.group > 0 || w.writeFailures > 0 {
			w.iso.group = (len(batch) + 1) / 2
		}
		w.writeFailures++
		return op, err
	}
	w.iso = isolation{} // everything written, or quarantined
	return OpNone, nil
}

// unanswered reports whether err is that of a call the provider did not
// answer in time (it was abandoned, or its deadline passed): the provider
// is in trouble, which tells nothing of whether it rejects an RRset.
func unanswered(err error) bool {
	return errors.Is(err, ErrCallAbandoned) || errors.Is(err, context.DeadlineExceeded)
}

// regroup joins batches of RRsets that are neither suspects nor
// quarantined into groups of at most iso.group.
func (w *zoneSync) regroup(batches [][]change) [][]change {
	var changes []change
	for _, b := range batches {
		changes = append(changes, b...)
	}
	return w.batches(changes)
}

// batches splits changes into the calls of one attempt: one call, or
// while isolating groups of at most iso.group RRsets; suspects and
// quarantined RRsets come last, each alone.
func (w *zoneSync) batches(changes []change) [][]change {
	var rest, alone []change
	for _, c := range changes {
		if w.quarantined[c.rec.spec.key] == nil && !slices.Contains(w.iso.suspects, c.rec.spec.key) {
			rest = append(rest, c)
		}
	}
	for _, key := range w.iso.suspects {
		if i := slices.IndexFunc(changes, func(c change) bool { return c.rec.spec.key == key }); i >= 0 && w.quarantined[key] == nil {
			alone = append(alone, changes[i])
		}
	}
	for _, c := range changes {
		if w.quarantined[c.rec.spec.key] != nil {
			alone = append(alone, c)
		}
	}
	size := w.iso.group
	if size <= 0 {
		size = len(rest)
	}
	var out [][]change
	for len(rest) > 0 {
		n := min(size, len(rest))
		out = append(out, rest[:n:n])
		rest = rest[n:]
	}
	for _, c := range alone {
		out = append(out, []change{c})
	}
	return out
}

// quarantine sets c's RRset aside after the provider rejected it alone
// (again), until a backoff of its own has passed, and reports it.
func (w *zoneSync) quarantine(c change, op Operation, err error) {
	key := c.rec.spec.key
	now := time.Now()
	q := w.quarantined[key]
	if q == nil {
		q = &quarantine{want: c.want, since: now}
		w.quarantined[key] = q
	}
	q.failures++
	q.err = err
	q.retryAt = now.Add(w.m.backoffAfter(q.failures))
	w.iso.suspects = slices.DeleteFunc(w.iso.suspects, func(k rrKey) bool { return k == key })
	w.m.emit(Event{Kind: EventRecordQuarantined, Time: now, Record: c.rec.spec.id, Provider: w.p.name, Operation: op, Values: slices.Clone(c.want.values), TTL: c.ttl, Failures: q.failures, Err: err})
}

// write makes the provider hold changes: one SetRecords call for every
// non-empty RRset and, for RRsets decided empty, one DeleteRecords call
// for the records last known, with TTL 0 (libdns's wildcard: whatever TTL
// the provider holds); a delete that removed fewer records than asked
// failed. When a call fails it returns which one. reason, when not empty,
// goes into the record-written events. Once ctx is done it makes no new
// call: deletes not made yet stay pending.
func (w *zoneSync) write(ctx context.Context, changes []change, reason string) (Operation, error) {
	m := w.m
	zone := w.zone.spec.name
	var sets, dels []change
	var set, del []libdns.Record
	guessed := false // some deletes name what the provider may hold, not what it does
	for _, c := range changes {
		if len(c.want.values) == 0 {
			held, ok := w.known[c.rec.spec.key]
			if !ok && !w.everRead {
				held, guessed = c.rec.possible(), true
			}
			dels, del = append(dels, c), append(del, anyTTL(held.held)...)
		} else {
			sets, set = append(sets, c), append(set, c.want.records(c.rec.spec.key, c.ttl)...)
		}
	}
	if m.cfg.DryRun {
		w.wrote(changes, 0, reason)
		return OpNone, nil
	}
	if len(set) > 0 {
		start := time.Now()
		var stored []libdns.Record
		err := w.call(ctx, true, func(ctx context.Context) error {
			var err error
			stored, err = w.p.p.SetRecords(ctx, zone, set)
			return err
		})
		if err != nil {
			w.try(changes, err)
			return OpSet, fmt.Errorf("writing %d records to zone %s on %s: %w", len(set), zone, w.p.name, err)
		}
		w.learnFloor(sets, managedRRsets(zone, stored, w.managed))
		// Reported now, whatever becomes of the delete; when stopping, the
		// delete, a new call, is not made.
		w.wrote(sets, time.Since(start), reason)
		if ctx.Err() != nil {
			del = nil
		}
	}
	if len(del) > 0 {
		deleter, ok := w.p.p.(libdns.RecordDeleter)
		if !ok { // New refuses this configuration; kept as a guard
			return OpDelete, fmt.Errorf("deleting from zone %s on %s: %w", zone, w.p.name, errors.ErrUnsupported)
		}
		start := time.Now()
		var gone []libdns.Record
		err := w.call(ctx, true, func(ctx context.Context) error {
			var err error
			gone, err = deleter.DeleteRecords(ctx, zone, del)
			return err
		})
		if err == nil && len(gone) < len(del) && !guessed {
			err = fmt.Errorf("the provider removed %d of %d records", len(gone), len(del))
		}
		if err != nil {
			w.try(dels, err)
			return OpDelete, fmt.Errorf("deleting %d records from zone %s on %s: %w", len(del), zone, w.p.name, err)
		}
		if guessed && len(gone) < len(del) {
			reason = strings.TrimPrefix(reason+"; ", "; ") + fmt.Sprintf("the zone was never read, so the delete named the values the record may hold: the provider removed %d of %d, and what it holds is unknown until a read succeeds", len(gone), len(del))
		}
		w.wrote(dels, time.Since(start), reason)
	}
	return OpNone, nil
}

// try notes changes sent in a call that failed with err: the zone's state
// is unknown until read back, and the read reports those it finds
// applied. A call not made, since this instance does not lead, sent
// nothing.
func (w *zoneSync) try(changes []change, err error) {
	if errors.Is(err, errNotLeading) {
		return
	}
	w.stale = true
	for _, c := range changes {
		before := w.known[c.rec.spec.key]
		w.tried[c.rec.spec.key] = tried{want: c.want, ttl: c.ttl, previous: before.values, previousTTL: before.ttl}
	}
}

// wrote records changes the provider took in a call that took took and
// reports them, with reason when not empty.
func (w *zoneSync) wrote(changes []change, took time.Duration, reason string) {
	m := w.m
	events := make([]Event, 0, len(changes))
	m.mu.Lock()
	for _, c := range changes {
		key := c.rec.spec.key
		before := w.known[key]
		events = append(events, Event{Kind: EventRecordWritten, Time: time.Now(), Record: c.rec.spec.id, Provider: w.p.name, Values: slices.Clone(c.want.values), Previous: before.values, TTL: c.ttl, CallDuration: took, Reason: reason})
		if drifted, ok := w.drift[key]; ok {
			events = append(events, Event{Kind: EventDriftRepaired, Time: time.Now(), Record: c.rec.spec.id, Provider: w.p.name, Values: slices.Clone(c.want.values), Previous: drifted.values, TTL: c.ttl})
			delete(w.drift, key)
			if len(c.want.values) > 0 && slices.Equal(drifted.values, c.want.values) && drifted.ttl > c.ttl {
				// Only the TTL was repaired: read right away whether the
				// provider holds it, or raises it again.
				w.verify[key] = c.ttl
				w.stale = true
			}
		}
		written := newRRset(c.want.values, c.ttl)
		written.held = c.want.records(key, c.ttl)
		w.known[key] = written
		delete(w.quarantined, key)
		delete(w.tried, key)
	}
	w.status.LastWrite = time.Now()
	if reason == "" || w.readFailures == 0 {
		w.status.LastError, w.status.Failures = "", 0
	}
	m.mu.Unlock()
	w.pending(time.Now(), false) // Status is current before anyone hears of the write
	m.emit(events...)
}

// learnFloor learns a TTL floor from what SetRecords says it stored: an
// RRset of the changes stored with the values written but a higher TTL
// than written shows a floor the provider applies without declaring it.
// Providers that return their input teach nothing here; the read right
// after a TTL repair does (see read).
func (w *zoneSync) learnFloor(changes []change, stored map[rrKey]rrset) {
	var events []Event
	now := time.Now()
	w.m.mu.Lock()
	for _, c := range changes {
		got, ok := stored[c.rec.spec.key]
		if !ok || got.ttl <= c.ttl || got.ttl <= w.floor() || (w.p.auto > 0 && got.ttl == w.p.auto) || !slices.Equal(got.values, c.want.values) {
			continue
		}
		w.status.LearnedMinTTL = got.ttl
		events = append(events, Event{Kind: EventTTLFloorLearned, Time: now, Record: c.rec.spec.id, Provider: w.p.name, Values: slices.Clone(got.values), TTL: got.ttl,
			Reason: fmt.Sprintf("written with TTL %v, stored with %v: TTLs written are raised to %v from now on", c.ttl, got.ttl, got.ttl)})
	}
	w.m.mu.Unlock()
	w.m.emit(events...)
}

// possible is every record r could publish (its endpoints and its
// fallback values) or published before a reload, for deleting it from a
// provider that could not be read.
func (r *recordRun) possible() rrset {
	var values []string
	for _, e := range r.spec.endpoints {
		values = append(values, e.Value)
	}
	values = append(values, r.spec.policy.Fallback...)
	for _, v := range r.formerly {
		if !slices.Contains(values, v) {
			values = append(values, v)
		}
	}
	s := newRRset(values, 0)
	s.held = s.records(r.spec.key, 0)
	return s
}

// anyTTL returns recs with TTL 0, which libdns's DeleteRecords takes as
// any TTL.
func anyTTL(recs []libdns.Record) []libdns.Record {
	out := make([]libdns.Record, 0, len(recs))
	for _, rec := range recs {
		rr := rec.RR()
		rr.TTL = 0
		if typed, err := rr.Parse(); err == nil {
			out = append(out, typed)
		} else {
			out = append(out, rr)
		}
	}
	return out
}

// failed records a failed call in the status and as an event. A call
// cancelled by the Manager's own stop (a read's context is cancelled
// only with Run's; a write's never is) is no failure of the provider.
func (w *zoneSync) failed(op Operation, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	m := w.m
	w.failures++
	if op == OpGet {
		w.readFailures++
	}
	now := time.Now()
	m.mu.Lock()
	w.status.InSync = false
	w.status.LastError, w.status.LastErrorAt, w.status.Failures = err.Error(), now, w.failures
	m.mu.Unlock()
	m.emit(Event{Kind: EventProviderCallFailed, Time: now, Zone: w.zone.spec.name, Provider: w.p.name, Operation: op, Failures: w.failures, Err: err})
}

// backoff waits before the next attempt after w.failures failed calls in a
// row, or until ctx is done; with woken, also until a new decision comes,
// so that a failover is not held back by a backoff that is not its own:
// of reads that keep failing while writes work, or of writes that may
// fail for one RRset the provider rejects (see isolation).
func (w *zoneSync) backoff(ctx context.Context, woken bool) {
	t := time.NewTimer(w.m.backoffAfter(w.failures))
	defer t.Stop()
	var wake <-chan struct{}
	if woken {
		wake = w.wake
	}
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-wake:
	}
}

// backoffAfter is the wait before the next attempt after n failures in a
// row: RetryBackoff doubled n-1 times, capped by MaxRetryBackoff, with
// jitter (between half and all of it).
func (m *Manager) backoffAfter(n int) time.Duration {
	backoff := m.cfg.RetryBackoff << min(max(n-1, 0), 30)
	if backoff <= 0 || backoff > m.cfg.MaxRetryBackoff {
		backoff = m.cfg.MaxRetryBackoff
	}
	return backoff/2 + m.jitter(backoff/2+1)
}
