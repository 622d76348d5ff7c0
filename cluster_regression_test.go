package failover_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover"
	clustermem "github.com/dnsfailover/failover/cluster/memory"
	"github.com/dnsfailover/failover/provider/memory"
	"github.com/libdns/libdns"
)

// primary2 is a second endpoint of the most preferred tier.
const primary2 = "192.0.2.11"

// twoPrimaries gives www two endpoints of priority 0 and the backup, so
// that losing both primaries is losing most endpoints.
func twoPrimaries(c *failover.Config) {
	c.Zones[0].Records[0].Endpoints = []failover.Endpoint{{Value: primary}, {Value: primary2}, {Value: backup, Priority: 1}}
}

// A region holding most endpoints becomes unreachable from two of three
// instances, one after the other. The first to notice is (rightly, for a
// moment) isolated; once the second agrees with it they are a majority:
// isolation never lets a minority decide, so the first rejoins, the third
// is the one that differs, and the record fails over, whichever check
// finished first (issue 14's attack: both were isolated, and nothing
// failed over).
func TestClusterIsolationStaggeredMajority(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tc := newTestCluster(t, twoPrimaries, "a", "b", "c")
		waitFor(t, 10*time.Second, "both primaries published", tc.holds(primary, primary2))
		tc.unreachable(primary, true, "a")
		tc.unreachable(primary2, true, "a")
		time.Sleep(5 * time.Second) // a sees both down (two checks)
		synctest.Wait()
		tc.unreachable(primary, true, "b")
		tc.unreachable(primary2, true, "b")
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if got, want := tc.published(), []string{backup}; !slices.Equal(got, want) {
			var isolated []string
			for _, n := range tc.nodes {
				if n.m.Status().Cluster.SelfIsolated {
					isolated = append(isolated, n.name)
				}
			}
			t.Errorf("two of three instances see both primaries down: zone holds %v, want %v (instances reporting themselves isolated: %v)", got, want, isolated)
		}
		for _, n := range tc.nodes {
			if got, want := n.m.Status().Cluster.Isolated, []string{"c"}; !slices.Equal(got, want) {
				t.Errorf("%s finds %v isolated, want %v (the minority)", n.name, got, want)
			}
		}
	})
}

// During a rolling configuration change, the leader is the first to get a
// new record (api) that checks the same target as www with the same
// checker and policy, listed before www, so that one probe serves both.
// Verdicts are published under every endpoint a probe serves, and each
// endpoint reads the votes under its own name: the instances still agree
// on www, and it fails over (issue 14's attack: the probe was named by
// api's endpoint on the leader alone, which then counted its own vote of
// three).
func TestClusterSharedProbeNamedByOtherRecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tweak := func(c *failover.Config) {
			if c.Cluster.Instance() != "a" {
				return
			}
			www := c.Zones[0].Records[0]
			api := www
			api.Name = "api"
			c.Zones[0].Records = []failover.Record{api, www}
		}
		tc := newTestCluster(t, tweak, "a", "b", "c")
		tc.unreachable(primary, true, "a", "b", "c")
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if got, want := tc.published(), []string{backup}; !slices.Equal(got, want) {
			votes := tc.nodes[0].m.Status().Zones[0].Records[1].Endpoints[0].Votes
			t.Errorf("all three instances see www's primary down: zone holds %v, want %v (leader's votes on it: %v)", got, want, votes)
		}
		want := []failover.Vote{{Instance: "a", Health: failover.HealthDown}, {Instance: "b", Health: failover.HealthDown}, {Instance: "c", Health: failover.HealthDown}}
		if got := tc.nodes[0].m.Status().Zones[0].Records[1].Endpoints[0].Votes; !slices.Equal(got, want) {
			t.Errorf("leader's votes on www's primary: %v, want %v", got, want)
		}
	})
}

