package failover

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"
)

func TestHealthStateMachine(t *testing.T) {
	p := Policy{FailAfter: 3, RecoverAfter: 2}.withDefaults()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		results string // s = success, f = failure
		want    Health
		settled bool
	}{
		{"unknown until RecoverAfter successes", "s", HealthUnknown, false},
		{"up after RecoverAfter successes", "ss", HealthUp, true},
		{"down from unknown after FailAfter failures", "fff", HealthDown, true},
		{"one failure does not take it down", "ssf", HealthUp, false},
		{"FailAfter consecutive failures do", "ssfff", HealthDown, true},
		{"a success resets the count", "ssffsff", HealthUp, false},
		{"one success does not bring it back", "fffs", HealthDown, false},
		{"RecoverAfter successes do", "fffss", HealthUp, true},
		// Issue 11, item 3: the unknown phase is bounded.
		{"flapping from start-up: down after FailAfter failures in all", "fsfsf", HealthDown, true},
		{"flapping from start-up, recovering at the end", "fsfss", HealthUp, true},
		{"flapping once up: stays up", "ssfsfsfs", HealthUp, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s healthState
			for _, r := range tc.results {
				var err error
				if r == 'f' {
					err = errors.New("fail")
				}
				s, _ = s.observe(p, now, err)
			}
			if s.health != tc.want || s.settled() != tc.settled {
				t.Fatalf("got %v settled=%v, want %v settled=%v", s.health, s.settled(), tc.want, tc.settled)
			}
			want := p.FastInterval
			if tc.settled {
				want = p.Interval
			}
			if got := s.interval(p); got != want {
				t.Fatalf("next check in %v, want %v", got, want)
			}
		})
	}
}

func cands(health ...Health) []candidate {
	values := []string{"192.0.2.10", "192.0.2.11", "192.0.2.20"}
	prio := []int{0, 0, 1}
	var out []candidate
	for i, h := range health {
		out = append(out, candidate{value: values[i], priority: prio[i], health: h})
	}
	return out
}

func TestDecide(t *testing.T) {
	p := Policy{}.withDefaults()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	up, down, unknown := HealthUp, HealthDown, HealthUnknown

	first, _ := decide(p, cands(up, up, up), decision{}, t0, false)
	if !first.decided || !equal(first.values, primary) || first.ttl != p.TTL {
		t.Fatalf("first decision %+v, want %v with TTL %v", first, primary, p.TTL)
	}
	if d, _ := decide(p, cands(up, unknown, up), decision{}, t0, false); d.decided {
		t.Fatalf("with an endpoint unknown: got %+v, want no decision yet", d)
	}

	failed, wake := decide(p, cands(down, down, up), first, t0.Add(time.Minute), false)
	if !equal(failed.values, backup) || failed.ttl != p.FailoverTTL || failed.tier != 1 {
		t.Fatalf("failover %+v, want %v on tier 1 with the failover TTL", failed, backup)
	}
	if want := t0.Add(time.Minute + p.StableAfter); !wake.Equal(want) {
		t.Fatalf("wake at %v, want %v (TTL restore)", wake, want)
	}

	t1 := t0.Add(2 * time.Minute)
	waiting, wake := decide(p, cands(up, down, up), failed, t1, false)
	if !equal(waiting.values, backup) || !wake.Equal(t1.Add(p.FailbackDelay)) {
		t.Fatalf("primary back: got %v, wake %v; want to stay on %v until %v", waiting.values, wake, backup, t1.Add(p.FailbackDelay))
	}
	still, _ := decide(p, cands(up, up, up), waiting, t1.Add(p.FailbackDelay-time.Second), false)
	if !equal(still.values, backup) {
		t.Fatalf("before FailbackDelay: got %v, want %v", still.values, backup)
	}
	back, _ := decide(p, cands(up, up, up), still, t1.Add(p.FailbackDelay), false)
	if !equal(back.values, primary) {
		t.Fatalf("after FailbackDelay: got %v, want %v", back.values, primary)
	}
	manual, _ := decide(p, cands(up, up, up), waiting, t1, true)
	if !equal(manual.values, primary) {
		t.Fatalf("manual failback: got %v, want %v", manual.values, primary)
	}
}

