package failover

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/libdns/libdns"
)

// zoneSync keeps one provider of one zone in line with the zone's desired
// RRsets: it reads the zone (at start-up, after a failed call and every
// ReconcileInterval), writes what differs, repairs drift, and backs off
// after a failed call. It is the only goroutine that writes to that (zone,
// provider), so writes to it are serialised; every change waiting when it
// writes goes into one SetRecords call.
type zoneSync struct {
	m       *Manager
	zone    *zoneRun
	p       providerSpec
	managed map[rrKey]bool
	wake    chan struct{} // capacity 1

	// owned by the zoneSync goroutine (and by adopt, before it starts)
	known    map[rrKey]rrset // what the provider holds, as last read or written
	stale    bool            // known may be wrong: read before writing
	drift    map[rrKey]rrset // RRsets found changed behind our back, until repaired
	failures int             // failed calls in a row

	// guarded by Manager.mu
	status ProviderStatus
}

func newZoneSync(m *Manager, z *zoneRun, p providerSpec) *zoneSync {
	w := &zoneSync{m: m, zone: z, p: p, managed: map[rrKey]bool{}, wake: make(chan struct{}, 1), stale: true, drift: map[rrKey]rrset{}}
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

// change is one RRset to write.
type change struct {
	rec  *recordRun
	want rrset
	ttl  time.Duration // TTL to write, raised to the provider's floor
}

// run reads, writes and reconciles until ctx is done. A write already
// started is finished first.
func (w *zoneSync) run(ctx context.Context) {
	m := w.m
	var reconcile <-chan time.Time
	if !m.cfg.DryRun {
		t := time.NewTicker(m.cfg.ReconcileInterval)
		defer t.Stop()
		reconcile = t.C
	}
	if w.failures > 0 { // the first read, in adopt, failed
		w.backoff(ctx)
	}
	for ctx.Err() == nil {
		if w.stale {
			if err := w.read(ctx); err != nil {
				w.pending() // Status shows what is behind, judged by what was last known
				w.failed(OpGet, err)
				w.backoff(ctx)
				continue
			}
		}
		changes := w.pending()
		if len(changes) == 0 {
			w.failures = 0
			select {
			case <-ctx.Done():
			case <-w.wake:
			case <-reconcile:
				w.stale = true // read the zone back and repair what differs
			}
			continue
		}
		if op, err := w.write(ctx, changes); err != nil {
			w.stale = true // the zone's state is unknown until read back
			w.failed(op, err)
			w.backoff(ctx)
			continue
		}
		w.failures = 0
	}
}

// read replaces what the zoneSync knows with what the provider holds, and
// notes the managed RRsets that changed behind the Manager's back: those it
// believed in line with the decision that are no longer.
func (w *zoneSync) read(ctx context.Context) error {
	held, err := w.get(ctx)
	if err != nil {
		return err
	}
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	for key, want := range w.zone.desired {
		old, ok := w.known[key]
		if ok && old.matches(want, w.p.floor) && !held[key].matches(want, w.p.floor) {
			w.drift[key] = held[key]
		}
	}
	w.status.LastRead = time.Now()
	w.known, w.stale = held, false
	return nil
}

// get reads the managed RRsets of the zone from the provider.
func (w *zoneSync) get(ctx context.Context) (map[rrKey]rrset, error) {
	cctx, cancel := context.WithTimeout(ctx, w.m.cfg.ProviderTimeout)
	defer cancel()
	recs, err := w.p.p.GetRecords(cctx, w.zone.spec.name)
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

// pending returns the decided RRsets the provider does not hold yet, and
// updates the provider's status.
func (w *zoneSync) pending() []change {
	m := w.m
	m.mu.Lock()
	defer m.mu.Unlock()
	var changes []change
	var names []string
	for _, r := range w.zone.records {
		want, ok := w.zone.desired[r.spec.key]
		if !ok || w.known[r.spec.key].matches(want, w.p.floor) {
			continue
		}
		changes = append(changes, change{rec: r, want: want, ttl: max(want.ttl, w.p.floor)})
		names = append(names, r.spec.id.String())
	}
	w.status.InSync = len(changes) == 0
	w.status.Pending = names
	return changes
}

// write makes the provider hold changes: one SetRecords call for every
// non-empty RRset and, for RRsets decided empty, one DeleteRecords call.
// It is not cancelled by ctx once started, only bounded by
// ProviderTimeout, so that stopping the Manager never interrupts a write.
// When a call fails it returns which one.
func (w *zoneSync) write(ctx context.Context, changes []change) (Operation, error) {
	m := w.m
	zone := w.zone.spec.name
	var set, del []libdns.Record
	for _, c := range changes {
		if len(c.want.values) == 0 {
			del = append(del, w.known[c.rec.spec.key].held...)
		} else {
			set = append(set, c.want.records(c.rec.spec.key, c.ttl)...)
		}
	}
	start := time.Now()
	if !m.cfg.DryRun {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.ProviderTimeout)
		defer cancel()
		if len(set) > 0 {
			if _, err := w.p.p.SetRecords(wctx, zone, set); err != nil {
				return OpSet, fmt.Errorf("writing %d records to zone %s on %s: %w", len(set), zone, w.p.name, err)
			}
		}
		if len(del) > 0 {
			deleter, ok := w.p.p.(libdns.RecordDeleter)
			if !ok { // New refuses this configuration; kept as a guard
				return OpDelete, fmt.Errorf("deleting from zone %s on %s: %w", zone, w.p.name, errors.ErrUnsupported)
			}
			if _, err := deleter.DeleteRecords(wctx, zone, del); err != nil {
				return OpDelete, fmt.Errorf("deleting %d records from zone %s on %s: %w", len(del), zone, w.p.name, err)
			}
		}
	}
	took := time.Since(start)

	events := make([]Event, 0, len(changes))
	m.mu.Lock()
	for _, c := range changes {
		key := c.rec.spec.key
		before := w.known[key]
		events = append(events, Event{Kind: EventRecordWritten, Time: time.Now(), Record: c.rec.spec.id, Provider: w.p.name, Values: slices.Clone(c.want.values), Previous: before.values, TTL: c.ttl, CallDuration: took})
		if drifted, ok := w.drift[key]; ok {
			events = append(events, Event{Kind: EventDriftRepaired, Time: time.Now(), Record: c.rec.spec.id, Provider: w.p.name, Values: slices.Clone(c.want.values), Previous: drifted.values, TTL: c.ttl})
			delete(w.drift, key)
		}
		written := newRRset(c.want.values, c.ttl)
		written.held = c.want.records(key, c.ttl)
		w.known[key] = written
	}
	w.status.LastWrite = time.Now()
	w.status.LastError, w.status.Failures = "", 0
	m.mu.Unlock()
	w.pending() // Status is current before anyone hears of the write
	m.emit(events...)
	return OpNone, nil
}

// failed records a failed call in the status and as an event.
func (w *zoneSync) failed(op Operation, err error) {
	m := w.m
	w.failures++
	now := time.Now()
	m.mu.Lock()
	w.status.InSync = false
	w.status.LastError, w.status.LastErrorAt, w.status.Failures = err.Error(), now, w.failures
	m.mu.Unlock()
	m.emit(Event{Kind: EventProviderCallFailed, Time: now, Zone: w.zone.spec.name, Provider: w.p.name, Operation: op, Failures: w.failures, Err: err})
}

// backoff waits before the next attempt after w.failures failed calls in a
// row: exponential, with jitter, capped by MaxRetryBackoff, or until ctx is
// done.
func (w *zoneSync) backoff(ctx context.Context) {
	m := w.m
	backoff := m.cfg.RetryBackoff << min(w.failures-1, 30)
	if backoff <= 0 || backoff > m.cfg.MaxRetryBackoff {
		backoff = m.cfg.MaxRetryBackoff
	}
	backoff = backoff/2 + m.jitter(backoff/2+1) // between half and all of it
	t := time.NewTimer(backoff)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
