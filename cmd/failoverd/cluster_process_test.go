// Issue 14's process tests 1–6: three failoverd, three etcd members and
// BIND, all real processes. They assert the engine's cluster behaviour
// (verdicts published, quorum decisions, one writer, operator state in
// etcd, a cluster section in /status).
package main

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
)

// Issue 14, test 1: the leader killed with SIGKILL in steady state;
// another instance is able to write within the lease TTL and a second,
// and fails over when a backend then fails.
func TestClusterLeaderKilled(t *testing.T) {
	r := startClusterRig(t, rigOptions{})
	r.waitDecided()
	old := r.leader()
	r.kill(old)
	killed := time.Now()
	var next *instance
	r.eventually("a new leader able to write", rigLeaseTTL+5*time.Second, func() bool {
		next = r.writer(r.others(old)...)
		return next != nil
	})
	took := time.Since(killed)
	t.Logf("leader %s killed: %s able to write after %v (lease TTL %v)", old.name, next.name, took.Round(time.Millisecond), rigLeaseTTL)
	if took > rigLeaseTTL+time.Second {
		t.Errorf("leader kill to new leader able to write: got %v, want at most %v", took.Round(time.Millisecond), rigLeaseTTL+time.Second)
	}
	r.back.setDown("127.0.0.2", true)
	r.eventually("BIND answers the backup", 10*time.Second, func() bool { return r.answer() == "127.0.0.3" })
	for _, in := range r.others(old) {
		got, want := r.proxy.UpdatesSince(in.name, killed) > 0, in == next
		if got != want {
			t.Errorf("%s wrote after the kill: got %v, want %v (the new leader is %s)", in.name, got, want, next.name)
		}
	}
}

// Issue 14, test 2: the leader frozen with SIGSTOP past its lease; a
// backend fails; the new leader fails over; resumed with SIGCONT, the old
// leader writes nothing.
func TestClusterLeaderFrozen(t *testing.T) {
	r := startClusterRig(t, rigOptions{})
	r.waitDecided()
	old := r.leader()
	r.pause(old)
	r.eventually("another instance leads", 2*rigLeaseTTL+5*time.Second, func() bool {
		l := r.leader()
		return l != nil && l != old && r.writer(l) != nil
	})
	next := r.leader()
	r.back.setDown("127.0.0.2", true)
	r.eventually("BIND answers the backup", 10*time.Second, func() bool { return r.answer() == "127.0.0.3" })
	if r.proxy.Updates(next.name) == 0 {
		t.Errorf("the new leader %s made no update; want the failover written by it", next.name)
	}
	resumed := time.Now()
	r.resume(old)
	r.eventually(old.name+" back in the cluster, not leading", 15*time.Second, func() bool {
		st := r.status(old)
		return st.Cluster != nil && st.Cluster.Connected && !st.Cluster.Leading && len(r.live()) == 3
	})
	r.waitChecks("127.0.0.2", 5, old)
	if got := r.proxy.UpdatesSince(old.name, resumed); got != 0 {
		t.Errorf("updates by the old leader %s after it resumed: got %d, want 0", old.name, got)
	}
	if got := r.answer(); got != "127.0.0.3" {
		t.Errorf("BIND after the old leader resumed: got %q, want the backup", got)
	}
}

// Issue 14, test 3: one instance of three cannot reach a backend (its
// checks come from a source the backend refuses): no failover; two of
// three cannot: failover.
func TestClusterVantageDisagreement(t *testing.T) {
	r := startClusterRig(t, rigOptions{})
	r.waitDecided()
	f1, f2 := r.inst[0], r.inst[1]
	r.back.refuse("127.0.0.2", f1.source)
	r.eventually("f1's verdict on the primary down in etcd", 10*time.Second, func() bool { return r.verdict(f1, "127.0.0.2") == "down" })
	r.waitChecks("127.0.0.2", 5, r.inst...)
	if got, n := r.answer(), r.proxy.TotalUpdates(); got != "127.0.0.2" || n != 0 {
		t.Errorf("one instance of three cannot reach the primary: BIND answers %q after %d updates, want the primary and 0", got, n)
	}
	r.back.refuse("127.0.0.2", f1.source, f2.source)
	r.eventually("BIND answers the backup once two of three cannot reach the primary", 10*time.Second, func() bool { return r.answer() == "127.0.0.3" })
}

// Issue 14, test 4: an instance that can reach no backend reports itself
// isolated and causes nothing.
func TestClusterIsolatedInstance(t *testing.T) {
	r := startClusterRig(t, rigOptions{})
	r.waitDecided()
	f1 := r.inst[0]
	r.back.refuse("127.0.0.2", f1.source)
	r.back.refuse("127.0.0.3", f1.source)
	r.eventually("f1 reports itself isolated", 10*time.Second, func() bool {
		st := r.status(f1)
		return st.Cluster != nil && st.Cluster.SelfIsolated
	})
	for _, in := range r.others(f1) {
		if st := r.status(in); st.Cluster == nil || st.Cluster.SelfIsolated {
			t.Errorf("%s: got isolated (or no cluster status), want not isolated", in.name)
		}
	}
	r.waitChecks("127.0.0.2", 5, r.inst...)
	if got, n := r.answer(), r.proxy.TotalUpdates(); got != "127.0.0.2" || n != 0 {
		t.Errorf("an isolated instance: BIND answers %q after %d updates, want the primary and 0", got, n)
	}
}

