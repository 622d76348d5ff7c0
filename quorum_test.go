package failover

import (
	"context"
	"time"

	"fmt"
	"strings"
	"testing"

	"github.com/dnsfailover/failover/provider/memory"
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
		name   string
		table  []string
		want   string // isolated instances, comma-separated
		before string // isolated before, comma-separated
	}{
		{"all agree", []string{"uuu", "ddd", "uuu"}, "", ""},
		{"i0 sees everything down", []string{"duu", "duu", "duu"}, "i0", ""},
		{"i0 sees one endpoint down", []string{"duu", "uuu", "uuu"}, "", ""},
		{"i2 sees everything up that is down", []string{"ddu", "ddu"}, "i2", ""},
		{"two instances: undecidable", []string{"du", "du", "du"}, "", ""},
		{"one endpoint is not enough", []string{"duu"}, "", ""},
		{"i0 has no verdicts", []string{"?uu", "?uu"}, "", ""},
		{"two of five cut off", []string{"dduuu", "dduuu", "dduuu"}, "i0,i1", ""},
		// i2 lost everything; i1 then loses endpoint 0: with i2's vote, i2
		// agrees with the quorum there, but its vote no longer counts.
		{"isolated, tipping a quorum", []string{"udd", "uud"}, "i2", "i2"},
		{"the same, not isolated before", []string{"udd", "uud"}, "", ""},
		{"isolated before, agrees again", []string{"uuu", "uuu"}, "", "i2"},
		// i0 lost everything and was isolated; i1 loses it too: i0 and i1
		// are a majority, i2 the one that differs.
		{"isolated one after the other", []string{"ddu", "ddu"}, "i2", "i0"},
		{"never a majority left out", []string{"duu", "duu", "udu", "udu"}, "i0", "i0"},
		{"a minority of three of seven", []string{"ddduuuu", "ddduuuu"}, "i0,i1,i2", ""},
	} {
		before := map[string]bool{}
		for _, name := range strings.Split(tc.before, ",") {
			before[name] = name != ""
		}
		table := map[EndpointID][]Vote{}
		for i, s := range tc.table {
			table[EndpointID{Value: fmt.Sprint(i)}] = votes(s)
		}
		var got []string
		for i := range 7 {
			if isolatedInstances(table, before)[fmt.Sprintf("i%d", i)] {
				got = append(got, fmt.Sprintf("i%d", i))
			}
		}
		if g := strings.Join(got, ","); g != tc.want {
			t.Errorf("%s: got isolated %q, want %q", tc.name, g, tc.want)
		}
	}
}

func TestNewRejectsABadCluster(t *testing.T) {
	for _, tc := range []struct {
		name    string
		c       Cluster
		q       Quorum
		timeout time.Duration
		want    string
	}{
		{"lease not above ProviderTimeout", fakeLease{"a", 30 * time.Second}, Quorum{}, 30 * time.Second, "Cluster: lease TTL 30s is not above ProviderTimeout 30s"},
		{"no instance name", fakeLease{"", time.Minute}, Quorum{}, 0, "Cluster: has no instance name"},
		{"two quorum rules", nil, Quorum{DownAtLeast: 2, HealthyAbovePercent: 18}, 0, "Quorum.DownAtLeast: set together with HealthyAbovePercent"},
		{"percent of 100", nil, Quorum{HealthyAbovePercent: 100}, 0, "Quorum.HealthyAbovePercent: must be between 0 and 99"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Cluster: tc.c, Quorum: tc.q, ProviderTimeout: tc.timeout, Zones: []Zone{{Name: "example.com.", Providers: []Provider{&memory.Provider{}}}}}
			_, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// A Cluster with a lease shorter than DefaultProviderTimeout and no
// ProviderTimeout set gets half the lease: the defaults work together.
func TestClusterDefaultProviderTimeoutFitsTheLease(t *testing.T) {
	cfg := Config{Cluster: fakeLease{"a", 10 * time.Second}, Zones: []Zone{{Name: testZone, Providers: []Provider{&memory.Provider{}}, Records: []Record{wwwRecord(newSwitchboard(), Policy{})}}}}
	if _, err := New(cfg); err != nil {
		t.Fatalf("New with a 10 s lease and the default ProviderTimeout: %v", err)
	}
	if got := cfg.withDefaults().ProviderTimeout; got != 5*time.Second {
		t.Errorf("ProviderTimeout defaults to %v, want 5s", got)
	}
}

// fakeLease is a Cluster of which New looks at the name and lease only.
type fakeLease struct {
	name string
	ttl  time.Duration
}

func (f fakeLease) Instance() string                                                 { return f.name }
func (f fakeLease) LeaseTTL() time.Duration                                          { return f.ttl }
func (fakeLease) Run(context.Context) error                                          { return nil }
func (fakeLease) PublishVerdict(EndpointID, Health)                                  {}
func (fakeLease) Votes(EndpointID) []Vote                                            { return nil }
func (fakeLease) Lead(time.Duration) (context.Context, int64, bool)                  { return nil, 0, false }
func (fakeLease) SaveDecision(RecordID, []byte)                                      {}
func (fakeLease) Decision(RecordID) ([]byte, bool)                                   { return nil, false }
func (fakeLease) SetOverride(context.Context, EndpointID, Override, time.Time) error { return nil }
func (fakeLease) Overrides() []OverrideState                                         { return nil }
func (fakeLease) RequestFailback(context.Context, RecordID) error                    { return nil }
func (fakeLease) TakeFailback(RecordID) bool                                         { return false }
func (fakeLease) Changed() <-chan struct{}                                           { return nil }
func (fakeLease) TakeChanges() ClusterChanges                                        { return ClusterChanges{} }
func (fakeLease) Status() ClusterStatus                                              { return ClusterStatus{} }
