package failover

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
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

// count returns how many of votes see the endpoint up, and down.
func count(votes []Vote) (up, down int) {
	for _, v := range votes {
		switch v.Health {
		case HealthUp:
			up++
		case HealthDown:
			down++
		}
	}
	return up, down
}

// health combines votes, one per live instance, into the endpoint's
// cluster health.
func (q Quorum) health(votes []Vote) Health {
	up, down := count(votes)
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

// judgement is how one instance's verdict on one endpoint compares with
// the others': the endpoint counts for the instance's isolation only when
// a majority of the live instances, the instance itself left out, hold
// one verdict.
type judgement struct {
	instance string
	differs  bool // its verdict is the opposite of that majority's
}

// judge compares each instance's verdict on one endpoint (votes, one per
// live instance) with the verdict a majority of the live instances hold
// without it. It takes at least three live instances to judge one: with
// two, who is wrong cannot be told. Missing verdicts are never judged, and
// agree with nothing.
func judge(votes []Vote) []judgement {
	live := len(votes)
	if live < 3 {
		return nil
	}
	up, down := count(votes)
	var out []judgement
	for _, v := range votes {
		othersUp, othersDown := up, down
		switch v.Health {
		case HealthUp:
			othersUp--
		case HealthDown:
			othersDown--
		default:
			continue
		}
		switch {
		case 2*othersUp > live:
			out = append(out, judgement{v.Instance, v.Health != HealthUp})
		case 2*othersDown > live:
			out = append(out, judgement{v.Instance, v.Health != HealthDown})
		}
	}
	return out
}

// tally counts, per instance, the endpoints its verdict was judged on and
// those where it differs from the majority of the others. It is kept up
// to date one endpoint at a time (add, then add with -1 to take back), so
// that a change of votes costs what it changed, not a pass over every
// endpoint.
type tally map[string]*judged

// judged is one instance's count in a tally.
type judged struct{ compared, differs int }

// add counts js (sign 1) or takes them back (sign -1).
func (t tally) add(js []judgement, sign int) {
	for _, j := range js {
		c := t[j.instance]
		if c == nil {
			c = &judged{}
			t[j.instance] = c
		}
		c.compared += sign
		if j.differs {
			c.differs += sign
		}
		if c.compared == 0 {
			delete(t, j.instance)
		}
	}
}

// isolated returns the instances left out of every quorum, of live live
// instances: those whose verdict differs from the majority of the others
// on most of the endpoints where they were judged (at least two, or one
// for an instance isolated before: a vote that tips a quorum does not
// make an isolated instance agree with itself). The others must stay a
// majority of the live instances: when more instances differ, those
// isolated before, then those that differ the most, are left out first.
// An instance that is isolated agrees with no majority a minority could
// form, so the verdicts of a majority are never left out.
func (t tally) isolated(live int, before map[string]bool) map[string]bool {
	type cand struct {
		name  string
		share float64
	}
	var cands []cand
	for name, c := range t {
		if c.compared > 0 && 2*c.differs > c.compared && (c.compared >= 2 || before[name]) {
			cands = append(cands, cand{name, float64(c.differs) / float64(c.compared)})
		}
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if before[a.name] != before[b.name] {
			if before[a.name] {
				return -1
			}
			return 1
		}
		if a.share != b.share {
			return cmp.Compare(b.share, a.share)
		}
		return strings.Compare(a.name, b.name)
	})
	out := map[string]bool{}
	for _, c := range cands {
		if 2*(live-len(out)-1) <= live {
			break // the rest would no longer be a majority
		}
		out[c.name] = true
	}
	return out
}

// isolatedInstances returns the isolated instances (see tally.isolated)
// given every endpoint's votes.
func isolatedInstances(votes map[EndpointID][]Vote, before map[string]bool) map[string]bool {
	t, live := tally{}, 0
	for _, vs := range votes {
		t.add(judge(vs), 1)
		live = max(live, len(vs))
	}
	return t.isolated(live, before)
}

// withoutVotesOf returns votes without those of the instances set in left; votes
// itself when there are none.
func withoutVotesOf(votes []Vote, left map[string]bool) []Vote {
	if len(left) == 0 {
		return votes
	}
	return slices.DeleteFunc(slices.Clone(votes), func(v Vote) bool { return left[v.Instance] })
}
