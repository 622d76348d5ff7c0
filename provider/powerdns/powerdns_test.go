package powerdns_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnsfailover/failover/internal/servertest"
	"github.com/dnsfailover/failover/provider/powerdns"
	"github.com/libdns/libdns"
)

const zone = "example.test."

// counted starts PowerDNS and returns a provider that talks to it through
// a proxy counting requests by method.
func counted(t *testing.T) (*powerdns.Provider, func() map[string]int) {
	t.Helper()
	s := servertest.StartPowerDNS(t, zone)
	target, err := url.Parse(s.APIURL)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	requests := map[string]int{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests[r.Method]++
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	p, err := powerdns.New(front.URL, s.APIKey, powerdns.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := requests
		requests = map[string]int{}
		return out
	}
}

func addrs(n int, ip string) []libdns.Record {
	var recs []libdns.Record
	for i := range n {
		recs = append(recs, libdns.Address{Name: fmt.Sprintf("r%04d", i), TTL: time.Minute, IP: netip.MustParseAddr(ip)})
	}
	return recs
}

func count(t *testing.T, p *powerdns.Provider, value string) int {
	t.Helper()
	recs, err := p.GetRecords(t.Context(), zone)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.RR().Data == value {
			n++
		}
	}
	return n
}

// A failover of n records is one PATCH, whatever n (libdns/powerdns v0.1.4
// sent a zone lookup and one PATCH per RRset: 2 and 501 requests). The
// test logs the time of each write:
//
//	FAILOVER_REQUIRE_SERVERS=1 go test -run TestRequestsPerFailover -v ./provider/powerdns
func TestRequestsPerFailover(t *testing.T) {
	p, requests := counted(t)
	for _, n := range []int{1, 500} {
		if _, err := p.SetRecords(t.Context(), zone, addrs(n, "192.0.2.10")); err != nil {
			t.Fatal(err)
		}
		requests()
		start := time.Now()
		if _, err := p.SetRecords(t.Context(), zone, addrs(n, "192.0.2.20")); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		if got, want := requests(), map[string]int{"PATCH": 1}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("failover of %d records: got requests %v, want %v", n, got, want)
		}
		if got := count(t, p, "192.0.2.20"); got != n {
			t.Errorf("failover of %d records: got %d on the backup, want %d", n, got, n)
		}
		t.Logf("failover of %d records: 1 PATCH, %v", n, took.Round(time.Millisecond))
	}
}

// Appending and deleting are one read and one write.
func TestAppendAndDeleteAreOneReadOneWrite(t *testing.T) {
	p, requests := counted(t)
	if _, err := p.SetRecords(t.Context(), zone, addrs(3, "192.0.2.10")); err != nil {
		t.Fatal(err)
	}
	requests()
	if _, err := p.AppendRecords(t.Context(), zone, addrs(3, "192.0.2.11")); err != nil {
		t.Fatal(err)
	}
	if got := requests(); got["GET"] != 1 || got["PATCH"] != 1 || len(got) != 2 {
		t.Errorf("append: got requests %v, want one GET and one PATCH", got)
	}
	gone, err := p.DeleteRecords(t.Context(), zone, addrs(3, "192.0.2.10"))
	if err != nil {
		t.Fatal(err)
	}
	if got := requests(); got["GET"] != 1 || got["PATCH"] != 1 || len(got) != 2 {
		t.Errorf("delete: got requests %v, want one GET and one PATCH", got)
	}
	if len(gone) != 3 || count(t, p, "192.0.2.10") != 0 || count(t, p, "192.0.2.11") != 3 {
		t.Errorf("delete: got %d returned, %d left of the deleted, %d of the appended; want 3, 0, 3",
			len(gone), count(t, p, "192.0.2.10"), count(t, p, "192.0.2.11"))
	}
}

