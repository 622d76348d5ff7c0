package failover

import (
	"fmt"
	"strings"
	"testing"
)

// votes builds votes from a string of u (up), d (down) and ? (unknown),
// one letter per live instance.
func votes(s string) []Vote {
	health := map[rune]Health{'u': HealthUp, 'd': HealthDown, '?': HealthUnknown}
	var out []Vote
	for i, c := range s {
		out = append(out, Vote{Instance: fmt.Sprintf("i%d", i), Health: health[c]})
	}
	return out
}

func TestQuorumHealth(t *testing.T) {
	for _, tc := range []struct {
		q     Quorum
		votes string
		want  Health
	}{
		// Majority of live instances (the default).
		{Quorum{}, "", HealthUnknown},
		{Quorum{}, "???", HealthUnknown},
		{Quorum{}, "u", HealthUp},
		{Quorum{}, "d", HealthDown},
		{Quorum{}, "uud", HealthUp},
		{Quorum{}, "udd", HealthDown},
		{Quorum{}, "ud", HealthUp}, // one of two is no majority
		{Quorum{}, "dd", HealthDown},
		{Quorum{}, "d??", HealthUp}, // a missing verdict never fails over
		{Quorum{}, "dd?", HealthDown},
		{Quorum{}, "uudd", HealthUp},
		{Quorum{}, "uddd", HealthDown},
		// At least N.
		{Quorum{DownAtLeast: 1}, "uud", HealthDown},
		{Quorum{DownAtLeast: 2}, "uud", HealthUp},
		{Quorum{DownAtLeast: 2}, "udd", HealthDown},
		{Quorum{DownAtLeast: 3}, "dd", HealthDown}, // fewer live than N: all of them
		{Quorum{DownAtLeast: 3}, "ud", HealthUp},
		{Quorum{DownAtLeast: 2}, "d?", HealthUp},
		// Healthy while more than X % see it healthy.
		{Quorum{HealthyAbovePercent: 18}, "uddd", HealthUp},      // 25 % > 18 %
		{Quorum{HealthyAbovePercent: 18}, "udddddd", HealthDown}, // 14 %
		{Quorum{HealthyAbovePercent: 50}, "ud", HealthDown},      // 50 % is not more than 50 %
		{Quorum{HealthyAbovePercent: 50}, "uud", HealthUp},
		{Quorum{HealthyAbovePercent: 50}, "d?", HealthDown}, // unknown counts as healthy: 50 %
		{Quorum{HealthyAbovePercent: 50}, "d??", HealthUp},  // 67 %
		{Quorum{HealthyAbovePercent: 99}, "uuu", HealthUp},
	} {
		if got := tc.q.health(votes(tc.votes)); got != tc.want {
			t.Errorf("%+v with votes %q: got %v, want %v", tc.q, tc.votes, got, tc.want)
		}
	}
}

func TestQuorumProblems(t *testing.T) {
	for _, tc := range []struct {
		q    Quorum
		want string // field of the first problem, "" for none
	}{
		{Quorum{}, ""},
		{Quorum{DownAtLeast: 2}, ""},
		{Quorum{HealthyAbovePercent: 18}, ""},
		{Quorum{DownAtLeast: -1}, "DownAtLeast"},
		{Quorum{HealthyAbovePercent: 100}, "HealthyAbovePercent"},
		{Quorum{HealthyAbovePercent: -5}, "HealthyAbovePercent"},
		{Quorum{DownAtLeast: 1, HealthyAbovePercent: 18}, "DownAtLeast"},
	} {
		var got string
		if p := tc.q.problems(); len(p) > 0 {
			got = p[0][0]
		}
		if got != tc.want {
			t.Errorf("%+v: got problem in %q, want %q", tc.q, got, tc.want)
		}
	}
}

func TestIsolatedInstances(t *testing.T) {
	// table: one string per endpoint, one letter per instance i0, i1, ...
	for _, tc := range []struct {
		name  string
		table []string
		want  string // isolated instances, comma-separated
	}{
		{"all agree", []string{"uuu", "ddd", "uuu"}, ""},
		{"i0 sees everything down", []string{"duu", "duu", "duu"}, "i0"},
		{"i0 sees one endpoint down", []string{"duu", "uuu", "uuu"}, ""},
		{"i2 sees everything up that is down", []string{"ddu", "ddu"}, "i2"},
		{"two instances: undecidable", []string{"du", "du", "du"}, ""},
		{"one endpoint is not enough", []string{"duu"}, ""},
		{"i0 has no verdicts", []string{"?uu", "?uu"}, ""},
		{"two of five cut off", []string{"dduuu", "dduuu", "dduuu"}, "i0,i1"},
	} {
		table := map[EndpointID][]Vote{}
		for i, s := range tc.table {
			table[EndpointID{Value: fmt.Sprint(i)}] = votes(s)
		}
		var got []string
		for i := range 5 {
			if isolatedInstances(Quorum{}, table)[fmt.Sprintf("i%d", i)] {
				got = append(got, fmt.Sprintf("i%d", i))
			}
		}
		if g := strings.Join(got, ","); g != tc.want {
			t.Errorf("%s: got isolated %q, want %q", tc.name, g, tc.want)
		}
	}
}
