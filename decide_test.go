package failover

import (
	"errors"
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
