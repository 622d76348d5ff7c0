package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover/internal/cloudflarefake"
	"github.com/dnsfailover/failover/provider/providertest"
	"github.com/libdns/libdns"
)

const (
	zone  = "example.com."
	token = "cf-secret-token-123"
)

func setup(t *testing.T, opts Options) (*Provider, *cloudflarefake.Server) {
	t.Helper()
	fake := cloudflarefake.Start(token, zone)
	t.Cleanup(fake.Close)
	opts.Endpoint = fake.URL
	p, err := New(token, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p, fake
}

func a(name, ip string, ttl time.Duration) libdns.Record {
	return libdns.Address{Name: name, TTL: ttl, IP: netip.MustParseAddr(ip)}
}

func TestContract(t *testing.T) {
	p, _ := setup(t, Options{})
	providertest.Run(t, zone, p)
}

func TestSetRecordsReplacesRRsets(t *testing.T) {
	p, fake := setup(t, Options{})
	ctx := t.Context()
	fake.Add(zone, "www", "A", "192.0.2.1", 60)
	fake.Add(zone, "www", "A", "192.0.2.2", 60)
	fake.Add(zone, "www", "TXT", "keep", 300)
	if _, err := p.zoneID(ctx, zone); err != nil {
		t.Fatal(err)
	}
	fake.ResetRequests()

	if _, err := p.SetRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.3", time.Minute)}); err != nil {
		t.Fatal(err)
	}
	want := []string{"www.example.com A 192.0.2.3 60", `www.example.com TXT "keep" 300`}
	if got := fake.Records(zone); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	// One failover of a two-value RRset to one value: list, change one
	// value in place, delete the other.
	if got, want := fake.Requests(""), 3; got != want {
		t.Fatalf("got %d requests, want %d (1 list, 1 PATCH, 1 DELETE)", got, want)
	}

	fake.ResetRequests()
	if _, err := p.SetRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.3", 2*time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if got := fake.Records(zone)[0]; got != "www.example.com A 192.0.2.3 120" {
		t.Fatalf("TTL change: got %q", got)
	}
	if n := fake.Requests("PATCH dns_records"); n != 1 {
		t.Fatalf("TTL change: got %d PATCH requests, want 1", n)
	}
}

func TestFailureInTheMiddleNeverEmptiesTheName(t *testing.T) {
	p, fake := setup(t, Options{MaxRetries: -1})
	ctx := t.Context()
	fake.Add(zone, "www", "A", "192.0.2.1", 60)
	fake.Add(zone, "www", "A", "192.0.2.3", 60)
	isDelete := func(r *http.Request) bool { return r.Method == http.MethodDelete }
	fake.FailNext(1, isDelete, cloudflarefake.Fault{Status: http.StatusInternalServerError})
	_, err := p.SetRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.2", time.Minute)})
	if err == nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Fatalf("got %v, want the 500", err)
	}
	// One value was changed in place before the other was to be deleted.
	want := []string{"www.example.com A 192.0.2.2 60", "www.example.com A 192.0.2.3 60"}
	if got := fake.Records(zone); !slices.Equal(got, want) {
		t.Fatalf("after the failure: got %q, want both values, never none", got)
	}
	if _, err := p.SetRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.2", time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if got := fake.Records(zone); !slices.Equal(got, want[:1]) {
		t.Fatalf("after the retry: got %q, want %q", got, want[:1])
	}
}

func TestRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, fake := inProcess(t, Options{})
		ctx := t.Context()
		start := time.Now()
		fake.FailNext(2, nil, cloudflarefake.Fault{Status: http.StatusTooManyRequests, RetryAfter: 1})
		if _, err := p.GetRecords(ctx, zone); err != nil {
			t.Fatalf("after two 429s: %v", err)
		}
		if got, want := time.Since(start), 2*time.Second; got != want {
			t.Fatalf("two 429s with Retry-After 1: answered after %v, want %v (each Retry-After honoured)", got, want)
		}
		isPost := func(r *http.Request) bool { return r.Method == http.MethodPost }
		fake.FailNext(1, isPost, cloudflarefake.Fault{Status: http.StatusBadGateway})
		fake.ResetRequests()
		if _, err := p.SetRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.1", time.Minute)}); err == nil {
			t.Fatal("POST answered 502: got nil error, want it left to the caller (it may have been applied)")
		}
		if n := fake.Requests("POST dns_records"); n != 1 {
			t.Fatalf("got %d POSTs, want 1: a POST is not retried on 5xx", n)
		}
		fake.FailNext(1, nil, cloudflarefake.Fault{Status: http.StatusServiceUnavailable})
		if _, err := p.GetRecords(ctx, zone); err != nil {
			t.Fatalf("GET after a 503: %v", err)
		}
	})
}