// A PATCH that PowerDNS refuses with 422 is an *APIError naming the RRset.
// PowerDNS 4.7.3 with the SQLite backend applies none of it: the RRset
// before the refused one is not written. (The Manager reads back after any
// error, so a server that applied part of it would be found out too.)
func TestRefusedPatchIsAnErrorAndAppliesNothing(t *testing.T) {
	s := servertest.StartPowerDNS(t, zone)
	p := s.Provider()
	if _, err := p.SetRecords(t.Context(), zone, addrs(1, "192.0.2.10")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		bad  libdns.Record
		want string
	}{
		{"CNAME beside an A", libdns.CNAME{Name: "r0000", TTL: time.Minute, Target: "elsewhere.example.net."}, "Conflicts with pre-existing RRset"},
		{"A outside the zone", libdns.Address{Name: "www.other.test.", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.1")}, "out of zone"},
		{"unparsable value", libdns.RR{Name: "bad", Type: "MX", TTL: time.Minute, Data: "not an mx"}, "bad.example.test./MX"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs := []libdns.Record{libdns.Address{Name: "first", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.99")}, tc.bad}
			_, err := p.SetRecords(t.Context(), zone, recs)
			var apiErr *powerdns.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a 422 *APIError containing %q", err, tc.want)
			}
			if got := count(t, p, "192.0.2.99"); got != 0 {
				t.Errorf("got the RRset before the refused one written (%d records), want nothing applied", got)
			}
		})
	}
}

// TXT values are raw text both ways (libdns/powerdns returned them quoted).
func TestTXTRoundTrip(t *testing.T) {
	p := servertest.StartPowerDNS(t, zone).Provider()
	for i, text := range []string{`v=spf1 -all`, `say "hi"`, `back\slash`, "ünïcödé", strings.Repeat("long", 100), ""} {
		name := fmt.Sprintf("txt%d", i)
		if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{libdns.TXT{Name: name, TTL: time.Minute, Text: text}}); err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		recs, err := p.GetRecords(t.Context(), zone)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range recs {
			if txt, ok := r.(libdns.TXT); ok && txt.Name == name {
				got = append(got, txt.Text)
			}
		}
		if !slices.Equal(got, []string{text}) {
			t.Errorf("got %q, want %q", got, text)
		}
	}
}

// DeleteRecords honours libdns's wildcards (zero TTL, empty value), keeps
// what does not match, and returns what it deleted.
func TestDeleteRecordsMatches(t *testing.T) {
	p := servertest.StartPowerDNS(t, zone).Provider()
	a := func(name, ip string, ttl time.Duration) libdns.Record {
		return libdns.Address{Name: name, TTL: ttl, IP: netip.MustParseAddr(ip)}
	}
	if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.1", time.Minute), a("www", "192.0.2.2", time.Minute),
		a("www", "2001:db8::1", time.Minute), a("web", "192.0.2.1", 2*time.Minute)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		del     libdns.RR
		deleted int
		left    int // records named www or web
	}{
		{libdns.RR{Name: "www", Type: "A", TTL: 2 * time.Minute, Data: "192.0.2.1"}, 0, 4},
		{libdns.RR{Name: "www", Type: "AAAA", Data: "2001:0db8::1"}, 1, 3},
		{libdns.RR{Name: "www", Type: "A"}, 2, 1},
		{libdns.RR{Name: "web", TTL: 2 * time.Minute}, 1, 0},
	} {
		gone, err := p.DeleteRecords(t.Context(), zone, []libdns.Record{tc.del})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := p.GetRecords(t.Context(), zone)
		if err != nil {
			t.Fatal(err)
		}
		left := 0
		for _, r := range recs {
			if n := r.RR().Name; n == "www" || n == "web" {
				left++
			}
		}
		if len(gone) != tc.deleted || left != tc.left {
			t.Errorf("delete %+v: got %d deleted and %d left, want %d and %d", tc.del, len(gone), left, tc.deleted, tc.left)
		}
	}
}

