package failover_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover"
	clustermem "github.com/dnsfailover/failover/cluster/memory"
	"github.com/dnsfailover/failover/provider/memory"
	"github.com/libdns/libdns"
)

const (
	clusterZone = "example.test."
	primary     = "192.0.2.10"
	backup      = "192.0.2.20"
	leaseTTL    = 2 * time.Second
)

var www = failover.RecordID{Zone: clusterZone, Name: "www", Type: "A"}

// countingProvider is one instance's view of the shared zone: it counts
// and times the calls that instance makes.
type countingProvider struct {
	*memory.Provider
	mu    sync.Mutex
	calls []*providerCall
	hang  hang
}

type providerCall struct {
	method string
	at     time.Time
	values []string   // what SetRecords wrote
	ended  *time.Time // when the call's context ended (nil: not yet), for writes while hang is set
}

func (p *countingProvider) Name() string { return "memory" }

func (p *countingProvider) note(method string, recs []libdns.Record) {
	c := providerCall{method: method, at: time.Now()}
	for _, r := range recs {
		c.values = append(c.values, r.RR().Data)
	}
	p.mu.Lock()
	p.calls = append(p.calls, &c)
	p.mu.Unlock()
}

func (p *countingProvider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	p.note("get", nil)
	return p.Provider.GetRecords(ctx, zone)
}

func (p *countingProvider) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	p.note("set", recs)
	p.mu.Lock()
	hang := p.hang
	c := p.calls[len(p.calls)-1]
	p.mu.Unlock()
	switch hang {
	case hangUntilDone:
		<-ctx.Done()
		p.ended(c)
		return nil, ctx.Err()
	case hangIgnoringContext:
		context.AfterFunc(ctx, func() { p.ended(c) })
		time.Sleep(time.Minute)
		return nil, ctx.Err()
	}
	return p.Provider.SetRecords(ctx, zone, recs)
}

// hang says how SetRecords hangs, if it does.
type hang int

const (
	noHang              hang = iota
	hangUntilDone            // until its context ends
	hangIgnoringContext      // a minute, whatever its context says
)

func (p *countingProvider) setHang(h hang) {
	p.mu.Lock()
	p.hang = h
	p.mu.Unlock()
}

func (p *countingProvider) ended(c *providerCall) {
	now := time.Now()
	p.mu.Lock()
	c.ended = &now
	p.mu.Unlock()
}

func (p *countingProvider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	p.note("delete", recs)
	return p.Provider.DeleteRecords(ctx, zone, recs)
}

// since returns the calls of method (any when empty) made at or after t.
func (p *countingProvider) since(method string, t time.Time) []providerCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []providerCall
	for _, c := range p.calls {
		if (method == "" || c.method == method) && !c.at.Before(t) {
			out = append(out, *c)
		}
	}
	return out
}

// vantage is one instance's checks: the targets it cannot reach fail.
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

func (v *vantage) set(target string, unreachable bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.unreachable[target] = unreachable
}

// node is one Manager of a cluster under test.
type node struct {
	name   string
	in     *clustermem.Instance
	m      *failover.Manager
	prov   *countingProvider
	checks *vantage
	mu     sync.Mutex
	events []failover.Event
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error // what Run returned
}

func (n *node) of(k failover.EventKind) []failover.Event {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []failover.Event
	for _, e := range n.events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// stop ends the node's Run and returns what it returned; it may be
// called again.
func (n *node) stop() error {
	n.once.Do(func() {
		n.cancel()
		n.err = <-n.done
	})
	return n.err
}

// leads reports whether the node's write gate is open.
func (n *node) leads() bool { _, _, ok := n.in.Lead(0); return ok }

// testCluster is several Managers sharing one memory cluster Store and
// one memory zone, each checking from its own vantage point.
type testCluster struct {
	t     *testing.T
	store *clustermem.Store
	zone  *memory.Provider
	nodes []*node
}

// clusterPolicy checks every second; two failures mark an endpoint down.
var clusterPolicy = failover.Policy{Interval: time.Second, FailAfter: 2, RecoverAfter: 2, FailbackDelay: 30 * time.Second}

// newTestCluster starts one Manager per name, in order (the first leads),
// over a zone that publishes the primary, each Manager's Config changed
// by tweak when not nil, and returns 5 s later, every endpoint checked and
// the record decided. It must be called inside synctest.Test.
func newTestCluster(t *testing.T, tweak func(*failover.Config), names ...string) *testCluster {
	t.Helper()
	tc := &testCluster{t: t, store: clustermem.NewStore(leaseTTL), zone: &memory.Provider{}}
	if err := tc.zone.AddZone(clusterZone, libdns.Address{Name: "www", TTL: time.Minute, IP: netip.MustParseAddr(primary)}); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		tc.start(name, tweak)
		synctest.Wait()
	}
	time.Sleep(5 * time.Second)
	synctest.Wait()
	return tc
}

