package failover

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
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
