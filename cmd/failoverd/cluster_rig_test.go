package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/servertest"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// clusterRig is issue 14's set-up, all real processes on loopback: three
// failoverd (built once) that form one cluster, three etcd members, BIND
// for example.test. behind a DNSProxy that counts each instance's
// UPDATEs (each instance writes through its own proxy address), and HTTP
// backends on 127.0.0.2 (primary) and 127.0.0.3 (backup) that refuse the
// checks of chosen instances: each instance checks from its own source
// address, 127.0.0.11, .12 and .13.
type clusterRig struct {
	t      testing.TB
	opts   rigOptions
	etcd   *servertest.EtcdCluster
	cli    *clientv3.Client // the test's own view of etcd
	bind   *servertest.BIND
	proxy  *servertest.DNSProxy
	back   *clusterBackends
	prefix string
	env    []string
	inst   []*instance
}

// rigOptions vary the set-up.
type rigOptions struct {
	// Watching makes the checks watch a connection to each backend.
	Watching bool
	// Quorum is the cluster's quorum: section, such as
	// "{down_at_least: 2}"; empty: the default (majority).
	Quorum string
	// TCP checks the backends by TCP connection instead of HTTP (a
	// refused source then still passes: use kill).
	TCP bool
	// Interval is the checks' interval; zero means 200ms.
	Interval time.Duration
	// LeaseTTL is the instances' lease; zero means rigLeaseTTL.
	LeaseTTL time.Duration
	// ExtraRecords adds records other.N (N from 0) to the zone, each with
	// two endpoints of its own on the backends' addresses 127.0.1.N and
	// 127.0.2.N, for the measurements at scale.
	ExtraRecords int
}

// instance is one failoverd of the rig.
type instance struct {
	name   string     // f1, f2, f3
	source netip.Addr // where its checks come from
	status string     // its status listener, host:port
	dns    string     // its address of the DNS proxy
	file   string
	proc   *proc
}

// rigLeaseTTL is the instances' lease, as issue 14's tests ask; the
// provider timeout is below it, as New requires.
const rigLeaseTTL = 2 * time.Second

// startClusterRig starts everything and waits until the three instances
// are live in etcd, one of them leads, and BIND answers the primary.
func startClusterRig(t testing.TB, opts rigOptions) *clusterRig {
	t.Helper()
	r := &clusterRig{t: t, opts: opts, prefix: "/issue14/"}
	r.etcd = servertest.StartEtcd(t, 3)
	cli, err := clientv3.New(clientv3.Config{Endpoints: r.etcd.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	r.cli = cli
	lines := []string{"www 60 IN A 127.0.0.2"}
	for i := range opts.ExtraRecords {
		lines = append(lines, fmt.Sprintf("other%d 60 IN A %s", i, extraAddr(1, i)))
	}
	r.bind = servertest.StartBIND(t, "example.test.", lines...)
	r.proxy = servertest.StartDNSProxy(t, r.bind.Addr)
	r.back = startClusterBackends(t, opts.ExtraRecords)
	r.env = []string{"FAILOVERD_TSIG=" + r.bind.Key, "FAILOVERD_TOKEN=t0ken"}
	dir := t.TempDir()
	for i := range 3 {
		in := &instance{
			name:   fmt.Sprintf("f%d", i+1),
			source: netip.AddrFrom4([4]byte{127, 0, 0, byte(11 + i)}),
			status: net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))),
			file:   filepath.Join(dir, fmt.Sprintf("f%d.yaml", i+1)),
		}
		in.dns = r.proxy.Listen(in.name)
		if err := os.WriteFile(in.file, []byte(r.config(in)), 0o600); err != nil {
			t.Fatal(err)
		}
		r.inst = append(r.inst, in)
	}
	for _, in := range r.inst {
		r.start(in)
	}
	r.eventually("every instance live in etcd", 20*time.Second, func() bool { return len(r.live()) == 3 })
	r.eventually("a leader elected", 10*time.Second, func() bool { return r.leader() != nil })
	r.eventually("BIND answering the primary", 5*time.Second, func() bool { return r.answer() == "127.0.0.2" })
	return r
}