// start starts a Manager named name in the cluster.
func (tc *testCluster) start(name string, tweak func(*failover.Config)) *node {
	return tc.startAfter(name, tweak, nil)
}

// startAfter is start, calling prepare (when not nil) on the new Manager
// before its Run starts, as a reload does with CarryOver.
func (tc *testCluster) startAfter(name string, tweak func(*failover.Config), prepare func(*failover.Manager)) *node {
	t := tc.t
	n := &node{name: name, in: tc.store.Instance(name), prov: &countingProvider{Provider: tc.zone}, checks: &vantage{unreachable: map[string]bool{}}, done: make(chan error, 1)}
	cfg := failover.Config{
		Zones: []failover.Zone{{Name: clusterZone, Providers: []failover.Provider{n.prov}, Records: []failover.Record{{
			Name: "www", Type: "A",
			Endpoints: []failover.Endpoint{{Value: primary}, {Value: backup, Priority: 1}},
			Check:     n.checks, Policy: clusterPolicy,
		}}}},
		ProviderTimeout: 500 * time.Millisecond,
		Cluster:         n.in,
		OnEvent: func(e failover.Event) {
			n.mu.Lock()
			n.events = append(n.events, e)
			n.mu.Unlock()
		},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	m, err := failover.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	n.m = m
	if prepare != nil {
		prepare(m)
	}
	ctx, cancel := context.WithCancel(t.Context())
	n.cancel = cancel
	go func() { n.done <- m.Run(ctx) }()
	t.Cleanup(func() {
		if err := n.stop(); err != nil {
			t.Errorf("%s: Run returned %v, want nil", name, err)
		}
	})
	tc.nodes = append(tc.nodes, n)
	return n
}

// published returns what the zone holds for www.
func (tc *testCluster) published() []string {
	var out []string
	for _, r := range tc.zone.Records(clusterZone) {
		if rr := r.RR(); rr.Name == "www" && rr.Type == "A" {
			out = append(out, rr.Data)
		}
	}
	slices.Sort(out)
	return out
}

// unreachable makes target unreachable (or reachable again) from the
// nodes named.
func (tc *testCluster) unreachable(target string, down bool, names ...string) {
	for _, n := range tc.nodes {
		if slices.Contains(names, n.name) {
			n.checks.set(target, down)
		}
	}
}

// waitFor advances the fake clock by steps of 100 ms until cond holds,
// failing after within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
	}
	return time.Since(start)
}

func (tc *testCluster) holds(values ...string) func() bool {
	return func() bool { return slices.Equal(tc.published(), values) }
}

// Only the leader calls the provider (reads included) and reports
// decisions; the followers make no provider call at all, and report
// their own checks only.
func TestClusterOnlyLeaderWrites(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tc := newTestCluster(t, nil, "a", "b", "c")
		tc.unreachable(primary, true, "a", "b", "c")
		waitFor(t, 10*time.Second, "failover to the backup", tc.holds(backup))
		time.Sleep(10 * time.Second)
		synctest.Wait()

		for _, n := range tc.nodes {
			calls, sets := len(n.prov.since("", time.Time{})), len(n.prov.since("set", time.Time{}))
			decided, written, down := len(n.of(failover.EventRecordDecided)), len(n.of(failover.EventRecordWritten)), len(n.of(failover.EventEndpointDown))
			if n.name == "a" {
				if sets != 1 || decided != 1 || written != 1 {
					t.Errorf("leader a: got %d writes, %d record-decided, %d record-written, want 1 each", sets, decided, written)
				}
			} else if calls != 0 || decided != 0 || written != 0 {
				t.Errorf("follower %s: got %d provider calls, %d record-decided, %d record-written, want none", n.name, calls, decided, written)
			}
			if down != 1 {
				t.Errorf("%s: got %d endpoint-down events, want 1 (its own check)", n.name, down)
			}
			st := n.m.Status()
			if st.Cluster == nil || st.Cluster.Leader != "a" || st.Cluster.Leading != (n.name == "a") || len(st.Cluster.Instances) != 3 {
				t.Errorf("%s: cluster status %+v, want leader a of 3 instances", n.name, st.Cluster)
			}
			ep := st.Zones[0].Records[0].Endpoints[0]
			if ep.ClusterHealth != failover.HealthDown || len(ep.Votes) != 3 {
				t.Errorf("%s: primary's cluster health %v with votes %v, want down with 3 votes", n.name, ep.ClusterHealth, ep.Votes)
			}
		}
	})
}

