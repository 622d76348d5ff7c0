package etcd

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/failover/internal/servertest"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Under etcd's default election timeout (1 s) etcd grants no lease
// shorter than 2 s. An instance asking for 1 s would take over a second
// later than its LeaseTTL says: Run refuses it with an error naming the
// TTL to set; a TTL etcd grants as asked runs.
func TestRaisedLeaseTTLRefused(t *testing.T) {
	etcd := servertest.StartEtcdElection(t, 1, time.Second)
	cli, err := clientv3.New(clientv3.Config{Endpoints: etcd.Endpoints(), DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	for _, tc := range []struct {
		ttl     time.Duration
		wantErr string // empty: Run runs
	}{
		{time.Second, "LeaseTTL 1s was granted as 2s"},
		{2 * time.Second, ""},
	} {
		t.Run(tc.ttl.String(), func(t *testing.T) {
			c, err := New(Options{Client: cli, Instance: "a", LeaseTTL: tc.ttl, Prefix: "/" + tc.ttl.String() + "/"})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx) }()
			defer func() { cancel(); <-done }()
			deadline := time.Now().Add(5 * time.Second)
			for {
				select {
				case err := <-done:
					done <- err
					if tc.wantErr == "" || err == nil || !strings.Contains(err.Error(), tc.wantErr) {
						t.Fatalf("Run returned %v, want %s", err, wantRun(tc.wantErr))
					}
					if got := c.LeaseTTL(); got != tc.ttl {
						t.Errorf("LeaseTTL() = %v, want %v", got, tc.ttl)
					}
					return
				default:
				}
				if tc.wantErr == "" && c.Status().Connected {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("Run neither returned nor connected within 5 s (status %+v), want %s", c.Status(), wantRun(tc.wantErr))
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func wantRun(err string) string {
	if err == "" {
		return "it connected"
	}
	return "an error containing " + err
}

// Lead's context ends at the lease's conservative expiry at the latest
// (the time the last acknowledged renewal was sent, plus the TTL), as
// failover.Cluster promises: a call made under it cannot outlive the
// lease even if the instance's own clock work (the renewal, the session's
// end) runs late. A renewal gives later calls a later deadline and cuts
// none short.
func TestLeadContextEndsAtLeaseExpiry(t *testing.T) {
	etcd := servertest.StartEtcd(t, 1)
	in := startInstance(t, etcd, "a")
	waitFor(t, 10*time.Second, "a leads", in.leads)
	expiry := func() time.Time {
		in.mu.Lock()
		defer in.mu.Unlock()
		return in.expires
	}
	ctx, _, _ := in.Lead(0)
	first := expiry()
	dl, ok := ctx.Deadline()
	if !ok || !dl.Equal(first) {
		t.Fatalf("Lead's context: got deadline %v (set %v), want the lease's expiry %v", dl, ok, first)
	}
	waitFor(t, ttl, "a renewal", func() bool { return expiry().After(first) })
	later, _, _ := in.Lead(0)
	if dl, _ := later.Deadline(); !dl.Equal(expiry()) {
		t.Errorf("after a renewal: got deadline %v, want the new expiry %v", dl, expiry())
	}
	if ctx.Err() != nil {
		t.Errorf("the context handed out before the renewal ended early: %v", ctx.Err())
	}
}
