// Package servertest starts real servers for tests: BIND 9 and Knot DNS
// (updated with RFC 2136 and TSIG, read by AXFR), PowerDNS (HTTP API,
// SQLite backend) and etcd clusters of separate processes, each on
// loopback, in a temp dir, on free ports, stopped when the test ends. Only
// the process a helper started is ever signalled.
//
// When a server's program is missing the test is skipped, unless the
// environment variable FAILOVER_REQUIRE_SERVERS=1 is set (as CI does): then
// it fails. `make test` installs BIND and PowerDNS through apt-get and
// builds etcd from the Go module proxy (see [EtcdBinaryPath]).
package servertest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// RequireEnv is the environment variable that turns a missing server from
// a skip into a failure.
const RequireEnv = "FAILOVER_REQUIRE_SERVERS"

// need returns the path of program, or skips (or fails) the test.
func need(t testing.TB, program, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s not found (Debian package %s; `make test` installs it): %v", program, pkg, err)
	if os.Getenv(RequireEnv) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// freePort returns a port free on 127.0.0.1 for both UDP and TCP.
func freePort(t testing.TB) int {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		pc.Close()
		if err == nil {
			ln.Close()
			return port
		}
	}
	t.Fatal("no port free on both UDP and TCP")
	return 0
}

// process is a server program this package started.
type process struct {
	name string
	args []string
	out  *bytes.Buffer

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// start runs the program; its output is kept for error messages.
func (p *process) start(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd := exec.Command(p.name, p.args...)
	p.out = new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = lockedWriter(p.out), lockedWriter(p.out)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", p.name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(p.done)
}

// stop terminates the process (SIGTERM, then SIGKILL) and waits for it.
// kill skips the SIGTERM, as a crash would.
func (p *process) stop(kill bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
	p.cmd = nil
}

// signal sends sig to the process if it is running.
func (p *process) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		p.cmd.Process.Signal(sig)
	}
}

// waitStopped polls /proc until every thread of the process is stopped
// (state T), or until limit passes. On systems without /proc it returns
// at once.
func (p *process) waitStopped(limit time.Duration) {
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	tasks := filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "task")
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		dirs, err := os.ReadDir(tasks)
		if err != nil {
			return
		}
		stopped := true
		for _, d := range dirs {
			stat, err := os.ReadFile(filepath.Join(tasks, d.Name(), "stat"))
			// The state follows the command name in parentheses: "pid (comm) T ...".
			if i := bytes.LastIndexByte(stat, ')'); err == nil && (i < 0 || i+2 >= len(stat) || stat[i+2] != 'T') {
				stopped = false
				break
			}
		}
		if stopped {
			return
		}
	}
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitDNS waits until addr answers SOA queries for zone authoritatively.
func waitDNS(t testing.TB, p *process, addr, zone string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m := new(dns.Msg)
		m.SetQuestion(zone, dns.TypeSOA)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		resp, _, err := (&dns.Client{Net: "tcp"}).ExchangeContext(ctx, m, addr)
		cancel()
		if err == nil && resp.Rcode == dns.RcodeSuccess && resp.Authoritative {
			return
		}
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("%s did not answer for %s on %s (last: %v):\n%s", p.name, zone, addr, err, p.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *process) output() string {
	outMu.Lock()
	defer outMu.Unlock()
	return p.out.String()
}

var outMu sync.Mutex // guards the output buffers of every process

type locked struct{ b *bytes.Buffer }

func lockedWriter(b *bytes.Buffer) locked { return locked{b} }

func (l locked) Write(p []byte) (int, error) {
	outMu.Lock()
	defer outMu.Unlock()
	return l.b.Write(p)
}
