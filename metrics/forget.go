package metrics

import (
	"github.com/dnsfailover/failover"
	"github.com/prometheus/client_golang/prometheus"
)

// forget drops the counters' series of what old has and now has not: its
// zones, providers, records and endpoints, so that a record removed by a
// reload leaves no series behind.
func (c *Collector) forget(old, now failover.Status) {
	zones, providers, records, endpoints := inventory(now)
	byZone := []*prometheus.MetricVec{c.changes.MetricVec, c.writes.MetricVec, c.callFailures.MetricVec, c.drift.MetricVec,
		c.transitions.MetricVec, c.suspicions.MetricVec, c.propagation.MetricVec, c.checks.MetricVec}
	for _, z := range old.Zones {
		if !zones[z.Name] {
			for _, v := range byZone {
				v.DeletePartialMatch(prometheus.Labels{"zone": z.Name})
			}
			continue
		}
		for _, p := range z.Providers {
			if !providers[[2]string{z.Name, p.Name}] {
				l := prometheus.Labels{"zone": z.Name, "provider": p.Name}
				c.writes.DeletePartialMatch(l)
				c.callFailures.DeletePartialMatch(l)
				c.drift.DeletePartialMatch(l)
			}
		}
		for _, r := range z.Records {
			rl := prometheus.Labels{"zone": z.Name, "record": r.Name, "type": r.Type}
			if !records[[3]string{z.Name, r.Name, r.Type}] {
				for _, v := range []*prometheus.CounterVec{c.changes, c.drift, c.transitions, c.suspicions} {
					v.DeletePartialMatch(rl)
				}
				continue
			}
			for _, e := range r.Endpoints {
				if !endpoints[endpointKey{z.Name, r.Name, r.Type, e.Value}] {
					el := prometheus.Labels{"zone": z.Name, "record": r.Name, "type": r.Type, "endpoint": e.Value}
					c.transitions.DeletePartialMatch(el)
					c.suspicions.DeletePartialMatch(el)
				}
			}
		}
	}
}

// inventory lists what st has.
func inventory(st failover.Status) (zones map[string]bool, providers map[[2]string]bool, records map[[3]string]bool, endpoints map[endpointKey]bool) {
	zones, providers, records, endpoints = map[string]bool{}, map[[2]string]bool{}, map[[3]string]bool{}, map[endpointKey]bool{}
	for _, z := range st.Zones {
		zones[z.Name] = true
		for _, p := range z.Providers {
			providers[[2]string{z.Name, p.Name}] = true
		}
		for _, r := range z.Records {
			records[[3]string{z.Name, r.Name, r.Type}] = true
			for _, e := range r.Endpoints {
				endpoints[endpointKey{z.Name, r.Name, r.Type, e.Value}] = true
			}
		}
	}
	return
}
