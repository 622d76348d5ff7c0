package failover

import (
	"context"
	"slices"
	"sync"
	"time"
)

// adopt reads every zone from every provider, in parallel, and starts each
// record from what the first provider that answered holds, so that a
// restart writes nothing the checks do not call for.
func (m *Manager) adopt(ctx context.Context) {
	var wg sync.WaitGroup
	for _, z := range m.zones {
		for _, w := range z.syncs {
			wg.Go(func() {
				if err := w.read(ctx); err != nil {
					w.failed(OpGet, err)
				}
			})
		}
	}
	wg.Wait()

	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, z := range m.zones {
		i := slices.IndexFunc(z.syncs, func(w *zoneSync) bool { return !w.stale })
		if i < 0 {
			continue // no provider could be read: records start from nothing
		}
		held := z.syncs[i].known
		for _, r := range z.records {
			if s, ok := held[r.spec.key]; ok && len(s.values) > 0 && !r.carried {
				r.dec = adopted(r.spec, s, now)
			}
		}
	}
}

// adopted is the decision a record starts from when DNS already holds s:
// not decided (nothing is written until the checks have spoken), with the
// tier of its values when they all belong to one, and still unstable when
// it holds the lowered TTL.
func adopted(spec *recordSpec, s rrset, now time.Time) decision {
	d := decision{adopted: true, ttl: s.ttl, reason: "adopted from DNS"}
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
	if s.ttl == p.FailoverTTL && p.FailoverTTL != p.TTL {
		d.unstableAt = now
	}
	return d
}
