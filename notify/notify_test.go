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
	n, err := New(Webhook{URL: urls[0]}, Webhook{URL: urls[1], Format: Slack}, Webhook{URL: urls[2], Format: Discord})
	if err != nil {
		t.Fatal(err)
	}
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
	n, err := New(Webhook{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
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
	body, err := Webhook{}.body(note{Event: e})
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

func TestNewRejectsBadWebhooks(t *testing.T) {
	for _, tc := range []struct {
		name string
		hook Webhook
		want []string // every substring must appear in the error
	}{
		{"empty URL", Webhook{}, []string{"webhook 0", "URL", "empty"}},
		{"relative URL", Webhook{URL: "hooks.example.net/x"}, []string{"URL", "http or https"}},
		{"other scheme", Webhook{URL: "ftp://hooks.example.net/x"}, []string{"URL", `scheme "ftp"`}},
		{"no host", Webhook{URL: "https:///services/x"}, []string{"URL", "no host"}},
		{"unparsable URL", Webhook{URL: "https://hooks.example.net/%zz"}, []string{"URL", "invalid URL escape"}},
		{"unknown format", Webhook{URL: "https://hooks.example.net/x", Format: 7}, []string{"Format", "unknown format 7"}},
		{"negative retries", Webhook{URL: "https://hooks.example.net/x", MaxRetries: -1}, []string{"MaxRetries", "-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := New(Webhook{URL: "https://ok.example.net/"}, tc.hook)
			if err == nil {
				t.Fatalf("got a Notifier (%v), want an error", n)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), strings.Replace(w, "webhook 0", "webhook 1", 1)) {
					t.Errorf("got %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

// A webhook URL is a secret (Slack's and Discord's carry their token in
// the path): errors name the host only.
func TestErrorsKeepTheURLPathOut(t *testing.T) {
	const secret = "T000/B000/XXXXSECRET"
	_, err := New(Webhook{URL: "https://hooks.slack.test/services/" + secret + "/%zz"})
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("got %v, want an error without %q", err, secret)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusForbidden) }))
	defer srv.Close()
	n, err := New(Webhook{URL: srv.URL + "/services/" + secret, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	err = n.hooks[0].post(t.Context(), []byte("{}"))
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "403") {
		t.Fatalf("got %v, want a 403 error without %q", err, secret)
	}
}

func TestNewLeavesTheCallersHooksAlone(t *testing.T) {
	kinds := []failover.EventKind{failover.EventAllDown}
	hooks := []Webhook{{URL: "https://hooks.example.net/a"}, {URL: "https://hooks.example.net/b", Kinds: kinds}}
	n, err := New(hooks...)
	if err != nil {
		t.Fatal(err)
	}
	if hooks[0].Kinds != nil || hooks[0].Client != nil || hooks[0].MaxRetries != 0 {
		t.Errorf("got caller's hook %+v after New, want it unchanged", hooks[0])
	}
	kinds[0] = failover.EventEndpointUp // the caller reuses its slice
	if got := n.hooks[1].Kinds; len(got) != 1 || got[0] != failover.EventAllDown {
		t.Errorf("got kinds %v after the caller changed its slice, want [all-down]", got)
	}
	DefaultKinds[0], n.hooks[0].Kinds[0] = failover.EventRecordDecided, failover.EventEndpointUp
	if DefaultKinds[0] != failover.EventRecordDecided {
		t.Errorf("got DefaultKinds[0] %v, want it not shared with a Notifier", DefaultKinds[0])
	}
}

func TestFormatText(t *testing.T) {
	for _, tc := range []struct {
		text string
		want Format
		err  bool
	}{
		{"generic", Generic, false}, {"slack", Slack, false}, {"discord", Discord, false},
		{"", 0, true}, {"Slack", 0, true}, {"teams", 0, true},
	} {
		var f Format
		err := f.UnmarshalText([]byte(tc.text))
		if (err != nil) != tc.err || err == nil && f != tc.want {
			t.Errorf("UnmarshalText(%q): got %v, %v; want %v, error %v", tc.text, f, err, tc.want, tc.err)
		}
		if err == nil {
			if b, _ := f.MarshalText(); string(b) != tc.text {
				t.Errorf("MarshalText(%v): got %q, want %q", f, b, tc.text)
			}
		}
	}
	if got := Format(9).String(); got != "Format(9)" {
		t.Errorf("got %q, want %q", got, "Format(9)")
	}
}
