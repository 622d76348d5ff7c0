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
	"github.com/dnsfailover/failover/provider/memory"
	"github.com/dnsfailover/failover/provider/owner"
)

// deployment is a Manager writing through an owner wrapper, and its
// events.
type deployment struct {
	m      *failover.Manager
	mu     sync.Mutex
	events []failover.Event
}

// startDeployment runs a Manager with cfg's timing for owner id on p's
// zone, managing records, until the test ends.
func startDeployment(t *testing.T, cfg failover.Config, p failover.Provider, id string, records ...failover.Record) *deployment {
	t.Helper()
	d := &deployment{}
	cfg.Zones = []failover.Zone{{Name: zone, Providers: []failover.Provider{wrap(t, p, id)}, Records: records}}
	cfg.OnEvent = func(e failover.Event) { d.mu.Lock(); d.events = append(d.events, e); d.mu.Unlock() }
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

// record is a managed record of name and type publishing values, each
// its own tier in order, checked every interval, every endpoint healthy
// unless down says otherwise.
func record(name, typ string, interval time.Duration, down *sync.Map, values ...string) failover.Record {
	check := failover.CheckerFunc(func(_ context.Context, target string) error {
		if _, ok := down.Load(target); ok {
			return errors.New("down")
		}
		return nil
	})
	r := failover.Record{Name: name, Type: typ, Check: check,
		Policy: failover.Policy{Interval: interval, FailAfter: 1, RecoverAfter: 1, FailbackDelay: time.Hour, TTL: time.Minute, FailoverTTL: 10 * time.Second}}
	for i, v := range values {
		r.Endpoints = append(r.Endpoints, failover.Endpoint{Value: v, Priority: i})
	}
	return r
}

// slowly is the timing of the engine tests, in a synctest bubble.
var slowly = failover.Config{ReconcileInterval: time.Minute}

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
		var down sync.Map
		prod := startDeployment(t, slowly, p, "prod", record("www", "A", 10*time.Second, &down, "192.0.2.10"), record("api", "A", 10*time.Second, &down, "192.0.2.11"))
		until(t, time.Minute, "prod writes", func() (bool, string) {
			h := held(p)
			return slices.Contains(h, "www A 192.0.2.10") && slices.Contains(h, "api A 192.0.2.11"), fmt.Sprint(h)
		})
		before := held(p)
		var mu sync.Mutex
		sentWWW, sentAPI := 0, 0 // writes carrying prod's RRsets, from now on: staging's
		p.SetHook(func(c memory.Call) *memory.Fault {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range c.Records {
				switch r.RR().Name {
				case "www":
					sentWWW++
				case "api":
					sentAPI++
				}
			}
			return nil
		})

		staging := startDeployment(t, slowly, p, "staging", record("www", "A", 10*time.Second, &down, "198.51.100.10"),
			record("api", "A", 10*time.Second, &down, "198.51.100.11"), record("test", "A", 10*time.Second, &down, "198.51.100.12"))
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
		reads := p.Calls(memory.MethodGetRecords)
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		t.Logf("zone reads in 10 minutes at rest, both deployments: %d", p.Calls(memory.MethodGetRecords)-reads)
		mu.Lock()
		if sentWWW+sentAPI != 0 {
			t.Errorf("the provider was sent %d records of www and %d of api after staging started, want none", sentWWW, sentAPI)
		}
		mu.Unlock()
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

// A record whose endpoints are all down under PublishNothing is deleted
// through the wrapper; its owner record stays, so the name stays this
// deployment's, and another deployment is still refused.
func TestPublishNothingKeepsOwnerRecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := zoneWith(t)
		var down sync.Map
		r := record("www", "A", 10*time.Second, &down, "192.0.2.10")
		r.Policy.AllDown = failover.PublishNothing
		startDeployment(t, slowly, p, "prod", r)
		until(t, time.Minute, "prod writes", func() (bool, string) { h := held(p); return slices.Contains(h, "www A 192.0.2.10"), fmt.Sprint(h) })
		down.Store("192.0.2.10", true)
		want := []string{"_failover-owner-a.www TXT failover-owner=prod,type=A"}
		until(t, time.Minute, "www deleted", func() (bool, string) { h := held(p); return slices.Equal(h, want), fmt.Sprint(h) })

		staging := startDeployment(t, slowly, p, "staging", record("www", "A", 10*time.Second, &sync.Map{}, "198.51.100.10"))
		until(t, 5*time.Minute, "staging refused", func() (bool, string) {
			q := staging.m.Status().Zones[0].Providers[0].Quarantined
			return len(q) == 1 && strings.Contains(q[0].Error, `owned by "prod"`), fmt.Sprintf("%+v", q)
		})
		if h := held(p); !slices.Equal(h, want) {
			t.Errorf("zone holds %q, want %q", h, want)
		}
	})
}

// A provider that applies the RRset but fails the owner record of the
// same call (Cloudflare: two requests; any provider's partial write) leaves
// the RRset written and unowned. The Manager reads the zone back, finds
// its values there, and never writes it again while nothing changes: the
// claim is never retried, so the record stays unowned and the next
// deployment to write it takes it over. The wrapper remembers the
// claim it sent and writes it again on its next read.
func TestClaimLostAfterPartialWriteRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := zoneWith(t)
		var mu sync.Mutex
		failed := false
		p.SetHook(func(c memory.Call) *memory.Fault {
			mu.Lock()
			defer mu.Unlock()
			if c.Method != memory.MethodSetRecords || failed {
				return nil
			}
			for _, r := range c.Records {
				if r.RR().Type == "TXT" {
					failed = true
					return &memory.Fault{Partial: 1} // the RRset goes in, its owner record does not
				}
			}
			return nil
		})
		var down sync.Map
		d := startDeployment(t, slowly, p, "prod", record("www", "A", 10*time.Second, &down, "192.0.2.10"))
		until(t, time.Minute, "www written", func() (bool, string) {
			h := held(p)
			return slices.Contains(h, "www A 192.0.2.10"), fmt.Sprint(h)
		})
		until(t, 10*time.Minute, "the owner record written after the failed claim", func() (bool, string) {
			h := held(p)
			return slices.Contains(h, "_failover-owner-a.www TXT failover-owner=prod,type=A"), fmt.Sprintf("zone %q, status %+v", h, d.m.Status().Zones[0].Providers[0])
		})
	})
}
