package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
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

func freePort(t testing.TB) int {
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
	var primaryDown atomic.Bool
	port := backends(t, &primaryDown)
	statusAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	config := func(ttl string) string {
		return fmt.Sprintf("status: {listen: %q, token_env: FAILOVERD_TOKEN}\nreconcile_interval: 1s\n", statusAddr) +
			wwwZone(bind, "", bothEndpoints, port, "ttl: "+ttl)
	}
	file := filepath.Join(t.TempDir(), "failover.yaml")
	os.WriteFile(file, []byte(config("60s")), 0o600)
	d := startDaemon(t, file, "FAILOVERD_TSIG="+bind.Key, "FAILOVERD_TOKEN=t0ken")

	published := func() []string {
		st := getStatus(statusAddr)
		if len(st.Zones) == 0 || !st.Zones[0].Records[0].Decided {
			return nil
		}
		return st.Zones[0].Records[0].Published
	}
	eventually(t, "the primary decided", func() bool { return slices.Equal(published(), []string{"127.0.0.2"}) })

	primaryDown.Store(true)
	eventually(t, "BIND answers the backup", func() bool { return slices.Equal(answerA(bind.Addr, "www.example.test."), []string{"127.0.0.3"}) })
	if got := published(); !slices.Equal(got, []string{"127.0.0.3"}) {
		t.Fatalf("/status publishes %v, want the backup", got)
	}
	if m := scrape(statusAddr); !strings.Contains(m, `failover_endpoint_up{endpoint="127.0.0.2",record="www",type="A",zone="example.test."} 0`) {
		t.Fatalf("/metrics does not show the primary down:\n%s", m)
	}

	// A broken file is rejected; the daemon goes on.
	os.WriteFile(file, []byte(strings.Replace(config("60s"), "value: 127.0.0.2", "value: 127.0.0.300", 1)), 0o600)
	d.cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, "broken reload rejected", func() bool { return strings.Contains(d.logs.String(), "reload rejected") })
	if got := published(); !slices.Equal(got, []string{"127.0.0.3"}) {
		t.Fatalf("after a rejected reload: /status publishes %v", got)
	}
	// A good file with the record unchanged is taken, and the record keeps
	// its health: decided at once, primary still down, no unknown phase.
	os.WriteFile(file, []byte(config("60s")+"\ndry_run: false\n"), 0o600)
	d.cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, "reloaded", func() bool { return strings.Contains(d.logs.String(), "reloading") })
	eventually(t, "running again", func() bool { return strings.Count(d.logs.String(), "msg=running") == 2 })
	st := getStatus(statusAddr)
	if len(st.Zones) == 0 {
		t.Fatal("right after the reload: no status")
	}
	if r := st.Zones[0].Records[0]; !r.Decided || r.Endpoints[0].Health != failover.HealthDown || !slices.Equal(r.Published, []string{"127.0.0.3"}) {
		t.Fatalf("right after the reload: %+v, want the health and decision kept", r)
	}
	// A changed record starts fresh.
	os.WriteFile(file, []byte(config("120s")), 0o600)
	d.cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, "reloaded twice", func() bool { return strings.Count(d.logs.String(), "reloading") == 2 })
	eventually(t, "decided again after the reload", func() bool { return slices.Equal(published(), []string{"127.0.0.3"}) })
	d.stop()
}
