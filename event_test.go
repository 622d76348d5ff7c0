package failover

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/libdns/libdns"
)

func TestEventString(t *testing.T) {
	until := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		e    Event
		want string
	}{
		{Event{Kind: EventEndpointDown, Zone: testZone, Record: www, Endpoint: "192.0.2.10", Health: HealthDown, CheckDuration: 1500 * time.Millisecond, Err: errors.New("connection refused")},
			`endpoint-down www.example.test. A endpoint=192.0.2.10 health=down check_duration=1.5s err="connection refused"`},
		{Event{Kind: EventRecordDecided, Zone: testZone, Record: www, Values: backup, Previous: primary, TTL: 30 * time.Second, Reason: "failover to priority 1"},
			`record-decided www.example.test. A values=[192.0.2.20] ttl=30s previous=[192.0.2.10 192.0.2.11] reason="failover to priority 1"`},
		{Event{Kind: EventRecordWritten, Zone: testZone, Record: www, Provider: "memory", Values: backup, Previous: []string{}, TTL: time.Minute, CallDuration: 20 * time.Millisecond, DryRun: true},
			`record-written www.example.test. A provider=memory values=[192.0.2.20] ttl=1m0s previous=[] call_duration=20ms dry_run=true`},
		{Event{Kind: EventProviderCallFailed, Zone: testZone, Provider: "cloudflare", Operation: OpSet, Failures: 2, Err: errors.New("HTTP 500")},
			`provider-call-failed zone=example.test. provider=cloudflare op=set failures=2 err="HTTP 500"`},
		{Event{Kind: EventOverrideSet, Zone: testZone, Record: www, Endpoint: "192.0.2.10", Override: ForceDown, OverrideUntil: until, Reason: "set by operator"},
			`override-set www.example.test. A endpoint=192.0.2.10 override=force-down until=2026-01-01T12:00:00Z reason="set by operator"`},
		{Event{Kind: EventPropagated, Zone: testZone, Record: www, Nameserver: "192.0.2.53:53", Values: backup, Elapsed: 2 * time.Second},
			`propagated www.example.test. A nameserver=192.0.2.53:53 values=[192.0.2.20] elapsed=2s`},
		{Event{Kind: EventSuspicionEnded, Zone: testZone, Record: www, Endpoint: "192.0.2.10", Health: HealthUp, Reason: "lifted: a check passed", Elapsed: time.Second},
			`suspicion-ended www.example.test. A endpoint=192.0.2.10 health=up elapsed=1s reason="lifted: a check passed"`},
	} {
		if got := tc.e.String(); got != tc.want {
			t.Errorf("%v: got\n%s\nwant\n%s", tc.e.Kind, got, tc.want)
		}
	}
}

// The log line of an event holds the same fields as its String form.
func TestEventLoggedWithItsFields(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	m := &Manager{cfg: Config{Logger: logger}}
	m.deliver(Event{Kind: EventProviderCallFailed, Zone: testZone, Provider: "cloudflare", Operation: OpGet, Failures: 1, Err: errors.New("timeout")})
	got := strings.TrimSpace(buf.String())
	want := `level=WARN msg=provider-call-failed zone=example.test. provider=cloudflare op=get failures=1 err=timeout`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestOperationString(t *testing.T) {
	for _, tc := range []struct {
		op   Operation
		want string
	}{
		{OpNone, "none"}, {OpGet, "get"}, {OpSet, "set"}, {OpDelete, "delete"}, {Operation(9), "Operation(9)"},
	} {
		if got := tc.op.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// A start-up whose first decision equals what DNS holds changes nothing:
// it emits record-adopted, not record-decided (issue 11, item 17).
func TestStartupEmitsRecordDecidedOnlyForAChange(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		holds                []libdns.Record
		wantDecided, wantAdp int
	}{
		{"DNS holds the decision", []libdns.Record{addr("www", "192.0.2.10", DefaultTTL), addr("www", "192.0.2.11", DefaultTTL)}, 0, 1},
		{"DNS holds another TTL", []libdns.Record{addr("www", "192.0.2.10", 5*time.Minute), addr("www", "192.0.2.11", 5*time.Minute)}, 1, 0},
		{"DNS holds other values", []libdns.Record{addr("www", "192.0.2.10", DefaultTTL)}, 1, 0},
		{"DNS holds nothing", nil, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := memZone(t, tc.holds...)
				h := run(t, oneZone(p, wwwRecord(newSwitchboard(), basePol)))
				h.until(time.Minute, stepTime, "decided", func() bool { return h.m.Status().Zones[0].Records[0].Decided })
				time.Sleep(time.Minute)
				synctest.Wait()
				if got := len(h.of(EventRecordDecided)); got != tc.wantDecided {
					t.Errorf("got %d record-decided events, want %d", got, tc.wantDecided)
				}
				if got := len(h.of(EventRecordAdopted)); got != tc.wantAdp {
					t.Errorf("got %d record-adopted events, want %d", got, tc.wantAdp)
				}
				if got, _ := held(p, "www", "A"); !equal(got, primary) {
					t.Errorf("DNS holds %v, want %v", got, primary)
				}
			})
		})
	}
}

// record-written never comes before the record-decided (or
// record-adopted) of the same values (issue 11, item 16): the events of a
// decision are queued before a zone sync can see it. The zone syncs read
// every millisecond while 40 records flap every few milliseconds, so that one is often busy when
// a decision is published.
func TestRecordWrittenAfterItsDecision(t *testing.T) {
	for seed := range 3 {
		synctest.Test(t, func(t *testing.T) {
			sb := newSwitchboard()
			p := memZone(t)
			var recs []Record
			for i := range 40 {
				recs = append(recs, Record{Name: fmt.Sprintf("r%d", i), Type: "A", Check: sb,
					Policy:    Policy{Interval: 2 * time.Millisecond, Timeout: time.Millisecond, Jitter: time.Millisecond, FailAfter: 1, RecoverAfter: 1, FailbackDelay: time.Millisecond},
					Endpoints: []Endpoint{{Value: fmt.Sprintf("192.0.2.%d", i+1)}, {Value: "198.51.100.1", Priority: 1}}})
			}
			cfg := oneZone(p, recs...)
			cfg.ReconcileInterval = time.Millisecond
			h := run(t, cfg)
			rng := rand.New(rand.NewPCG(uint64(seed), 0))
			for range 1000 {
				for i := range 40 {
					sb.set(fmt.Sprintf("192.0.2.%d", i+1), rng.IntN(2) == 0)
				}
				time.Sleep(2 * time.Millisecond)
			}
			synctest.Wait()
			h.mu.Lock()
			defer h.mu.Unlock()
			decided := map[RecordID][]Event{}
			for _, e := range h.events {
				switch e.Kind {
				case EventRecordDecided, EventRecordAdopted:
					decided[e.Record] = append(decided[e.Record], e)
				case EventRecordWritten:
					ds := decided[e.Record]
					if len(ds) == 0 || !sameValues(ds[len(ds)-1].Values, e.Values) {
						t.Fatalf("seed %d: %v came before the decision of its values", seed, e)
					}
				}
			}
		})
	}
}
