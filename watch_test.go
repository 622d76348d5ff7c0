package failover

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnsfailover/failover/check"
)

// The watched backend is a process of its own, so that killing it closes
// its sockets as a crash does: the test binary, run with this variable set
// to the address to serve.
const backendEnv = "FAILOVER_TEST_BACKEND_ADDR"

func TestMain(m *testing.M) {
	if addr := os.Getenv(backendEnv); addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			os.Exit(3)
		}
		http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// recorder collects events for real-time tests.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) add(e Event) { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() }

func (r *recorder) kinds() []EventKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []EventKind
	for _, e := range r.events {
		out = append(out, e.Kind)
	}
	return out
}

// watchedConfig is a record on target with a watching HTTP check and a
// steady interval far longer than the test may take: only watching can
// fail it over in time.
func watchedConfig(t *testing.T, p Provider, port int, rec *recorder) Config {
	return Config{
		Zones: []Zone{{Name: testZone, Providers: []Provider{p}, Records: []Record{{
			Name: "www", Type: "A",
			Endpoints: []Endpoint{{Value: "127.0.0.2"}, {Value: "127.0.0.3", Priority: 1}},
			Check:     &check.HTTP{Port: port, Watching: true},
			Policy:    Policy{Interval: 30 * time.Second, Timeout: time.Second, FastInterval: 10 * time.Millisecond, FailAfter: 2, RecoverAfter: 1},
		}}}},
		OnEvent: rec.add,
	}
}

func runFor(t *testing.T, cfg Config) *Manager {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return m
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWatchingNoticesAKilledBackend(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	backup, err := net.Listen("tcp", "127.0.0.3:"+strconv.Itoa(port))
	if err != nil {
		t.Skipf("port %d taken on 127.0.0.3: %v", port, err)
	}
	go http.Serve(backup, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer backup.Close()

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), backendEnv+"=127.0.0.2:"+strconv.Itoa(port))
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	// The backend listens before the Manager starts: a watcher refused at
	// first backs off (up to 5 s), and a kill within that wait is left to
	// the 30 s checks.
	waitFor(t, 10*time.Second, "the backend listening", func() bool {
		c, err := net.Dial("tcp", "127.0.0.2:"+strconv.Itoa(port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	p := memZone(t)
	rec := &recorder{}
	m := runFor(t, watchedConfig(t, p, port, rec))
	waitFor(t, 10*time.Second, "primary published", func() bool { got, _ := held(p, "www", "A"); return equal(got, []string{"127.0.0.2"}) })
	if !m.Status().Zones[0].Records[0].Endpoints[0].Watched {
		t.Fatal("Status does not show the endpoint watched")
	}
	waitFor(t, 10*time.Second, "the watch connection up", func() bool { return established(t, "127.0.0.2", port) })
	child.Process.Kill()
	// With a 30 s interval and FailAfter 2, only the watch can do this
	// within the limit.
	waitFor(t, 5*time.Second, "backup published", func() bool { got, _ := held(p, "www", "A"); return equal(got, []string{"127.0.0.3"}) })

	// The events come through OnEvent's queue: wait for them.
	want := []EventKind{EventSuspected, EventEndpointDown, EventSuspicionEnded, EventRecordDecided}
	var order []EventKind
	waitFor(t, 5*time.Second, "the failover's events", func() bool {
		order = order[:0]
		for _, k := range rec.kinds() {
			if k == EventSuspected || k == EventEndpointDown || k == EventSuspicionEnded || (k == EventRecordDecided && len(order) > 0) {
				order = append(order, k)
			}
		}
		return len(order) >= 4
	})
	if !slicesEqual(order[:4], want) {
		t.Fatalf("events %v, want %v", order, want)
	}
}

// A server that closes idle connections raises no suspicion: the watcher
// reconnects, and only a refused reconnect is news (issue 11, item 6).
func TestWatchingToleratesIdleConnectionsClosed(t *testing.T) {
	for _, idle := range []time.Duration{100 * time.Millisecond, 1200 * time.Millisecond} {
		t.Run(idle.String(), func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.2:0")
			if err != nil {
				t.Fatal(err)
			}
			port := ln.Addr().(*net.TCPAddr).Port
			// Healthy, but closes a connection that sends no request within idle.
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), ReadHeaderTimeout: idle}
			go srv.Serve(ln)
			defer srv.Close()

			p := memZone(t)
			rec := &recorder{}
			runFor(t, watchedConfig(t, p, port, rec))
			waitFor(t, 10*time.Second, "primary published", func() bool { got, _ := held(p, "www", "A"); return equal(got, []string{"127.0.0.2"}) })
			time.Sleep(3 * time.Second) // several idle closes
			rec.mu.Lock()
			for _, e := range rec.events {
				if (e.Kind == EventSuspected || e.Kind == EventEndpointDown) && e.Endpoint == "127.0.0.2" {
					t.Errorf("got %v: closed idle connections must raise no suspicion", e)
				}
			}
			rec.mu.Unlock()
			if got, _ := held(p, "www", "A"); !equal(got, []string{"127.0.0.2"}) {
				t.Fatalf("got %v, want the primary kept", got)
			}
		})
	}
}

func slicesEqual(a, b []EventKind) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// established reports whether the kernel holds an established TCP
// connection to ip:port (IPv4), as /proc/net/tcp lists them; false where
// there is no /proc.
func established(t *testing.T, ip string, port int) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return false
	}
	a := netip.MustParseAddr(ip).As4()
	// Addresses are little-endian hex words, ports big-endian hex.
	remote := fmt.Sprintf("%02X%02X%02X%02X:%04X", a[3], a[2], a[1], a[0], port)
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) > 3 && f[2] == remote && f[3] == "01" {
			return true
		}
	}
	return false
}
