package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// BenchmarkCluster measures issue 14's numbers on the process rig (three
// failoverd, three etcd members, BIND), the cluster counterpart of
// BenchmarkFailoverLatency's single-instance figures:
//
//		FAILOVER_REQUIRE_SERVERS=1 go test -run XXX -bench Cluster -benchtime 1x -timeout 60m ./cmd/failoverd
//
//	  - failover: a backend killed (its listener and connections closed, as
//	    a crashed process's kernel does) → BIND answers the backup, watching
//	    checks, 2 of 3 instances must agree (majority); 10 runs, median and
//	    95th percentile.
//	  - leader-kill: the leader's failoverd killed with SIGKILL → another
//	    instance leads with enough lease to write; 5 runs.
//	  - etcd-writes: etcd's committed proposals per hour at rest (over
//	    FAILOVER_REST_WINDOW, default 1m) and per failover of one record.
//	  - scale: FAILOVER_CLUSTER_ENDPOINTS endpoints (default 20,000; records
//	    of two) × 3 instances, TCP checks every 5 s: etcd writes per second
//	    and each instance's CPU at rest, then during a mass failover (every
//	    primary killed), until BIND answers the backup for every record.
//	    It raises the open-file limit (as root) for one listener per
//	    endpoint.
func BenchmarkCluster(b *testing.B) {
	b.Run("failover", benchClusterFailover)
	b.Run("leader-kill", benchClusterLeaderKill)
	b.Run("etcd-writes", benchClusterEtcdWrites)
	b.Run("scale", benchClusterScale)
}

func benchClusterFailover(b *testing.B) {
	const runs = 10
	r := startClusterRig(b, rigOptions{Watching: true})
	r.waitDecided()
	var took []time.Duration
	for range runs {
		r.back.kill("127.0.0.2")
		killed := time.Now()
		r.eventually("BIND answers the backup", 10*time.Second, func() bool { return r.answer() == "127.0.0.3" })
		took = append(took, time.Since(killed))
		r.back.revive(b, "127.0.0.2")
		r.eventually("BIND answers the primary again", 10*time.Second, func() bool { return r.answer() == "127.0.0.2" })
		r.waitChecks("127.0.0.2", 3, r.inst...) // the watchers are connected again
	}
	report(b, "kill→backup", took)
}

func benchClusterLeaderKill(b *testing.B) {
	const runs = 5
	r := startClusterRig(b, rigOptions{})
	r.waitDecided()
	var took []time.Duration
	for range runs {
		old := r.leader()
		r.kill(old)
		killed := time.Now()
		r.eventually("a new leader able to write", 3*rigLeaseTTL, func() bool { return r.writer(r.others(old)...) != nil })
		took = append(took, time.Since(killed))
		r.start(old)
		r.eventually("the killed instance live again", 10*time.Second, func() bool { return len(r.live()) == 3 })
	}
	report(b, "kill→leader", took)
}

func benchClusterEtcdWrites(b *testing.B) {
	r := startClusterRig(b, rigOptions{})
	r.waitDecided()
	r.quiet(time.Second)
	window := envDuration(b, "FAILOVER_REST_WINDOW", time.Minute)
	before := r.proposals()
	rest := time.NewTimer(window)
	<-rest.C // the measurement is this window at rest
	atRest := r.proposals() - before
	b.ReportMetric(atRest*float64(time.Hour)/float64(window), "etcd-writes/h-at-rest")

	before = r.proposals()
	r.back.setDown("127.0.0.2", true)
	r.eventually("BIND answers the backup", 10*time.Second, func() bool { return r.answer() == "127.0.0.3" })
	r.quiet(time.Second)
	b.ReportMetric(r.proposals()-before, "etcd-writes/failover")
}

