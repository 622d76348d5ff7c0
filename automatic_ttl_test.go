package failover

import (
	"testing"
	"time"
)

func TestRRsetMatchesWithAutomaticTTL(t *testing.T) {
	want := newRRset([]string{"192.0.2.1"}, 5*time.Minute)
	for _, tc := range []struct {
		name string
		held rrset
		want bool
	}{
		{"same values and TTL", rrset{values: []string{"192.0.2.1"}, ttl: 5 * time.Minute}, true},
		{"other TTL", rrset{values: []string{"192.0.2.1"}, ttl: time.Second}, false},
		{"automatic TTL", rrset{values: []string{"192.0.2.1"}, ttl: time.Second, auto: true}, true},
		{"automatic TTL, other values", rrset{values: []string{"192.0.2.2"}, ttl: time.Second, auto: true}, false},
	} {
		if got := tc.held.matches(want, time.Minute); got != tc.want {
			t.Errorf("%s: got matches %v, want %v", tc.name, got, tc.want)
		}
	}
}
