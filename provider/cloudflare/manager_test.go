package cloudflare

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/cloudflarefake"
)

// The Manager on Cloudflare: the failover TTL (30 s) is raised to
// Cloudflare's floor, and one failover costs two requests.
func TestManagerFailoverOnCloudflare(t *testing.T) {
	p, fake := setup(t, Options{})
	fake.Add(zone, "www", "A", "192.0.2.10", 60)
	fake.Add(zone, "mail", "A", "192.0.2.25", 3600)
	var primaryDown atomic.Bool
	check := failover.CheckerFunc(func(_ context.Context, target string) error {
		if primaryDown.Load() && target != "192.0.2.20" {
			return errors.New("connection refused")
		}
		return nil
	})
	written := make(chan failover.Event, 10)
	m, err := failover.New(failover.Config{
		Zones: []failover.Zone{{Name: zone, Providers: []failover.Provider{p}, Records: []failover.Record{{
			Name: "www", Type: "A",
			Endpoints: []failover.Endpoint{{Value: "192.0.2.10"}, {Value: "192.0.2.20", Priority: 1}},
			Check:     check,
			Policy:    failover.Policy{Interval: 100 * time.Millisecond, FailAfter: 1, RecoverAfter: 1},
		}}}},
		OnEvent: func(e failover.Event) {
			if e.Kind == failover.EventRecordWritten {
				written <- e
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// Start-up adopts what the zone holds: nothing is written.
	deadline := time.After(10 * time.Second)
	for !m.Status().Zones[0].Records[0].Decided {
		select {
		case <-deadline:
			t.Fatal("no decision")
		case <-time.After(10 * time.Millisecond):
		}
	}
	fake.ResetRequests()
	primaryDown.Store(true)
	select {
	case e := <-written:
		if !slices.Equal(e.Values, []string{"192.0.2.20"}) || e.TTL != time.Minute {
			t.Fatalf("written %v TTL %v, want [192.0.2.20] with the failover TTL raised to 1m", e.Values, e.TTL)
		}
	case <-deadline:
		t.Fatal("no failover written")
	}
	want := []string{"mail.example.com A 192.0.2.25 3600", "www.example.com A 192.0.2.20 60"}
	if got := fake.Records(zone); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if n := fake.Requests(""); n != 2 {
		t.Errorf("one failover cost %d requests, want 2 (list, PATCH)", n)
	}
}

// A proxied record reads back with TTL 1 (automatic): the Manager writes
// it when its values change, never for its TTL, so reconciling a zone of
// proxied records costs reads only.
func TestManagerLeavesProxiedTTLAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, fake := inProcess(t, Options{})
		for _, name := range []string{"www", "api"} {
			fake.AddRecord(zone, cloudflarefake.Record{Name: name, Type: "A", Content: "192.0.2.10", Proxied: true})
		}
		var recs []failover.Record
		for _, name := range []string{"www", "api"} {
			recs = append(recs, failover.Record{
				Name: name, Type: "A",
				Endpoints: []failover.Endpoint{{Value: "192.0.2.10"}, {Value: "192.0.2.20", Priority: 1}},
				Check:     failover.CheckerFunc(func(context.Context, string) error { return nil }),
				Policy:    failover.Policy{Interval: 10 * time.Second, TTL: 5 * time.Minute},
			})
		}
		var written atomic.Int32
		m, err := failover.New(failover.Config{
			Zones:             []failover.Zone{{Name: zone, Providers: []failover.Provider{p}, Records: recs}},
			ReconcileInterval: time.Minute,
			OnEvent: func(e failover.Event) {
				if e.Kind == failover.EventRecordWritten {
					written.Add(1)
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- m.Run(ctx) }()
		time.Sleep(10*time.Minute + time.Second)
		cancel()
		<-done
		if n := written.Load(); n != 0 {
			t.Fatalf("10 reconcile intervals over proxied records: got %d records written, want 0", n)
		}
		if n := fake.Requests("") - fake.Requests("GET dns_records") - fake.Requests("GET zones"); n != 0 {
			t.Fatalf("got %d write requests, want 0", n)
		}
		if got, want := fake.Requests("GET dns_records"), 11; got != want {
			t.Fatalf("got %d list requests, want %d (the zone read at start and at each of 10 reconciles)", got, want)
		}
		if got, want := fake.Records(zone), []string{"api.example.com A 192.0.2.10 1 proxied", "www.example.com A 192.0.2.10 1 proxied"}; !slices.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}