// config is the instance's configuration file.
func (r *clusterRig) config(in *instance) string {
	check, interval := "http", 200*time.Millisecond
	if r.opts.TCP {
		check = "tcp"
	}
	if r.opts.Interval > 0 {
		interval = r.opts.Interval
	}
	lease := rigLeaseTTL
	if r.opts.LeaseTTL > 0 {
		lease = r.opts.LeaseTTL
	}
	quorum := ""
	if r.opts.Quorum != "" {
		quorum = "\n  quorum: " + r.opts.Quorum
	}
	var b strings.Builder
	fmt.Fprintf(&b, `provider_timeout: 1s
status: {listen: %q, token_env: FAILOVERD_TOKEN}
cluster:
  endpoints: [%s]
  instance: %s
  prefix: %s
  lease_ttl: %v%s
defaults:
  check: {type: %s, port: %d, source: %s, watching: %v}
  policy: {interval: %v, fast_interval: 50ms, confirm_interval: 5ms, fail_after: 2, failback_delay: 1ns, failover_ttl: 10s}
zones:
  - name: example.test.
    providers:
      - {type: rfc2136, server: %q, key_name: %q, key_alg: %q, secret_env: FAILOVERD_TSIG}
    records:
      - {name: www, type: A, endpoints: [{value: 127.0.0.2}, {value: 127.0.0.3, priority: 1}]}
`, in.status, strings.Join(r.etcd.Endpoints(), ", "), in.name, r.prefix, lease, quorum,
		check, r.back.port, in.source, r.opts.Watching, interval, in.dns, r.bind.KeyName, r.bind.KeyAlg)
	for i := range r.opts.ExtraRecords {
		fmt.Fprintf(&b, "      - {name: other%d, type: A, endpoints: [{value: %s}, {value: %s, priority: 1}]}\n", i, extraAddr(1, i), extraAddr(2, i))
	}
	return b.String()
}

// extraAddr is the address of an extra record's endpoint: 127.0.TIER.N,
// N spread over the last two octets.
func extraAddr(tier, n int) string {
	return netip.AddrFrom4([4]byte{127, byte(tier*64 + n/250), byte(n%250 + 1), 1}).String()
}

// start runs the instance's failoverd (again).
func (r *clusterRig) start(in *instance) {
	in.proc = startDaemon(r.t, in.file, r.env...)
}

// kill ends the instance with SIGKILL, as a crash would, and waits for it.
func (r *clusterRig) kill(in *instance) {
	in.proc.cmd.Process.Kill()
	<-in.proc.exited
}

// pause freezes the instance with SIGSTOP, returning once it is stopped.
func (r *clusterRig) pause(in *instance) {
	pid := in.proc.cmd.Process.Pid
	syscall.Kill(pid, syscall.SIGSTOP)
	r.eventually(in.name+" stopped", 5*time.Second, func() bool {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
		return len(fields) > 0 && fields[0] == "T"
	})
}

// resume continues a paused instance.
func (r *clusterRig) resume(in *instance) { syscall.Kill(in.proc.cmd.Process.Pid, syscall.SIGCONT) }

// leader is the instance that holds the leadership in etcd (the oldest
// key of the election), or nil.
func (r *clusterRig) leader() *instance {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	resp, err := r.cli.Get(ctx, r.prefix+"election/", clientv3.WithPrefix(),
		clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend), clientv3.WithLimit(1))
	if err != nil || len(resp.Kvs) == 0 {
		return nil
	}
	return r.named(string(resp.Kvs[0].Value))
}

// live lists the instances live in etcd (their key exists under their
// lease).
func (r *clusterRig) live() []string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	resp, err := r.cli.Get(ctx, r.prefix+"instances/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil
	}
	var out []string
	for _, kv := range resp.Kvs {
		out = append(out, strings.TrimPrefix(string(kv.Key), r.prefix+"instances/"))
	}
	return out
}

