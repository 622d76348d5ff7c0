package notify

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/provider/memory"
	"github.com/libdns/libdns"
)

// postLog answers every request with 200 and keeps its body.
type postLog struct {
	mu    sync.Mutex
	posts []string
}

func (l *postLog) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	l.mu.Lock()
	l.posts = append(l.posts, string(b))
	l.mu.Unlock()
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}}, nil
}

func (l *postLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.posts
	l.posts = nil
	return p
}

// runNotified runs a Manager for www A (192.0.2.10, healthy) on p, wired
// to a Notifier with the default kinds, until the test's bubble ends.
func runNotified(t *testing.T, p *memory.Provider, log *postLog) context.CancelFunc {
	n, err := New(Webhook{URL: "https://hooks.example/x", Client: &http.Client{Transport: log}})
	if err != nil {
		t.Fatal(err)
	}
	healthy := failover.CheckerFunc(func(context.Context, string) error { return nil })
	m, err := failover.New(failover.Config{
		OnEvent: n.Observe, RetryBackoff: time.Second, MaxRetryBackoff: time.Second,
		Zones: []failover.Zone{{Name: "example.test.", Providers: []failover.Provider{p}, Records: []failover.Record{{
			Name: "www", Type: "A", Check: healthy, Endpoints: []failover.Endpoint{{Value: "192.0.2.10"}},
			Policy: failover.Policy{Interval: time.Second, TTL: time.Minute},
		}}}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { n.Run(ctx) })
	wg.Go(func() { m.Run(ctx) })
	return func() { cancel(); wg.Wait() }
}

// Issue 13 (must fix): "Every start sends one webhook per record (first
// decision, nothing changed: 2,000 POSTs for 2,000 records) ... Notify on
// changes only". A restart over a zone that already holds the decision
// posts once per record today.
func TestStartSendsNoWebhookWhenNothingChanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &memory.Provider{}
		p.AddZone("example.test.", libdns.Address{Name: "www", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.10")})
		var log postLog
		stop := runNotified(t, p, &log)
		defer stop()
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := log.take(); len(got) != 0 {
			t.Errorf("a start with nothing to change: got %d POSTs, want none; first: %s", len(got), got[0])
		}
	})
}

// Issue 13 (must fix): "every retry of a failing write posts again.
// Notify ... on the first failure and on recovery of a provider". A
// provider down for five minutes posts once per retry today.
func TestFailingProviderNotifiesOnceNotPerRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &memory.Provider{}
		p.AddZone("example.test.", libdns.Address{Name: "www", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.10")})
		var log postLog
		stop := runNotified(t, p, &log)
		defer stop()
		time.Sleep(time.Minute)
		synctest.Wait()
		log.take()
		p.FailNext(memory.MethodGetRecords, 1000, errors.New("provider down"))
		p.FailNext(memory.MethodSetRecords, 1000, errors.New("provider down"))
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		failed := 0
		for _, body := range log.take() {
			if strings.Contains(body, `"kind":"provider-call-failed"`) {
				failed++
			}
		}
		if failed != 1 {
			t.Errorf("a provider failing for 5 minutes: got %d provider-call-failed POSTs, want 1 (the first failure)", failed)
		}
	})
}
