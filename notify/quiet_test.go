package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover"
)

// roundTrip is a webhook that answers in the process: tests run it inside
// a synctest bubble.
type roundTrip struct {
	mu     sync.Mutex
	kinds  []string
	status int
}

func (rt *roundTrip) RoundTrip(req *http.Request) (*http.Response, error) {
	var p Payload
	json.NewDecoder(req.Body).Decode(&p)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.kinds = append(rt.kinds, p.Kind)
	status := rt.status
	if status == 0 {
		status = http.StatusNoContent
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Body: io.NopCloser(strings.NewReader("")), Request: req}, nil
}

func (rt *roundTrip) got() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return slices.Clone(rt.kinds)
}

// newNotifier returns a Notifier with one generic webhook h on rt.
func newNotifier(t *testing.T, rt *roundTrip, h Webhook) *Notifier {
	t.Helper()
	h.URL = "https://hooks.example/secret"
	h.Client = &http.Client{Transport: rt}
	n, err := New(h)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// start runs n; the returned function stops it.
func start(t *testing.T, n *Notifier) func() {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- n.Run(ctx) }()
	return func() { cancel(); <-done }
}

var (
	www     = failover.RecordID{Zone: "example.com.", Name: "www", Type: "A"}
	t0      = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	decided = func(values, previous []string) failover.Event {
		return failover.Event{Kind: failover.EventRecordDecided, Zone: www.Zone, Record: www, Values: values, Previous: previous, Time: t0}
	}
	callFailed = func(failures int) failover.Event {
		return failover.Event{Kind: failover.EventProviderCallFailed, Zone: www.Zone, Provider: "rfc2136", Operation: failover.OpSet, Failures: failures, Err: errors.New("refused"), Time: t0}
	}
	written = failover.Event{Kind: failover.EventRecordWritten, Zone: www.Zone, Record: www, Provider: "rfc2136", Values: []string{"192.0.2.20"}, Time: t0}
)

// TestNotifiesChangesOnly: what reaches a webhook with the default kinds
// for a series of events.
func TestNotifiesChangesOnly(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events []failover.Event
		want   []string
	}{
		{"start-up decision keeping what DNS held", []failover.Event{decided([]string{"192.0.2.10", "192.0.2.11"}, []string{"192.0.2.11", "192.0.2.10"})}, nil},
		{"TTL change alone", []failover.Event{decided([]string{"192.0.2.10"}, []string{"192.0.2.10"})}, nil},
		{"first decision of a new record", []failover.Event{decided([]string{"192.0.2.10"}, nil)}, []string{"record-decided"}},
		{"failover", []failover.Event{decided([]string{"192.0.2.20"}, []string{"192.0.2.10"})}, []string{"record-decided"}},
		{"a failing provider: first failure, then its recovery", []failover.Event{callFailed(1), callFailed(2), callFailed(3), written, written},
			[]string{"provider-call-failed", KindProviderRecovered}},
		{"a count restarting at 1 is a new run", []failover.Event{callFailed(1), callFailed(2), callFailed(1)},
			[]string{"provider-call-failed", "provider-call-failed"}},
		{"overrides", []failover.Event{{Kind: failover.EventOverrideSet, Zone: www.Zone, Record: www, Endpoint: "192.0.2.10", Override: failover.ForceDown},
			{Kind: failover.EventOverrideEnded, Zone: www.Zone, Record: www, Endpoint: "192.0.2.10", Override: failover.ForceDown, Reason: "expired"}},
			[]string{"override-set", "override-ended"}},
		{"endpoint transitions are not default kinds", []failover.Event{{Kind: failover.EventEndpointDown, Zone: www.Zone, Record: www}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rt := &roundTrip{}
				n := newNotifier(t, rt, Webhook{})
				stop := start(t, n)
				defer stop()
				for _, e := range tc.events {
					n.Observe(e)
				}
				synctest.Wait()
				if got := rt.got(); !slices.Equal(got, tc.want) {
					t.Errorf("got %q, want %q", got, tc.want)
				}
			})
		})
	}
}

// TestRecoveryFromStatus: a provider that recovers by a successful read,
// with nothing to write, is seen recovered in the Status source.
func TestRecoveryFromStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := &roundTrip{}
		n := newNotifier(t, rt, Webhook{})
		var mu sync.Mutex
		ps := failover.ProviderStatus{Name: "rfc2136", LastErrorAt: time.Now(), Failures: 1}
		n.SetSource(func() failover.Status {
			mu.Lock()
			defer mu.Unlock()
			return failover.Status{Zones: []failover.ZoneStatus{{Name: www.Zone, Providers: []failover.ProviderStatus{ps}}}}
		})
		stop := start(t, n)
		defer stop()
		n.Observe(callFailed(1))
		time.Sleep(3 * RecoveryCheck)
		synctest.Wait()
		if got, want := rt.got(), []string{"provider-call-failed"}; !slices.Equal(got, want) {
			t.Fatalf("while still failing: got %q, want %q", got, want)
		}
		mu.Lock()
		ps.LastRead = time.Now()
		mu.Unlock()
		time.Sleep(RecoveryCheck)
		synctest.Wait()
		if got, want := rt.got(), []string{"provider-call-failed", KindProviderRecovered}; !slices.Equal(got, want) {
			t.Fatalf("after a successful read: got %q, want %q", got, want)
		}
	})
}

// TestFailedAndDroppedReported: a delivery failing after its retries and
// a notification dropped on a full queue are counted and reported, naming
// the webhook by its host only.
func TestFailedAndDroppedReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := &roundTrip{status: http.StatusInternalServerError}
		n := newNotifier(t, rt, Webhook{MaxRetries: 1})
		var mu sync.Mutex
		var failures []Failure
		n.OnFailure(func(f Failure) {
			mu.Lock()
			defer mu.Unlock()
			failures = append(failures, f)
		})
		for range QueueSize + 1 { // not running: the last one is dropped
			n.Observe(decided([]string{"192.0.2.20"}, []string{"192.0.2.10"}))
		}
		if n.Dropped() != 1 || len(failures) != 1 || !failures[0].Dropped {
			t.Fatalf("after %d events on a queue of %d: dropped %d, reported %+v; want 1 dropped and reported", QueueSize+1, QueueSize, n.Dropped(), failures)
		}
		stop := start(t, n)
		defer stop()
		time.Sleep(time.Hour) // 1024 deliveries of 500 ms each
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if n.Failed() != QueueSize {
			t.Errorf("Failed: got %d, want %d", n.Failed(), QueueSize)
		}
		f := failures[len(failures)-1]
		if f.Dropped || f.Err == nil || f.Webhook != "https://hooks.example/…" || f.Kind != "record-decided" || strings.Contains(f.Err.Error(), "secret") {
			t.Errorf("last failure reported: %+v, want a failed record-decided delivery naming https://hooks.example/… only", f)
		}
		if got, want := len(rt.got()), 2*QueueSize; got != want {
			t.Errorf("requests: got %d, want %d (each event tried twice)", got, want)
		}
	})
}
