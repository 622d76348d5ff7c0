package failover

import (
	"context"
	"slices"
	"sync"
	"time"
)

// runZone reads z from each of its providers, in parallel, adopts what
// the first of them that answered holds, lets the loop decide z's records,
// then keeps each provider in line until ctx is done. The loop does not
// decide a record of z before, so that a zone is written only after its
// own adoption read, while a slow zone delays no other.
func (m *Manager) runZone(ctx context.Context, z *zoneRun) {
	if m.cl != nil {
		m.runZoneLeading(ctx, z)
		return
	}
	var wg sync.WaitGroup
	for _, w := range z.syncs {
		wg.Go(func() {
			if err := w.read(ctx); err != nil {
				w.failed(OpGet, err)
			}
		})
	}
	wg.Wait()
	m.adopt(z, time.Now(), 0)
	m.runSyncs(ctx, z)
}

// runSyncs keeps each provider of z in line until ctx is done.
func (m *Manager) runSyncs(ctx context.Context, z *zoneRun) {
	var wg sync.WaitGroup
	for _, w := range z.syncs {
		wg.Go(func() { w.run(ctx) })
	}
	wg.Wait()
}

// adopt starts each record of z from what the first provider that
// answered holds, so that a restart writes nothing the checks do not call
// for, and hands z's records to the loop. Records carried over from
// another Manager keep theirs; a Cluster's previous leader's decision
// seeds the timers of those where DNS holds it (see seed). With a Cluster, it adopts only while the loop's leadership
// is still term (the one z was read under), and reports whether it did.
func (m *Manager) adopt(z *zoneRun, now time.Time, term int64) bool {
	m.mu.Lock()
	if m.cl != nil && m.cl.term != term {
		m.mu.Unlock()
		return false
	}
	if i := slices.IndexFunc(z.syncs, func(w *zoneSync) bool { return !w.stale }); i >= 0 {
		held, floor := z.syncs[i].known, z.syncs[i].floor()
		for _, r := range z.records {
			switch s, ok := held[r.spec.key]; {
			case r.carried:
			case ok && len(s.values) > 0:
				r.dec = seed(adopted(r.spec, s, floor, now), r.stored)
			default: // DNS holds none of it: deciding to publish nothing changes nothing
				r.dec = seed(decision{adopted: true, reason: "adopted from DNS: absent"}, r.stored)
			}
		}
	} else { // no provider could be read: records start from nothing, or from the timers stored
		for _, r := range z.records {
			if r.stored != nil {
				r.dec = *r.stored
				r.dec.decided = false
			}
		}
	}
	z.adopted.Store(true)
	m.poked = append(m.poked, z.records...)
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
	return true
}

// adopted is the decision a record starts from when DNS already holds s
// on a provider with TTL floor floor: not decided (nothing is written
// until the checks have spoken), with the tier of its values when they
// all belong to one, and still unstable when it holds the lowered TTL (as
// raised to the floor). Its TTL is the policy's TTL that s holds, or s's
// own when it holds neither.
func adopted(spec *recordSpec, s rrset, floor time.Duration, now time.Time) decision {
	d := decision{adopted: true, ttl: s.ttl, floor: floor, reason: "adopted from DNS"}
	tiers := map[int]bool{}
	for _, e := range spec.endpoints { // configuration order
		if slices.Contains(s.values, e.Value) {
			d.values = append(d.values, e.Value)
			tiers[e.Priority] = true
		}
	}
	if len(d.values) != len(s.values) { // values that are not endpoints
		d.values = slices.Clone(s.values)
	} else if len(tiers) == 1 {
		d.hasTier = true
		for t := range tiers {
			d.tier = t
		}
	}
	p := spec.policy
	lowered, steady := max(p.FailoverTTL, floor), max(p.TTL, floor)
	switch {
	case s.ttl == lowered && lowered != steady:
		d.ttl, d.unstableAt = p.FailoverTTL, now
	case s.ttl == steady:
		d.ttl = p.TTL
	}
	return d
}