// The quorum of vantage points decides: one instance of three that cannot
// reach the primary fails nothing over; two do.
func TestClusterVantageQuorum(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tc := newTestCluster(t, nil, "a", "b", "c")
		tc.unreachable(primary, true, "c")
		time.Sleep(20 * time.Second)
		synctest.Wait()
		if got := tc.published(); !slices.Equal(got, []string{primary}) {
			t.Fatalf("one of three cannot reach the primary: zone holds %v, want %v", got, []string{primary})
		}
		if got := tc.nodes[2].m.Status().Zones[0].Records[0].Endpoints[0]; got.Health != failover.HealthDown || got.ClusterHealth != failover.HealthUp {
			t.Errorf("c's own verdict %v, cluster health %v, want down and up", got.Health, got.ClusterHealth)
		}
		before := time.Now()
		tc.unreachable(primary, true, "b")
		took := waitFor(t, 10*time.Second, "failover once two of three see the primary down", tc.holds(backup))
		if want := 2 * time.Second; took > want+time.Second {
			t.Errorf("failover took %v after the second instance lost the primary, want about %v (two checks)", took, want)
		}
		if sets := tc.nodes[0].prov.since("set", before); len(sets) != 1 {
			t.Errorf("leader wrote %d times, want 1", len(sets))
		}
	})
}

// An instance that reaches nothing the others reach reports itself
// isolated, and its verdicts fail nothing over, even where they would tip
// the quorum; once it reaches them again, it rejoins.
func TestClusterIsolatedInstance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tc := newTestCluster(t, nil, "a", "b", "c")
		tc.unreachable(primary, true, "c")
		tc.unreachable(backup, true, "c")
		c := tc.nodes[2]
		waitFor(t, 10*time.Second, "c isolated", func() bool { return len(c.of(failover.EventInstanceIsolated)) == 1 })
		if st := c.m.Status().Cluster; !st.SelfIsolated || !slices.Equal(st.Isolated, []string{"c"}) {
			t.Errorf("c's status %+v, want itself isolated", st)
		}
		for _, n := range tc.nodes[:2] {
			if st := n.m.Status().Cluster; st.SelfIsolated || !slices.Equal(st.Isolated, []string{"c"}) {
				t.Errorf("%s's status %+v, want c isolated, not itself", n.name, st)
			}
			if got := n.of(failover.EventInstanceIsolated); len(got) != 0 {
				t.Errorf("%s reported itself isolated: %v", n.name, got)
			}
		}
		// b loses the primary too: with c's vote, two of three would fail
		// it over; c's vote is left out, so one of two does not.
		tc.unreachable(primary, true, "b")
		time.Sleep(20 * time.Second)
		synctest.Wait()
		if got := tc.published(); !slices.Equal(got, []string{primary}) {
			t.Errorf("with the isolated instance's vote left out: zone holds %v, want %v", got, []string{primary})
		}
		tc.unreachable(primary, false, "b", "c")
		tc.unreachable(backup, false, "c")
		waitFor(t, 10*time.Second, "c rejoined", func() bool { return len(c.of(failover.EventInstanceRejoined)) == 1 })
		if st := c.m.Status().Cluster; st.SelfIsolated || len(st.Isolated) != 0 {
			t.Errorf("c's status after rejoining %+v, want nobody isolated", st)
		}
	})
}

