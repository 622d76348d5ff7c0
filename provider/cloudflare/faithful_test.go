package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover/internal/cloudflarefake"
	"github.com/libdns/libdns"
)

// inProcess returns a provider on an in-process fake (no socket, so it
// runs inside a synctest bubble).
func inProcess(t *testing.T, opts Options) (*Provider, *cloudflarefake.Server) {
	t.Helper()
	fake := cloudflarefake.New(token, zone)
	opts.Endpoint = fake.URL
	opts.HTTPClient = &http.Client{Transport: fake.Transport()}
	p, err := New(token, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p, fake
}

func ptr[T any](v T) *T { return &v }

// A failover changes values in place: the record keeps its ID, proxied,
// comment, tags and settings, whatever the path.
func TestFailoverKeepsWhatTheRecordCarries(t *testing.T) {
	for _, batch := range []int{0, 200} {
		t.Run(fmt.Sprintf("BatchSize=%d", batch), func(t *testing.T) {
			p, fake := setup(t, Options{BatchSize: batch})
			old := fake.AddRecord(zone, cloudflarefake.Record{Name: "www", Type: "A", Content: "192.0.2.1", Proxied: true,
				Comment: ptr("origin: rack 4"), Tags: []string{"team:web"}, Settings: map[string]any{"ipv4_only": true}})
			if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.2", time.Minute)}); err != nil {
				t.Fatal(err)
			}
			got := fake.Get(zone)
			if len(got) != 1 {
				t.Fatalf("got %d records, want 1", len(got))
			}
			r := got[0]
			if r.ID != old.ID || r.Content != "192.0.2.2" || !r.Proxied || r.Comment == nil || *r.Comment != "origin: rack 4" ||
				!slices.Equal(r.Tags, []string{"team:web"}) || r.Settings["ipv4_only"] != true {
				t.Fatalf("got %+v, want record %s changed in place to 192.0.2.2, still proxied, with its comment, tags and settings", r, old.ID)
			}
		})
	}
}

// Growing an RRset creates the new values with what the RRset's records
// carry; shrinking it deletes, never leaving the name empty.
func TestGrowingAnRRsetCopiesProxiedCommentAndTags(t *testing.T) {
	for _, batch := range []int{0, 200} {
		t.Run(fmt.Sprintf("BatchSize=%d", batch), func(t *testing.T) {
			p, fake := setup(t, Options{BatchSize: batch})
			fake.AddRecord(zone, cloudflarefake.Record{Name: "www", Type: "A", Content: "192.0.2.1", Proxied: true, Comment: ptr("lb"), Tags: []string{"env:prod"}})
			if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.2", time.Minute), a("www", "192.0.2.3", time.Minute)}); err != nil {
				t.Fatal(err)
			}
			for _, r := range fake.Get(zone) {
				if !r.Proxied || r.Comment == nil || *r.Comment != "lb" || !slices.Equal(r.Tags, []string{"env:prod"}) {
					t.Errorf("got %+v, want proxied with comment lb and tag env:prod", r)
				}
			}
			if got, want := fake.Records(zone), []string{"www.example.com A 192.0.2.2 1 proxied", "www.example.com A 192.0.2.3 1 proxied"}; !slices.Equal(got, want) {
				t.Fatalf("got %q, want %q", got, want)
			}
		})
	}
}

// A CNAME is changed in place: Cloudflare refuses a second record beside
// it (81053), so create-then-delete cannot work.
func TestCNAMEChangedInPlace(t *testing.T) {
	p, fake := setup(t, Options{})
	id := fake.Add(zone, "app", "CNAME", "blue.example.net", 300)
	if _, err := p.zoneID(t.Context(), zone); err != nil {
		t.Fatal(err)
	}
	fake.ResetRequests()
	if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{libdns.CNAME{Name: "app", TTL: 5 * time.Minute, Target: "green.example.net."}}); err != nil {
		t.Fatal(err)
	}
	if got := fake.Get(zone); len(got) != 1 || got[0].ID != id || got[0].Content != "green.example.net" {
		t.Fatalf("got %+v, want record %s now green.example.net", got, id)
	}
	if got, want := fake.Requests(""), 2; got != want {
		t.Fatalf("got %d requests, want %d (list, PATCH)", got, want)
	}
}

