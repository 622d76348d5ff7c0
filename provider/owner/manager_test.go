package owner_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/provider/owner"
)

// deployment is a Manager writing through an owner wrapper, and its
// events.
type deployment struct {
	m      *failover.Manager
	mu     sync.Mutex
	events []failover.Event
}

// startDeployment runs a Manager for owner id on p's zone, publishing
// www A from values (one tier, all healthy), until the test ends.
func startDeployment(t *testing.T, p failover.Provider, id string, records ...failover.Record) *deployment {
	t.Helper()
	d := &deployment{}
	cfg := failover.Config{
		Zones:             []failover.Zone{{Name: zone, Providers: []failover.Provider{wrap(t, p, id)}, Records: records}},
		OnEvent:           func(e failover.Event) { d.mu.Lock(); d.events = append(d.events, e); d.mu.Unlock() },
		ReconcileInterval: time.Minute,
	}
	m, err := failover.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d.m = m
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run of %s: %v", id, err)
		}
	})
	return d
}

// record is a managed record of name and type publishing values, every
// endpoint healthy.
func record(name, typ string, values ...string) failover.Record {
	r := failover.Record{Name: name, Type: typ, Check: failover.CheckerFunc(func(context.Context, string) error { return nil }),
		Policy: failover.Policy{Interval: 10 * time.Second, TTL: time.Minute}}
	for _, v := range values {
		r.Endpoints = append(r.Endpoints, failover.Endpoint{Value: v})
	}
	return r
}

func (d *deployment) of(kind failover.EventKind) []failover.Event {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []failover.Event
	for _, e := range d.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// until advances the bubble's clock in steps of a second until cond
// holds, or fails the test after limit.
func until(t *testing.T, limit time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	for deadline := time.Now().Add(limit); ; {
		synctest.Wait()
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last: %s", what, limit, state)
		}
		time.Sleep(time.Second)
	}
}

// Two deployments with different owners on one zone: the second never
// changes the first one's records, reports each refused one quarantined
// with the owner error, and still writes the records no one else owns.
func TestSecondDeploymentNeverChangesFirstsRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := zoneWith(t)
		prod := startDeployment(t, p, "prod", record("www", "A", "192.0.2.10"), record("api", "A", "192.0.2.11"))
		until(t, time.Minute, "prod writes", func() (bool, string) {
			h := held(p)
			return slices.Contains(h, "www A 192.0.2.10") && slices.Contains(h, "api A 192.0.2.11"), fmt.Sprint(h)
		})
		before := held(p)

		staging := startDeployment(t, p, "staging", record("www", "A", "198.51.100.10"), record("api", "A", "198.51.100.11"), record("test", "A", "198.51.100.12"))
		until(t, 5*time.Minute, "staging reports www and api quarantined", func() (bool, string) {
			ps := staging.m.Status().Zones[0].Providers[0]
			var names []string
			for _, q := range ps.Quarantined {
				if strings.Contains(q.Error, `owned by "prod", not by "staging"`) {
					names = append(names, q.Record)
				}
			}
			return slices.Equal(names, []string{"www.example.test. A", "api.example.test. A"}), fmt.Sprintf("%+v", ps)
		})
		var fe *owner.ForeignError
		if q := staging.of(failover.EventRecordQuarantined); len(q) == 0 || !errors.As(q[0].Err, &fe) || fe.Other != "prod" {
			t.Errorf("quarantine events %+v, want the *owner.ForeignError naming prod", q)
		}
		// Long enough for reconciles and quarantine retries of both.
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		after := held(p)
		for _, r := range before {
			if !slices.Contains(after, r) {
				t.Errorf("prod's %q gone: zone holds %q", r, after)
			}
		}
		for _, want := range []string{"test A 198.51.100.12", "_failover-owner-a.test TXT failover-owner=staging,type=A"} {
			if !slices.Contains(after, want) {
				t.Errorf("zone holds %q, want staging's own %q", after, want)
			}
		}
		if got := prod.of(failover.EventDriftRepaired); len(got) != 0 {
			t.Errorf("prod repaired drift %d times, want 0: staging never changed its records", len(got))
		}
		if ps := prod.m.Status().Zones[0].Providers[0]; !ps.InSync || len(ps.Quarantined) > 0 {
			t.Errorf("prod's provider status %+v, want in sync", ps)
		}
	})
}
