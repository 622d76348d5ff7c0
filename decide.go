package failover

import (
	"cmp"
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
	decided bool          // values are to be written; false until the first decision
	adopted bool          // not decided yet: values and ttl are what DNS held at start-up
	floor   time.Duration // adopted: the TTL floor of the provider DNS was read from
	values  []string      // published values, in configuration order
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
//
// It chains pure steps, each tested on its own: wait until no endpoint is
// unknown, count the tiers, note since when each is eligible, choose the
// active tier (stay, fail back, fail over, degrade), publish its healthy
// endpoints or what the all-down mode says, cap at MaxAnswers, explain,
// and set the TTL from how recently the record was unstable.
func decide(p Policy, eps []candidate, prev decision, now time.Time, manual bool) (next decision, wake time.Time) {
	next = prev
	next.reason = ""
	if anyUnknown(eps) {
		return next, time.Time{} // wait until every endpoint is known
	}
	tiers := tiersOf(eps)
	next.eligibleSince = eligibleSince(tiers, p.MinHealthy, prev.eligibleSince, now)
	ch := chooseTier(p, tiers, prev, next.eligibleSince, now, manual)
	if ch.ok {
		next.decided, next.hasTier, next.tier, next.allDown = true, true, ch.tier.priority, false
		next.values = healthyValues(eps, ch.tier.priority)
	} else {
		next.hasTier, next.allDown = false, true
		ch.reason = "all endpoints down: " + p.AllDown.String()
		next.values, next.decided = allDownValues(p, eps, prev)
	}
	next.values = capAnswers(next.values, p.MaxAnswers)
	if ch.reason == "" && ch.ok && prev.decided && !sameValues(next.values, prev.values) {
		ch.reason = ch.tier.summary()
	}
	next.reason = ch.reason

	next.changedAt, next.convergedBy, next.unstableAt = changeTimes(prev, next.values, now)
	if p.LowerTTLOnFailing && publishesFailing(eps, next.values) {
		next.unstableAt = now
	}
	var restore time.Time
	next.ttl, restore = ttlAt(p, next.unstableAt, now)
	return next, earliest(ch.wake, restore)
}

// anyUnknown reports whether an endpoint has not been checked enough to
// be known: no decision is made until every one is.
func anyUnknown(eps []candidate) bool {
	return slices.ContainsFunc(eps, func(c candidate) bool { return c.health == HealthUnknown })
}

// tier is the endpoints of one priority, counted.
type tier struct {
	priority int
	size     int // endpoints
	healthy  int // endpoints up
}

// tiersOf counts the endpoints of each priority, most preferred (lowest)
// first.
func tiersOf(eps []candidate) []tier {
	tiers := make([]tier, 0, len(eps))
	for _, c := range eps {
		i := slices.IndexFunc(tiers, func(t tier) bool { return t.priority == c.priority })
		if i < 0 {
			tiers = append(tiers, tier{priority: c.priority})
			i = len(tiers) - 1
		}
		tiers[i].size++
		if c.health == HealthUp {
			tiers[i].healthy++
		}
	}
	slices.SortFunc(tiers, func(a, b tier) int { return cmp.Compare(a.priority, b.priority) })
	return tiers
}

// eligible reports whether t can be used: it has minHealthy healthy
// endpoints, or all of them when it has fewer.
func (t tier) eligible(minHealthy int) bool { return t.healthy >= min(minHealthy, t.size) }

// summary tells how healthy t is, as the reason of a decision.
func (t tier) summary() string {
	return fmt.Sprintf("%d of %d endpoints of priority %d healthy", t.healthy, t.size, t.priority)
}

// eligibleSince returns, for each eligible tier, since when it has been
// eligible without a break: its time in prev, or now if it just became
// eligible. Tiers not eligible are absent.
func eligibleSince(tiers []tier, minHealthy int, prev map[int]time.Time, now time.Time) map[int]time.Time {
	since := make(map[int]time.Time, len(prev))
	for _, t := range tiers {
		if !t.eligible(minHealthy) {
			continue
		}
		s, ok := prev[t.priority]
		if !ok {
			s = now
		}
		since[t.priority] = s
	}
	return since
}

// choice is the tier a record publishes from, and why.
type choice struct {
	tier   tier      // meaningful when ok
	ok     bool      // false: no tier has a healthy endpoint
	reason string    // empty when there is nothing worth telling
	wake   time.Time // when a pending failback is due; zero if none
}

// chooseTier picks the active tier among tiers: the previous one while it
// stays eligible (unless failback to a more preferred eligible tier is
// due), else the most preferred eligible tier (failover), else the most
// preferred tier with any healthy endpoint (degraded), else none.
func chooseTier(p Policy, tiers []tier, prev decision, since map[int]time.Time, now time.Time, manual bool) choice {
	best := slices.IndexFunc(tiers, func(t tier) bool { return t.eligible(p.MinHealthy) })
	cur := slices.IndexFunc(tiers, func(t tier) bool { return t.priority == prev.tier })
	switch {
	case prev.hasTier && cur >= 0 && tiers[cur].eligible(p.MinHealthy):
		if best == cur {
			return choice{tier: tiers[cur], ok: true}
		}
		to := tiers[best]
		take, reason, wake := failback(p, to.priority, since[to.priority], now, manual)
		if take {
			return choice{tier: to, ok: true, reason: reason}
		}
		return choice{tier: tiers[cur], ok: true, reason: reason, wake: wake}
	case best >= 0:
		ch := choice{tier: tiers[best], ok: true}
		switch {
		case prev.hasTier || prev.allDown:
			ch.reason = fmt.Sprintf("failover to priority %d", ch.tier.priority)
		case best > 0: // a first decision that is already a failover
			ch.reason = fmt.Sprintf("failover to priority %d: %s", ch.tier.priority, tiers[0].summary())
		}
		return ch
	}
	if i := slices.IndexFunc(tiers, func(t tier) bool { return t.healthy > 0 }); i >= 0 {
		return choice{tier: tiers[i], ok: true, reason: fmt.Sprintf("no priority has %d healthy endpoints, using priority %d", p.MinHealthy, tiers[i].priority)}
	}
	return choice{}
}

// failback says whether to fail back now to priority to, eligible since
// since: at once on an operator's request (manual), never without one
// under ManualFailback, otherwise once FailbackDelay has passed. When it
// waits for the delay, wake is when it ends.
func failback(p Policy, to int, since, now time.Time, manual bool) (take bool, reason string, wake time.Time) {
	switch {
	case manual:
		return true, fmt.Sprintf("manual failback to priority %d", to), time.Time{}
	case p.ManualFailback:
		return false, fmt.Sprintf("priority %d is healthy, waiting for manual failback", to), time.Time{}
	case now.Sub(since) >= p.FailbackDelay:
		return true, fmt.Sprintf("failback to priority %d, healthy for %v", to, now.Sub(since).Round(time.Millisecond)), time.Time{}
	}
	wake = since.Add(p.FailbackDelay)
	return false, fmt.Sprintf("priority %d is healthy, failback at %v", to, wake.Format(time.RFC3339)), wake
}

// healthyValues returns the values of the healthy endpoints of priority,
// in configuration order.
func healthyValues(eps []candidate, priority int) []string {
	var values []string
	for _, c := range eps {
		if c.priority == priority && c.health == HealthUp {
			values = append(values, c.value)
		}
	}
	return values
}

// allDownValues returns what a record publishes when no endpoint is
// healthy, as p.AllDown says, and whether that is to be written. Keeping
// what is published keeps prev as it was: with nothing known, nothing is
// written.
func allDownValues(p Policy, eps []candidate, prev decision) (values []string, decided bool) {
	switch p.AllDown {
	case PublishAll:
		for _, c := range eps {
			values = append(values, c.value)
		}
		return values, true
	case PublishFallback:
		return slices.Clone(p.Fallback), true
	case PublishNothing:
		return []string{}, true
	}
	return prev.values, prev.decided // KeepPublished
}

// capAnswers returns the first limit values, or all of them when limit is
// 0.
func capAnswers(values []string, limit int) []string {
	if limit > 0 && len(values) > limit {
		return values[:limit]
	}
	return values
}

// changeTimes returns the record's change times once it publishes values:
// when they last changed, by when every resolver has seen them (a change
// converges after the TTL published before it, and never before an
// earlier change did), and since when the record is unstable (a change
// from something published makes it so). They stay as in prev when values
// did not change.
func changeTimes(prev decision, values []string, now time.Time) (changedAt, convergedBy, unstableAt time.Time) {
	changedAt, convergedBy, unstableAt = prev.changedAt, prev.convergedBy, prev.unstableAt
	if sameValues(values, prev.values) {
		return changedAt, convergedBy, unstableAt
	}
	changedAt, convergedBy = now, latest(prev.convergedBy, now.Add(prev.ttl))
	if len(prev.values) > 0 {
		unstableAt = now
	}
	return changedAt, convergedBy, unstableAt
}

// publishesFailing reports whether values include an endpoint that is
// down or whose last check failed.
func publishesFailing(eps []candidate, values []string) bool {
	return slices.ContainsFunc(eps, func(c candidate) bool {
		return (c.failing || c.health == HealthDown) && slices.Contains(values, c.value)
	})
}

// ttlAt returns the TTL to publish at now: FailoverTTL until StableAfter
// has passed since the record was last unstable (restore is then when
// TTL comes back), TTL otherwise.
func ttlAt(p Policy, unstableAt, now time.Time) (ttl time.Duration, restore time.Time) {
	if !unstableAt.IsZero() && now.Sub(unstableAt) < p.StableAfter {
		return p.FailoverTTL, unstableAt.Add(p.StableAfter)
	}
	return p.TTL, time.Time{}
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