// Issue 14, test 5: a drain set through one follower's API applies on the
// leader, survives a restart of all three instances, and expires on time.
func TestClusterDrainSurvivesRestart(t *testing.T) {
	r := startClusterRig(t, rigOptions{})
	r.waitDecided()
	follower := r.others(r.leader())[0]
	const drainFor = 20 * time.Second
	until := time.Now().Add(drainFor) // before the request: the drain's expiry is no earlier
	out, code := cli(t, append(r.env, "FAILOVERD_ADDR=http://"+follower.status), "drain", "-for", drainFor.String(), "www.example.test", "A", "127.0.0.2")
	if code != 0 {
		t.Fatalf("drain through %s: exit %d: %s", follower.name, code, out)
	}
	r.eventually("BIND answers the backup: the leader applied the drain", 5*time.Second, func() bool { return r.answer() == "127.0.0.3" })
	for _, in := range r.inst {
		in.proc.stop()
	}
	for _, in := range r.inst {
		r.start(in)
	}
	r.eventually("every instance live again", 20*time.Second, func() bool { return len(r.live()) == 3 })
	r.waitDecided()
	for _, in := range r.inst {
		e, ok := endpoint(r.status(in), "127.0.0.2")
		if !ok || e.Override != failover.ForceDown {
			t.Errorf("%s after the restart: the primary's override is %v, want %v", in.name, e.Override, failover.ForceDown)
		}
	}
	if got := r.answer(); got != "127.0.0.3" {
		t.Errorf("BIND after restarting every instance: got %q, want the backup (still drained)", got)
	}
	r.eventually("BIND answers the primary once the drain expires", time.Until(until)+10*time.Second, func() bool { return r.answer() == "127.0.0.2" })
	late := time.Since(until)
	t.Logf("drain for %v: lifted %v after its expiry", drainFor, late.Round(time.Millisecond))
	if late < 0 || late > 3*time.Second {
		t.Errorf("drain lifted %v after its expiry, want between 0 and 3s", late.Round(time.Millisecond))
	}
}

// Issue 14, test 6: etcd loses its quorum (two members of three stop):
// nothing is written and every instance's status says why; once the
// members are back, the cluster resumes and fails over.
func TestClusterEtcdLosesQuorum(t *testing.T) {
	r := startClusterRig(t, rigOptions{})
	r.waitDecided()
	r.etcd.Members[1].Stop(false)
	r.etcd.Members[2].Stop(false)
	r.eventually("every instance reports it cannot lead, and why", 2*rigLeaseTTL+5*time.Second, func() bool {
		for _, in := range r.inst {
			st := r.status(in)
			if st.Cluster == nil || st.Cluster.Connected || st.Cluster.Leading || st.Cluster.Err == "" {
				return false
			}
		}
		return true
	})
	for _, in := range r.inst {
		t.Logf("%s without an etcd quorum: %q", in.name, r.status(in).Cluster.Err)
	}
	before := r.proxy.TotalUpdates()
	r.back.setDown("127.0.0.2", true)
	r.waitChecks("127.0.0.2", 10, r.inst...)
	if got, n := r.answer(), r.proxy.TotalUpdates()-before; got != "127.0.0.2" || n != 0 {
		t.Errorf("without an etcd quorum: BIND answers %q after %d updates, want the primary and 0", got, n)
	}
	r.etcd.Members[1].Start(t)
	r.etcd.Members[2].Start(t)
	r.etcd.WaitHealthy(t)
	r.eventually("the cluster resumes and fails over", 20*time.Second, func() bool { return r.answer() == "127.0.0.3" })
}

// waitDecided waits until every instance has decided its records.
func (r *clusterRig) waitDecided() {
	r.t.Helper()
	for _, in := range r.inst {
		r.eventually(in.name+" decided", 10*time.Second, func() bool {
			st := r.status(in)
			if len(st.Zones) == 0 {
				return false
			}
			for _, rec := range st.Zones[0].Records {
				if !rec.Decided {
					return false
				}
			}
			return true
		})
	}
}

// writer returns the first of ins whose /status says it leads with
// enough lease left to start a write (above the provider timeout), or
// nil.
func (r *clusterRig) writer(ins ...*instance) *instance {
	for _, in := range ins {
		if st := r.status(in); st.Cluster != nil && st.Cluster.Leading && st.Cluster.LeaseLeft > time.Second {
			return in
		}
	}
	return nil
}

// waitChecks waits until each of ins has checked the backend at addr n
// more times: every instance has seen what the backend does now.
func (r *clusterRig) waitChecks(addr string, n int, ins ...*instance) {
	r.t.Helper()
	for _, in := range ins {
		from := r.back.checked(addr, in.source)
		r.eventually(in.name+" checking "+addr, 10*time.Second, func() bool { return r.back.checked(addr, in.source) >= from+n })
	}
}

// verdict is the instance's verdict on www's endpoint value as etcd holds
// it: "up", "down", or "" when it has none.
func (r *clusterRig) verdict(in *instance, value string) string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	resp, err := r.cli.Get(ctx, r.prefix+"verdicts/"+in.name+"/example.test./www/A/"+value)
	if err != nil || len(resp.Kvs) == 0 {
		return ""
	}
	return string(resp.Kvs[0].Value)
}

// others returns the instances but in.
func (r *clusterRig) others(in *instance) []*instance {
	var out []*instance
	for _, o := range r.inst {
		if o != in {
			out = append(out, o)
		}
	}
	return out
}

// refuse makes the backend at addr fail the checks from sources (none:
// accept them all again).
func (b *clusterBackends) refuse(addr string, sources ...netip.Addr) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refused[addr] = map[netip.Addr]bool{}
	for _, s := range sources {
		b.refused[addr][s] = true
	}
}

// setDown makes the backend at addr fail every check, or pass them again.
func (b *clusterBackends) setDown(addr string, down bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.down[addr] = down
}

// kill closes the backend at addr and every connection to it.
func (b *clusterBackends) kill(addr string) {
	b.mu.Lock()
	srv := b.servers[addr]
	b.mu.Unlock()
	srv.Close()
}
