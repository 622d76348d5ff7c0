//go:build failing

package cloudflare

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnsfailover/failover/internal/cloudflarefake"
	"github.com/libdns/libdns"
)

// hooked serves requests with the in-process fake and calls after (when
// set) once each response is ready, before the client sees it.
type hooked struct {
	next  http.RoundTripper
	after func(*http.Request)
}

func (h hooked) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := h.next.RoundTrip(r)
	if h.after != nil {
		h.after(r)
	}
	return resp, err
}

func hookedProvider(t *testing.T, fake *cloudflarefake.Server, after func(*http.Request)) *Provider {
	t.Helper()
	p, err := New(token, Options{Endpoint: fake.URL, HTTPClient: &http.Client{Transport: hooked{fake.Transport(), after}}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Cloudflare's list is paged by offset (page, per_page). When a record of
// page 1 is deleted (by the dashboard, another tool) between the reads of
// page 1 and page 2, the first record of page 2 moves to page 1 and is
// never read. result_info.total_count says so (it drops between the
// pages), but the wrapper does not look. SetRecords then takes the RRset
// it missed for empty, and creates the new value beside the old one: the
// failed-over-from address stays published, and SetRecords reports
// success.
func TestSetRecordsNeverMissesARecordWhenThePagesShift(t *testing.T) {
	fake := cloudflarefake.New(token, zone)
	var first string
	for i := range 100 {
		id := fake.Add(zone, fmt.Sprintf("host%03d", i), "A", "10.0.0.1", 300)
		if i == 0 {
			first = id
		}
	}
	fake.Add(zone, "www", "A", "192.0.2.1", 300) // the 101st record: page 2
	var once sync.Once
	p := hookedProvider(t, fake, func(r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Query().Get("page") == "1" && r.URL.Query().Get("type") == "" {
			once.Do(func() { // someone deletes a record of page 1
				req, _ := http.NewRequest(http.MethodDelete, fake.URL+"/zones/zone001/dns_records/"+first, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := fake.Transport().RoundTrip(req)
				if err == nil {
					resp.Body.Close()
				}
			})
		}
	})
	// Two RRsets, so the whole zone is listed.
	_, err := p.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.2", 5*time.Minute), a("api", "192.0.2.3", 5*time.Minute)})
	var www []string
	for _, r := range fake.Records(zone) {
		if len(r) > 4 && r[:4] == "www." {
			www = append(www, r)
		}
	}
	if want := []string{"www.example.com A 192.0.2.2 300"}; err == nil && !slices.Equal(www, want) {
		t.Fatalf("SetRecords succeeded, but www holds %q, want %q (or an error, so the engine reads back)", www, want)
	}
}

// A TTL of 0 (libdns: "the provider's default") or 1 (Cloudflare:
// "automatic") on a DNS-only record is written again at every call: the
// read reports 300 s for an automatic TTL, which never equals 0 or 1, so a
// second identical SetRecords sends a PATCH (for TTL 0 an empty one), and a
// Manager on such a record writes at every reconcile.
func TestSetRecordsWithAnAutomaticTTLWritesNothingTheSecondTime(t *testing.T) {
	for _, ttl := range []time.Duration{0, time.Second} {
		t.Run(ttl.String(), func(t *testing.T) {
			p, fake := inProcess(t, Options{})
			recs := []libdns.Record{a("www", "192.0.2.1", ttl)}
			if _, err := p.SetRecords(t.Context(), zone, recs); err != nil {
				t.Fatal(err)
			}
			fake.ResetRequests()
			if _, err := p.SetRecords(t.Context(), zone, recs); err != nil {
				t.Fatal(err)
			}
			if got := fake.Requests("PATCH dns_records") + fake.Requests("POST dns_records") + fake.Requests("DELETE dns_records"); got != 0 {
				t.Fatalf("second identical SetRecords with TTL %v: got %d writes, want 0", ttl, got)
			}
		})
	}
}

// Two SetRecords of the same RRset at once (two Managers, or a Manager and
// a CLI, sharing a provider) both read it empty and both create their
// value: the RRset ends with both values, which neither call asked for,
// and both report success. libdns requires every method to be safe for
// concurrent use; one zone's writes must not interleave this way.
func TestConcurrentSetRecordsOfOneRRsetLeaveOneCallsValues(t *testing.T) {
	fake := cloudflarefake.New(token, zone)
	listed := make(chan struct{}, 2)
	release := make(chan struct{})
	p := hookedProvider(t, fake, func(r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Query().Get("type") == "A" {
			listed <- struct{}{}
			<-release // both calls have read the RRset before either writes
		}
	})
	if _, err := p.zoneID(t.Context(), zone); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for _, ip := range []string{"192.0.2.1", "192.0.2.2"} {
		go func() {
			_, err := p.SetRecords(t.Context(), zone, []libdns.Record{a("www", ip, 5*time.Minute)})
			errs <- err
		}()
	}
	<-listed
	select {
	case <-listed: // both read before either wrote: the race is open
	case <-time.After(2 * time.Second): // serialised: the second waits for the first
	}
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Logf("SetRecords: %v", err)
		}
	}
	if got := fake.Records(zone); len(got) != 1 {
		t.Fatalf("after two concurrent SetRecords of www A: got %q, want the one value of the call that wrote last", got)
	}
}

// shifting answers like Cloudflare when a record is created, between the
// reads of page 1 and page 2, at a position before the end of page 1: the
// last record of page 1 is listed again at the top of page 2. It records
// every write.
type shifting struct {
	mu     sync.Mutex
	writes []string
}

func (s *shifting) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := func(id, name, ip string) string {
		return fmt.Sprintf(`{"id":%q,"type":"A","name":%q,"content":%q,"ttl":300,"proxied":false}`, id, name, ip)
	}
	var body string
	q := r.URL.Query()
	switch {
	case r.Method != http.MethodGet:
		s.mu.Lock()
		s.writes = append(s.writes, r.Method+" "+r.URL.Path)
		s.mu.Unlock()
		body = `{"success":true,"errors":[],"result":{"id":"x"}}`
	case q.Get("name") == "example.com": // the zone lookup
		body = `{"success":true,"errors":[],"result":[{"id":"z1","name":"example.com"}],"result_info":{"page":1,"per_page":20,"count":1,"total_count":1}}`
	case q.Get("page") == "1":
		var recs []string
		for i := range 99 {
			recs = append(recs, rec(fmt.Sprintf("h%03d", i), fmt.Sprintf("host%03d.example.com", i), "10.0.0.1"))
		}
		recs = append(recs, rec("w", "www.example.com", "192.0.2.1"))
		body = fmt.Sprintf(`{"success":true,"errors":[],"result":[%s],"result_info":{"page":1,"per_page":100,"count":100,"total_count":101}}`, join(recs))
	default: // page 2, after a record was created before www
		body = fmt.Sprintf(`{"success":true,"errors":[],"result":[%s,%s],"result_info":{"page":2,"per_page":100,"count":2,"total_count":102}}`,
			rec("w", "www.example.com", "192.0.2.1"), rec("n", "api.example.com", "192.0.2.9"))
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

func join(s []string) string { return strings.Join(s, ",") }

// A record listed twice (the pages shifted between two reads) is taken for
// two records of the RRset: SetRecords, asked to keep www at 192.0.2.1,
// finds one "extra" copy and deletes it — the record itself. The name goes
// dark, and SetRecords reports success.
func TestSetRecordsNeverDeletesTheRecordItKeepsWhenListedTwice(t *testing.T) {
	tr := &shifting{}
	p, err := New(token, Options{Endpoint: "https://api.example/client/v4", HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.1", 5*time.Minute), a("api", "192.0.2.9", 5*time.Minute)})
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if slices.Contains(tr.writes, "DELETE /client/v4/zones/z1/dns_records/w") {
		t.Fatalf("SetRecords (err %v) sent %q: it deleted www's only record, which it was asked to keep", err, tr.writes)
	}
}

// A value given twice in one RRset (two pools sharing a backup address,
// an ACME client repeating itself) is created twice: Cloudflare refuses
// the second with 81058 "An identical record already exists", and the
// write fails at every attempt. The Route 53, PowerDNS and RFC 2136
// wrappers send such a value once.
func TestSetRecordsWithAValueGivenTwice(t *testing.T) {
	p, fake := inProcess(t, Options{})
	_, err := p.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.1", 5*time.Minute), a("www", "192.0.2.1", 5*time.Minute)})
	if err != nil {
		t.Fatalf("SetRecords(www A 192.0.2.1 twice): got %v, want success", err)
	}
	if got, want := fake.Records(zone), []string{"www.example.com A 192.0.2.1 300"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}