func benchClusterScale(b *testing.B) {
	endpoints := 20000
	if s := os.Getenv("FAILOVER_CLUSTER_ENDPOINTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 2 {
			b.Fatalf("FAILOVER_CLUSTER_ENDPOINTS=%q: want a number of endpoints, at least 2", s)
		}
		endpoints = n
	}
	// One listener per endpoint, and headroom for the connections of
	// the checks: raised as far as the hard limit allows (raising that
	// needs CAP_SYS_RESOURCE).
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	want := uint64(endpoints)*2 + 10000
	if lim.Max < want {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: want, Max: want}); err == nil {
			lim.Max = want
		}
	}
	lim.Cur = min(want, lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < uint64(endpoints)+4000 {
		b.Fatalf("open-file limit %d (hard limit %d) is too low for %d endpoints, one listener each: %v", lim.Cur, lim.Max, endpoints, err)
	}
	extra := endpoints/2 - 1 // www is one record of two
	// A 10 s lease (etcd.DefaultLeaseTTL): on a loaded machine a 2 s lease
	// expires between renewals, and each expiry rewrites every verdict.
	r := startClusterRig(b, rigOptions{TCP: true, Interval: 5 * time.Second, ExtraRecords: extra, LeaseTTL: 10 * time.Second})
	r.eventually("every instance decided", 5*time.Minute, func() bool {
		for _, in := range r.inst {
			st := r.status(in)
			if len(st.Zones) == 0 || slices.ContainsFunc(st.Zones[0].Records, func(rec failover.RecordStatus) bool { return !rec.Decided }) {
				return false
			}
		}
		return true
	})
	r.quiet(2 * time.Second)
	window := envDuration(b, "FAILOVER_REST_WINDOW", time.Minute)
	measure := func(name string, during func()) {
		cpu := r.cpu()
		props := r.proposals()
		start := time.Now()
		during()
		d := time.Since(start)
		b.ReportMetric((r.proposals()-props)/d.Seconds(), "etcd-writes/s-"+name)
		for i, c := range r.cpu() {
			b.ReportMetric((c-cpu[i]).Seconds()/d.Seconds(), fmt.Sprintf("cpu-%s-%s", r.inst[i].name, name))
		}
		b.Logf("%s: %v", name, d.Round(time.Millisecond))
	}
	measure("rest", func() {
		// etcd's commits per tenth of the window: a steady rate, or the
		// tail of the start-up settling.
		var steps []float64
		wctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		kinds := map[string]int{} // keys written at rest, by kind (verdicts, decisions, …)
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			for resp := range r.cli.Watch(wctx, r.prefix, clientv3.WithPrefix()) {
				for _, ev := range resp.Events {
					kind, _, _ := strings.Cut(strings.TrimPrefix(string(ev.Kv.Key), r.prefix), "/")
					kinds[kind+" "+ev.Type.String()]++
				}
			}
		}()
		defer func() { cancel(); <-watched; b.Logf("keys written at rest: %v", kinds) }()
		last := r.proposals()
		for range 10 {
			time.Sleep(window / 10) // the measurement is this window at rest
			p := r.proposals()
			steps, last = append(steps, p-last), p
		}
		b.Logf("etcd commits per %v at rest: %v", window/10, steps)
		for _, m := range r.etcd.Members {
			b.Logf("etcd %s: leader changes %v, slow applies %v, slow heartbeats %v, wal fsync %.0f s in %v, lease expired %v",
				m.Name, m.Metric(b, "etcd_server_leader_changes_seen_total"), m.Metric(b, "etcd_server_slow_apply_total"),
				m.Metric(b, "etcd_server_heartbeat_send_failures_total"), m.Metric(b, "etcd_disk_wal_fsync_duration_seconds_sum"),
				m.Metric(b, "etcd_disk_wal_fsync_duration_seconds_count"), m.Metric(b, "etcd_debugging_server_lease_expired_total"))
		}
	})
	measure("mass-failover", func() {
		r.back.kill("127.0.0.2")
		for i := range extra {
			r.back.kill(extraAddr(1, i))
		}
		last := fmt.Sprintf("other%d.example.test.", extra-1)
		r.eventually("BIND answers the backup for every record", 10*time.Minute, func() bool {
			return r.answer() == "127.0.0.3" && strings.Join(answerA(r.bind.Addr, last), " ") == extraAddr(2, extra-1)
		})
		r.quiet(2 * time.Second)
	})
}

// proposals is the count of raft proposals etcd has committed (every
// put, delete, transaction, lease grant and revoke; not lease renewals),
// as its first member reports it.
func (r *clusterRig) proposals() float64 {
	return r.etcd.Members[0].Metric(r.t, "etcd_server_proposals_committed_total")
}

// quiet waits until etcd has committed nothing for d.
func (r *clusterRig) quiet(d time.Duration) {
	r.t.Helper()
	last, since := r.proposals(), time.Now()
	r.eventually("etcd quiet", 5*time.Minute, func() bool {
		if p := r.proposals(); p != last {
			last, since = p, time.Now()
		}
		return time.Since(since) >= d
	})
}

// cpu returns the CPU time (user and system) each instance has used.
func (r *clusterRig) cpu() []time.Duration {
	var out []time.Duration
	for _, in := range r.inst {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", in.proc.cmd.Process.Pid))
		if err != nil {
			r.t.Fatal(err)
		}
		f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
		utime, _ := strconv.Atoi(f[11])
		stime, _ := strconv.Atoi(f[12])
		out = append(out, time.Duration(utime+stime)*time.Second/100) // USER_HZ is 100 on Linux
	}
	return out
}

// report reports the median and 95th percentile of took, in ms.
func report(b *testing.B, name string, took []time.Duration) {
	slices.Sort(took)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(took[len(took)/2]), "ms-median-"+name)
	b.ReportMetric(ms(took[(len(took)*95+99)/100-1]), "ms-p95-"+name)
	b.Logf("%s: %v", name, took)
}

// envDuration reads a duration from the environment, or def.
func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		b.Fatalf("%s=%q: %v", name, s, err)
	}
	return d
}

// revive serves the backend at addr again, on the same port, after kill.
func (bk *clusterBackends) revive(t testing.TB, addr string) {
	ln, err := net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(bk.port)))
	if err != nil {
		t.Fatalf("reviving the backend %s: %v", addr, err)
	}
	srv := &http.Server{Handler: bk.handler(addr)}
	bk.mu.Lock()
	bk.servers[addr] = srv
	bk.mu.Unlock()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}
