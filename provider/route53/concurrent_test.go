package route53

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dnsfailover/failover/internal/route53fake"
	"github.com/libdns/libdns"
)

// Two AppendRecords to one RRset at once (an ACME client solving the apex
// and the wildcard of a certificate appends two TXT values to
// _acme-challenge concurrently) must keep both values. Each reads the set,
// adds its value and UPSERTs the whole set: interleaved, the second UPSERT
// would drop the first value with both calls reporting success. Writes to
// one zone are serialised: the second call waits for the first.
func TestConcurrentAppendRecordsKeepBothValues(t *testing.T) {
	isolate(t)
	fake := route53fake.Start(zone)
	t.Cleanup(fake.Close)
	target, _ := url.Parse(fake.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	listed := make(chan struct{}, 2)
	release := make(chan struct{})
	var lists atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/rrset") || lists.Add(1) > 2 {
			proxy.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, r) // the set as it is now
		listed <- struct{}{}
		<-release // answered once both calls have read the set, or one waits for the other
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(front.Close)
	t.Setenv("AWS_ENDPOINT_URL_ROUTE_53", front.URL)
	p, err := New(t.Context(), Options{AccessKeyID: "AKIDFAKE", SecretAccessKey: "secret-fake"})
	if err != nil {
		t.Fatal(err)
	}
	waiting := make(chan struct{}, 2)
	p.writing.OnWait = func(string) { waiting <- struct{}{} }
	if _, err := p.zone(t.Context(), zone); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for _, token := range []string{"apex-token", "wildcard-token"} {
		go func() {
			_, err := p.AppendRecords(t.Context(), zone, []libdns.Record{libdns.TXT{Name: "_acme-challenge", TTL: time.Minute, Text: token}})
			errs <- err
		}()
	}
	<-listed
	select {
	case <-listed:
		t.Error("both AppendRecords read the set before either wrote it, want one to wait for the other")
	case <-waiting: // serialised: the second waits for the first
	}
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	got := fake.Sets(fake.ZoneID(zone))
	if want := []string{`_acme-challenge.example.com. TXT 60 "apex-token","wildcard-token"`}; !slices.Equal(got, want) {
		t.Fatalf("after two concurrent AppendRecords: got %q, want %q", got, want)
	}
}
