package failover

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover/check"
	"github.com/dnsfailover/failover/provider/memory"
	"github.com/libdns/libdns"
)

// A checker that ignores its context is judged failed at its deadlines,
// and no second check of the endpoint piles up behind it.
func TestCheckerThatHangsPastItsDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var started atomic.Int32
		var hang CheckerFunc = func(_ context.Context, target string) error {
			if target != "192.0.2.10" {
				return nil
			}
			started.Add(1)
			<-release // ignores ctx
			return nil
		}
		p := memZone(t)
		h := run(t, oneZone(p, wwwRecord(hang, basePol)))
		h.until(time.Minute, stepTime, "hung endpoint down", func() bool {
			d := h.of(EventEndpointDown)
			return len(d) == 1 && d[0].Endpoint == "192.0.2.10" && strings.Contains(d[0].Err.Error(), "ignores its 1s deadline")
		})
		h.holds(p, time.Minute, []string{"192.0.2.11"})
		time.Sleep(10 * time.Minute)
		if n := started.Load(); n != 1 {
			t.Fatalf("%d checks started on the hung endpoint, want 1", n)
		}
		close(release) // so that Run can return
	})
}

// Run cancelled while a write is half done: a new Manager adopts what the
// zone holds and writes only what the checks still call for.
func TestRestartAfterHalfDoneWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb := newSwitchboard()
		p := memZone(t)
		// One endpoint per tier, so that each record moves in one step.
		rec := func(name string) Record {
			return Record{Name: name, Type: "A", Check: sb, Policy: basePol,
				Endpoints: []Endpoint{{Value: "192.0.2.10"}, {Value: "192.0.2.20", Priority: 1}}}
		}
		cfg := oneZone(p, rec("www"), rec("api"))

		first, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- first.Run(ctx) }()
		h0 := &harness{t: t}
		h0.until(time.Minute, stepTime, "both records on their primaries", func() bool { return len(p.Records(testZone)) == 2 })
		var mu sync.Mutex
		var calls [][]libdns.Record
		p.SetHook(func(c memory.Call) *memory.Fault {
			if c.Method != memory.MethodSetRecords {
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, c.Records)
			if len(calls) == 1 {
				return &memory.Fault{Err: errDown} // both changes wait for the retry
			}
			return &memory.Fault{Partial: 1}
		})
		sb.set("192.0.2.10", true)
		h0.until(time.Minute, stepTime, "the retry applied half of the batch", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(calls) >= 2
		})
		cancel()
		<-done
		applied := calls[1][0].RR().Name
		rest := "api"
		if applied == "api" {
			rest = "www"
		}
		p.SetHook(nil)
		p.ResetCalls()

		var second []libdns.Record
		p.SetHook(func(c memory.Call) *memory.Fault {
			mu.Lock()
			defer mu.Unlock()
			if c.Method == memory.MethodSetRecords {
				second = append(second, c.Records...)
			}
			return nil
		})
		h := run(t, cfg)
		h.until(time.Minute, stepTime, rest+" on the backup", func() bool { got, _ := held(p, rest, "A"); return equal(got, backup) })
		time.Sleep(time.Minute)
		mu.Lock()
		defer mu.Unlock()
		if len(second) != 1 || second[0].RR().Name != rest {
			t.Fatalf("the new Manager wrote %v, want only %s (what the first left undone)", second, rest)
		}
	})
}

// A checker that panics is a bug in the caller: the process crashes with
// the checker's stack, as for any goroutine; the Manager does not hide it.
func TestCheckerPanicCrashesWithItsStack(t *testing.T) {
	if os.Getenv("FAILOVER_PANIC_CHILD") == "1" {
		var boom CheckerFunc = func(context.Context, string) error { panic("checker bug") }
		m, err := New(oneZone(memZone(t), wwwRecord(boom, basePol)))
		if err != nil {
			t.Fatal(err)
		}
		m.Run(context.Background())
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCheckerPanicCrashesWithItsStack$")
	cmd.Env = append(os.Environ(), "FAILOVER_PANIC_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("the process survived a panicking checker")
	}
	for _, want := range []string{"panic: checker bug", "TestCheckerPanicCrashesWithItsStack.func1"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("crash output lacks %q:\n%s", want, out)
		}
	}
}

// After Run returns, nothing it started is left: checks, watchers and
// their connections, zone syncs, event delivery, propagation checks. (The synctest tests check this too: a
// bubble fails if a goroutine outlives it.)
func TestRunLeavesNoGoroutine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	target, port := hostPort(t, srv.Listener.Addr().String())
	before := runtime.NumGoroutine()
	cfg := Config{Zones: []Zone{{
		Name: testZone, Providers: []Provider{memZone(t)},
		Nameservers: []string{"127.0.0.1:" + strconv.Itoa(closedPort(t))},
		Records: []Record{{Name: "www", Type: "A", Endpoints: []Endpoint{{Value: target}},
			Check: &check.HTTP{Port: port, Path: "/healthz", Watching: true}, Policy: Policy{Interval: 20 * time.Millisecond}}},
	}}, PropagationInterval: 10 * time.Millisecond}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines before Run, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
