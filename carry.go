package failover

import "maps"

// CarryOver makes m start from what old knew of the records for which keep
// returns true: each endpoint's health (with its counters and override)
// and the record's decision, instead of checking every endpoint again from
// scratch and adopting what DNS holds. Records are matched by RecordID,
// endpoints by value; an endpoint new to a kept record starts unknown.
// Call it after old's Run has returned and before m's Run; it returns
// ErrStarted if m's Run has been called. failoverd uses it to keep health
// state across a configuration reload for the records that did not change.
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
		if !ok || !keep(id) {
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
			r.dec = o.dec
			r.dec.eligibleSince = maps.Clone(o.dec.eligibleSince)
			r.carried = true
			r.zone.desired[r.spec.key] = newRRset(r.dec.values, r.dec.ttl)
		}
	}
	return nil
}
