package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
)

var failoverEvent = failover.Event{
	Kind: failover.EventRecordDecided, Time: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC), Zone: "example.com.",
	Record: failover.RecordID{Zone: "example.com.", Name: "www", Type: "A"},
	Values: []string{"198.51.100.7"}, Previous: []string{"192.0.2.10"}, TTL: 30 * time.Second, Reason: "failover to priority 1",
}

// receiver records bodies; it fails the first `fail` requests.
type receiver struct {
	mu     sync.Mutex
	bodies []string
	fail   int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail > 0 {
		r.fail--
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	r.bodies = append(r.bodies, string(b))
}

func (r *receiver) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFormatsAndRetries(t *testing.T) {
	generic, slack, discord := &receiver{fail: 2}, &receiver{}, &receiver{}
	var urls []string
	for _, r := range []*receiver{generic, slack, discord} {
		srv := httptest.NewServer(r)
		defer srv.Close()
		urls = append(urls, srv.URL)
	}
	n := New(Webhook{URL: urls[0]}, Webhook{URL: urls[1], Format: Slack}, Webhook{URL: urls[2], Format: Discord})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- n.Run(ctx) }()
	defer func() { cancel(); <-done }()

	n.Observe(failover.Event{Kind: failover.EventEndpointUp}) // not a default kind: not sent
	n.Observe(failoverEvent)
	waitFor(t, "all three delivered", func() bool { return len(generic.got()) == 1 && len(slack.got()) == 1 && len(discord.got()) == 1 })

	var p Payload
	if err := json.Unmarshal([]byte(generic.got()[0]), &p); err != nil || p.Kind != "record-decided" || p.Zone != "example.com." || p.Record != "www.example.com. A" || p.Values[0] != "198.51.100.7" || p.TTL != 30 {
		t.Fatalf("generic payload %+v (%v)", p, err)
	}
	want := "www.example.com. A now points to 198.51.100.7 (was 192.0.2.10): failover to priority 1"
	if !strings.Contains(slack.got()[0], `"text":"`+want) || !strings.Contains(discord.got()[0], `"content":"`+want) {
		t.Fatalf("chat payloads: %s / %s", slack.got()[0], discord.got()[0])
	}
}

func TestSlowWebhookNeverBlocks(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer srv.Close()
	defer close(hang)
	n := New(Webhook{URL: srv.URL})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- n.Run(ctx) }()
	returned := make(chan struct{})
	go func() {
		for range 3 * QueueSize {
			n.Observe(failoverEvent)
		}
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("Observe blocked behind a webhook that never answers")
	}
	if n.Dropped() == 0 {
		t.Fatal("a full queue dropped nothing")
	}
	cancel()
	<-done
}

func TestText(t *testing.T) {
	e := failover.Event{Kind: failover.EventProviderCallFailed, Zone: "example.com.", Provider: "cloudflare", Operation: failover.OpSet, Failures: 2, Err: errors.New("HTTP 500"), DryRun: true}
	if got, want := Text(e), "[dry run] set call for zone example.com. on cloudflare failed (2 in a row): HTTP 500"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// A provider call failure is about a zone: its payload names the zone and
// the call, and no record.
func TestGenericPayloadOfProviderCallFailed(t *testing.T) {
	e := failover.Event{Kind: failover.EventProviderCallFailed, Zone: "example.com.", Provider: "cloudflare", Operation: failover.OpGet, Failures: 1, Err: errors.New("HTTP 500")}
	body, err := Webhook{}.body(e)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]any{"kind": "provider-call-failed", "zone": "example.com.", "provider": "cloudflare", "operation": "get", "error": "HTTP 500", "record": nil} {
		if got[key] != want {
			t.Errorf("%s: got %v, want %v", key, got[key], want)
		}
	}
}

func TestFormatText(t *testing.T) {
	for _, f := range []Format{Generic, Slack, Discord} {
		text, _ := f.MarshalText()
		var got Format
		if err := got.UnmarshalText(text); err != nil || got != f {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", text, got, err, f)
		}
	}
	var f Format
	if err := f.UnmarshalText([]byte("teams")); err == nil {
		t.Errorf("UnmarshalText(teams) = nil error, want an error")
	}
}
