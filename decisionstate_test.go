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
	b := encodeDecision(d)
	if again := encodeDecision(d); string(again) != string(b) {
		t.Errorf("the same decision encoded twice: %s, then %s", b, again)
	}
	got, err := decodeDecision(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Errorf("read back:\n got %+v\nwant %+v", got, d)
	}
	empty, err := decodeDecision(encodeDecision(decision{decided: true, allDown: true}))
	if err != nil || empty.values == nil || len(empty.values) != 0 || !empty.allDown {
		t.Errorf("a decision to publish nothing read back as %+v (%v), want decided, empty, all down", empty, err)
	}
	for _, tc := range []struct{ name, state, want string }{
		{"another version", `{"v":2,"values":[]}`, "version 2"},
		{"not JSON", `tier=1`, "decoding"},
		{"a priority that is no number", `{"v":1,"values":[],"eligible_since":{"x":"2026-11-25T14:00:00Z"}}`, `"x"`},
	} {
		if _, err := decodeDecision([]byte(tc.state)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}
