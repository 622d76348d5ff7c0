package failover

import (
	"maps"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover/provider/memory"
)

// A record carried over by a reload gets its pending wake-ups again (issue
// 11, item 1): Run decides every record once at start, re-arming the
// failback delay, an override's expiry and the TTL restore, and applying a
// changed policy.
func TestCarriedRecordRearmsItsTimers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		during func(h *harness, sb *switchboard, p *memory.Provider) // while the old Manager runs
		policy Policy                                                // the reloaded record's
		limit  time.Duration                                         // after the reload
		want   []string
		ttl    time.Duration
	}{
		{
			name: "a pending failback happens",
			during: func(h *harness, sb *switchboard, p *memory.Provider) {
				failover(h, sb, p)
				sb.set("192.0.2.10", false)
				sb.set("192.0.2.11", false)
				h.until(time.Minute, stepTime, "primary up", func() bool { return len(h.of(EventEndpointUp)) >= 5 })
			},
			policy: basePol, limit: DefaultFailbackDelay + basePol.Interval, want: primary, ttl: DefaultFailoverTTL,
		},
		{
			name: "a drain for 5m ends",
			during: func(h *harness, sb *switchboard, p *memory.Provider) {
				if err := h.m.SetOverride(www, "192.0.2.10", ForceDown, 5*time.Minute); err != nil {
					h.t.Fatal(err)
				}
				h.holds(p, time.Minute, []string{"192.0.2.11"})
			},
			policy: basePol, limit: 6 * time.Minute, want: primary, ttl: DefaultFailoverTTL,
		},
		{
			name: "the TTL is restored after StableAfter",
			during: func(h *harness, sb *switchboard, p *memory.Provider) {
				failover(h, sb, p)
			},
			policy: basePol, limit: DefaultStableAfter + time.Minute, want: backup, ttl: DefaultTTL,
		},
		{
			name: "a changed TTL is applied",
			during: func(h *harness, sb *switchboard, p *memory.Provider) {
				h.settled()
			},
			policy: Policy{Interval: basePol.Interval, Timeout: basePol.Timeout, TTL: 2 * time.Minute}, limit: time.Minute, want: primary, ttl: 2 * time.Minute,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sb, p := newSwitchboard(), memZone(t)
				old := stopped(t, oneZone(p, wwwRecord(sb, basePol)), func(h *harness) {
					h.settled()
					tc.during(h, sb, p)
				})
				h := runAfter(t, oneZone(p, wwwRecord(sb, tc.policy)), carryAll(t, old))
				h.until(tc.limit, stepTime, "reloaded record in DNS", func() bool {
					got, ttl := held(p, "www", "A")
					return equal(got, tc.want) && ttl == tc.ttl
				})
			})
		})
	}
}

// A carried record whose priorities were renumbered keeps publishing the
// same endpoints (issue 11, item 2): its tier is mapped by endpoint value,
// so it is neither all down nor failed back early.
func TestCarryOverMapsRenumberedTiers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, p := newSwitchboard(), memZone(t)
		pol := basePol
		pol.AllDown = PublishNothing
		old := stopped(t, oneZone(p, wwwRecord(sb, pol)), func(h *harness) {
			h.settled()
			failover(h, sb, p)
			sb.set("192.0.2.10", false)
			sb.set("192.0.2.11", false)
			h.until(time.Minute, stepTime, "primary up", func() bool { return len(h.of(EventEndpointUp)) >= 5 })
		})
		p.ResetCalls()
		rec := wwwRecord(sb, pol)
		for i := range rec.Endpoints {
			rec.Endpoints[i].Priority++ // 0, 0, 1 become 1, 1, 2: the backup's old number is the primary's new one
		}
		h := runAfter(t, oneZone(p, rec), carryAll(t, old))
		time.Sleep(DefaultFailbackDelay / 2)
		synctest.Wait()
		if got, _ := held(p, "www", "A"); !equal(got, backup) {
			t.Fatalf("before the failback delay: got %v, want %v", got, backup)
		}
		if n := p.Calls(memory.MethodSetRecords) + p.Calls(memory.MethodDeleteRecords); n != 0 {
			t.Fatalf("got %d writes before the failback delay, want 0", n)
		}
		if n := len(h.of(EventAllDown)); n != 0 {
			t.Fatalf("got %d all-down events, want 0", n)
		}
		h.holds(p, DefaultFailbackDelay, primary)
	})
}

func TestTierMap(t *testing.T) {
	eps := func(pairs ...any) []Endpoint {
		var out []Endpoint
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, Endpoint{Value: pairs[i].(string), Priority: pairs[i+1].(int)})
		}
		return out
	}
	old := eps("a", 0, "b", 0, "c", 1)
	for _, tc := range []struct {
		name string
		next []Endpoint
		want map[int]int
	}{
		{"unchanged", eps("a", 0, "b", 0, "c", 1), map[int]int{0: 0, 1: 1}},
		{"renumbered", eps("a", 10, "b", 10, "c", 20), map[int]int{0: 10, 1: 20}},
		{"swapped", eps("a", 1, "b", 1, "c", 0), map[int]int{0: 1, 1: 0}},
		{"an endpoint removed", eps("a", 5, "c", 6), map[int]int{0: 5, 1: 6}},
		{"a tier split", eps("a", 0, "b", 2, "c", 1), map[int]int{1: 1}},
		{"tiers merged", eps("a", 0, "b", 0, "c", 0), map[int]int{}},
		{"a tier gone", eps("a", 0, "b", 0, "d", 1), map[int]int{0: 0}},
	} {
		if got := tierMap(old, tc.next); !maps.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
