package servertest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// The nested module must build the version the helpers announce.
func TestEtcdModulePinsVersion(t *testing.T) {
	mod, err := os.ReadFile("etcdserver/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	want := "go.etcd.io/etcd/server/v3 " + EtcdVersion
	if !strings.Contains(string(mod), want) {
		t.Errorf("etcdserver/go.mod does not require %q:\n%s", want, mod)
	}
}

func etcdClient(t *testing.T, endpoints []string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// put writes key with a short deadline and reports the error.
func put(cli *clientv3.Client, key string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := cli.Put(ctx, key, "v")
	return err
}

// A 3-member cluster keeps serving writes with one member stopped, refuses
// them with two stopped (no quorum), and serves them again, with what was
// written before, once they are back.
func TestEtcdQuorum(t *testing.T) {
	c := StartEtcd(t, 3)
	cli := etcdClient(t, c.Endpoints())
	for _, step := range []struct {
		name   string
		do     func()
		wantOK bool
	}{
		{"all members", func() {}, true},
		{"one killed", func() { c.Members[2].Stop(true) }, true},
		{"two stopped", func() { c.Members[1].Stop(false) }, false},
		{"both back", func() { c.Members[1].Start(t); c.Members[2].Start(t); c.WaitHealthy(t) }, true},
	} {
		step.do()
		err := put(cli, "k/"+step.name)
		for deadline := time.Now().Add(10 * time.Second); err != nil && step.wantOK && time.Now().Before(deadline); {
			err = put(cli, "k/"+step.name) // the members may be electing a new leader
		}
		if got := err == nil; got != step.wantOK {
			t.Fatalf("%s: put error %v, want success %v", step.name, err, step.wantOK)
		}
	}
	// The put refused without a quorum may still be applied once the
	// members are back (its proposal stayed in the log of the member that
	// took it): its outcome is unknown, as for any write that timed out.
	for _, key := range []string{"k/all members", "k/one killed", "k/both back"} {
		resp, err := cli.Get(t.Context(), key, clientv3.WithCountOnly())
		if err != nil || resp.Count != 1 {
			t.Errorf("%s: got %v keys (%v), want it kept: it was written while a quorum stood", key, resp, err)
		}
	}
}

// A paused member answers nothing; resumed, it serves again. Writes show in
// the committed-proposals metric, reads do not.
func TestEtcdPauseAndMetrics(t *testing.T) {
	c := StartEtcd(t, 1)
	m := c.Members[0]
	cli := etcdClient(t, c.Endpoints())
	const metric = "etcd_server_proposals_committed_total"
	before := m.Metric(t, metric)
	if err := put(cli, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Get(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	if got := m.Metric(t, metric) - before; got != 1 {
		t.Errorf("one put and one get: got %v committed proposals, want 1", got)
	}
	m.Pause()
	if err := put(cli, "b"); err == nil {
		t.Error("put to a paused member succeeded, want a timeout")
	}
	if m.Healthy() {
		t.Error("paused member reports itself healthy")
	}
	m.Resume()
	c.WaitHealthy(t)
	if err := put(cli, "c"); err != nil {
		t.Errorf("put after resume: %v", err)
	}
}
