package cloudflare

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
)

// The Manager on Cloudflare: the failover TTL (30 s) is raised to
// Cloudflare's floor, and one failover costs three requests.
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
	if n := fake.Requests(""); n != 3 {
		t.Errorf("one failover cost %d requests, want 3 (list, create, delete)", n)
	}
}