// A failover happened, the primary is healthy again and the failback
// delay (30 s) is running. The operator rolls out a config that renumbers
// the priorities (0/1 become 10/20: same endpoints, same order), followers
// first, the leader last. The new leader maps the decision state the old
// leader stored under the old numbers, as CarryOver maps tiers, and fails
// back when the delay ends, not before (issue 14's attack: it found no
// tier 1, and failed back at once, 25 s early).
func TestClusterTakeoverAfterTierRenumberSkipsFailbackDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tc := newTestCluster(t, nil, "a", "b", "c")
		a := tc.nodes[0]
		tc.unreachable(primary, true, "a", "b", "c")
		waitFor(t, 10*time.Second, "failover", tc.holds(backup))
		tc.unreachable(primary, false, "a", "b", "c")
		waitFor(t, 10*time.Second, "primary up again", func() bool {
			return a.m.Status().Zones[0].Records[0].Endpoints[0].ClusterHealth == failover.HealthUp
		})
		healthy := time.Now()
		renumber := func(c *failover.Config) {
			c.Zones[0].Records[0].Endpoints = []failover.Endpoint{{Value: primary, Priority: 10}, {Value: backup, Priority: 20}}
		}
		for _, old := range tc.nodes[1:3] {
			if err := old.stop(); err != nil {
				t.Fatalf("%s's Run returned %v", old.name, err)
			}
			tc.start(old.name, renumber)
			synctest.Wait()
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if err := a.stop(); err != nil {
			t.Fatalf("a's Run returned %v", err)
		}
		time.Sleep(time.Until(healthy.Add(clusterPolicy.FailbackDelay - 2*time.Second)))
		synctest.Wait()
		if got, want := tc.published(), []string{backup}; !slices.Equal(got, want) {
			t.Errorf("%v after the primary was healthy again (failback delay %v): zone holds %v, want %v until the delay has passed",
				time.Since(healthy), clusterPolicy.FailbackDelay, got, want)
		}
		waitFor(t, 5*time.Second, "failback once the delay passed", tc.holds(primary))
	})
}

// flaky fails every third check of the primary, so that it keeps failing
// now and then without ever failing FailAfter (3) checks in a row: its
// health never changes once it is up.
type flaky struct {
	mu sync.Mutex
	n  map[string]int
}

func (f *flaky) Check(_ context.Context, target string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n[target]++
	if target == primary && f.n[target]%3 == 0 {
		return errors.New("timeout")
	}
	return nil
}

// With LowerTTLOnFailing, one flaky endpoint (every third check fails, it
// never goes down) keeps the record's TTL lowered. The store's write rate
// follows health transitions and decisions, never checks: an hour of it
// writes (about) nothing (issue 14's attack: about 1,500 writes an hour,
// the unstable time stored after every failing check). A takeover then
// keeps the TTL lowered: the new leader saw the failing checks too.
func TestClusterFlakyEndpointWritesDecisionStatePerCheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tweak := func(c *failover.Config) {
			r := &c.Zones[0].Records[0]
			r.Check = &flaky{n: map[string]int{}}
			r.Policy.FailAfter = 3
			r.Policy.LowerTTLOnFailing = true
		}
		tc := newTestCluster(t, tweak, "a", "b", "c")
		time.Sleep(time.Minute)
		synctest.Wait()
		before := tc.store.Writes()
		time.Sleep(time.Hour)
		synctest.Wait()
		if got := tc.store.Writes() - before; got > 10 {
			t.Errorf("an hour with one flaky endpoint whose health never changed: got %d store writes, want (about) none", got)
		}
		a, b := tc.nodes[0], tc.nodes[1]
		if err := a.stop(); err != nil {
			t.Fatalf("a's Run returned %v", err)
		}
		stopped, before := time.Now(), tc.store.Writes()
		waitFor(t, 2*leaseTTL, "b leads", b.leads)
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := b.prov.since("set", stopped); len(got) != 0 {
			t.Errorf("b wrote %+v after taking over, want nothing (the TTL stays lowered while the endpoint keeps failing)", got)
		}
		if got := tc.store.Writes() - before; got != 0 {
			t.Errorf("b took over a decision it did not change: got %d store writes, want 0", got)
		}
	})
}

// A follower loses its store (etcd unreachable from its host) and, from
// there, the primary too. Its Status (and so the
// failover_endpoint_cluster_up gauge) does not present its own vote as the
// cluster's: the cluster health is unknown while it is not connected, and
// the quorum's again once it is (issue 14's attack: it reported the
// primary down for the cluster, one host's view).
func TestClusterDisconnectedFollowerReportsOwnVerdictAsClusterHealth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tc := newTestCluster(t, nil, "a", "b", "c")
		c := tc.nodes[2]
		c.in.Cut(true)
		tc.unreachable(primary, true, "c")
		time.Sleep(10 * time.Second)
		synctest.Wait()
		st := c.m.Status()
		ep := st.Zones[0].Records[0].Endpoints[0]
		if ep.ClusterHealth != failover.HealthUnknown || st.Cluster.Connected {
			t.Errorf("c, cut off from the store, reports the primary's cluster health %v (connected %v), want %v (not connected), while the leader sees %v and the zone holds %v",
				ep.ClusterHealth, st.Cluster.Connected, failover.HealthUnknown, tc.nodes[0].m.Status().Zones[0].Records[0].Endpoints[0].ClusterHealth, tc.published())
		}
		c.in.Cut(false)
		waitFor(t, 2*leaseTTL, "c's cluster health from the quorum again", func() bool {
			return c.m.Status().Zones[0].Records[0].Endpoints[0].ClusterHealth == failover.HealthUp
		})
	})
}

