package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/servertest"
	"github.com/dnsfailover/failover/notify"
	"github.com/miekg/dns"
)

var built struct {
	once sync.Once
	bin  string
	err  error
	out  []byte
}

// binary builds failoverd once for the tests that run it as a process.
func binary(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "failoverd-test")
		if err != nil {
			built.err = err
			return
		}
		built.bin = filepath.Join(dir, "failoverd")
		built.out, built.err = exec.Command("go", "build", "-o", built.bin, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.bin
}

// proc is failoverd running as a process.
type proc struct {
	t      testing.TB
	cmd    *exec.Cmd
	logs   *syncBuffer
	exited chan error
}

// startDaemon runs `failoverd run -c file` with env added to the
// environment; it is killed at the end of the test, and its log shown if
// the test failed.
func startDaemon(t testing.TB, file string, env ...string) *proc {
	t.Helper()
	return startRun(t, []string{"-c", file}, env...)
}

// startRun is startDaemon with the arguments of `failoverd run`. The
// daemon's log is printed when the test fails, and written to
// DIR/failoverd-PID.log with FAILOVERD_TEST_LOGS=DIR (for benchmarks).
func startRun(t testing.TB, args []string, env ...string) *proc {
	t.Helper()
	p := &proc{t: t, logs: &syncBuffer{}, exited: make(chan error, 1)}
	p.cmd = exec.Command(binary(t), append([]string{"run"}, args...)...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		if dir := os.Getenv("FAILOVERD_TEST_LOGS"); dir != "" {
			os.WriteFile(filepath.Join(dir, fmt.Sprintf("failoverd-%d.log", p.cmd.Process.Pid)), []byte(p.logs.String()), 0o644)
		}
		if t.Failed() {
			t.Logf("failoverd (pid %d) log:\n%s", p.cmd.Process.Pid, p.logs.String())
		}
	})
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop() {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		if err != nil {
			p.t.Fatalf("after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		p.t.Fatal("failoverd did not stop after SIGTERM")
	}
}

// cli runs a failoverd client command; it returns its output and exit code.
func cli(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// getStatus reads /status from addr; a zero Status when it cannot.
func getStatus(addr string) failover.Status {
	var st failover.Status
	resp, err := http.Get("http://" + addr + "/status")
	if err != nil {
		return st
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(&st)
	return st
}

// decided reports whether the first record of the failoverd at addr is
// decided.
func decided(addr string) func() bool {
	return func() bool {
		st := getStatus(addr)
		return len(st.Zones) > 0 && len(st.Zones[0].Records) > 0 && st.Zones[0].Records[0].Decided
	}
}

// endpoint returns the status of one endpoint of the first record.
func endpoint(st failover.Status, value string) (failover.EndpointStatus, bool) {
	if len(st.Zones) == 0 || len(st.Zones[0].Records) == 0 {
		return failover.EndpointStatus{}, false
	}
	for _, e := range st.Zones[0].Records[0].Endpoints {
		if e.Value == value {
			return e, true
		}
	}
	return failover.EndpointStatus{}, false
}

// answerA asks server for name's A records over TCP.
func answerA(server, name string) []string {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	resp, _, err := (&dns.Client{Net: "tcp"}).Exchange(m, server)
	if err != nil {
		return nil
	}
	var ips []string
	for _, rr := range resp.Answer {
		if a, ok := rr.(*dns.A); ok {
			ips = append(ips, a.A.String())
		}
	}
	slices.Sort(ips)
	return ips
}

// backends serves HTTP on 127.0.0.2 and 127.0.0.3, one port, healthy
// until down is set for 127.0.0.2 (nil: always healthy); it skips the
// test when the port is taken on the second address.
func backends(t *testing.T, down *atomic.Bool) (port int) {
	t.Helper()
	primary, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	port = primary.Addr().(*net.TCPAddr).Port
	backup, err := net.Listen("tcp", net.JoinHostPort("127.0.0.3", strconv.Itoa(port)))
	if err != nil {
		primary.Close()
		t.Skipf("port %d taken on 127.0.0.3", port)
	}
	health := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down != nil && down.Load() && strings.HasPrefix(r.Host, "127.0.0.2") {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	for _, ln := range []net.Listener{primary, backup} {
		srv := &http.Server{Handler: health}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
	}
	return port
}

// wwwZone is a zones: section: the zone example.test. on bind (with the
// provider fields extra, such as "name: ns1, "), and its record www A with
// endpoints, checked by HTTP on port every 200 ms, down after 2 failures,
// with the policy fields policy.
func wwwZone(bind *servertest.BIND, extra, endpoints string, port int, policy string) string {
	return fmt.Sprintf(`
zones:
  - name: example.test.
    providers:
      - {type: rfc2136, %sserver: %q, key_name: %q, key_alg: %q, secret_env: FAILOVERD_TSIG}
    records:
      - name: www
        type: A
        endpoints: %s
        check: {type: http, port: %d}
        policy: {interval: 200ms, fast_interval: 50ms, fail_after: 2, failover_ttl: 10s, %s}
`, extra, bind.Addr, bind.KeyName, bind.KeyAlg, endpoints, port, policy)
}

const bothEndpoints = "[{value: 127.0.0.2}, {value: 127.0.0.3, priority: 1}]"

// webhookLog records the notifications a webhook receives.
type webhookLog struct {
	mu       sync.Mutex
	payloads []notify.Payload
}

func (w *webhookLog) ServeHTTP(_ http.ResponseWriter, r *http.Request) {
	var p notify.Payload
	json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&p)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.payloads = append(w.payloads, p)
}

// kinds lists the kinds received, with the reason of override-ended.
func (w *webhookLog) kinds() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, p := range w.payloads {
		k := p.Kind
		if p.Kind == "override-ended" {
			k += ": " + p.Reason
		}
		out = append(out, k)
	}
	return out
}

func startWebhook(t *testing.T) (*webhookLog, string) {
	w := &webhookLog{}
	srv := httptest.NewServer(w)
	t.Cleanup(srv.Close)
	return w, srv.URL
}

// logHas reports whether the log holds every part on one line.
func logHas(log string, parts ...string) bool {
	for line := range strings.Lines(log) {
		if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(line, p) }) {
			return true
		}
	}
	return false
}
