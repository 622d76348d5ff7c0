//go:build failing

package etcd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/servertest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// What a user sees: two instances started with the same name (a copied
// config, a default name taken from a hostname two containers share) both
// run. Failover's Cluster contract says Run returns an error for "an
// instance name already live in the cluster"; here the second simply
// overwrites the first one's instance key and verdict keys, so the two
// vantage points count as one vote, and when either stops (revoking its
// lease) the other vanishes from every instance's view while it still
// runs.
func TestAttackDuplicateInstanceNameAccepted(t *testing.T) {
	etcd := servertest.StartEtcd(t, 3)
	first := startInstance(t, etcd, "a")
	waitFor(t, 10*time.Second, "the first a leads", first.leads)
	second := newInstance(t, etcd, "a")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- second.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case err := <-done:
		done <- err // for the deferred wait
		if err == nil {
			t.Errorf("a second instance named a: Run returned nil, want an error naming the instance")
		}
	case <-time.After(3 * ttl):
		t.Errorf("a second instance named a, while the first is live: Run still running after %v (connected %v), want an error: the name is already live",
			3*ttl, second.Status().Connected)
	}
}

// What a user sees: an instance named with a character that path escaping
// changes (a space, a comma, a non-ASCII letter: "zürich-1", "node 1") is
// live and publishes its verdicts, yet every other instance counts it as
// having no verdict: its verdict keys carry the escaped name, which the
// readers never unescape before matching it to the live instance. Its
// vantage point silently never counts; New accepted the name.
func TestAttackEscapedInstanceNameVotesIgnored(t *testing.T) {
	etcd := servertest.StartEtcd(t, 3)
	z := startInstance(t, etcd, "zürich-1")
	b := startInstance(t, etcd, "b")
	waitFor(t, 10*time.Second, "both connected", func() bool {
		return len(z.Status().Instances) == 2 && len(b.Status().Instances) == 2
	})
	z.PublishVerdict(ep, failover.HealthDown)
	want := []failover.Vote{{Instance: "b", Health: failover.HealthUnknown}, {Instance: "zürich-1", Health: failover.HealthDown}}
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Equal(b.Votes(ep), want) {
		if time.Now().After(deadline) {
			t.Fatalf("b sees votes %v 5 s after zürich-1 published down, want %v", b.Votes(ep), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// failingKV fails the commit of the second transaction that writes
// decision states, once, as a transient etcd error would.
type failingKV struct {
	clientv3.KV
	mu        sync.Mutex
	decisions int
}

func (k *failingKV) Txn(ctx context.Context) clientv3.Txn {
	return &failingTxn{Txn: k.KV.Txn(ctx), kv: k}
}

type failingTxn struct {
	clientv3.Txn
	kv        *failingKV
	decisions bool
}

func (t *failingTxn) If(cs ...clientv3.Cmp) clientv3.Txn   { t.Txn = t.Txn.If(cs...); return t }
func (t *failingTxn) Else(ops ...clientv3.Op) clientv3.Txn { t.Txn = t.Txn.Else(ops...); return t }
func (t *failingTxn) Then(ops ...clientv3.Op) clientv3.Txn {
	for _, op := range ops {
		if op.IsPut() && strings.Contains(string(op.KeyBytes()), "/"+decisionsDir) {
			t.decisions = true
		}
	}
	t.Txn = t.Txn.Then(ops...)
	return t
}

func (t *failingTxn) Commit() (*clientv3.TxnResponse, error) {
	if t.decisions {
		t.kv.mu.Lock()
		t.kv.decisions++
		n := t.kv.decisions
		t.kv.mu.Unlock()
		if n == 2 {
			return nil, errors.New("injected: etcdserver: request timed out")
		}
	}
	return t.Txn.Commit()
}

// What a user sees: a mass failover decides 200 records in one loop turn;
// the leader writes their decision states in transactions of 128, and the
// second transaction fails once (a timeout, a leader election in etcd).
// The flusher's bookkeeping after the first transaction marks all 200 as
// written, so the 72 of the second are never retried: etcd keeps their
// previous state (here none) for good, while the leader's own Decision
// reports them as stored. The next leader starts those records from stale
// state (a failback delay restarted, a rewrite of what DNS holds).
func TestAttackDecisionChunkFailureLosesStates(t *testing.T) {
	etcd := servertest.StartEtcd(t, 3)
	in := newInstance(t, etcd, "a")
	fk := &failingKV{KV: in.cli.KV}
	in.cli.KV = fk
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); in.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, 10*time.Second, "a leads", in.leads)

	const n = 200
	// As n calls of SaveDecision in one loop turn leave it before the
	// flusher runs.
	in.mu.Lock()
	for i := range n {
		in.saves[failover.RecordID{Zone: "example.test.", Name: fmt.Sprintf("r%03d", i), Type: "A"}] = []byte(`{"v":1}`)
	}
	in.mu.Unlock()
	signal(in.flush)

	check, err := clientv3.New(clientv3.Config{Endpoints: etcd.Endpoints(), DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	stored := func() int64 {
		resp, err := check.Get(context.Background(), "/test/"+decisionsDir, clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			return -1
		}
		return resp.Count
	}
	deadline := time.Now().Add(5 * time.Second) // the flusher retries after TTL/10
	for stored() != n {
		if time.Now().After(deadline) {
			fk.mu.Lock()
			txns := fk.decisions
			fk.mu.Unlock()
			t.Fatalf("etcd holds %d decision states 5 s after %d were saved (one transaction of %d failed once), want %d",
				stored(), n, txns, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