// What is already held is not written again: TXT comes back quoted, MX
// with its priority, SRV/CAA/HTTPS as data; all compare equal to what was
// set. Content is compared exactly: a change of case is written.
func TestWhatIsHeldIsNotWrittenAgain(t *testing.T) {
	srv, err := libdns.RR{Name: "_sip._tcp", Type: "SRV", TTL: time.Hour, Data: "10 5 5060 sip.example.com."}.Parse()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		recs []libdns.Record
		want []string // the fake's records after the first write
	}{
		{"TXT", []libdns.Record{libdns.TXT{Name: "txt", TTL: time.Hour, Text: `v=spf1 include:_spf.example.com ~all`}}, []string{`txt.example.com TXT "v=spf1 include:_spf.example.com ~all" 3600`}},
		{"MX", []libdns.Record{libdns.MX{Name: "@", TTL: time.Hour, Preference: 10, Target: "mx1.example.com."}, libdns.MX{Name: "@", TTL: time.Hour, Preference: 20, Target: "mx2.example.com."}},
			[]string{"example.com MX 10 mx1.example.com 3600", "example.com MX 20 mx2.example.com 3600"}},
		{"SRV", []libdns.Record{srv}, []string{"_sip._tcp.example.com SRV 10 5 5060 sip.example.com 3600"}},
		{"CAA", []libdns.Record{libdns.CAA{Name: "@", TTL: time.Hour, Flags: 0, Tag: "issue", Value: "letsencrypt.org"}}, []string{`example.com CAA 0 issue "letsencrypt.org" 3600`}},
		{"HTTPS", []libdns.Record{libdns.ServiceBinding{Name: "svc", Scheme: "https", TTL: time.Hour, Priority: 1, Target: ".", Params: libdns.SvcParams{"alpn": {"h2", "h3"}}}}, []string{`svc.example.com HTTPS 1 . alpn=h2,h3 3600`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, fake := setup(t, Options{})
			if _, err := p.SetRecords(t.Context(), zone, tc.recs); err != nil {
				t.Fatal(err)
			}
			if got := fake.Records(zone); !slices.Equal(got, tc.want) {
				t.Fatalf("after the write: got %q, want %q", got, tc.want)
			}
			read, err := p.GetRecords(t.Context(), zone)
			if err != nil {
				t.Fatal(err)
			}
			var got, want []string
			for _, r := range read {
				got = append(got, fmt.Sprintf("%T %v", r, r.RR()))
			}
			for _, r := range tc.recs {
				rr := r.RR()
				rr.Name = libdns.RelativeName(libdns.AbsoluteName(rr.Name, zone), zone)
				typed, _ := rr.Parse()
				want = append(want, fmt.Sprintf("%T %v", typed, typed.RR()))
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("read back: got %q, want %q", got, want)
			}
			fake.ResetRequests()
			if _, err := p.SetRecords(t.Context(), zone, tc.recs); err != nil {
				t.Fatal(err)
			}
			if n := fake.Requests("") - fake.Requests("GET dns_records"); n != 0 {
				t.Fatalf("writing what is held: got %d write requests, want 0", n)
			}
		})
	}
	p, fake := setup(t, Options{})
	fake.Add(zone, "txt", "TXT", "token=abc", 300)
	if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{libdns.TXT{Name: "txt", TTL: 5 * time.Minute, Text: "token=ABC"}}); err != nil {
		t.Fatal(err)
	}
	if got, want := fake.Records(zone), []string{`txt.example.com TXT "token=ABC" 300`}; !slices.Equal(got, want) {
		t.Fatalf("a change of case: got %q, want %q", got, want)
	}
}

// An RRset larger than BatchSize is split, creations before deletions, so
// that no request is larger than the batch and the name is never empty.
func TestLargeRRsetSplitAcrossBatches(t *testing.T) {
	p, fake := setup(t, Options{BatchSize: 3})
	fake.SetBatchLimit(3)
	var recs []libdns.Record
	for i := range 7 {
		recs = append(recs, a("big", fmt.Sprintf("192.0.2.%d", i+1), time.Minute))
	}
	if _, err := p.SetRecords(t.Context(), zone, recs); err != nil {
		t.Fatal(err)
	}
	if got := len(fake.Records(zone)); got != 7 {
		t.Fatalf("got %d records, want 7", got)
	}
	if got, want := fake.Requests("POST batch"), 3; got != want {
		t.Fatalf("got %d batches, want %d (3+3+1)", got, want)
	}
}

