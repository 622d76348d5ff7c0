package etcd

import (
	"context"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/servertest"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

const ttl = 2 * time.Second

// instance is one running Cluster with its own etcd client, reaching etcd
// through proxies that a test can cut.
type instance struct {
	*Cluster
	cli     *clientv3.Client
	proxies []*proxy
	stop    func() // stops Run and waits for it
}

func startInstance(t *testing.T, etcd *servertest.EtcdCluster, name string) *instance {
	t.Helper()
	return newInstanceTTL(t, etcd, name, ttl).run(t)
}

// run runs the instance until the test ends.
func (in *instance) run(t *testing.T) *instance {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); in.Run(ctx) }()
	var once sync.Once
	in.stop = func() { once.Do(func() { cancel(); <-done; in.cli.Close() }) }
	t.Cleanup(in.stop)
	return in
}

// newInstance returns a Cluster for name, not running, whose client is
// closed when the test ends.
func newInstance(t *testing.T, etcd *servertest.EtcdCluster, name string) *instance {
	t.Helper()
	return newInstanceTTL(t, etcd, name, ttl)
}

// newInstanceTTL is newInstance with a lease TTL of leaseTTL.
func newInstanceTTL(t *testing.T, etcd *servertest.EtcdCluster, name string, leaseTTL time.Duration) *instance {
	t.Helper()
	in := &instance{}
	var eps []string
	for _, m := range etcd.Members {
		p := startProxy(t, m.ClientURL[len("http://"):])
		in.proxies = append(in.proxies, p)
		eps = append(eps, "http://"+p.addr())
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	in.cli = cli
	t.Cleanup(func() { cli.Close() })
	in.Cluster, err = New(Options{Client: cli, Instance: name, LeaseTTL: leaseTTL, Prefix: "/test/"})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// cut makes etcd unreachable for the instance (every connection closed,
// new ones refused), as a network partition would; heal undoes it.
func (in *instance) cut() {
	for _, p := range in.proxies {
		p.setBlocked(true)
	}
}

func (in *instance) heal() {
	for _, p := range in.proxies {
		p.setBlocked(false)
	}
}

func (in *instance) leads() bool {
	_, _, ok := in.Lead(0)
	return ok
}

// waitQuiet waits until etcd has committed no proposal for half a second
// (the writes the cluster queued are in), failing after 10 s.
func waitQuiet(t *testing.T, etcd *servertest.EtcdCluster) {
	t.Helper()
	last, since := -1.0, time.Now()
	waitFor(t, 10*time.Second, "etcd quiet", func() bool {
		if p := etcd.Members[0].Metric(t, "etcd_server_proposals_committed_total"); p != last {
			last, since = p, time.Now()
		}
		return time.Since(since) >= 500*time.Millisecond
	})
}

// waitFor polls cond every 10 ms until it holds, failing after within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// leaders returns the instances whose gate is open.
func leaders(ins ...*instance) []*instance {
	var out []*instance
	for _, in := range ins {
		if in.leads() {
			out = append(out, in)
		}
	}
	return out
}

func startThree(t *testing.T) (*servertest.EtcdCluster, []*instance) {
	etcd := servertest.StartEtcd(t, 3)
	ins := []*instance{startInstance(t, etcd, "a"), startInstance(t, etcd, "b"), startInstance(t, etcd, "c")}
	waitFor(t, 10*time.Second, "one leader of three", func() bool { return len(leaders(ins...)) == 1 })
	return etcd, ins
}

var ep = failover.EndpointID{Record: failover.RecordID{Zone: "example.test.", Name: "www", Type: "A"}, Value: "192.0.2.10"}

// One leader at a time; when the leader crashes (its lease is neither
// renewed nor revoked) another takes over within the TTL and a second, and
// it starts from the decision state the old leader stored.
func TestTakeoverAfterCrash(t *testing.T) {
	_, ins := startThree(t)
	old := leaders(ins...)[0]
	old.SaveDecision(ep.Record, []byte(`{"tier":1}`))
	for _, in := range ins {
		waitFor(t, 5*time.Second, "decision state seen by "+in.Instance(), func() bool {
			s, ok := in.Decision(ep.Record)
			return ok && string(s) == `{"tier":1}`
		})
	}
	var rest []*instance
	for _, in := range ins {
		if in != old {
			rest = append(rest, in)
			in.SaveDecision(ep.Record, []byte(`{"tier":0}`)) // not leading: dropped
		}
	}
	ctx, _, _ := old.Lead(0)
	old.cut() // crash: nothing more reaches etcd from it
	took := waitFor(t, ttl+2*time.Second, "a new leader", func() bool { return len(leaders(rest...)) == 1 })
	if took > ttl+time.Second {
		t.Errorf("takeover took %v, want at most the TTL %v + 1 s", took, ttl)
	}
	t.Logf("crash to new leader's open gate: %v (TTL %v)", took, ttl)
	if old.leads() || ctx.Err() == nil {
		t.Errorf("the cut-off leader's gate is still open (ctx err %v) while another leads", ctx.Err())
	}
	s, _ := leaders(rest...)[0].Decision(ep.Record)
	if string(s) != `{"tier":1}` {
		t.Errorf("new leader starts from decision state %s, want the old leader's {\"tier\":1}", s)
	}
	old.heal()
	waitFor(t, 10*time.Second, "the old leader rejoins as a follower", func() bool {
		st := old.Status()
		return st.Connected && len(st.Instances) == 3 && !st.Leading
	})
}

// A leader whose lease cannot be renewed closes its gate while its lease
// still stands (before anyone else can lead): the gates never overlap.
func TestLostLeaseClosesGateFirst(t *testing.T) {
	_, ins := startThree(t)
	old := leaders(ins...)[0]
	_, term, _ := old.Lead(0)
	old.cut()
	var closed, opened time.Time
	waitFor(t, 3*ttl, "the cut-off leader's gate closes and another opens", func() bool {
		now := time.Now()
		if closed.IsZero() && !old.leads() {
			closed = now
		}
		if opened.IsZero() && len(leaders(ins...)) == 1 && !old.leads() {
			opened = now
		}
		return !opened.IsZero()
	})
	if !closed.Before(opened) {
		t.Errorf("gate closed at %v, another opened at %v: want closed first", closed, opened)
	}
	if _, newTerm, _ := leaders(ins...)[0].Lead(0); newTerm <= term {
		t.Errorf("new term %d, want above the old %d", newTerm, term)
	}
	if st := old.Status(); st.Connected || st.Err == "" {
		t.Errorf("cut-off instance's status %+v, want not connected with a reason", st)
	}
}

// Verdicts are written under the instance's lease and seen by the others;
// an instance that stops takes its verdicts with it.
func TestVerdictsVisibleToOthers(t *testing.T) {
	_, ins := startThree(t)
	a, b, c := ins[0], ins[1], ins[2]
	b.TakeChanges()
	a.PublishVerdict(ep, failover.HealthDown)
	c.PublishVerdict(ep, failover.HealthUp)
	want := []failover.Vote{{Instance: "a", Health: failover.HealthDown}, {Instance: "b", Health: failover.HealthUnknown}, {Instance: "c", Health: failover.HealthUp}}
	waitFor(t, 5*time.Second, "votes seen by b", func() bool { return slices.Equal(b.Votes(ep), want) })
	if got := b.TakeChanges(); !slices.Contains(got.Endpoints, ep) {
		t.Errorf("b's changes %+v do not name %v", got, ep)
	}
	a.PublishVerdict(ep, failover.HealthUnknown)
	waitFor(t, 5*time.Second, "a's verdict withdrawn", func() bool { return b.Votes(ep)[0].Health == failover.HealthUnknown })
	c.stop()
	waitFor(t, 5*time.Second, "c gone from b's votes", func() bool { return len(b.Votes(ep)) == 2 })
}

// Operator state set through any instance reaches the leader; a failback
// request is taken once; an expired override is removed.
func TestOperatorState(t *testing.T) {
	_, ins := startThree(t)
	leader := leaders(ins...)[0]
	follower := ins[0]
	if follower == leader {
		follower = ins[1]
	}
	ctx := t.Context()
	if err := follower.SetOverride(ctx, ep, failover.ForceDown, time.Now().Add(1500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := follower.RequestFailback(ctx, ep.Record); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "override seen by the leader", func() bool { return len(leader.Overrides()) == 1 })
	if got := leader.Overrides()[0]; got.Endpoint != ep || got.Override != failover.ForceDown {
		t.Errorf("got override %+v, want force-down of %v", got, ep)
	}
	if follower.TakeFailback(ep.Record) {
		t.Error("a follower took the failback request")
	}
	waitFor(t, 5*time.Second, "failback request taken by the leader", func() bool { return leader.TakeFailback(ep.Record) })
	if leader.TakeFailback(ep.Record) {
		t.Error("failback request taken twice")
	}
	resp, err := leader.cli.Get(ctx, "/test/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "expired override removed from etcd", func() bool {
		resp, err = leader.cli.Get(ctx, "/test/"+overridesDir+endpointPath(ep))
		return err == nil && resp.Count == 0
	})
	resp, _ = leader.cli.Get(ctx, "/test/"+failbacksDir, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if resp.Count != 0 {
		t.Errorf("%d failback requests left in etcd, want the taken one removed", resp.Count)
	}
}

// etcd losing its quorum stops every gate and shows in Status; when the
// members return, the instances take part again without a restart.
func TestQuorumLossAndRecovery(t *testing.T) {
	etcd, ins := startThree(t)
	etcd.Members[1].Stop(false)
	etcd.Members[2].Stop(false)
	waitFor(t, 3*ttl, "every instance disconnected", func() bool {
		for _, in := range ins {
			if st := in.Status(); st.Connected || st.Leading || st.Err == "" || in.leads() {
				return false
			}
		}
		return true
	})
	t.Logf("status without quorum: %q", ins[0].Status().Err)
	etcd.Members[1].Start(t)
	etcd.Members[2].Start(t)
	etcd.WaitHealthy(t)
	took := waitFor(t, 30*time.Second, "one leader again", func() bool {
		return len(leaders(ins...)) == 1 && len(ins[0].Status().Instances) == 3
	})
	t.Logf("quorum back to a leader: %v", took)
}

// At rest the cluster makes no raft proposal (lease renewals are not
// proposals); a verdict change makes one, and a decision state saved twice
// is written once.
func TestNoWritesAtRest(t *testing.T) {
	etcd, ins := startThree(t)
	proposals := func() float64 { return etcd.Members[0].Metric(t, "etcd_server_proposals_committed_total") }
	for _, in := range ins {
		in.PublishVerdict(ep, failover.HealthUp)
	}
	allUp := []failover.Vote{{Instance: "a", Health: failover.HealthUp}, {Instance: "b", Health: failover.HealthUp}, {Instance: "c", Health: failover.HealthUp}}
	waitFor(t, 5*time.Second, "verdicts seen", func() bool { return slices.Equal(ins[0].Votes(ep), allUp) })
	waitQuiet(t, etcd)
	rest := 3 * ttl
	before := proposals()
	time.Sleep(rest) // measuring what happens over a span of time, not waiting for an event
	if got := proposals() - before; got != 0 {
		t.Errorf("at rest for %v: got %v proposals, want 0", rest, got)
	}
	for _, step := range []struct {
		name string
		do   func()
		want float64
	}{
		{"one verdict change", func() { ins[1].PublishVerdict(ep, failover.HealthDown) }, 1},
		{"the same verdict again", func() { ins[1].PublishVerdict(ep, failover.HealthDown) }, 0},
		{"a decision state", func() { leaders(ins...)[0].SaveDecision(ep.Record, []byte("x")) }, 1},
		{"the same decision state", func() { leaders(ins...)[0].SaveDecision(ep.Record, []byte("x")) }, 0},
	} {
		before := proposals()
		step.do()
		time.Sleep(500 * time.Millisecond) // the writes are asynchronous: count what a span brings
		if got := proposals() - before; got != step.want {
			t.Errorf("%s: got %v proposals, want %v", step.name, got, step.want)
		}
	}
}

// proxy forwards TCP connections to target until blocked.
type proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	blocked bool
	conns   map[net.Conn]bool
}

func startProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.setBlocked(true) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.blocked {
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	c.Close()
}

func (p *proxy) setBlocked(b bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blocked = b
	if b {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}
