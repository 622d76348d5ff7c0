package failover

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover/provider/memory"
	"github.com/libdns/libdns"
)

const testZone = "example.test."

// switchboard is a Checker whose targets are healthy until set down.
type switchboard struct {
	mu    sync.Mutex
	down  map[string]bool
	calls map[string]int
}

func newSwitchboard() *switchboard {
	return &switchboard{down: map[string]bool{}, calls: map[string]int{}}
}

func (s *switchboard) Check(_ context.Context, target string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[target]++
	if s.down[target] {
		return fmt.Errorf("%s is down", target)
	}
	return nil
}

func (s *switchboard) set(target string, down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down[target] = down
}

func (s *switchboard) count(target string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[target]
}

// harness runs a Manager inside a synctest bubble and records its events.
type harness struct {
	t      *testing.T
	m      *Manager
	mu     sync.Mutex
	events []Event
	stop   context.CancelFunc
	done   chan error // receives what Run returned
}

// run starts m.Run and stops it (and checks that it returned) when the
// test ends. It must be called inside synctest.Test.
func run(t *testing.T, cfg Config) *harness {
	t.Helper()
	return runAfter(t, cfg, nil)
}

// runAfter is run, calling prepare (when not nil) on the new Manager
// before its Run starts, as a reload does with CarryOver.
func runAfter(t *testing.T, cfg Config, prepare func(*Manager)) *harness {
	t.Helper()
	h := start(t, cfg, prepare)
	t.Cleanup(func() {
		h.stop()
		if err := <-h.done; err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
	})
	return h
}

// start starts a Manager for cfg, recording its events; h.stop ends its
// Run, and h.done receives what Run returned.
func start(t *testing.T, cfg Config, prepare func(*Manager)) *harness {
	t.Helper()
	h := &harness{t: t, done: make(chan error, 1)}
	onEvent := cfg.OnEvent
	cfg.OnEvent = func(e Event) {
		h.mu.Lock()
		h.events = append(h.events, e)
		h.mu.Unlock()
		if onEvent != nil {
			onEvent(e)
		}
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	m.jitter = func(time.Duration) time.Duration { return 0 }
	if prepare != nil {
		prepare(m)
	}
	h.m = m
	ctx, cancel := context.WithCancel(t.Context())
	h.stop = cancel
	go func() { h.done <- m.Run(ctx) }()
	return h
}

// stopped runs a Manager for cfg, calls during while it runs, and returns
// it once its Run has returned.
func stopped(t *testing.T, cfg Config, during func(*harness)) *Manager {
	t.Helper()
	h := start(t, cfg, nil)
	during(h)
	h.stop()
	if err := <-h.done; err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}
	return h.m
}

// carryAll carries every record over from old.
func carryAll(t *testing.T, old *Manager) func(*Manager) {
	return func(m *Manager) {
		if err := m.CarryOver(old, func(RecordID) bool { return true }); err != nil {
			t.Fatalf("CarryOver: %v", err)
		}
	}
}

// runStoppable runs a Manager for cfg; stop cancels its context and returns what
// Run returned.
func runStoppable(t *testing.T, cfg Config) (m *Manager, stop func() error) {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	return m, func() error { cancel(); return <-done }
}

// of returns the events of kind k seen so far.
func (h *harness) of(k EventKind) []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Event
	for _, e := range h.events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// last returns the latest event of kind k, or fails the test.
func (h *harness) last(k EventKind) Event {
	h.t.Helper()
	e := h.of(k)
	if len(e) == 0 {
		h.t.Fatalf("no %v event", k)
	}
	return e[len(e)-1]
}

// until advances the bubble's clock in steps of step until cond holds, and
// fails the test if it does not within limit. It returns the time taken.
func (h *harness) until(limit, step time.Duration, what string, cond func() bool) time.Duration {
	h.t.Helper()
	start := time.Now()
	for {
		time.Sleep(step)
		synctest.Wait()
		if cond() {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			h.t.Fatalf("%s: not within %v", what, limit)
		}
	}
}

// memZone returns a memory provider holding zone with recs.
func memZone(t testing.TB, recs ...libdns.Record) *memory.Provider {
	t.Helper()
	p := &memory.Provider{}
	if err := p.AddZone(testZone, recs...); err != nil {
		t.Fatal(err)
	}
	return p
}

// held returns the sorted values and TTL p holds for (name, typ).
func held(p *memory.Provider, name, typ string) ([]string, time.Duration) {
	var vals []string
	var ttl time.Duration
	for _, r := range p.Records(testZone) {
		rr := r.RR()
		if rr.Name == name && rr.Type == typ {
			vals = append(vals, rr.Data)
			ttl = rr.TTL
		}
	}
	slices.Sort(vals)
	return vals, ttl
}

func addr(name, ip string, ttl time.Duration) libdns.Record {
	return libdns.Address{Name: name, TTL: ttl, IP: netip.MustParseAddr(ip)}
}

// wwwRecord is an A record with two tiers: .10 and .11, then .20.
func wwwRecord(check Checker, p Policy) Record {
	return Record{
		Name: "www", Type: "A",
		Endpoints: []Endpoint{
			{Value: "192.0.2.10", Priority: 0},
			{Value: "192.0.2.11", Priority: 0},
			{Value: "192.0.2.20", Priority: 1},
		},
		Check:  check,
		Policy: p,
	}
}

func oneZone(p Provider, recs ...Record) Config {
	return Config{Zones: []Zone{{Name: testZone, Providers: []Provider{p}, Records: recs}}}
}

var errDown = errors.New("down")

func equal(got, want []string) bool { return slices.Equal(got, want) }

// silentFloor is a memory.Provider.RoundTTL that raises every TTL below
// floor to floor without a word, as providers with an undeclared minimum
// do.
func silentFloor(floor time.Duration) func(time.Duration) time.Duration {
	return func(ttl time.Duration) time.Duration { return max(ttl, floor) }
}
