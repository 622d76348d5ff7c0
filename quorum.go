package failover

import (
	"fmt"
	"slices"
	"time"
)

// Quorum says how the verdicts of the live instances of a [Cluster] combine
// into an endpoint's health. The zero value is a majority: down when more
// than half of the live instances see it down. At most one field may be
// set.
//
// Whatever the rule, missing information never fails an endpoint over: a
// live instance with no verdict yet counts as not seeing it down, and an
// endpoint on which no instance has a verdict is unknown.
type Quorum struct {
	// DownAtLeast, when above zero, marks an endpoint down when at least
	// this many live instances see it down, or all of them when fewer are
	// live (so that a cluster that lost instances can still fail over).
	DownAtLeast int
	// HealthyAbovePercent, when above zero, keeps an endpoint healthy while
	// more than this percentage of the live instances see it healthy (or
	// have no verdict yet), as Route 53 does (it uses 18 %). It must be
	// below 100.
	HealthyAbovePercent int
}

// problems returns what is wrong with q as field-message pairs.
func (q Quorum) problems() [][2]string {
	var out [][2]string
	if q.DownAtLeast < 0 {
		out = append(out, [2]string{"DownAtLeast", fmt.Sprintf("must not be negative, got %d", q.DownAtLeast)})
	}
	if q.HealthyAbovePercent < 0 || q.HealthyAbovePercent >= 100 {
		out = append(out, [2]string{"HealthyAbovePercent", fmt.Sprintf("must be between 0 and 99, got %d", q.HealthyAbovePercent)})
	}
	if q.DownAtLeast > 0 && q.HealthyAbovePercent > 0 {
		out = append(out, [2]string{"DownAtLeast", "set together with HealthyAbovePercent: choose one rule"})
	}
	return out
}

// clusterProblems returns what is wrong with a Config's Cluster and
// Quorum; providerTimeout has its default applied.
func clusterProblems(c Cluster, q Quorum, providerTimeout time.Duration) []fieldError {
	var out []fieldError
	for _, p := range q.problems() {
		out = append(out, fieldError{"Quorum." + p[0], p[1]})
	}
	if c == nil {
		return out
	}
	if isNil(c) {
		return append(out, fieldError{"Cluster", "is a nil pointer"})
	}
	if c.Instance() == "" {
		out = append(out, fieldError{"Cluster", "has no instance name"})
	}
	if ttl := c.LeaseTTL(); ttl <= providerTimeout {
		out = append(out, fieldError{"Cluster", fmt.Sprintf("lease TTL %v is not above ProviderTimeout %v: a leader could not finish a write within its lease", ttl, providerTimeout)})
	}
	return out
}

// health combines votes, one per live instance, into the endpoint's
// cluster health.
func (q Quorum) health(votes []Vote) Health {
	var up, down int
	for _, v := range votes {
		switch v.Health {
		case HealthUp:
			up++
		case HealthDown:
			down++
		}
	}
	live := len(votes)
	isDown := false
	switch {
	case up+down == 0:
		return HealthUnknown
	case q.DownAtLeast > 0:
		isDown = down >= min(q.DownAtLeast, live)
	case q.HealthyAbovePercent > 0:
		isDown = (live-down)*100 <= q.HealthyAbovePercent*live
	default:
		isDown = 2*down > live
	}
	if isDown {
		return HealthDown
	}
	return HealthUp
}

// isolatedInstances returns the instances that disagree with the cluster
// on most endpoints: on more than half of the endpoints (and at least two)
// where both the instance and the cluster (the quorum of the live
// instances' votes) have a verdict, the instance's verdict differs. That is
// an instance that cannot reach what the others can (or the reverse); its
// votes are to be left out of every quorum. It takes at least three live
// instances to judge one: with two, who is wrong cannot be told.
//
// The instances found isolated before (before) are left out of the
// cluster's quorum they are compared with, as of every other quorum: else
// an isolated instance whose vote tips a quorum (another instance losing
// the same endpoint) would agree with itself there, and rejoin.
func isolatedInstances(q Quorum, votes map[EndpointID][]Vote, before map[string]bool) map[string]bool {
	compared, differs := map[string]int{}, map[string]int{}
	for _, vs := range votes {
		if len(vs) < 3 {
			continue
		}
		cluster := q.health(withoutVotesOf(vs, before))
		if cluster == HealthUnknown {
			continue
		}
		for _, v := range vs {
			if v.Health == HealthUnknown {
				continue
			}
			compared[v.Instance]++
			if v.Health != cluster {
				differs[v.Instance]++
			}
		}
	}
	out := map[string]bool{}
	for inst, n := range compared {
		if n >= 2 && 2*differs[inst] > n {
			out[inst] = true
		}
	}
	return out
}

// withoutVotesOf returns votes without those of the instances set in left; votes
// itself when there are none.
func withoutVotesOf(votes []Vote, left map[string]bool) []Vote {
	if len(left) == 0 {
		return votes
	}
	return slices.DeleteFunc(slices.Clone(votes), func(v Vote) bool { return left[v.Instance] })
}
