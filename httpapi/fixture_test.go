package httpapi

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/provider/memory"
)

const testZone = "example.test."

// switchboard is a Checker whose targets are healthy until set down.
type switchboard struct {
	mu   sync.Mutex
	down map[string]bool
}

func (s *switchboard) Check(_ context.Context, target string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down[target] {
		return fmt.Errorf("%s is down", target)
	}
	return nil
}

func (s *switchboard) set(target string, down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down == nil {
		s.down = map[string]bool{}
	}
	s.down[target] = down
}

var fastPolicy = failover.Policy{Interval: 50 * time.Millisecond, FailAfter: 1, RecoverAfter: 1}

// wwwRecord is an A record with two tiers: .10 and .11, then .20.
func wwwRecord(c failover.Checker) failover.Record {
	return failover.Record{
		Name: "www", Type: "A", Check: c, Policy: fastPolicy,
		Endpoints: []failover.Endpoint{{Value: "192.0.2.10"}, {Value: "192.0.2.11"}, {Value: "192.0.2.20", Priority: 1}},
	}
}

// start runs a Manager for recs on an empty memory zone until the test
// ends, and waits until every record is decided and written.
func start(t *testing.T, recs ...failover.Record) (*failover.Manager, *memory.Provider) {
	t.Helper()
	p := &memory.Provider{}
	if err := p.AddZone(testZone); err != nil {
		t.Fatal(err)
	}
	m, err := failover.New(failover.Config{Zones: []failover.Zone{{Name: testZone, Providers: []failover.Provider{p}, Records: recs}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	waitFor(t, "every record decided and written", func() bool {
		z := m.Status().Zones[0]
		for _, r := range z.Records {
			if !r.Decided {
				return false
			}
		}
		return z.Providers[0].InSync
	})
	return m, p
}

// waitFor polls cond until it holds, failing the test after a minute (of
// fake time inside a synctest bubble).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// held returns the sorted values p holds for www A.
func held(p *memory.Provider) []string {
	var vals []string
	for _, r := range p.Records(testZone) {
		if rr := r.RR(); rr.Name == "www" && rr.Type == "A" {
			vals = append(vals, rr.Data)
		}
	}
	slices.Sort(vals)
	return vals
}
