package failover

import (
	"fmt"
	"slices"
	"time"
)

// candidate is one endpoint as the decision sees it.
type candidate struct {
	value    string
	priority int
	health   Health // after overrides
	failing  bool   // up, but its last check failed
}

// decision is what a record publishes, and the memory the next decision
// needs. It is a value; decide returns a new one.
type decision struct {
	decided bool     // values are to be written; false until the first decision
	values  []string // published values, in configuration order
	ttl     time.Duration
	hasTier bool // values are healthy endpoints of tier
	tier    int
	allDown bool
	reason  string

	eligibleSince map[int]time.Time // per priority: healthy without a break since
	changedAt     time.Time         // when values last changed
	convergedBy   time.Time         // when no resolver can still hold an answer from before changedAt
	unstableAt    time.Time         // last change, or last failing check of a published endpoint
}

// decide returns the decision for a record whose endpoints are eps (in
// configuration order) at now, given the previous decision; manual is an
// operator's request to fail back. wake is when the decision must be made
// again even if no check result changes (zero: not needed).
func decide(p Policy, eps []candidate, prev decision, now time.Time, manual bool) (next decision, wake time.Time) {
	next = prev
	next.reason = ""
	next.eligibleSince = make(map[int]time.Time, len(prev.eligibleSince))
	for _, c := range eps {
		if c.health == HealthUnknown {
			next.eligibleSince = prev.eligibleSince
			return next, time.Time{} // wait until every endpoint is known
		}
	}

	// Tiers, most preferred first, and which of them can be used.
	var tiers []int
	size, healthy := map[int]int{}, map[int]int{}
	for _, c := range eps {
		if size[c.priority] == 0 {
			tiers = append(tiers, c.priority)
		}
		size[c.priority]++
		if c.health == HealthUp {
			healthy[c.priority]++
		}
	}
	slices.Sort(tiers)
	eligible := func(t int) bool { return healthy[t] >= min(p.MinHealthy, size[t]) }
	best, degraded := -1, -1
	for i, t := range tiers {
		if eligible(t) {
			since, ok := prev.eligibleSince[t]
			if !ok {
				since = now
			}
			next.eligibleSince[t] = since
			if best < 0 {
				best = i
			}
		}
		if healthy[t] > 0 && degraded < 0 {
			degraded = i
		}
	}

	// Which tier is active.
	active := -1
	switch {
	case prev.hasTier && slices.Contains(tiers, prev.tier) && eligible(prev.tier):
		active = slices.Index(tiers, prev.tier)
		if best < active {
			since := next.eligibleSince[tiers[best]]
			switch {
			case manual:
				active, next.reason = best, fmt.Sprintf("manual failback to priority %d", tiers[best])
			case p.ManualFailback:
				next.reason = fmt.Sprintf("priority %d is healthy, waiting for manual failback", tiers[best])
			case now.Sub(since) >= p.FailbackDelay:
				active, next.reason = best, fmt.Sprintf("failback to priority %d, healthy for %v", tiers[best], now.Sub(since).Round(time.Millisecond))
			default:
				wake = since.Add(p.FailbackDelay)
				next.reason = fmt.Sprintf("priority %d is healthy, failback at %v", tiers[best], wake.Format(time.RFC3339))
			}
		}
	case best >= 0:
		active = best
		if prev.hasTier || prev.allDown {
			next.reason = fmt.Sprintf("failover to priority %d", tiers[best])
		}
	case degraded >= 0:
		active = degraded
		next.reason = fmt.Sprintf("no priority has %d healthy endpoints, using priority %d", p.MinHealthy, tiers[degraded])
	}

	if active >= 0 {
		next.decided, next.hasTier, next.tier, next.allDown = true, true, tiers[active], false
		next.values = nil
		for _, c := range eps {
			if c.priority == tiers[active] && c.health == HealthUp {
				next.values = append(next.values, c.value)
			}
		}
	} else {
		next.hasTier, next.allDown = false, true
		next.reason = "all endpoints down: " + p.AllDown.String()
		switch p.AllDown {
		case KeepPublished:
			// next.values and next.decided stay as they were: with nothing
			// known, nothing is written.
		case PublishAll:
			next.decided, next.values = true, nil
			for _, c := range eps {
				next.values = append(next.values, c.value)
			}
		case PublishFallback:
			next.decided, next.values = true, slices.Clone(p.Fallback)
		case PublishNothing:
			next.decided, next.values = true, []string{}
		}
	}
	if p.MaxAnswers > 0 && len(next.values) > p.MaxAnswers {
		next.values = next.values[:p.MaxAnswers]
	}
	if next.reason == "" && next.hasTier && prev.decided && !sameValues(next.values, prev.values) {
		next.reason = fmt.Sprintf("%d of %d endpoints of priority %d healthy", healthy[next.tier], size[next.tier], next.tier)
	}

	// TTL: lowered while the record is unstable.
	if !sameValues(next.values, prev.values) {
		next.changedAt = now
		next.convergedBy = latest(prev.convergedBy, now.Add(prev.ttl))
		if len(prev.values) > 0 {
			next.unstableAt = now
		}
	}
	if p.LowerTTLOnFailing {
		for _, c := range eps {
			if (c.failing || c.health == HealthDown) && slices.Contains(next.values, c.value) {
				next.unstableAt = now
			}
		}
	}
	next.ttl = p.TTL
	if !next.unstableAt.IsZero() && now.Sub(next.unstableAt) < p.StableAfter {
		next.ttl = p.FailoverTTL
		wake = earliest(wake, next.unstableAt.Add(p.StableAfter))
	}
	return next, wake
}

// sameValues reports whether a and b hold the same values in any order.
func sameValues(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// latest returns the later of two times.
func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// earliest returns the earlier of two times, ignoring zero ones.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
