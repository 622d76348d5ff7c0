package failover

import (
	"slices"
	"time"
)

// CarryOver makes m start from what old knew of the records for which keep
// returns true: each endpoint's health (with its counters and override)
// and the record's decision, instead of checking every endpoint again from
// scratch and adopting what DNS holds. Records are matched by RecordID,
// endpoints by value; an endpoint new to a kept record starts unknown.
// Priorities are matched by endpoint value too: when the reloaded record
// renumbered its tiers, the decision's tier and failback timers follow
// their endpoints, and a tier that cannot be mapped one to one (split,
// merged or gone) is dropped from the decision, which then chooses a tier
// afresh at the first decision of Run.
//
// Whatever keep says, it also carries what each record published, to
// delete it from a provider that cannot be read, and the changes of old's
// writes that failed and were not read back before old stopped: a
// provider may hold them all the same, and m's first read of the zone
// from that provider (matched by zone and provider name) reports those it
// finds as written.
//
// Call it after old's Run has returned and before m's Run; it returns
// ErrStarted if m's Run has been called. Run decides every record once as
// it starts, so a carried record re-arms its failback delay, override
// expiries and TTL restore, and takes a changed policy, writing only what
// changed. failoverd uses it to keep health state across a configuration
// reload.
func (m *Manager) CarryOver(old *Manager, keep func(RecordID) bool) error {
	if m.started.Load() {
		return ErrStarted
	}
	old.mu.Lock()
	defer old.mu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, r := range m.byID {
		o, ok := old.byID[id]
		if !ok {
			continue
		}
		r.formerly = slices.Clone(o.dec.values) // a provider never read may hold them: deleted with the rest
		if !keep(id) {
			continue
		}
		for _, ep := range r.eps {
			for _, oep := range o.eps {
				if oep.ep.Value != ep.ep.Value {
					continue
				}
				op, np := oep.probe, ep.probe
				np.state, np.lastCheck, np.lastLatency, np.lastErr = op.state, op.lastCheck, op.lastLatency, op.lastErr
				ep.override, ep.overrideUntil = oep.override, oep.overrideUntil
			}
		}
		if o.dec.decided {
			r.dec = renumbered(o.dec, tierMap(o.spec.endpoints, r.spec.endpoints))
			r.carried = true
			r.zone.desired[r.spec.key] = newRRset(r.dec.values, r.dec.ttl)
		}
	}
	carryTried(old, m)
	return nil
}

// carryTried hands the changes of old's failed writes, not read back yet,
// to m's zoneSync of the same zone and provider name, for the RRsets it
// manages. Both Managers' locks are held; old's zoneSyncs have stopped.
func carryTried(old, m *Manager) {
	for _, z := range m.zones {
		i := slices.IndexFunc(old.zones, func(o *zoneRun) bool { return o.spec.name == z.spec.name })
		if i < 0 {
			continue
		}
		for _, w := range z.syncs {
			for _, ow := range old.zones[i].syncs {
				if ow.p.name != w.p.name {
					continue
				}
				for key, t := range ow.tried {
					if w.managed[key] {
						w.tried[key] = t
					}
				}
				break
			}
		}
	}
}

// tierMap maps each old priority to the new priority of the same
// endpoints, when that is one to one: every endpoint of the old tier that
// is still configured has the same new priority, and no other old tier
// maps to it. Old tiers without such a mapping are absent.
func tierMap(old, next []Endpoint) map[int]int {
	newPrio := map[string]int{}
	for _, e := range next {
		newPrio[e.Value] = e.Priority
	}
	to, bad := map[int]int{}, map[int]bool{}
	for _, e := range old {
		p, ok := newPrio[e.Value]
		if !ok {
			continue
		}
		if q, seen := to[e.Priority]; seen && q != p {
			bad[e.Priority] = true
		}
		to[e.Priority] = p
	}
	from := map[int]int{} // new priority -> how many old tiers map to it
	for _, p := range to {
		from[p]++
	}
	for o, p := range to {
		if bad[o] || from[p] > 1 {
			delete(to, o)
		}
	}
	return to
}

// renumbered returns a copy of d with its tier and the tiers of its
// failback timers renumbered by to, dropping those to does not map.
func renumbered(d decision, to map[int]int) decision {
	if p, ok := to[d.tier]; ok && d.hasTier {
		d.tier = p
	} else {
		d.hasTier, d.tier = false, 0
	}
	since := make(map[int]time.Time, len(d.eligibleSince))
	for o, t := range d.eligibleSince {
		if p, ok := to[o]; ok {
			since[p] = t
		}
	}
	d.eligibleSince = since
	d.values = slices.Clone(d.values)
	return d
}
