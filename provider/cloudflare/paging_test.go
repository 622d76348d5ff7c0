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
// page 1 and page 2, the first record of page 2 moves to page 1 and would
// never be read: SetRecords would take www for empty and create the new
// value beside the old one, leaving the failed-over-from address
// published. result_info.total_count drops between the pages, so the list
// is read again, and www is changed in place.
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
	if want := []string{"www.example.com A 192.0.2.2 300"}; err != nil || !slices.Equal(www, want) {
		t.Fatalf("SetRecords: got %v, www holding %q; want success and %q", err, www, want)
	}
}

// A few RRsets of a zone that takes many pages are listed one by one,
// filtered by name and type: fewer requests than the whole zone, and each
// RRset fits one page, which no concurrent change can shift.
func TestSetRecordsListsFewRRsetsOfALargeZoneAlone(t *testing.T) {
	p, fake := inProcess(t, Options{})
	for i := range 350 {
		fake.Add(zone, fmt.Sprintf("host%03d", i), "A", "10.0.0.1", 300)
	}
	for _, tc := range []struct {
		names     []string
		wantLists int
	}{
		{[]string{"a", "b"}, 1 + 2},            // the first page, then each RRset
		{[]string{"a", "b", "c"}, 1 + 3},       // 3 RRsets, 4 pages: still fewer
		{[]string{"a", "b", "c", "d"}, 4},      // 4 RRsets, 4 pages: the zone
		{[]string{"a", "b", "c", "d", "e"}, 4}, // the zone
	} {
		var recs []libdns.Record
		for _, n := range tc.names {
			recs = append(recs, a(n, "192.0.2.1", time.Minute))
		}
		if _, err := p.zoneID(t.Context(), zone); err != nil {
			t.Fatal(err)
		}
		fake.ResetRequests()
		if _, err := p.SetRecords(t.Context(), zone, recs); err != nil {
			t.Fatal(err)
		}
		if got := fake.Requests("GET dns_records"); got != tc.wantLists {
			t.Errorf("SetRecords of %d RRsets in a zone of 4 pages: got %d list requests, want %d", len(tc.names), got, tc.wantLists)
		}
	}
}

// shifting answers as Cloudflare does when the pages shift between the
// reads of page 1 and page 2: the last record of page 1 (www) is listed
// again at the top of page 2. With total2 = 102, a record was created
// before it (the total grows); with 101, one was also deleted after it
// (the total stays). It records every write.
type shifting struct {
	total2 int

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
		body = fmt.Sprintf(`{"success":true,"errors":[],"result":[%s],"result_info":{"page":1,"per_page":100,"count":100,"total_count":101}}`, strings.Join(recs, ","))
	default:
		body = fmt.Sprintf(`{"success":true,"errors":[],"result":[%s,%s],"result_info":{"page":2,"per_page":100,"count":2,"total_count":%d}}`,
			rec("w", "www.example.com", "192.0.2.1"), rec("n", "api.example.com", "192.0.2.9"), s.total2)
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

// A record listed twice must not be taken for two records of its RRset:
// SetRecords, asked to keep www at 192.0.2.1, would find an "extra" copy
// and delete it, the record itself, taking the name dark. Records are
// kept once by ID; a total that changes between pages has the list read
// again, and a list that keeps shifting is an error, with nothing written.
func TestSetRecordsNeverDeletesTheRecordItKeepsWhenListedTwice(t *testing.T) {
	for _, tc := range []struct {
		total2  int
		wantErr string
	}{
		{101, ""},              // the copy is dropped by ID
		{102, "changed while"}, // read 3 times, shifted each time
	} {
		t.Run(fmt.Sprint(tc.total2), func(t *testing.T) {
			tr := &shifting{total2: tc.total2}
			p, err := New(token, Options{Endpoint: "https://api.example/client/v4", HTTPClient: &http.Client{Transport: tr}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.1", 5*time.Minute), a("api", "192.0.2.9", 5*time.Minute)})
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("SetRecords: got error %v, want %q", err, tc.wantErr)
			}
			tr.mu.Lock()
			defer tr.mu.Unlock()
			if len(tr.writes) != 0 {
				t.Fatalf("SetRecords sent %q, want no write (www and api already hold what is asked)", tr.writes)
			}
		})
	}
}