// A write larger than MaxBody goes out as several PATCHes, each within the
// limit, every RRset whole in one.
func TestLargeWriteIsSplitAtMaxBody(t *testing.T) {
	var mu sync.Mutex
	var bodies []int
	seen := map[string]int{}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		bodies = append(bodies, len(body))
		for _, name := range strings.Split(string(body), `"name":"`)[1:] {
			seen[name[:strings.Index(name, `"`)]]++
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer api.Close()
	p, err := powerdns.New(api.URL, "key", powerdns.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var recs []libdns.Record
	for i := range 3000 {
		for j := range 3 {
			recs = append(recs, libdns.TXT{Name: fmt.Sprintf("t%04d", i), TTL: time.Minute, Text: fmt.Sprintf("%d-%s", j, strings.Repeat("x", 100))})
		}
	}
	if _, err := p.SetRecords(t.Context(), zone, recs); err != nil {
		t.Fatal(err)
	}
	if len(bodies) < 2 {
		t.Fatalf("got %d PATCHes, want the write split", len(bodies))
	}
	for i, n := range bodies {
		if n > powerdns.MaxBody {
			t.Errorf("PATCH %d: got %d bytes, want at most %d", i, n, powerdns.MaxBody)
		}
	}
	if len(seen) != 3000 {
		t.Errorf("got %d RRsets sent, want 3000", len(seen))
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("RRset %s: got it in %d PATCHes, want one", name, n)
		}
	}
}

func TestNewAndBadRecordsAreClearErrors(t *testing.T) {
	for _, tc := range []struct{ url, key, want string }{
		{"127.0.0.1:8081", "k", `server URL "127.0.0.1:8081"`},
		{"http://127.0.0.1:8081", "", "API key is empty"},
		{"ftp://x", "k", "want http:// or https://"},
	} {
		if _, err := powerdns.New(tc.url, tc.key, powerdns.Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q, %q): got %v, want an error containing %q", tc.url, tc.key, err, tc.want)
		}
	}
	p, err := powerdns.New("http://127.0.0.1:1", "k", powerdns.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		zone string
		rec  libdns.Record
		want string
	}{
		{"example.test", libdns.RR{Name: "www", Type: "A", Data: "192.0.2.1"}, "no trailing dot"},
		{zone, libdns.RR{Name: "", Type: "A", Data: "192.0.2.1"}, "record 0 ( A \"192.0.2.1\"): name is empty"},
		{zone, libdns.RR{Name: "www", Type: "", Data: "192.0.2.1"}, "type is empty"},
		{zone, libdns.RR{Name: "www", Type: "A", Data: ""}, "value is empty"},
		{zone, libdns.RR{Name: "www", Type: "A", TTL: -time.Second, Data: "192.0.2.1"}, "TTL -1s is negative"},
		{zone, libdns.RR{Name: "www", Type: "A", Data: "192.0.2.1\nx"}, "line break"},
		{zone, nil, "record 0 is nil"},
	} {
		_, err := p.SetRecords(t.Context(), tc.zone, []libdns.Record{tc.rec})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "example.test") {
			t.Errorf("%v in %s: got %v, want an error naming the zone and containing %q", tc.rec, tc.zone, err, tc.want)
		}
	}
}

// PowerDNS accepts SVCB and HTTPS parameters only in key order and
// unquoted; libdns writes them sorted by name, some quoted.
func TestServiceBindingAccepted(t *testing.T) {
	p := servertest.StartPowerDNS(t, zone).Provider()
	want := libdns.ServiceBinding{Name: "svc", Scheme: "https", TTL: time.Minute, Priority: 1, Target: "svc.example.test.",
		Params: libdns.SvcParams{"alpn": {"h2", "h3"}, "port": {"8443"}, "ipv4hint": {"192.0.2.1", "192.0.2.2"}, "ipv6hint": {"2001:db8::1"}}}
	if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{want}); err != nil {
		t.Fatal(err)
	}
	recs, err := p.GetRecords(t.Context(), zone)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.RR().Type == "HTTPS" {
			if !reflect.DeepEqual(r, want) {
				t.Fatalf("got %+v, want %+v", r, want)
			}
			return
		}
	}
	t.Fatalf("got no HTTPS record in %v", recs)
}