// named returns the instance called name, or nil.
func (r *clusterRig) named(name string) *instance {
	for _, in := range r.inst {
		if in.name == name {
			return in
		}
	}
	return nil
}

// answer is what BIND answers for www.example.test. A, values joined by
// spaces.
func (r *clusterRig) answer() string {
	return strings.Join(answerA(r.bind.Addr, "www.example.test."), " ")
}

// status reads the instance's /status; a zero value when it cannot.
func (r *clusterRig) status(in *instance) failover.Status {
	var st failover.Status
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://" + in.status + "/status")
	if err != nil {
		return st
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(&st)
	return st
}

// eventually polls cond every 5 ms until it holds, failing the test after
// within.
func (r *clusterRig) eventually(what string, within time.Duration, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// clusterBackends are the HTTP servers every instance checks, on one port
// of several loopback addresses: 127.0.0.2 and 127.0.0.3 for www, and
// the extra records' addresses. Each counts the checks it receives per
// source address and refuses (503) those from the sources refused to it,
// or every check while it is down; kill closes it with its connections,
// as a crashed backend's kernel would.
type clusterBackends struct {
	port    int
	mu      sync.Mutex
	refused map[string]map[netip.Addr]bool // by backend address
	down    map[string]bool
	checks  map[string]map[netip.Addr]int
	servers map[string]*http.Server
}

func startClusterBackends(t testing.TB, extra int) *clusterBackends {
	t.Helper()
	b := &clusterBackends{refused: map[string]map[netip.Addr]bool{}, down: map[string]bool{},
		checks: map[string]map[netip.Addr]int{}, servers: map[string]*http.Server{}}
	addrs := []string{"127.0.0.2", "127.0.0.3"}
	for i := range extra {
		addrs = append(addrs, extraAddr(1, i), extraAddr(2, i))
	}
	for try := 0; ; try++ {
		ln, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			t.Fatal(err)
		}
		b.port = ln.Addr().(*net.TCPAddr).Port
		lns := []net.Listener{ln}
		var lastErr error
		for _, a := range addrs[1:] {
			l, err := net.Listen("tcp", net.JoinHostPort(a, strconv.Itoa(b.port)))
			if err != nil {
				lastErr = err
				break
			}
			lns = append(lns, l)
		}
		if len(lns) < len(addrs) {
			for _, l := range lns {
				l.Close()
			}
			if try == 10 {
				t.Fatalf("no port free on all %d backend addresses: %v", len(addrs), lastErr)
			}
			continue
		}
		for i, l := range lns {
			srv := &http.Server{Handler: b.handler(addrs[i])}
			b.servers[addrs[i]] = srv
			go srv.Serve(l)
			t.Cleanup(func() { srv.Close() })
		}
		return b
	}
}

func (b *clusterBackends) handler(addr string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		src := netip.MustParseAddrPort(req.RemoteAddr).Addr()
		b.mu.Lock()
		if b.checks[addr] == nil {
			b.checks[addr] = map[netip.Addr]int{}
		}
		b.checks[addr][src]++
		refuse := b.down[addr] || b.refused[addr][src]
		b.mu.Unlock()
		if refuse {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
}

// checked returns how many checks from source the backend at addr has
// received.
func (b *clusterBackends) checked(addr string, source netip.Addr) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.checks[addr][source]
}

// The harness works today, before the engine takes part in the cluster:
// three failoverd processes join one etcd cluster of three members (each
// live under its own lease), one is elected, BIND answers through the
// counting proxy; each daemon keeps its membership across a reload (the
// same lease), rejects a reload that would change its connection, and on
// SIGTERM gives up its lease at once, so that another instance leads
// without waiting for the lease to expire. Each instance's checks come
// from its own source address.
func TestClusterRig(t *testing.T) {
	r := startClusterRig(t, rigOptions{})
	for _, in := range r.inst {
		r.eventually(in.name+" logs its connection", 5*time.Second, func() bool {
			return logHas(in.proc.logs.String(), "cluster: connected", "instance="+in.name)
		})
	}
	for _, in := range r.inst {
		r.eventually(in.name+"'s checks arrive from its source address "+in.source.String(), 5*time.Second, func() bool {
			return r.back.checked("127.0.0.2", in.source) > 0 && r.back.checked("127.0.0.3", in.source) > 0
		})
		r.eventually(in.name+"'s /status shows its record decided", 5*time.Second, func() bool {
			st := r.status(in)
			return len(st.Zones) == 1 && len(st.Zones[0].Records) == 1 && st.Zones[0].Records[0].Decided
		})
	}
	f1, f2 := r.inst[0], r.inst[1]
	lease := instanceLease(t, r.cli, r.prefix, f1.name)
	if lease == 0 {
		t.Fatal("f1 has no instance key in etcd")
	}

	reload := func(text, logged string) {
		t.Helper()
		if err := os.WriteFile(f1.file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		before := strings.Count(f1.proc.logs.String(), logged)
		f1.proc.cmd.Process.Signal(syscall.SIGHUP)
		r.eventually("f1 logs "+logged, 10*time.Second, func() bool { return strings.Count(f1.proc.logs.String(), logged) > before })
	}
	base := r.config(f1)
	reload(strings.Replace(base, "lease_ttl: 2s", "lease_ttl: 2s\n  quorum: {down_at_least: 2}", 1), "reloaded:")
	if got := instanceLease(t, r.cli, r.prefix, f1.name); got != lease {
		t.Errorf("lease after a reload that changes the quorum: got %x, want %x (the same)", got, lease)
	}
	reload(strings.Replace(base, "lease_ttl: 2s", "lease_ttl: 3s", 1), "reload rejected")
	if !logHas(f1.proc.logs.String(), "reload rejected", "only quorum can change in a reload") {
		t.Errorf("a reload changing the lease: want it rejected, saying why; log:\n%s", f1.proc.logs.String())
	}
	if got := instanceLease(t, r.cli, r.prefix, f1.name); got != lease {
		t.Errorf("lease after a rejected reload: got %x, want %x (the same)", got, lease)
	}

	// Frozen for less than its lease, an instance keeps it; killed, it
	// leaves once its lease expires, and comes back with a new one.
	lease2 := instanceLease(t, r.cli, r.prefix, f2.name)
	r.pause(f2)
	r.resume(f2)
	if got := instanceLease(t, r.cli, r.prefix, f2.name); got != lease2 {
		t.Errorf("f2 after a short freeze: lease %x, want %x", got, lease2)
	}
	r.kill(f2)
	r.eventually("f2's lease expiring", 2*rigLeaseTTL+time.Second, func() bool { return instanceLease(t, r.cli, r.prefix, f2.name) == 0 })
	r.start(f2)
	r.eventually("f2 live again", 10*time.Second, func() bool { return len(r.live()) == 3 })
	if got := instanceLease(t, r.cli, r.prefix, f2.name); got == lease2 {
		t.Errorf("f2 after a restart: lease %x, want a new one", got)
	}

	leader := r.leader()
	leader.proc.stop()
	if got := instanceLease(t, r.cli, r.prefix, leader.name); got != 0 {
		t.Errorf("%s after SIGTERM: its instance key is still live under lease %x; want it revoked on the way out", leader.name, got)
	}
	start := time.Now()
	r.eventually("another leader", 2*time.Second, func() bool {
		l := r.leader()
		return l != nil && l != leader
	})
	t.Logf("leader %s stopped with SIGTERM: %s leads after %v", leader.name, r.leader().name, time.Since(start).Round(time.Millisecond))
	if got := r.proxy.TotalUpdates(); got != 0 {
		t.Errorf("updates at BIND with every backend healthy: got %d, want 0", got)
	}
}
