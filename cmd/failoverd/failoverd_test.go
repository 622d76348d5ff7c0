package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/servertest"
	"github.com/miekg/dns"
)

// syncBuffer is the daemon's log, read while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDaemon runs failoverd as a process against BIND and loopback
// backends: failover seen in DNS, /status and /metrics; SIGHUP with a
// broken file (rejected, still running) and a good one (reloaded); SIGTERM
// (clean exit).
func TestDaemon(t *testing.T) {
	bind := servertest.StartBIND(t, "example.test.", "www 60 IN A 127.0.0.2")
	bin := filepath.Join(t.TempDir(), "failoverd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// Backends on 127.0.0.2 and .3, one port.
	primary, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	port := primary.Addr().(*net.TCPAddr).Port
	backup, err := net.Listen("tcp", net.JoinHostPort("127.0.0.3", strconv.Itoa(port)))
	if err != nil {
		t.Skipf("port %d taken on 127.0.0.3", port)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	primarySrv, backupSrv := &http.Server{Handler: ok}, &http.Server{Handler: ok}
	go primarySrv.Serve(primary)
	go backupSrv.Serve(backup)
	defer backupSrv.Close()

	statusAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	config := func(ttl string) string {
		return fmt.Sprintf(`
status: {listen: %q, token_env: FAILOVERD_TOKEN}
reconcile_interval: 1s
zones:
  - name: example.test.
    providers:
      - {type: rfc2136, server: %q, key_name: %q, key_alg: %q, secret_env: FAILOVERD_TSIG}
    records:
      - name: www
        type: A
        endpoints: [{value: 127.0.0.2}, {value: 127.0.0.3, priority: 1}]
        check: {type: http, port: %d}
        policy: {interval: 200ms, fast_interval: 50ms, fail_after: 2, ttl: %s, failover_ttl: 10s}
`, statusAddr, bind.Addr, bind.KeyName, bind.KeyAlg, port, ttl)
	}
	file := filepath.Join(t.TempDir(), "failover.yaml")
	os.WriteFile(file, []byte(config("60s")), 0o600)

	var logs syncBuffer
	cmd := exec.Command(bin, "run", "-c", file)
	cmd.Env = append(os.Environ(), "FAILOVERD_TSIG="+bind.Key, "FAILOVERD_TOKEN=t0ken")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		if t.Failed() {
			t.Logf("failoverd log:\n%s", logs.String())
		}
	}()

	status := func() failover.Status {
		var st failover.Status
		resp, err := http.Get("http://" + statusAddr + "/status")
		if err != nil {
			return st
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(&st)
		return st
	}
	published := func() []string {
		st := status()
		if len(st.Zones) == 0 || !st.Zones[0].Records[0].Decided {
			return nil
		}
		return st.Zones[0].Records[0].Published
	}
	answer := func() []string {
		m := new(dns.Msg)
		m.SetQuestion("www.example.test.", dns.TypeA)
		resp, _, err := (&dns.Client{Net: "tcp"}).Exchange(m, bind.Addr)
		if err != nil {
			return nil
		}
		var ips []string
		for _, rr := range resp.Answer {
			ips = append(ips, rr.(*dns.A).A.String())
		}
		return ips
	}
	eventually(t, "the primary decided", func() bool { return slices.Equal(published(), []string{"127.0.0.2"}) })

	primarySrv.Close()
	eventually(t, "BIND answers the backup", func() bool { return slices.Equal(answer(), []string{"127.0.0.3"}) })
	if got := published(); !slices.Equal(got, []string{"127.0.0.3"}) {
		t.Fatalf("/status publishes %v, want the backup", got)
	}
	resp, err := http.Get("http://" + statusAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metricsText, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metricsText), `failover_endpoint_up{endpoint="127.0.0.2",record="www",type="A",zone="example.test."} 0`) {
		t.Fatalf("/metrics does not show the primary down:\n%s", metricsText)
	}

	// A broken file is rejected; the daemon goes on.
	os.WriteFile(file, []byte(strings.Replace(config("60s"), "value: 127.0.0.2", "value: 127.0.0.300", 1)), 0o600)
	cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, "broken reload rejected", func() bool { return strings.Contains(logs.String(), "reload rejected") })
	if got := published(); !slices.Equal(got, []string{"127.0.0.3"}) {
		t.Fatalf("after a rejected reload: /status publishes %v", got)
	}
	// A good file with the record unchanged is taken, and the record keeps
	// its health: decided at once, primary still down, no unknown phase.
	os.WriteFile(file, []byte(config("60s")+"\ndry_run: false\n"), 0o600)
	cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, "reloaded", func() bool { return strings.Contains(logs.String(), "reloading") })
	eventually(t, "running again", func() bool { return strings.Count(logs.String(), "msg=running") == 2 })
	st := status()
	if r := st.Zones[0].Records[0]; !r.Decided || r.Endpoints[0].Health != failover.HealthDown || !slices.Equal(r.Published, []string{"127.0.0.3"}) {
		t.Fatalf("right after the reload: %+v, want the health and decision kept", r)
	}
	// A changed record starts fresh.
	os.WriteFile(file, []byte(config("120s")), 0o600)
	cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, "reloaded twice", func() bool { return strings.Count(logs.String(), "reloading") == 2 })
	eventually(t, "decided again after the reload", func() bool { return slices.Equal(published(), []string{"127.0.0.3"}) })

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("failoverd did not stop after SIGTERM")
	}
}