func TestDecideMinHealthy(t *testing.T) {
	p := Policy{MinHealthy: 2}.withDefaults()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d, _ := decide(p, cands(HealthUp, HealthDown, HealthUp), decision{}, t0, false)
	if !equal(d.values, backup) {
		t.Fatalf("tier 0 with 1 of 2 healthy: got %v, want %v", d.values, backup)
	}
	d, _ = decide(p, cands(HealthUp, HealthDown, HealthDown), decision{}, t0, false)
	if !equal(d.values, []string{"192.0.2.10"}) || d.allDown {
		t.Fatalf("no tier with 2 healthy: got %+v, want the one healthy endpoint", d)
	}
}

// A decision carried over (CarryOver) from a configuration whose active
// tier no longer exists fails over to a tier that does, instead of taking
// the record for all down.
func TestDecideActiveTierNoLongerConfigured(t *testing.T) {
	p := Policy{}.withDefaults()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	prev := decision{decided: true, values: []string{"198.51.100.7"}, ttl: p.TTL, hasTier: true, tier: 5}
	got, _ := decide(p, cands(HealthDown, HealthDown, HealthUp), prev, t0, false)
	if got.allDown || !got.hasTier || got.tier != 1 || !equal(got.values, backup) {
		t.Fatalf("got %+v, want priority 1 published: %v", got, backup)
	}
}

// The steps decide is made of, one table each.

var (
	t0                = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	up, down, unknown = HealthUp, HealthDown, HealthUnknown

	defaults   = Policy{}.withDefaults()
	manualPol  = Policy{ManualFailback: true}.withDefaults()
	min2Pol    = Policy{MinHealthy: 2}.withDefaults()
	publishAll = Policy{AllDown: PublishAll}.withDefaults()
	fallback   = Policy{AllDown: PublishFallback, Fallback: []string{"198.51.100.99"}}.withDefaults()

	// failing is up, but its last check failed.
	failing = candidate{value: "192.0.2.10", priority: 0, health: HealthUp, failing: true}
)

func TestAnyUnknown(t *testing.T) {
	for _, tc := range []struct {
		eps  []candidate
		want bool
	}{
		{nil, false},
		{cands(up, down, up), false},
		{cands(up, unknown, up), true},
		{cands(unknown), true},
	} {
		if got := anyUnknown(tc.eps); got != tc.want {
			t.Errorf("anyUnknown(%v): got %v, want %v", tc.eps, got, tc.want)
		}
	}
}

func TestTiersOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		eps  []candidate
		want []tier
	}{
		{"none", nil, nil},
		{"two tiers", cands(up, down, up), []tier{{0, 2, 1}, {1, 1, 1}}},
		{"all down", cands(down, down, down), []tier{{0, 2, 0}, {1, 1, 0}}},
		{"sorted by priority, not by order", []candidate{{value: "a", priority: 7, health: up}, {value: "b", priority: -1}, {value: "c", priority: 7}},
			[]tier{{-1, 1, 0}, {7, 2, 1}}},
	} {
		if got := tiersOf(tc.eps); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTierEligible(t *testing.T) {
	for _, tc := range []struct {
		t          tier
		minHealthy int
		want       bool
	}{
		{tier{0, 2, 1}, 1, true},
		{tier{0, 2, 0}, 1, false},
		{tier{0, 3, 1}, 2, false},
		{tier{0, 3, 2}, 2, true},
		{tier{0, 1, 1}, 2, true}, // fewer endpoints than MinHealthy: all of them will do
		{tier{0, 2, 1}, 3, false},
	} {
		if got := tc.t.eligible(tc.minHealthy); got != tc.want {
			t.Errorf("%+v with MinHealthy %d: got %v, want %v", tc.t, tc.minHealthy, got, tc.want)
		}
	}
}

func TestEligibleSince(t *testing.T) {
	t1 := t0.Add(time.Minute)
	for _, tc := range []struct {
		name       string
		tiers      []tier
		minHealthy int
		prev       map[int]time.Time
		want       map[int]time.Time
	}{
		{"first time: now", []tier{{0, 2, 2}, {1, 1, 1}}, 1, nil, map[int]time.Time{0: t1, 1: t1}},
		{"still eligible: kept", []tier{{0, 2, 1}, {1, 1, 1}}, 1, map[int]time.Time{0: t0}, map[int]time.Time{0: t0, 1: t1}},
		{"not eligible: dropped", []tier{{0, 2, 0}, {1, 1, 1}}, 1, map[int]time.Time{0: t0, 1: t0}, map[int]time.Time{1: t0}},
		{"short of MinHealthy: dropped", []tier{{0, 3, 1}}, 2, map[int]time.Time{0: t0}, map[int]time.Time{}},
	} {
		if got := eligibleSince(tc.tiers, tc.minHealthy, tc.prev, t1); !maps.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFailback(t *testing.T) {
	delay := defaults.FailbackDelay
	for _, tc := range []struct {
		name       string
		p          Policy
		since, now time.Time
		manual     bool
		wantTake   bool
		wantReason string
		wantWake   time.Time
	}{
		{"before the delay", defaults, t0, t0.Add(delay - time.Second), false, false,
			"priority 0 is healthy, failback at " + t0.Add(delay).Format(time.RFC3339), t0.Add(delay)},
		{"at the delay", defaults, t0, t0.Add(delay), false, true, fmt.Sprintf("failback to priority 0, healthy for %v", delay), time.Time{}},
		{"manual request, before the delay", defaults, t0, t0, true, true, "manual failback to priority 0", time.Time{}},
		{"ManualFailback, long after", manualPol, t0, t0.Add(24 * time.Hour), false, false, "priority 0 is healthy, waiting for manual failback", time.Time{}},
		{"ManualFailback and a request", manualPol, t0, t0, true, true, "manual failback to priority 0", time.Time{}},
	} {
		take, reason, wake := failback(tc.p, 0, tc.since, tc.now, tc.manual)
		if take != tc.wantTake || reason != tc.wantReason || !wake.Equal(tc.wantWake) {
			t.Errorf("%s: got %v %q %v, want %v %q %v", tc.name, take, reason, wake, tc.wantTake, tc.wantReason, tc.wantWake)
		}
	}
}

func TestChooseTier(t *testing.T) {
	onTier := func(p int) decision { return decision{decided: true, hasTier: true, tier: p} }
	allDown := decision{decided: true, allDown: true}
	delay := defaults.FailbackDelay
	for _, tc := range []struct {
		name   string
		p      Policy
		eps    []candidate
		prev   decision
		since  map[int]time.Time
		manual bool
		want   choice
	}{
		{"first decision: the best tier, nothing to tell", defaults, cands(up, up, up), decision{}, nil, false,
			choice{tier: tier{0, 2, 2}, ok: true}},
		{"stays while eligible", defaults, cands(up, down, up), onTier(0), nil, false,
			choice{tier: tier{0, 2, 1}, ok: true}},
		{"failover when the tier is not eligible", defaults, cands(down, down, up), onTier(0), nil, false,
			choice{tier: tier{1, 1, 1}, ok: true, reason: "failover to priority 1"}},
		{"out of all down is a failover", defaults, cands(down, down, up), allDown, nil, false,
			choice{tier: tier{1, 1, 1}, ok: true, reason: "failover to priority 1"}},
		{"failback waits for the delay", defaults, cands(up, up, up), onTier(1), map[int]time.Time{0: t0}, false,
			choice{tier: tier{1, 1, 1}, ok: true, reason: "priority 0 is healthy, failback at " + t0.Add(delay).Format(time.RFC3339), wake: t0.Add(delay)}},
		{"failback after the delay", defaults, cands(up, up, up), onTier(1), map[int]time.Time{0: t0.Add(-delay)}, false,
			choice{tier: tier{0, 2, 2}, ok: true, reason: fmt.Sprintf("failback to priority 0, healthy for %v", delay)}},
		{"manual failback", manualPol, cands(up, up, up), onTier(1), map[int]time.Time{0: t0}, true,
			choice{tier: tier{0, 2, 2}, ok: true, reason: "manual failback to priority 0"}},
		{"previous tier no longer configured", defaults, cands(down, down, up), onTier(5), nil, false,
			choice{tier: tier{1, 1, 1}, ok: true, reason: "failover to priority 1"}},
		{"none eligible: degraded to the best with any healthy", min2Pol, cands(up, down, down), onTier(0), nil, false,
			choice{tier: tier{0, 2, 1}, ok: true, reason: "no priority has 2 healthy endpoints, using priority 0"}},
		{"none healthy", defaults, cands(down, down, down), onTier(0), nil, false, choice{}},
	} {
		got := chooseTier(tc.p, tiersOf(tc.eps), tc.prev, tc.since, t0, tc.manual)
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestHealthyValues(t *testing.T) {
	for _, tc := range []struct {
		eps      []candidate
		priority int
		want     []string
	}{
		{cands(up, up, up), 0, primary},
		{cands(down, up, up), 0, []string{"192.0.2.11"}},
		{cands(up, up, up), 1, backup},
		{cands(up, up, down), 1, nil},
		{cands(up, up, up), 2, nil},
	} {
		if got := healthyValues(tc.eps, tc.priority); !slices.Equal(got, tc.want) {
			t.Errorf("%v priority %d: got %v, want %v", tc.eps, tc.priority, got, tc.want)
		}
	}
}

func TestAllDownValues(t *testing.T) {
	published := decision{decided: true, values: primary}
	for _, tc := range []struct {
		name        string
		p           Policy
		prev        decision
		want        []string
		wantDecided bool
	}{
		{"keep published", defaults, published, primary, true},
		{"keep, with nothing known: nothing to write", defaults, decision{}, nil, false},
		{"publish all", publishAll, published, []string{"192.0.2.10", "192.0.2.11", "192.0.2.20"}, true},
		{"publish fallback", fallback, published, []string{"198.51.100.99"}, true},
		{"publish nothing: an empty set, written", Policy{AllDown: PublishNothing}.withDefaults(), published, []string{}, true},
	} {
		got, decided := allDownValues(tc.p, cands(down, down, down), tc.prev)
		if !slices.Equal(got, tc.want) || (got == nil) != (tc.want == nil) || decided != tc.wantDecided {
			t.Errorf("%s: got %#v decided=%v, want %#v decided=%v", tc.name, got, decided, tc.want, tc.wantDecided)
		}
	}
}

func TestCapAnswers(t *testing.T) {
	three := []string{"a", "b", "c"}
	for _, tc := range []struct {
		limit int
		want  []string
	}{
		{0, three}, {1, []string{"a"}}, {2, []string{"a", "b"}}, {3, three}, {4, three},
	} {
		if got := capAnswers(three, tc.limit); !slices.Equal(got, tc.want) {
			t.Errorf("MaxAnswers %d: got %v, want %v", tc.limit, got, tc.want)
		}
	}
}

func TestChangeTimes(t *testing.T) {
	now := t0.Add(time.Hour)
	for _, tc := range []struct {
		name                                  string
		prev                                  decision
		values                                []string
		wantChanged, wantConverged, wantUnsta time.Time
	}{
		{"unchanged: kept", decision{values: primary, ttl: time.Minute, changedAt: t0, convergedBy: t0.Add(time.Minute), unstableAt: t0}, []string{"192.0.2.11", "192.0.2.10"},
			t0, t0.Add(time.Minute), t0},
		{"changed: converges after the old TTL, unstable", decision{values: primary, ttl: time.Minute}, backup,
			now, now.Add(time.Minute), now},
		{"first publication: not unstable", decision{}, primary, now, now, time.Time{}},
		{"an earlier change converging later wins", decision{values: backup, ttl: 30 * time.Second, convergedBy: now.Add(time.Hour)}, primary,
			now, now.Add(time.Hour), now},
	} {
		changed, converged, unstable := changeTimes(tc.prev, tc.values, now)
		if !changed.Equal(tc.wantChanged) || !converged.Equal(tc.wantConverged) || !unstable.Equal(tc.wantUnsta) {
			t.Errorf("%s: got changed %v converged %v unstable %v, want %v %v %v", tc.name, changed, converged, unstable, tc.wantChanged, tc.wantConverged, tc.wantUnsta)
		}
	}
}

func TestPublishesFailing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		eps    []candidate
		values []string
		want   bool
	}{
		{"all up", cands(up, up, up), primary, false},
		{"a published endpoint down", cands(down, up, up), []string{"192.0.2.10"}, true},
		{"an unpublished endpoint down", cands(up, up, down), primary, false},
		{"a published endpoint up but failing", []candidate{failing}, []string{"192.0.2.10"}, true},
		{"an unpublished endpoint failing", []candidate{failing}, backup, false},
	} {
		if got := publishesFailing(tc.eps, tc.values); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTTLAt(t *testing.T) {
	p := defaults
	for _, tc := range []struct {
		name        string
		unstableAt  time.Time
		now         time.Time
		wantTTL     time.Duration
		wantRestore time.Time
	}{
		{"never unstable", time.Time{}, t0, p.TTL, time.Time{}},
		{"just changed", t0, t0, p.FailoverTTL, t0.Add(p.StableAfter)},
		{"just before StableAfter", t0, t0.Add(p.StableAfter - time.Second), p.FailoverTTL, t0.Add(p.StableAfter)},
		{"at StableAfter", t0, t0.Add(p.StableAfter), p.TTL, time.Time{}},
	} {
		ttl, restore := ttlAt(p, tc.unstableAt, tc.now)
		if ttl != tc.wantTTL || !restore.Equal(tc.wantRestore) {
			t.Errorf("%s: got %v restore at %v, want %v restore at %v", tc.name, ttl, restore, tc.wantTTL, tc.wantRestore)
		}
	}
}

// decide's own work: chaining the steps, and the reason it gives.
func TestDecideReason(t *testing.T) {
	onPrimary := decision{decided: true, values: primary, hasTier: true, tier: 0, ttl: defaults.TTL}
	for _, tc := range []struct {
		name string
		p    Policy
		eps  []candidate
		prev decision
		want string
	}{
		{"first decision", defaults, cands(up, up, up), decision{}, ""},
		// Issue 13: a first decision that is already a failover says so.
		{"first decision on the backup", defaults, cands(down, down, up), decision{}, "failover to priority 1: 0 of 2 endpoints of priority 0 healthy"},
		{"nothing changed", defaults, cands(up, up, up), onPrimary, ""},
		{"one of a tier down", defaults, cands(down, up, up), onPrimary, "1 of 2 endpoints of priority 0 healthy"},
		{"failover", defaults, cands(down, down, up), onPrimary, "failover to priority 1"},
		{"all down", defaults, cands(down, down, down), onPrimary, "all endpoints down: keep"},
		{"all down, fail-open", publishAll, cands(down, down, down), onPrimary, "all endpoints down: all"},
		{"an endpoint unknown: no reason", defaults, cands(down, unknown, up), onPrimary, ""},
	} {
		got, _ := decide(tc.p, tc.eps, tc.prev, t0, false)
		if got.reason != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got.reason, tc.want)
		}
	}
}
