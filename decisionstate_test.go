package failover

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// What a leader stores reads back as the same decision (failback timers,
// tier, change times), equal decisions encode alike, and what cannot be
// read is refused, so that the new leader starts from DNS instead.
func TestDecisionStateRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	d := decision{decided: true, values: []string{"192.0.2.20"}, ttl: 30 * time.Second, hasTier: true, tier: 1, reason: "failover to priority 1",
		eligibleSince: map[int]time.Time{0: at.Add(time.Minute), 1: at}, changedAt: at, convergedBy: at.Add(time.Minute), unstableAt: at}
	eps := []Endpoint{{Value: "192.0.2.10"}, {Value: "192.0.2.20", Priority: 1}}
	b := encodeDecision(d, eps)
	if again := encodeDecision(d, eps); string(again) != string(b) {
		t.Errorf("the same decision encoded twice: %s, then %s", b, again)
	}
	got, err := decodeDecision(b, eps)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Errorf("read back:\n got %+v\nwant %+v", got, d)
	}
	empty, err := decodeDecision(encodeDecision(decision{decided: true, allDown: true}, eps), eps)
	if err != nil || empty.values == nil || len(empty.values) != 0 || !empty.allDown {
		t.Errorf("a decision to publish nothing read back as %+v (%v), want decided, empty, all down", empty, err)
	}
	for _, tc := range []struct{ name, state, want string }{
		{"another version", `{"v":1,"values":[]}`, "version 1"},
		{"not JSON", `tier=1`, "decoding"},
		{"a priority that is no number", `{"v":2,"values":[],"eligible_since":{"x":"2026-11-25T14:00:00Z"}}`, `"x"`},
	} {
		if _, err := decodeDecision([]byte(tc.state), eps); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// A decision stored under one configuration and read under another maps
// its tier and failback timers by endpoint, as CarryOver does, and drops
// those that cannot be mapped.
func TestDecisionStateRenumbered(t *testing.T) {
	at := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	old := []Endpoint{{Value: "a"}, {Value: "b", Priority: 1}, {Value: "c", Priority: 2}}
	d := decision{decided: true, values: []string{"b"}, ttl: time.Minute, hasTier: true, tier: 1,
		eligibleSince: map[int]time.Time{0: at, 1: at.Add(-time.Hour), 2: at.Add(-2 * time.Hour)}}
	for _, tc := range []struct {
		name     string
		next     []Endpoint
		hasTier  bool
		tier     int
		eligible map[int]time.Time
	}{
		{"same", old, true, 1, d.eligibleSince},
		{"renumbered", []Endpoint{{Value: "a", Priority: 10}, {Value: "b", Priority: 20}, {Value: "c", Priority: 30}}, true, 20,
			map[int]time.Time{10: at, 20: at.Add(-time.Hour), 30: at.Add(-2 * time.Hour)}},
		{"active tier merged", []Endpoint{{Value: "a"}, {Value: "b", Priority: 1}, {Value: "c", Priority: 1}}, false, 0,
			map[int]time.Time{0: at}},
		{"active tier gone", []Endpoint{{Value: "a"}, {Value: "c", Priority: 2}}, false, 0,
			map[int]time.Time{0: at, 2: at.Add(-2 * time.Hour)}},
	} {
		got, err := decodeDecision(encodeDecision(d, old), tc.next)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got.hasTier != tc.hasTier || got.tier != tc.tier || !reflect.DeepEqual(got.eligibleSince, tc.eligible) {
			t.Errorf("%s: got tier %v %d, eligible since %v; want %v %d, %v", tc.name, got.hasTier, got.tier, got.eligibleSince, tc.hasTier, tc.tier, tc.eligible)
		}
	}
}
