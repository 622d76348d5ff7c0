package etcd

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/servertest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Two instances started with the same name (a copied config, a default
// name taken from a hostname two containers share): the second's Run
// returns an error naming the name, as failover.Cluster promises, and the
// first runs on undisturbed: it still leads in the same term, its key and
// its verdicts are its own, and the others count it once.
func TestDuplicateInstanceNameAccepted(t *testing.T) {
	etcd := servertest.StartEtcd(t, 3)
	first := startInstance(t, etcd, "a")
	waitFor(t, 10*time.Second, "the first a leads", first.leads)
	b := startInstance(t, etcd, "b")
	_, term, _ := first.Lead(0)
	first.PublishVerdict(ep, failover.HealthDown)
	votes := []failover.Vote{{Instance: "a", Health: failover.HealthDown}, {Instance: "b"}}
	waitFor(t, 5*time.Second, "b sees a's verdict", func() bool { return slices.Equal(b.Votes(ep), votes) })

	second := newInstance(t, etcd, "a")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	started := time.Now()
	go func() { done <- second.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case err := <-done:
		done <- err // for the deferred wait
		t.Logf("the second a's Run returned after %v: %v", time.Since(started), err)
		if err == nil || !strings.Contains(err.Error(), `"a"`) {
			t.Errorf("a second instance named a: Run returned %v, want an error naming the instance", err)
		}
	case <-time.After(3 * ttl):
		t.Fatalf("a second instance named a, while the first is live: Run still running after %v (connected %v), want an error: the name is already live",
			3*ttl, second.Status().Connected)
	}
	if st := second.Status(); st.Connected || !strings.Contains(st.Err, "a") {
		t.Errorf("the second a's status %+v, want not connected, with the reason", st)
	}
	if _, got, ok := first.Lead(0); !ok || got != term {
		t.Errorf("the first a: leads %v in term %d, want it still leading in term %d", ok, got, term)
	}
	if got := b.Votes(ep); !slices.Equal(got, votes) {
		t.Errorf("b sees votes %v, want %v", got, votes)
	}
	resp, err := first.cli.Get(t.Context(), "/test/"+instancesDir+"a")
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 || resp.Kvs[0].Version != 1 {
		t.Errorf("the instance key of a: got %v, want the first a's, written once", resp.Kvs)
	}
}

// An instance that crashed (its lease neither renewed nor revoked) and
// comes back under the same name joins once the old lease expires,
// without an error; and one that loses etcd for longer than its lease
// takes its own name again when etcd returns.
func TestRestartedInstanceReclaimsItsName(t *testing.T) {
	etcd := servertest.StartEtcd(t, 3)
	old := startInstance(t, etcd, "a")
	b := startInstance(t, etcd, "b")
	waitFor(t, 10*time.Second, "a and b connected", func() bool { return len(b.Status().Instances) == 2 })
	old.cut() // the crash
	restarted := newInstance(t, etcd, "a")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- restarted.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, 3*ttl, "the restarted a connected", func() bool {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("the restarted a's Run returned %v, want it to wait for the crashed one's lease", err)
		default:
		}
		return restarted.Status().Connected
	})
	if got, want := b.Status().Instances, []string{"a", "b"}; !slices.Equal(got, want) {
		t.Errorf("b sees instances %q, want %q", got, want)
	}

	// b loses etcd past its lease, then reaches it again.
	b.cut()
	waitFor(t, 3*ttl, "b disconnected", func() bool { return !b.Status().Connected })
	b.heal()
	waitFor(t, 3*ttl, "b connected again", func() bool { return b.Status().Connected })
	resp, err := restarted.cli.Get(t.Context(), "/test/"+instancesDir, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 2 {
		t.Errorf("got %d instance keys, want 2", len(resp.Kvs))
	}
}