// statuses counts the responses of each status, and sends the requests to
// the next RoundTripper.
type statuses struct {
	next http.RoundTripper
	mu   sync.Mutex
	got  map[string]int // "429 Retry-After 300" and "200"
}

func (s *statuses) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(r)
	if err == nil {
		k := fmt.Sprint(resp.StatusCode)
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			k += " Retry-After " + ra
		}
		s.mu.Lock()
		s.got[k]++
		s.mu.Unlock()
	}
	return resp, err
}

// Cloudflare blocks every call for 5 minutes once its limit is exceeded
// (here by another client of the token: the fake allows 10 requests in 5
// minutes, the provider would send 1,200). The provider sends nothing
// during a block: each call in it fails at once with a *BlockedError, and
// the only 429s it ever meets start a block (Retry-After 300), none is a
// request sent into one.
func TestABlockedAPIIsNotHammered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := cloudflarefake.New(token, zone)
		fake.SetRateLimit(10, 5*time.Minute)
		st := &statuses{next: fake.Transport(), got: map[string]int{}}
		p, err := New(token, Options{Endpoint: fake.URL, HTTPClient: &http.Client{Transport: st}})
		if err != nil {
			t.Fatal(err)
		}
		var blocked, ok int
		// A read every 10 s for 20 minutes, as a reconciler would. The
		// block of the first excess (at 90 s) ends at 390 s, the next
		// excess comes 100 s later, and so on: 10 requests answered from
		// 0, 390 and 790 s, excesses at 90, 490 and 890 s, one more
		// answered at 1,190 s.
		for end := time.Now().Add(20 * time.Minute); time.Now().Before(end); {
			_, err := p.GetRecords(t.Context(), zone)
			var b *BlockedError
			switch {
			case err == nil:
				ok++
			case errors.As(err, &b):
				blocked++
			default:
				var api *APIError
				if !errors.As(err, &api) || api.StatusCode != http.StatusTooManyRequests {
					t.Fatalf("GetRecords: got %v, want success, a 429 or a *BlockedError", err)
				}
			}
			time.Sleep(10 * time.Second)
		}
		want := map[string]int{"200": 3*10 + 1, "429 Retry-After 300": 3}
		if !maps.Equal(st.got, want) {
			t.Fatalf("responses: got %v, want %v (no request sent into a block)", st.got, want)
		}
		if blocked == 0 || ok == 0 {
			t.Fatalf("got %d calls answered and %d refused as blocked, want some of each", ok, blocked)
		}
	})
}

func TestBackoffHonoursRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		header string
		limit  time.Duration
		want   time.Duration
	}{
		{"2", time.Minute, 2 * time.Second},
		{"120", time.Minute, time.Minute},
		{time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat), time.Minute, 3 * time.Second},
	} {
		got := backoff(0, tc.header, tc.limit)
		if got > tc.want || got < tc.want-time.Second {
			t.Errorf("Retry-After %q: got %v, want %v", tc.header, got, tc.want)
		}
	}
	if got := backoff(3, "", time.Minute); got < 2*time.Second || got > 4*time.Second {
		t.Errorf("fourth attempt without Retry-After: got %v, want 2-4s", got)
	}
}

func TestTokenNeverShown(t *testing.T) {
	p, _ := setup(t, Options{})
	for _, s := range []string{fmt.Sprint(p), fmt.Sprintf("%+v", p), fmt.Sprintf("%#v", p)} {
		if strings.Contains(s, token) {
			t.Fatalf("fmt shows the token: %s", s)
		}
	}
	bad, err := New("wrong-token", Options{Endpoint: p.endpoint})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.GetRecords(t.Context(), zone)
	if err == nil || strings.Contains(err.Error(), "wrong-token") || !strings.Contains(err.Error(), "cloudflare") {
		t.Fatalf("got %v, want an error naming cloudflare without the token", err)
	}
	if _, err := New("", Options{}); err == nil {
		t.Fatal("empty token: got nil error")
	}
}

func TestMinTTL(t *testing.T) {
	p, _ := setup(t, Options{})
	e, _ := setup(t, Options{Enterprise: true})
	if p.MinTTL() != time.Minute || e.MinTTL() != 30*time.Second {
		t.Fatalf("got %v and %v, want 1m and 30s", p.MinTTL(), e.MinTTL())
	}
	if _, err := p.SetRecords(context.Background(), zone, []libdns.Record{a("low", "192.0.2.1", 30*time.Second)}); err == nil || !strings.Contains(err.Error(), "9021") {
		t.Fatalf("TTL 30 s on a non-Enterprise zone: got %v, want Cloudflare's 9021", err)
	}
}

