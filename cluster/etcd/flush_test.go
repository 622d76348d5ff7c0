package etcd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/servertest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// failingKV fails, once, the commit of the fail-th transaction that
// touches a key under dir, as a transient etcd error (a timeout, a leader
// election in etcd) would, and counts the operations on such keys that
// etcd committed.
type failingKV struct {
	clientv3.KV
	dir  string
	fail int

	mu        sync.Mutex
	txns      int
	committed int
}

func (k *failingKV) Txn(ctx context.Context) clientv3.Txn {
	return &failingTxn{Txn: k.KV.Txn(ctx), kv: k}
}

type failingTxn struct {
	clientv3.Txn
	kv  *failingKV
	ops int // on keys under kv.dir
}

func (t *failingTxn) If(cs ...clientv3.Cmp) clientv3.Txn   { t.Txn = t.Txn.If(cs...); return t }
func (t *failingTxn) Else(ops ...clientv3.Op) clientv3.Txn { t.Txn = t.Txn.Else(ops...); return t }
func (t *failingTxn) Then(ops ...clientv3.Op) clientv3.Txn {
	for _, op := range ops {
		if (op.IsPut() || op.IsDelete()) && strings.Contains(string(op.KeyBytes()), "/"+t.kv.dir) {
			t.ops++
		}
	}
	t.Txn = t.Txn.Then(ops...)
	return t
}

func (t *failingTxn) Commit() (*clientv3.TxnResponse, error) {
	if t.ops == 0 {
		return t.Txn.Commit()
	}
	t.kv.mu.Lock()
	t.kv.txns++
	n := t.kv.txns
	t.kv.mu.Unlock()
	if n == t.kv.fail {
		return nil, errors.New("injected: etcdserver: request timed out")
	}
	resp, err := t.Txn.Commit()
	if err == nil && resp.Succeeded {
		t.kv.mu.Lock()
		t.kv.committed += t.ops
		t.kv.mu.Unlock()
	}
	return resp, err
}

// A write that fails part way (one transaction of several, here the
// second) loses nothing: what it held is written on the next try, and
// what was committed is not written again. A mass failover decides 200
// records in one loop turn, written in transactions of 128: if the second
// were lost for good, the next leader would start those records from stale
// state (a failback delay restarted, a rewrite of what DNS holds). The
// same for 200 verdicts, and for a failback request taken, whose removal
// fails once: left in etcd, the next leader would fail back again.
func TestDecisionChunkFailureLosesStates(t *testing.T) {
	const n = 200
	rec := func(i int) failover.RecordID {
		return failover.RecordID{Zone: "example.test.", Name: fmt.Sprintf("r%03d", i), Type: "A"}
	}
	for _, tc := range []struct {
		name  string
		dir   string
		fail  int // which transaction on dir fails
		queue func(t *testing.T, in *instance)
		want  int64 // keys under dir in the end
		puts  int   // operations on dir committed
	}{
		{"decision states", decisionsDir, 2, func(t *testing.T, in *instance) {
			// As n calls of SaveDecision in one loop turn leave it before
			// the flusher runs.
			in.mu.Lock()
			for i := range n {
				in.saves[rec(i)] = []byte(`{"v":1}`)
			}
			in.mu.Unlock()
			signal(in.flush)
		}, n, n},
		{"verdicts", verdictsDir, 2, func(t *testing.T, in *instance) {
			in.mu.Lock()
			for i := range n {
				id := failover.EndpointID{Record: rec(i), Value: "192.0.2.1"}
				in.own[id], in.dirty[id] = failover.HealthDown, true
			}
			in.mu.Unlock()
			signal(in.flush)
		}, n, n},
		{"a failback request taken", failbacksDir, 1, func(t *testing.T, in *instance) {
			if err := in.RequestFailback(t.Context(), rec(0)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "the leader takes the request", func() bool { return in.TakeFailback(rec(0)) })
		}, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			etcd := servertest.StartEtcd(t, 1)
			in := newInstance(t, etcd, "a")
			fk := &failingKV{KV: in.cli.KV, dir: tc.dir, fail: tc.fail}
			in.cli.KV = fk
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); in.Run(ctx) }()
			defer func() { cancel(); <-done }()
			waitFor(t, 10*time.Second, "a leads", in.leads)
			tc.queue(t, in)

			check, err := clientv3.New(clientv3.Config{Endpoints: etcd.Endpoints(), DialTimeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer check.Close()
			stored := func() int64 {
				resp, err := check.Get(context.Background(), "/test/"+tc.dir, clientv3.WithPrefix(), clientv3.WithCountOnly())
				if err != nil {
					return -1
				}
				return resp.Count
			}
			settled := func() bool {
				fk.mu.Lock()
				defer fk.mu.Unlock()
				return fk.txns > tc.fail && fk.committed >= tc.puts
			}
			deadline := time.Now().Add(5 * time.Second) // the flusher retries after TTL/10
			for stored() != tc.want || !settled() {
				if time.Now().After(deadline) {
					fk.mu.Lock()
					txns := fk.txns
					fk.mu.Unlock()
					t.Fatalf("etcd holds %d keys under %s 5 s after the writes were queued (%d transactions, the %d. failed once), want %d",
						stored(), tc.dir, txns, tc.fail, tc.want)
				}
				time.Sleep(10 * time.Millisecond)
			}
			fk.mu.Lock()
			defer fk.mu.Unlock()
			if fk.committed != tc.puts {
				t.Errorf("got %d operations on %s committed, want %d: each once", fk.committed, tc.dir, tc.puts)
			}
		})
	}
}
