package owner_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/servertest"
)

// realServers are the servers issue 14's test 7 runs on: each returns a
// provider for a fresh zone, empty but for its SOA and NS records.
var realServers = []struct {
	name  string
	start func(t *testing.T) failover.Provider
}{
	{"BIND", func(t *testing.T) failover.Provider { return servertest.StartBIND(t, zone).Provider() }},
	{"PowerDNS", func(t *testing.T) failover.Provider { return servertest.StartPowerDNS(t, zone).Provider() }},
}

// quickly is the timing of the tests on real servers.
var quickly = failover.Config{ReconcileInterval: 300 * time.Millisecond, RetryBackoff: 50 * time.Millisecond, MaxRetryBackoff: 300 * time.Millisecond, ProviderTimeout: 5 * time.Second}

// waitFor polls cond every 20 ms until it holds, or fails after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	for deadline := time.Now().Add(limit); ; time.Sleep(20 * time.Millisecond) {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last: %s", what, limit, state)
		}
	}
}

// Issue 14, test 7, on real servers: two deployments with different owner
// ids on one zone. The second never changes the first one's records, not
// even while the first fails over, and reports them quarantined; it
// writes the record no one else owns.
func TestTwoDeploymentsOneZoneRealServers(t *testing.T) {
	for _, srv := range realServers {
		t.Run(srv.name, func(t *testing.T) {
			p := srv.start(t)
			rrset := func(name, typ string) []string { return servertest.RRset(t, p, zone, name, typ) }
			var prodDown, stagingDown sync.Map
			prod := startDeployment(t, quickly, p, "prod", record("www", "A", 100*time.Millisecond, &prodDown, "192.0.2.10", "192.0.2.20"))
			waitFor(t, 10*time.Second, "prod publishes www", func() (bool, string) {
				got := rrset("www", "A")
				return slices.Equal(got, []string{"60 192.0.2.10"}), fmt.Sprint(got)
			})

			staging := startDeployment(t, quickly, p, "staging",
				record("www", "A", 100*time.Millisecond, &stagingDown, "198.51.100.10"),
				record("test", "A", 100*time.Millisecond, &stagingDown, "198.51.100.12"))
			waitFor(t, 10*time.Second, "staging reports www quarantined, writes test", func() (bool, string) {
				ps := staging.m.Status().Zones[0].Providers[0]
				q := ps.Quarantined
				ok := len(q) == 1 && q[0].Record == "www.example.test. A" && strings.Contains(q[0].Error, `owned by "prod", not by "staging"`) &&
					slices.Equal(rrset("test", "A"), []string{"60 198.51.100.12"})
				return ok, fmt.Sprintf("%+v", ps)
			})

			prodDown.Store("192.0.2.10", true) // prod fails over; staging still wants its own value
			waitFor(t, 10*time.Second, "prod fails over", func() (bool, string) {
				got := rrset("www", "A")
				return slices.Equal(got, []string{"10 192.0.2.20"}), fmt.Sprint(got)
			})
			time.Sleep(10 * quickly.ReconcileInterval) // staging reconciles and retries meanwhile
			if got := rrset("www", "A"); !slices.Equal(got, []string{"10 192.0.2.20"}) {
				t.Errorf("www holds %q after staging ran on, want prod's %q", got, "10 192.0.2.20")
			}
			for _, e := range staging.of(failover.EventRecordWritten) {
				if e.Record.Name == "www" {
					t.Errorf("staging reports www written: %+v", e)
				}
			}
			if got := prod.of(failover.EventDriftRepaired); len(got) != 0 {
				t.Errorf("prod repaired drift %d times, want 0: staging never wrote www", len(got))
			}
			owners := map[string][]string{
				"_failover-owner-a.www":  {"3600 failover-owner=prod,type=A"},
				"_failover-owner-a.test": {"3600 failover-owner=staging,type=A"},
			}
			for name, want := range owners {
				if got := rrset(name, "TXT"); !slices.Equal(got, want) {
					t.Errorf("%s TXT holds %q, want %q", name, got, want)
				}
			}
		})
	}
}