// When the leader stops, or crashes (its lease is neither renewed nor
// given back), another instance writes the next failover within the
// lease TTL; the crashed leader makes no provider call once its lease is
// short of ProviderTimeout.
func TestClusterTakeover(t *testing.T) {
	for _, crash := range []bool{false, true} {
		t.Run(fmt.Sprintf("crash=%v", crash), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tc := newTestCluster(t, nil, "a", "b", "c")
				a, b := tc.nodes[0], tc.nodes[1]
				gone := time.Now()
				if crash {
					a.in.Cut(true)
				} else if err := a.stop(); err != nil {
					t.Fatalf("a's Run returned %v", err)
				}
				took := waitFor(t, 2*leaseTTL, "b leads", b.leads)
				if took > leaseTTL+leaseTTL/10 {
					t.Errorf("b leads %v after a went, want within the lease TTL %v", took, leaseTTL)
				}
				if !crash && took > 500*time.Millisecond {
					t.Errorf("b leads %v after a stopped (it gives its lease back), want at once", took)
				}
				tc.unreachable(primary, true, "a", "b", "c")
				waitFor(t, 10*time.Second, "failover by b", tc.holds(backup))
				if got := b.prov.since("set", gone); len(got) != 1 {
					t.Errorf("b wrote %d times, want 1", len(got))
				}
				if got := a.prov.since("", gone.Add(leaseTTL-500*time.Millisecond)); len(got) != 0 {
					t.Errorf("a called the provider %d times once its lease was short, want none: %+v", len(got), got)
				}
				if got := b.of(failover.EventRecordDecided); len(got) != 1 {
					t.Errorf("b reported %d decisions, want 1 (the failover)", len(got))
				}
			})
		})
	}
}

// An override set through a follower is applied by the leader, and ends
// when it expires; the leader alone reports the expiry.
func TestClusterOverrideThroughFollower(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tc := newTestCluster(t, nil, "a", "b", "c")
		a, b := tc.nodes[0], tc.nodes[1]
		set := time.Now()
		if err := b.m.SetOverride(www, primary, failover.ForceDown, time.Minute); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := tc.published(); !slices.Equal(got, []string{backup}) {
			t.Errorf("after a drain through b: zone holds %v, want %v", got, []string{backup})
		}
		if got := a.m.Status().Zones[0].Records[0].Endpoints[0]; got.Override != failover.ForceDown {
			t.Errorf("leader's status shows override %v, want force-down", got.Override)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		ended := a.of(failover.EventOverrideEnded)
		if len(ended) != 1 || !ended[0].Time.Equal(set.Add(time.Minute)) {
			t.Errorf("leader's override-ended events %v, want one at the expiry", ended)
		}
		for _, n := range tc.nodes[1:] {
			if got := n.of(failover.EventOverrideEnded); len(got) != 0 {
				t.Errorf("follower %s reported the expiry: %v", n.name, got)
			}
		}
		waitFor(t, clusterPolicy.FailbackDelay+2*time.Second, "failback once the drain ended", tc.holds(primary))
	})
}

// A failback requested through a follower is taken by the leader at once.
func TestClusterFailbackThroughFollower(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tc := newTestCluster(t, func(c *failover.Config) { c.Zones[0].Records[0].Policy.ManualFailback = true }, "a", "b", "c")
		tc.unreachable(primary, true, "a", "b", "c")
		waitFor(t, 10*time.Second, "failover", tc.holds(backup))
		tc.unreachable(primary, false, "a", "b", "c")
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := tc.published(); !slices.Equal(got, []string{backup}) {
			t.Fatalf("manual failback not requested: zone holds %v, want %v", got, []string{backup})
		}
		if err := tc.nodes[2].m.Failback(www); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := tc.published(); !slices.Equal(got, []string{primary}) {
			t.Errorf("after a failback request through c: zone holds %v, want %v", got, []string{primary})
		}
	})
}

