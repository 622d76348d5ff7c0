package etcd

import (
	"fmt"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/servertest"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// A brief etcd leader election (the raft leader member crashes; the other
// two elect a new one) ends no instance's session: every instance keeps
// its lease and its instance key, no verdict is deleted and written again,
// every instance is connected with no error once etcd has a leader again,
// and one instance still leads (issue 14: at scale, every instance lost
// its session at once in an election, and etcd deleted 6,000 verdicts that
// were then written again).
func TestLeaderElectionKeepsSessions(t *testing.T) {
	const leaseTTL = 5 * time.Second
	etcd := servertest.StartEtcd(t, 3)
	var ins []*instance
	for _, name := range []string{"a", "b", "c"} {
		ins = append(ins, newInstanceTTL(t, etcd, name, leaseTTL).run(t))
	}
	waitFor(t, 10*time.Second, "one leader of three", func() bool { return len(leaders(ins...)) == 1 })
	eps := make([]failover.EndpointID, 20)
	for i := range eps {
		eps[i] = ep
		eps[i].Value = fmt.Sprintf("192.0.2.%d", 100+i)
		for _, in := range ins {
			in.PublishVerdict(eps[i], failover.HealthUp)
		}
	}
	waitFor(t, 10*time.Second, "every verdict seen", func() bool {
		for _, in := range ins {
			for _, id := range eps {
				for _, v := range in.Votes(id) {
					if v.Health != failover.HealthUp {
						return false
					}
				}
			}
		}
		return true
	})

	watcher, err := clientv3.New(clientv3.Config{Endpoints: etcd.Endpoints(), DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()
	ctx := t.Context()
	registered := func() map[string]string {
		resp, err := watcher.Get(ctx, "/test/"+instancesDir, clientv3.WithPrefix())
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, kv := range resp.Kvs {
			out[string(kv.Key)] = fmt.Sprintf("created at %d, lease %x", kv.CreateRevision, kv.Lease)
		}
		return out
	}
	before := registered()
	resp, err := watcher.Get(ctx, "/test/")
	if err != nil {
		t.Fatal(err)
	}
	var deletes atomic.Int64
	wch := watcher.Watch(ctx, "/test/"+verdictsDir, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
	go func() {
		for wr := range wch {
			for _, ev := range wr.Events {
				if ev.Type == mvccpb.DELETE {
					deletes.Add(1)
				}
			}
		}
	}()

	var leader *servertest.EtcdMember
	for _, m := range etcd.Members {
		if m.Metric(t, "etcd_server_is_leader") == 1 {
			leader = m
		}
	}
	if leader == nil {
		t.Fatal("no etcd member reports itself raft leader")
	}
	// The raft leader crashes, and one of the other two is slow to vote
	// (paused), so the third has no leader for a while: long enough for it
	// to end the watches that require one (etcd does after three election
	// timeouts), not long enough for a lease to expire.
	leader.Stop(true)
	var rest []*servertest.EtcdMember
	for _, m := range etcd.Members {
		if m != leader {
			rest = append(rest, m)
		}
	}
	probe, err := clientv3.New(clientv3.Config{Endpoints: []string{rest[1].ClientURL}, DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	pch := probe.Watch(clientv3.WithRequireLeader(ctx), "/probe", clientv3.WithCreatedNotify())
	<-pch // created
	rest[0].Pause()
	select {
	case wr := <-pch:
		t.Logf("a watch on the member without a leader: %v", wr.Err())
	case <-time.After(leaseTTL / 2):
		t.Fatal("the member left without a leader did not end its watches")
	}
	rest[0].Resume()
	waitFor(t, 10*time.Second, "the other two members elect a leader", func() bool {
		return rest[0].Metric(t, "etcd_server_is_leader")+rest[1].Metric(t, "etcd_server_is_leader") == 1
	})
	waitFor(t, 2*leaseTTL, "every instance connected with no error and one leading", func() bool {
		for _, in := range ins {
			if st := in.Status(); !st.Connected || st.Err != "" || len(st.Instances) != 3 {
				return false
			}
		}
		return len(leaders(ins...)) == 1
	})
	// A session that ended revoked its lease at once; one that is about to
	// end does so within the lease's TTL: watch for that long.
	deadline := time.Now().Add(leaseTTL)
	for time.Now().Before(deadline) {
		for _, in := range ins {
			if st := in.Status(); !st.Connected || st.Err != "" {
				t.Fatalf("instance %s after the election: %+v, want connected with no error", st.Instance, st)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := registered(); !maps.Equal(got, before) {
		t.Errorf("instance keys after the election: %v, want unchanged %v", got, before)
	}
	if got := deletes.Load(); got != 0 {
		t.Errorf("%d verdicts deleted during the election, want 0", got)
	}
	if got := leaders(ins...); len(got) != 1 {
		t.Errorf("%d instances lead after the election, want 1", len(got))
	}
}
