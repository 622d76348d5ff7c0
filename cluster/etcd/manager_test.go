package etcd

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/servertest"
	"github.com/dnsfailover/failover/provider/memory"
	"github.com/libdns/libdns"
)

const (
	zoneName = "example.test."
	primary  = "192.0.2.10"
	backup   = "192.0.2.20"
)

// countingProvider is one Manager's view of the shared zone: it times the
// calls that Manager makes.
type countingProvider struct {
	*memory.Provider
	mu    sync.Mutex
	calls []time.Time
}

func (p *countingProvider) Name() string { return "memory" }

func (p *countingProvider) note() {
	p.mu.Lock()
	p.calls = append(p.calls, time.Now())
	p.mu.Unlock()
}

func (p *countingProvider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	p.note()
	return p.Provider.GetRecords(ctx, zone)
}

func (p *countingProvider) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	p.note()
	return p.Provider.SetRecords(ctx, zone, recs)
}

// since counts the calls made at or after t.
func (p *countingProvider) since(t time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.calls {
		if !c.Before(t) {
			n++
		}
	}
	return n
}

// vantage fails the checks of the targets set unreachable.
type vantage struct {
	mu          sync.Mutex
	unreachable map[string]bool
}

func (v *vantage) Check(_ context.Context, target string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.unreachable[target] {
		return fmt.Errorf("%s unreachable", target)
	}
	return nil
}

// manager is a failover Manager of a cluster on etcd, running until the
// test ends.
type manager struct {
	*instance
	m      *failover.Manager
	prov   *countingProvider
	checks *vantage
}

func startManager(t *testing.T, etcd *servertest.EtcdCluster, zone *memory.Provider, name string) *manager {
	t.Helper()
	mg := &manager{instance: newInstance(t, etcd, name), prov: &countingProvider{Provider: zone}, checks: &vantage{unreachable: map[string]bool{}}}
	m, err := failover.New(failover.Config{
		Zones: []failover.Zone{{Name: zoneName, Providers: []failover.Provider{mg.prov}, Records: []failover.Record{{
			Name: "www", Type: "A", Endpoints: []failover.Endpoint{{Value: primary}, {Value: backup, Priority: 1}}, Check: mg.checks,
			Policy: failover.Policy{Interval: 100 * time.Millisecond, FailAfter: 2, RecoverAfter: 2},
		}}}},
		ProviderTimeout: 500 * time.Millisecond,
		Cluster:         mg.Cluster,
	})
	if err != nil {
		t.Fatal(err)
	}
	mg.m = m
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: Run returned %v", name, err)
		}
	})
	return mg
}

func (mg *manager) unreachable(target string) {
	mg.checks.mu.Lock()
	mg.checks.unreachable[target] = true
	mg.checks.mu.Unlock()
}

func heldValues(zone *memory.Provider) []string {
	var out []string
	for _, r := range zone.Records(zoneName) {
		if rr := r.RR(); rr.Name == "www" && rr.Type == "A" {
			out = append(out, rr.Data)
		}
	}
	slices.Sort(out)
	return out
}

// Three Managers on a real 3-member etcd: at rest they make no etcd
// proposal at all; when the leader's session dies (etcd unreachable from
// it), another takes over within the lease TTL and a second, and fails
// over when the backend fails, while the old leader makes no provider
// call once its lease is short.
func TestManagersTakeOverOnEtcd(t *testing.T) {
	etcd := servertest.StartEtcd(t, 3)
	zone := &memory.Provider{}
	if err := zone.AddZone(zoneName, libdns.Address{Name: "www", TTL: time.Minute, IP: netip.MustParseAddr(primary)}); err != nil {
		t.Fatal(err)
	}
	var mgs []*manager
	for _, name := range []string{"a", "b", "c"} {
		mgs = append(mgs, startManager(t, etcd, zone, name))
	}
	leaderOf := func(among []*manager) *manager {
		var out []*manager
		for _, mg := range among {
			if mg.leads() {
				out = append(out, mg)
			}
		}
		if len(out) != 1 {
			return nil
		}
		return out[0]
	}
	waitFor(t, 10*time.Second, "one leader, and three votes on the primary", func() bool {
		l := leaderOf(mgs)
		if l == nil {
			return false
		}
		st := l.m.Status()
		ep := st.Zones[0].Records[0].Endpoints[0]
		return st.Zones[0].Records[0].Decided && len(ep.Votes) == 3 && ep.ClusterHealth == failover.HealthUp
	})
	old := leaderOf(mgs)

	waitQuiet(t, etcd)
	proposals := func() float64 { return etcd.Members[0].Metric(t, "etcd_server_proposals_committed_total") }
	before := proposals()
	rest := 3 * ttl
	time.Sleep(rest) // measuring what happens over a span of time, not waiting for an event
	if got := proposals() - before; got != 0 {
		t.Errorf("three Managers at rest for %v: got %v etcd proposals, want 0", rest, got)
	}

	var rest2 []*manager
	for _, mg := range mgs {
		if mg != old {
			rest2 = append(rest2, mg)
		}
	}
	cut := time.Now()
	old.cut()
	took := waitFor(t, ttl+2*time.Second, "a new leader", func() bool { return leaderOf(rest2) != nil })
	if took > ttl+time.Second {
		t.Errorf("takeover took %v, want at most the lease TTL %v + 1 s", took, ttl)
	}
	t.Logf("leader's session cut to a new leader: %v (TTL %v)", took, ttl)
	waitQuiet(t, etcd)
	before = proposals()
	for _, mg := range mgs {
		mg.unreachable(primary)
	}
	failed := time.Now()
	waitFor(t, 5*time.Second, "failover by the new leader", func() bool { return slices.Equal(heldValues(zone), []string{backup}) })
	t.Logf("backend failed to the zone holding the backup: %v", time.Since(failed))
	waitQuiet(t, etcd)
	if got := proposals() - before; got != 3 {
		t.Errorf("one failover seen by two live instances: got %v etcd proposals, want 3 (a verdict each, and the decision)", got)
	}
	if n := old.prov.since(cut.Add(ttl - 500*time.Millisecond)); n != 0 {
		t.Errorf("the old leader called the provider %d times after its lease was short, want none", n)
	}
	newLeader := leaderOf(rest2)
	if newLeader == nil || newLeader.prov.since(cut) == 0 {
		t.Errorf("the new leader made no provider call")
	}
	old.heal()
	waitFor(t, 10*time.Second, "the old leader rejoins as a follower", func() bool {
		st := old.m.Status().Cluster
		return st.Connected && !st.Leading && len(st.Instances) == 3
	})
}