// A takeover during a failback delay keeps the delay: the new leader
// fails back when the old one would have, not a whole delay after taking
// over, and writes nothing before, DNS holding the decision already.
func TestClusterTakeoverKeepsFailbackDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tc := newTestCluster(t, nil, "a", "b", "c")
		a, b := tc.nodes[0], tc.nodes[1]
		tc.unreachable(primary, true, "a", "b", "c")
		waitFor(t, 10*time.Second, "failover", tc.holds(backup))
		tc.unreachable(primary, false, "a", "b", "c")
		waitFor(t, 10*time.Second, "primary up again", func() bool {
			return a.m.Status().Zones[0].Records[0].Endpoints[0].ClusterHealth == failover.HealthUp
		})
		healthy := time.Now()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if err := a.stop(); err != nil {
			t.Fatalf("a's Run returned %v", err)
		}
		waitFor(t, 2*leaseTTL, "b leads", b.leads)
		waitFor(t, 2*leaseTTL, "b's status shows the failback pending", func() bool {
			return b.m.Status().Zones[0].Records[0].Decided
		})
		if got := b.prov.since("", time.Time{}); len(got) != 1 || got[0].method != "get" {
			t.Errorf("b's provider calls after taking over: %+v, want one read (DNS holds the decision)", got)
		}
		waitFor(t, clusterPolicy.FailbackDelay, "failback by b", tc.holds(primary))
		if at := time.Since(healthy); at > clusterPolicy.FailbackDelay+time.Second {
			t.Errorf("failback %v after the primary was healthy again, want the delay %v (not restarted by the takeover)", at, clusterPolicy.FailbackDelay)
		}
		if got := b.prov.since("set", time.Time{}); len(got) != 1 {
			t.Errorf("b wrote %d times, want 1 (the failback)", len(got))
		}
		if got := b.of(failover.EventRecordDecided); len(got) != 1 || !slices.Equal(got[0].Values, []string{primary}) {
			t.Errorf("b's decisions %v, want the failback alone", got)
		}
	})
}

// At rest, a cluster writes nothing to its store: verdicts and decision
// state travel on change only.
func TestClusterStoreWritesAtRest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tc := newTestCluster(t, nil, "a", "b", "c")
		time.Sleep(10 * time.Second)
		synctest.Wait()
		before := tc.store.Writes()
		time.Sleep(time.Hour)
		synctest.Wait()
		if got := tc.store.Writes() - before; got != 0 {
			t.Errorf("an hour at rest: got %d store writes, want 0", got)
		}
		before = tc.store.Writes()
		tc.unreachable(primary, true, "a", "b", "c")
		waitFor(t, 10*time.Second, "failover", tc.holds(backup))
		time.Sleep(time.Minute)
		synctest.Wait()
		// One verdict per instance, and the decision; at most one more
		// decision state for the TTL restored.
		if got := tc.store.Writes() - before; got < 4 || got > 5 {
			t.Errorf("one failover: got %d store writes, want 3 verdicts and the decision (4, or 5 with the TTL's restore)", got)
		}
	})
}

// A leader cut off from the store makes no provider call once its lease
// is short of ProviderTimeout, whatever its own checks see, and says why
// in its Status; the others, which reach the primary, keep it.
func TestClusterLostLeaseNoProviderCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tc := newTestCluster(t, nil, "a", "b", "c")
		a := tc.nodes[0]
		cut := time.Now()
		a.in.Cut(true)
		tc.unreachable(primary, true, "a")
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := a.prov.since("", cut.Add(leaseTTL-500*time.Millisecond)); len(got) != 0 {
			t.Errorf("a called the provider %d times after its lease was short, want none: %+v", len(got), got)
		}
		if got := tc.published(); !slices.Equal(got, []string{primary}) {
			t.Errorf("zone holds %v, want %v", got, []string{primary})
		}
		if st := a.m.Status().Cluster; st.Connected || st.Leading || st.Err == "" {
			t.Errorf("a's cluster status %+v, want not connected, not leading, with a reason", st)
		}
		if got := a.of(failover.EventProviderCallFailed); len(got) != 0 {
			t.Errorf("a reported failed provider calls for not leading: %v", got)
		}
	})
}

// A reload (a new Manager carrying the old one's state over) tells the
// cluster its verdicts at once: the others count its vote, and nothing is
// decided or written again.
func TestClusterReloadCarriesVerdicts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tc := newTestCluster(t, nil, "a", "b", "c")
		tc.unreachable(primary, true, "a", "b", "c")
		waitFor(t, 10*time.Second, "failover", tc.holds(backup))
		time.Sleep(5 * time.Second)
		synctest.Wait()
		c := tc.nodes[2]
		if err := c.stop(); err != nil {
			t.Fatalf("c's Run returned %v", err)
		}
		reloaded := time.Now()
		tc.startAfter("c", nil, func(m *failover.Manager) {
			if err := m.CarryOver(c.m, func(failover.RecordID) bool { return true }); err != nil {
				t.Fatalf("CarryOver: %v", err)
			}
		})
		synctest.Wait()
		votes := tc.nodes[0].m.Status().Zones[0].Records[0].Endpoints[0].Votes
		want := []failover.Vote{{Instance: "a", Health: failover.HealthDown}, {Instance: "b", Health: failover.HealthDown}, {Instance: "c", Health: failover.HealthDown}}
		if !slices.Equal(votes, want) {
			t.Errorf("leader sees votes %v right after c's reload, want %v", votes, want)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		for _, n := range tc.nodes {
			if got := n.prov.since("set", reloaded); len(got) != 0 {
				t.Errorf("%s wrote %d times after the reload, want none", n.name, len(got))
			}
		}
		if got := tc.nodes[0].of(failover.EventRecordDecided); len(got) != 1 {
			t.Errorf("the leader reported %d decisions, want 1 (the failover)", len(got))
		}
	})
}