// The cluster failed over to the backup and was then stopped (all
// instances: an upgrade, a maintenance). While it was down the operator
// fixed the primary and pointed www back at it by hand. The cluster
// starts again: like a single Manager, the new leader adopts what DNS
// holds and writes nothing before its checks have spoken; the stored
// decision, which DNS no longer holds, seeds nothing (issue 14's attack:
// the leader wrote the backup back at once, and kept it a whole failback
// delay).
func TestClusterColdStartWritesStaleStoredDecision(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tc := newTestCluster(t, nil, "a", "b", "c")
		tc.unreachable(primary, true, "a", "b", "c")
		waitFor(t, 10*time.Second, "failover", tc.holds(backup))
		for _, n := range tc.nodes {
			if err := n.stop(); err != nil {
				t.Fatalf("%s's Run returned %v", n.name, err)
			}
		}
		time.Sleep(time.Hour)
		if _, err := tc.zone.SetRecords(context.Background(), clusterZone, []libdns.Record{libdns.Address{Name: "www", TTL: time.Minute, IP: netip.MustParseAddr(primary)}}); err != nil {
			t.Fatal(err)
		}
		started := time.Now()
		for _, name := range []string{"a", "b", "c"} {
			tc.start(name, nil)
			synctest.Wait()
		}
		for time.Since(started) < clusterPolicy.FailbackDelay+10*time.Second {
			if got, want := tc.published(), []string{primary}; !slices.Equal(got, want) {
				t.Fatalf("%v after the cluster started again, every instance reaching the primary: zone holds %v, want %v (what the operator set while it was down)",
					time.Since(started), got, want)
			}
			time.Sleep(100 * time.Millisecond)
			synctest.Wait()
		}
	})
}

// An isolated instance that then loses its store keeps its isolation
// verdict while it is not connected (it sees its own vote alone: nothing
// to judge by), and reports no rejoining until it is connected again and
// agrees with the others (issue 14's attack: it reported itself rejoined
// on losing etcd).
func TestClusterIsolatedInstanceRejoinsWhenItLosesEtcd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tc := newTestCluster(t, nil, "a", "b", "c")
		c := tc.nodes[2]
		tc.unreachable(primary, true, "c")
		tc.unreachable(backup, true, "c")
		waitFor(t, 10*time.Second, "c isolated", func() bool { return c.m.Status().Cluster.SelfIsolated })
		c.in.Cut(true)
		time.Sleep(time.Minute)
		synctest.Wait()
		tc.unreachable(primary, false, "c") // its own verdicts change while it sees no other
		time.Sleep(5 * time.Second)
		synctest.Wait()
		tc.unreachable(primary, true, "c")
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if st := c.m.Status().Cluster; !st.SelfIsolated || st.Connected {
			t.Errorf("c, reaching no backend and no store: status %+v, want isolated, not connected", st)
		}
		c.in.Cut(false)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if st := c.m.Status().Cluster; !st.SelfIsolated || !st.Connected {
			t.Errorf("c, connected again, still reaching no backend: status %+v, want isolated, connected", st)
		}
		if got := c.of(failover.EventInstanceRejoined); len(got) != 0 {
			t.Errorf("c reported rejoining %v, want nothing while it reaches no backend", got)
		}
		tc.unreachable(primary, false, "c")
		tc.unreachable(backup, false, "c")
		waitFor(t, 10*time.Second, "c rejoined", func() bool { return len(c.of(failover.EventInstanceRejoined)) == 1 })
	})
}

// lent is a cluster instance as failoverd lends it to each Manager across
// reloads: the Managers' Run of it holds it, the daemon (here the test)
// runs it. It reports no change: as the etcd Cluster, it does not report
// an instance's own verdicts back to it, and a single instance that leads
// sees nothing else change.
type lent struct{ *memInstance }

func (lent) Run(ctx context.Context) error { <-ctx.Done(); return nil }