func TestGetRecordsReadsEveryPage(t *testing.T) {
	p, fake := setup(t, Options{})
	for i := range 250 {
		fake.Add(zone, fmt.Sprintf("host%d", i), "A", fmt.Sprintf("10.0.%d.%d", i/256, i%256), 300)
	}
	fake.Add(zone, "alias", "CNAME", "target.example.net", 300)
	fake.ResetRequests()
	recs, err := p.GetRecords(t.Context(), zone)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 251 {
		t.Fatalf("got %d records, want 251", len(recs))
	}
	if n := fake.Requests("GET dns_records"); n != 3 {
		t.Fatalf("got %d list requests, want 3 pages of 100", n)
	}
	var cname libdns.CNAME
	for _, r := range recs {
		if c, ok := r.(libdns.CNAME); ok {
			cname = c
		}
	}
	if cname.Name != "alias" || cname.Target != "target.example.net." {
		t.Fatalf("got %+v, want a typed CNAME with a relative name and an FQDN target", cname)
	}
}

// okTransport answers every request with an empty success, without a
// network, so pacing can be measured on synctest's clock.
type okTransport struct{}

func (okTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body := `{"success":true,"errors":[],"result":[{"id":"z1","name":"example.com"}],"result_info":{"page":1,"per_page":100,"count":0,"total_count":0}}`
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

// With RateLimit 3 per second, requests start in threes, a second apart.
func TestRequestsWaitForTheWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var got []time.Duration
		p, err := New(token, Options{RateLimit: 3, RateWindow: time.Second, HTTPClient: &http.Client{Transport: recorder(func() {
			got = append(got, time.Since(start))
		})}})
		if err != nil {
			t.Fatal(err)
		}
		for range 6 { // a zone lookup, then one list per call
			if _, err := p.GetRecords(t.Context(), zone); err != nil {
				t.Fatal(err)
			}
		}
		s := time.Second
		if want := []time.Duration{0, 0, 0, s, s, s, 2 * s}; !slices.Equal(got, want) {
			t.Fatalf("requests started at %v, want %v", got, want)
		}
	})
}

func TestSetRecordsOfSeveralRRsetsListsTheZoneOnce(t *testing.T) {
	p, fake := setup(t, Options{})
	ctx := t.Context()
	for _, n := range []string{"a", "b", "c"} {
		fake.Add(zone, n, "A", "192.0.2.1", 60)
	}
	if _, err := p.zoneID(ctx, zone); err != nil {
		t.Fatal(err)
	}
	fake.ResetRequests()
	if _, err := p.SetRecords(ctx, zone, []libdns.Record{a("a", "192.0.2.2", time.Minute), a("b", "192.0.2.2", time.Minute), a("c", "192.0.2.2", time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if n := fake.Requests("GET dns_records"); n != 1 {
		t.Fatalf("got %d list requests for 3 RRsets, want 1", n)
	}
	for _, r := range fake.Records(zone) {
		if !strings.Contains(r, "192.0.2.2") {
			t.Fatalf("got %q, want every RRset replaced", fake.Records(zone))
		}
	}
}

func TestBatchWrites(t *testing.T) {
	p, fake := setup(t, Options{BatchSize: 3})
	ctx := t.Context()
	for _, n := range []string{"a", "b", "c"} {
		fake.Add(zone, n, "A", "192.0.2.1", 60)
		fake.Add(zone, n, "A", "192.0.2.9", 60)
	}
	if _, err := p.zoneID(ctx, zone); err != nil {
		t.Fatal(err)
	}
	fake.ResetRequests()
	// Three RRsets of two changes each (a value changed in place, one
	// deleted): three batches of at most 3 changes, never splitting an
	// RRset.
	if _, err := p.SetRecords(ctx, zone, []libdns.Record{a("a", "192.0.2.2", time.Minute), a("b", "192.0.2.2", time.Minute), a("c", "192.0.2.2", time.Minute)}); err != nil {
		t.Fatal(err)
	}
	want := []string{"a.example.com A 192.0.2.2 60", "b.example.com A 192.0.2.2 60", "c.example.com A 192.0.2.2 60"}
	if got := fake.Records(zone); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if n, batches := fake.Requests(""), fake.Requests("POST batch"); n != 4 || batches != 3 {
		t.Fatalf("got %d requests (%d batches), want 1 list and 3 batches of one RRset each", n, batches)
	}
	// A batch that fails changes nothing.
	fake.ResetRequests()
	_, err := p.SetRecords(ctx, zone, []libdns.Record{a("a", "192.0.2.3", 30*time.Second)})
	if err == nil || !strings.Contains(err.Error(), "9021") {
		t.Fatalf("TTL 30 s in a batch: got %v, want Cloudflare's 9021", err)
	}
	if got := fake.Records(zone); !slices.Equal(got, want) {
		t.Fatalf("after a failed batch: got %q, want nothing changed", got)
	}
	q, _ := setup(t, Options{BatchSize: 200})
	providertest.Run(t, zone, q)
}