// A leader whose lease ends during a hung write: every call it made had
// its context end before its lease did, nothing is started by it with
// less than ProviderTimeout of lease left, and the next leader's first
// call comes after all that: two writers never overlap, even with a
// provider that ignores its context (the abandoned call's context has
// ended; what the provider does with it is beyond reach).
func TestClusterLeaseEndsDuringHungWrite(t *testing.T) {
	for name, h := range map[string]hang{"until its context ends": hangUntilDone, "ignoring its context": hangIgnoringContext} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tc := newTestCluster(t, func(c *failover.Config) { c.ProviderTimeout = time.Second }, "a", "b", "c")
				a, b := tc.nodes[0], tc.nodes[1]
				a.prov.setHang(h)
				tc.unreachable(primary, true, "a", "b", "c")
				waitFor(t, 10*time.Second, "a's write", func() bool { return len(a.prov.since("set", time.Time{})) > 0 })
				a.in.Cut(true)
				cut := time.Now()
				waitFor(t, 10*time.Second, "failover by b", tc.holds(backup))
				time.Sleep(10 * time.Second)
				synctest.Wait()

				first := b.prov.since("set", time.Time{})[0].at
				for _, c := range a.prov.since("", time.Time{}) {
					if c.method == "set" && (c.ended == nil || c.ended.After(cut.Add(leaseTTL))) {
						t.Errorf("a's write at %v: context ended at %v, want by its lease's end, %v at the latest", c.at, c.ended, cut.Add(leaseTTL))
					}
					if c.ended != nil && !c.ended.Before(first) {
						t.Errorf("a's call at %v ended at %v, want before b's first write at %v", c.at, c.ended, first)
					}
					if c.at.After(cut.Add(leaseTTL - time.Second)) {
						t.Errorf("a called the provider at %v, with less than ProviderTimeout of lease left (cut at %v)", c.at, cut)
					}
				}
				time.Sleep(time.Minute) // the abandoned call returns
				synctest.Wait()
			})
		})
	}
}

// deposable is a cluster instance whose leadership a test can take away
// and give back (under a new term) at any instant, as an etcd election
// may while a write is under way.
type deposable struct {
	*memInstance
	changed chan struct{}

	mu      sync.Mutex
	deposed bool
	bump    int64 // added to the store's term: a leadership given back is a new one
	lead    context.Context
	end     context.CancelFunc
	note    bool // a leadership change to report
}

// memInstance names the embedded instance other than its Instance method.
type memInstance = clustermem.Instance

func newDeposable(in *clustermem.Instance) *deposable {
	return &deposable{memInstance: in, changed: make(chan struct{}, 1)}
}

func (d *deposable) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-d.memInstance.Changed():
				d.signal()
			}
		}
	})
	defer wg.Wait()
	return d.memInstance.Run(ctx)
}

func (d *deposable) signal() {
	select {
	case d.changed <- struct{}{}:
	default:
	}
}

func (d *deposable) Changed() <-chan struct{} { return d.changed }

func (d *deposable) TakeChanges() failover.ClusterChanges {
	ch := d.memInstance.TakeChanges()
	d.mu.Lock()
	defer d.mu.Unlock()
	ch.Leadership = ch.Leadership || d.note
	d.note = false
	return ch
}

func (d *deposable) Lead(need time.Duration) (context.Context, int64, bool) {
	ctx, term, ok := d.memInstance.Lead(need)
	d.mu.Lock()
	defer d.mu.Unlock()
	if !ok || d.deposed {
		return nil, 0, false
	}
	if d.lead == nil {
		d.lead, d.end = context.WithCancel(ctx)
	}
	return d.lead, term + d.bump, true
}