// Cloudflare allows 1,200 requests in any 5 minutes, whatever the burst.
func TestRateLimitHoldsInAnyWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var sent []time.Time
		p, err := New(token, Options{HTTPClient: &http.Client{Transport: recorder(func() {
			mu.Lock()
			sent = append(sent, time.Now())
			mu.Unlock()
		})}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 11*time.Minute)
		defer cancel()
		for ctx.Err() == nil {
			p.GetRecords(ctx, zone)
		}
		most := 0
		for i, s := range sent {
			n := 0
			for _, u := range sent[i:] {
				if u.Sub(s) < 5*time.Minute {
					n++
				}
			}
			most = max(most, n)
		}
		if most != 1200 {
			t.Fatalf("got at most %d requests in a 5-minute window, want 1200", most)
		}
	})
}

// recorder is okTransport, calling f for each request.
type recorder func()

func (f recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	f()
	return okTransport{}.RoundTrip(r)
}

// errTransport fails every request with err.
type errTransport struct{ err error }

func (t errTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, t.err }

// Errors name the operation and zone, never the token, and still unwrap.
func TestErrorsKeepTheirCauseAndNotTheToken(t *testing.T) {
	leak := fmt.Errorf("proxy refused Authorization: Bearer %s: %w", token, context.DeadlineExceeded)
	p, err := New(token, Options{HTTPClient: &http.Client{Transport: errTransport{leak}}, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.GetRecords(t.Context(), zone)
	if err == nil || strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "example.com.") {
		t.Fatalf("got %v, want an error naming the zone without the token", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want errors.Is(err, context.DeadlineExceeded)", err)
	}

	q, fake := setup(t, Options{MaxRetries: -1})
	fake.Add(zone, "www", "A", "192.0.2.1", 60)
	fake.FailNext(1, func(r *http.Request) bool { return r.Method == http.MethodPatch }, cloudflarefake.Fault{Status: http.StatusInternalServerError})
	_, err = q.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.2", time.Minute)})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusInternalServerError {
		t.Fatalf("got %v, want an *APIError with status 500", err)
	}
}

// Requests go to the configured endpoint, path included.
func TestRequestsGoToTheConfiguredEndpoint(t *testing.T) {
	fake := cloudflarefake.New(token, zone)
	var urls []string
	var mu sync.Mutex
	tr := roundTripper(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		urls = append(urls, r.URL.String())
		mu.Unlock()
		r2 := r.Clone(r.Context())
		r2.URL.Path = strings.Replace(r2.URL.Path, "/proxy/cf/v4", "/client/v4", 1)
		return fake.Transport().RoundTrip(r2)
	})
	p, err := New(token, Options{Endpoint: "https://gateway.internal/proxy/cf/v4/", HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := p.SetRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.1", time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.AppendRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.2", time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.DeleteRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.1", time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ListZones(ctx); err != nil {
		t.Fatal(err)
	}
	for _, u := range urls {
		if !strings.HasPrefix(u, "https://gateway.internal/proxy/cf/v4/") {
			t.Errorf("request to %s, want it under the configured endpoint", u)
		}
	}
	if got, want := fake.Records(zone), []string{"www.example.com A 192.0.2.2 60"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Proxied records report TTL 1 (automatic): a proxied RRset whose values
// are held is not written for its TTL.
func TestProxiedTTLIsAutomatic(t *testing.T) {
	p, fake := setup(t, Options{})
	fake.AddRecord(zone, cloudflarefake.Record{Name: "www", Type: "A", Content: "192.0.2.1", TTL: 300, Proxied: true})
	fake.Add(zone, "plain", "A", "192.0.2.1", 1)
	recs, err := p.GetRecords(t.Context(), zone)
	if err != nil {
		t.Fatal(err)
	}
	ttls := map[string]time.Duration{}
	for _, r := range recs {
		ttls[r.RR().Name] = r.RR().TTL
	}
	if ttls["www"] != time.Second || ttls["plain"] != 300*time.Second {
		t.Fatalf("got TTLs %v, want 1s for the proxied record (automatic) and 300s for the DNS-only automatic one", ttls)
	}
	fake.ResetRequests()
	if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.1", time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if n := fake.Requests("PATCH dns_records"); n != 0 {
		t.Fatalf("TTL alone on a proxied record: got %d PATCHes, want 0", n)
	}
}

// DeleteRecords matches name and type, the value unless empty, the TTL
// (as reads report it) unless zero.
func TestDeleteRecordsMatches(t *testing.T) {
	for _, tc := range []struct {
		name string
		del  []libdns.Record
		want []string
	}{
		{"one value", []libdns.Record{a("www", "192.0.2.1", 0)}, []string{"www.example.com A 192.0.2.2 60", "www.example.com MX 10 mx.example.com 300"}},
		{"any value", []libdns.Record{libdns.RR{Name: "www", Type: "A"}}, []string{"www.example.com MX 10 mx.example.com 300"}},
		{"other TTL", []libdns.Record{a("www", "192.0.2.1", time.Hour)}, []string{"www.example.com A 192.0.2.1 60", "www.example.com A 192.0.2.2 60", "www.example.com MX 10 mx.example.com 300"}},
		{"MX by value", []libdns.Record{libdns.MX{Name: "www", Preference: 10, Target: "mx.example.com."}}, []string{"www.example.com A 192.0.2.1 60", "www.example.com A 192.0.2.2 60"}},
		{"any type", []libdns.Record{libdns.RR{Name: "www"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, fake := setup(t, Options{})
			fake.Add(zone, "www", "A", "192.0.2.1", 60)
			fake.Add(zone, "www", "A", "192.0.2.2", 60)
			fake.AddRecord(zone, cloudflarefake.Record{Name: "www", Type: "MX", Content: "mx.example.com", Priority: ptr[uint16](10), TTL: 300})
			if _, err := p.DeleteRecords(t.Context(), zone, tc.del); err != nil {
				t.Fatal(err)
			}
			if got := fake.Records(zone); !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// A TTL of 0 (libdns: "the provider's default") or 1 (Cloudflare:
// "automatic") on a DNS-only record is stored as automatic, which reads
// back as 300 s. A second identical SetRecords, or one asking for 300 s,
// writes nothing: otherwise a Manager on such a record would write it at
// every reconcile. A record held with an explicit TTL is patched to
// automatic, never with an empty PATCH.
func TestSetRecordsWithAnAutomaticTTL(t *testing.T) {
	for _, tc := range []struct {
		heldTTL    int // 0: no record held
		ttl        time.Duration
		wantStored string
		wantWrites int // by the second, identical call
	}{
		{0, 0, "www.example.com A 192.0.2.1 1", 0},
		{0, time.Second, "www.example.com A 192.0.2.1 1", 0},
		{1, 300 * time.Second, "www.example.com A 192.0.2.1 1", 0},
		{300, 0, "www.example.com A 192.0.2.1 1", 0},
	} {
		t.Run(fmt.Sprintf("held %d s, set %v", tc.heldTTL, tc.ttl), func(t *testing.T) {
			p, fake := inProcess(t, Options{})
			if tc.heldTTL != 0 {
				fake.Add(zone, "www", "A", "192.0.2.1", tc.heldTTL)
			}
			recs := []libdns.Record{a("www", "192.0.2.1", tc.ttl)}
			if _, err := p.SetRecords(t.Context(), zone, recs); err != nil {
				t.Fatal(err)
			}
			if got := fake.Records(zone); !slices.Equal(got, []string{tc.wantStored}) {
				t.Fatalf("after SetRecords with TTL %v: got %q, want %q", tc.ttl, got, tc.wantStored)
			}
			fake.ResetRequests()
			if _, err := p.SetRecords(t.Context(), zone, recs); err != nil {
				t.Fatal(err)
			}
			if got := fake.Requests("") - fake.Requests("GET dns_records"); got != tc.wantWrites {
				t.Fatalf("second identical SetRecords with TTL %v: got %d writes, want %d", tc.ttl, got, tc.wantWrites)
			}
		})
	}
}

// A value given twice in one RRset (two pools sharing a backup address,
// an ACME client repeating itself) is one record: Cloudflare refuses an
// identical second record with 81058, so sending it twice would fail the
// write at every attempt. The Route 53, PowerDNS and RFC 2136 wrappers
// send such a value once too.
func TestSetRecordsWithAValueGivenTwice(t *testing.T) {
	p, fake := inProcess(t, Options{})
	for range 2 { // creating, then with the value held
		_, err := p.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.1", 5*time.Minute), a("www", "192.0.2.1", 5*time.Minute)})
		if err != nil {
			t.Fatalf("SetRecords(www A 192.0.2.1 twice): got %v, want success", err)
		}
		if got, want := fake.Records(zone), []string{"www.example.com A 192.0.2.1 300"}; !slices.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}