func (lent) Changed() <-chan struct{} { return nil }

// lentRun is one Manager after another on one lent cluster instance, as
// failoverd runs them across reloads.
type lentRun struct {
	t    *testing.T
	in   *clustermem.Instance
	zone *memory.Provider
}

// newLentRun starts a one-instance cluster, run by the test, over a zone
// that publishes the primary, and returns once the instance leads.
func newLentRun(t *testing.T) *lentRun {
	store := clustermem.NewStore(leaseTTL)
	zone := &memory.Provider{}
	if err := zone.AddZone(clusterZone, libdns.Address{Name: "www", TTL: time.Minute, IP: netip.MustParseAddr(primary)}); err != nil {
		t.Fatal(err)
	}
	in := store.Instance("a")
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- in.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-ran })
	waitFor(t, leaseTTL, "the instance leads", func() bool { _, _, ok := in.Lead(0); return ok })
	return &lentRun{t, in, zone}
}

// start runs a Manager of www with endpoints eps on the lent instance,
// carrying prev's state over when not nil, and returns it with its checks
// and what stops it.
func (l *lentRun) start(prev *failover.Manager, eps []failover.Endpoint) (*failover.Manager, *vantage, func()) {
	t := l.t
	checks := &vantage{unreachable: map[string]bool{}}
	m, err := failover.New(failover.Config{
		Zones: []failover.Zone{{Name: clusterZone, Providers: []failover.Provider{l.zone}, Records: []failover.Record{{
			Name: "www", Type: "A", Endpoints: eps, Check: checks, Policy: clusterPolicy,
		}}}},
		ProviderTimeout: 500 * time.Millisecond,
		Cluster:         lent{l.in},
	})
	if err != nil {
		t.Fatal(err)
	}
	if prev != nil {
		if err := m.CarryOver(prev, func(failover.RecordID) bool { return true }); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var once sync.Once
	return m, checks, func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run returned %v", err)
			}
		})
	}
}

// holds reports whether the zone holds values for www.
func (l *lentRun) holds(values ...string) func() bool {
	return func() bool {
		var got []string
		for _, r := range l.zone.Records(clusterZone) {
			got = append(got, r.RR().Data)
		}
		slices.Sort(got)
		return slices.Equal(got, values)
	}
}

var wwwEndpoints = []failover.Endpoint{{Value: primary}, {Value: backup, Priority: 1}}

// A Manager that starts with a Cluster that already leads (failoverd's
// reload lends the same one) takes the leadership over at once, and reads
// the votes already there: here a one-instance cluster fails over after a
// reload (issue 14's attack: it waited for a change that never came, and
// never wrote).
func TestClusterReloadedLeaderNeverTakesOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLentRun(t)
		first, _, stop := l.start(nil, wwwEndpoints)
		waitFor(t, 10*time.Second, "first decision", func() bool { return first.Status().Zones[0].Records[0].Decided })
		stop()
		_, checks, stop := l.start(first, wwwEndpoints)
		defer stop()
		checks.set(primary, true)
		waitFor(t, 10*time.Second, "failover by the reloaded leader", l.holds(backup))
	})
}

// A leader reloaded with a configuration that renumbers the tiers, during
// a failback delay, loads the decision state it stored under the old
// numbers mapped to the new ones: the delay runs on, and it fails back
// when it ends, not before.
func TestClusterReloadedLeaderMapsStoredDecision(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLentRun(t)
		first, checks, stop := l.start(nil, wwwEndpoints)
		checks.set(primary, true)
		waitFor(t, 10*time.Second, "failover", l.holds(backup))
		checks.set(primary, false)
		waitFor(t, 10*time.Second, "primary up again", func() bool {
			return first.Status().Zones[0].Records[0].Endpoints[0].ClusterHealth == failover.HealthUp
		})
		healthy := time.Now()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		stop()
		_, _, stop = l.start(first, []failover.Endpoint{{Value: primary, Priority: 10}, {Value: backup, Priority: 20}})
		defer stop()
		time.Sleep(time.Until(healthy.Add(clusterPolicy.FailbackDelay - 2*time.Second)))
		synctest.Wait()
		if !l.holds(backup)() {
			t.Errorf("%v after the primary was healthy again (failback delay %v), reloaded with renumbered tiers: failed back, want the backup until the delay has passed",
				time.Since(healthy), clusterPolicy.FailbackDelay)
		}
		waitFor(t, 5*time.Second, "failback once the delay passed", l.holds(primary))
	})
}
