// Package clusterchanges gathers what changed in a cluster's state until
// the engine takes it, for the implementations of failover.Cluster.
package clusterchanges

import "github.com/dnsfailover/failover"

// Pending is what changed since the last Take. Its zero value is empty
// and ready to use; it is not safe for concurrent use (its owner's lock
// guards it).
type Pending struct {
	// Leadership and Everything are failover.ClusterChanges' fields of
	// the same names.
	Leadership, Everything bool

	endpoints map[failover.EndpointID]bool
	records   map[failover.RecordID]bool
}

// Endpoint notes that id's votes changed.
func (p *Pending) Endpoint(id failover.EndpointID) {
	if p.endpoints == nil {
		p.endpoints = map[failover.EndpointID]bool{}
	}
	p.endpoints[id] = true
}

// Record notes that id's operator state changed.
func (p *Pending) Record(id failover.RecordID) {
	if p.records == nil {
		p.records = map[failover.RecordID]bool{}
	}
	p.records[id] = true
}

// Take returns what changed, each endpoint and record once, and empties p.
func (p *Pending) Take() failover.ClusterChanges {
	out := failover.ClusterChanges{Leadership: p.Leadership, Everything: p.Everything}
	for id := range p.endpoints {
		out.Endpoints = append(out.Endpoints, id)
	}
	for id := range p.records {
		out.Records = append(out.Records, id)
	}
	*p = Pending{}
	return out
}
