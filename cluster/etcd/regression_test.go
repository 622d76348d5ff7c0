package etcd

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/servertest"
	"github.com/dnsfailover/failover/provider/memory"
	"github.com/libdns/libdns"
)

// An instance whose host network breaks is cut off from every backend,
// and is rightly reported isolated (event, Status, the
// failover_cluster_isolated gauge). Then it loses etcd too: it keeps its
// isolation verdict while it is not connected (issue 14's attack: the
// session ended, isolation was recomputed over its own vote alone, and it
// reported itself rejoined).
func TestClusterIsolatedInstanceRejoinsWhenItLosesEtcd(t *testing.T) {
	etcd := servertest.StartEtcd(t, 3)
	zone := &memory.Provider{}
	if err := zone.AddZone(zoneName, libdns.Address{Name: "www", TTL: time.Minute, IP: netip.MustParseAddr(primary)}); err != nil {
		t.Fatal(err)
	}
	var mgs []*manager
	for _, name := range []string{"a", "b", "c"} {
		mgs = append(mgs, startManager(t, etcd, zone, name))
	}
	c := mgs[2]
	c.unreachable(primary)
	c.unreachable(backup)
	waitFor(t, 10*time.Second, "c isolated", func() bool { return c.m.Status().Cluster.SelfIsolated })
	c.cut()
	deadline := time.Now().Add(3 * ttl)
	for time.Now().Before(deadline) {
		if st := c.m.Status().Cluster; !st.SelfIsolated {
			t.Fatalf("c, reaching no backend and no etcd, says it is not isolated any more: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lent is the Cluster as failoverd lends it to each Manager across
// reloads: the Managers' Run of it holds it, the daemon (here the test)
// runs it.
type lent struct{ *Cluster }

func (lent) Run(ctx context.Context) error { <-ctx.Done(); return nil }

// failoverd keeps its etcd membership (lease, leadership) across a SIGHUP
// and lends it to the new Manager, which takes the leadership over as its
// Run starts: here a one-instance cluster (the others down for
// maintenance, or a service run as one replica with the cluster
// configured) sees its primary fail after a reload and fails over (issue
// 14's attack: the new Manager waited for a change of leadership that
// never came, and never wrote).
func TestClusterReloadedLeaderNeverTakesOver(t *testing.T) {
	etcd := servertest.StartEtcd(t, 3)
	zone := &memory.Provider{}
	if err := zone.AddZone(zoneName, libdns.Address{Name: "www", TTL: time.Minute, IP: netip.MustParseAddr(primary)}); err != nil {
		t.Fatal(err)
	}
	in := startInstance(t, etcd, "a")
	waitFor(t, 10*time.Second, "a leads", in.leads)
	start := func(prev *failover.Manager) (*failover.Manager, *vantage, func()) {
		checks := &vantage{unreachable: map[string]bool{}}
		m, err := failover.New(failover.Config{
			Zones: []failover.Zone{{Name: zoneName, Providers: []failover.Provider{zone}, Records: []failover.Record{{
				Name: "www", Type: "A", Endpoints: []failover.Endpoint{{Value: primary}, {Value: backup, Priority: 1}}, Check: checks,
				Policy: failover.Policy{Interval: 100 * time.Millisecond, FailAfter: 2, RecoverAfter: 2},
			}}}},
			ProviderTimeout: 500 * time.Millisecond,
			Cluster:         lent{in.Cluster},
		})
		if err != nil {
			t.Fatal(err)
		}
		if prev != nil {
			if err := m.CarryOver(prev, func(failover.RecordID) bool { return true }); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		return m, checks, func() { cancel(); <-done }
	}
	first, _, stop := start(nil)
	waitFor(t, 5*time.Second, "first decision", func() bool { return first.Status().Zones[0].Records[0].Decided })
	stop()
	second, checks, stop := start(first)
	defer stop()
	checks.mu.Lock()
	checks.unreachable[primary] = true
	checks.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Equal(heldValues(zone), []string{backup}) {
		if time.Now().After(deadline) {
			ep := second.Status().Zones[0].Records[0].Endpoints[0]
			t.Fatalf("5 s after the reloaded leader saw the primary down (own %v, cluster %v, Cluster leads %v): zone holds %v, want %v",
				ep.Health, ep.ClusterHealth, in.leads(), heldValues(zone), []string{backup})
		}
		time.Sleep(10 * time.Millisecond)
	}
}