// setDeposed takes the leadership away (true), or gives it back under a
// new term.
func (d *deposable) setDeposed(deposed bool) {
	d.mu.Lock()
	d.deposed, d.note = deposed, true
	if deposed && d.end != nil {
		d.end()
		d.lead, d.end = nil, nil
	}
	if !deposed {
		d.bump++
	}
	d.mu.Unlock()
	d.signal()
}

// Leadership lost in the middle of a write ends the write's context at
// that instant, and the instance starts no call while it does not lead;
// given back under a new term, the leadership starts with a read of the
// zone before any write.
func TestClusterLeadershipFlapsMidWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var a *deposable
		tc := newTestCluster(t, func(c *failover.Config) {
			if a == nil {
				a = newDeposable(c.Cluster.(*clustermem.Instance))
				c.Cluster = a
			}
			c.ProviderTimeout = time.Second
		}, "a", "b", "c")
		na := tc.nodes[0]
		na.prov.setHang(hangUntilDone)
		tc.unreachable(primary, true, "a", "b", "c")
		waitFor(t, 10*time.Second, "a's write", func() bool { return len(na.prov.since("set", time.Time{})) > 0 })
		time.Sleep(100 * time.Millisecond)
		deposed := time.Now()
		a.setDeposed(true)
		synctest.Wait()
		w := na.prov.since("set", time.Time{})[0]
		if w.ended == nil || !w.ended.Equal(deposed) {
			t.Errorf("the write's context ended at %v, want at once when the leadership was lost, %v", w.ended, deposed)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if got := na.prov.since("", deposed); len(got) != 0 {
			t.Errorf("a made %d provider calls while not leading, want none: %+v", len(got), got)
		}
		if got := na.of(failover.EventProviderCallFailed); len(got) != 0 {
			t.Errorf("a reported failed calls: %v, want none (losing the leadership is no provider failure)", got)
		}

		na.prov.setHang(noHang)
		back := time.Now()
		a.setDeposed(false)
		waitFor(t, 10*time.Second, "failover by a, leading again", tc.holds(backup))
		calls := na.prov.since("", back)
		if len(calls) < 2 || calls[0].method != "get" || calls[1].method != "set" {
			t.Errorf("a's calls under its new term: %+v, want a read of the zone, then the write", calls)
		}
	})
}

// runOverride is a cluster instance whose Run is replaced.
type runOverride struct {
	*memInstance
	run func(ctx context.Context) error
}

func (r runOverride) Run(ctx context.Context) error { return r.run(ctx) }

// The Manager's Run ends with the Cluster's Run: when it fails, Run stops
// and returns its error; when it does not return once stopped, Run waits
// StopTimeout and names it among what it left running.
func TestClusterRunEndsManagerRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := clustermem.NewStore(leaseTTL)
		fail := errors.New("instance name a already live")
		for _, tc := range []struct {
			name string
			run  func(ctx context.Context) error
			stop bool // the test stops Run
			want error
			says string
		}{
			{"fails", func(ctx context.Context) error { time.Sleep(time.Second); return fail }, false, fail, "cluster instance a: instance name a already live"},
			{"ignores its context", func(ctx context.Context) error { <-ctx.Done(); time.Sleep(time.Hour); return nil }, true, failover.ErrAbandoned, "the Cluster's Run"},
		} {
			zone := &memory.Provider{}
			if err := zone.AddZone(clusterZone); err != nil {
				t.Fatal(err)
			}
			m, err := failover.New(failover.Config{
				Zones: []failover.Zone{{Name: clusterZone, Providers: []failover.Provider{zone}, Records: []failover.Record{{
					Name: "www", Type: "A", Endpoints: []failover.Endpoint{{Value: primary}}, Check: &vantage{unreachable: map[string]bool{}}}}}},
				ProviderTimeout: 500 * time.Millisecond, StopTimeout: time.Second,
				Cluster: runOverride{store.Instance("a"), tc.run},
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			start := time.Now()
			if tc.stop {
				time.AfterFunc(time.Second, cancel)
			}
			err = m.Run(ctx)
			cancel()
			if !errors.Is(err, tc.want) || !strings.Contains(fmt.Sprint(err), tc.says) {
				t.Errorf("%s: Run returned %v, want %v saying %q", tc.name, err, tc.want, tc.says)
			}
			if took := time.Since(start); took > 2*time.Second+time.Millisecond {
				t.Errorf("%s: Run returned after %v, want within 2 s", tc.name, took)
			}
		}
		time.Sleep(time.Hour) // the abandoned Run returns
	})
}
