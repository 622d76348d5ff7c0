//go:build failing

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

// Route 53 reads escapes in TXT values as three-digit OCTAL codes
// (Developer Guide, "Supported DNS record types", TXT record type: "If
// your TXT record contains any of the following characters, you must
// specify the characters by using escape codes in the format \three-digit
// octal code: characters 000 to 040 octal ..., characters 177 to 377
// octal"; the same rule as "DNS domain name format", where fübar is
// f\374bar). The wrapper quotes TXT with package dns's DECIMAL escapes
// (\195\164 for ä in UTF-8), which Route 53 takes for other bytes, or
// refuses (9 is not an octal digit).
func TestTXTBytesOutsideASCIIWrittenAsOctalEscapes(t *testing.T) {
	p, fake := setup(t, Options{})
	if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{libdns.TXT{Name: "t", TTL: time.Minute, Text: "exämple"}}); err != nil {
		t.Fatal(err)
	}
	got := fake.Sets(fake.ZoneID(zone))
	if want := []string{`t.example.com. TXT 60 "ex\303\244mple"`}; !slices.Equal(got, want) {
		t.Fatalf("sent %q, want %q (UTF-8 bytes of ä as octal escapes)", got, want)
	}
}

// The other direction: Route 53 lists such a TXT value with octal escapes
// (as the console or another tool wrote it). GetRecords decodes them as
// decimal: \303 is no octet, so the value comes back raw, quotes and
// backslashes included, and never compares equal to the text.
func TestTXTOctalEscapesReadAsText(t *testing.T) {
	p, fake := setup(t, Options{})
	fake.Put(fake.ZoneID(zone), route53fake.RecordSet{Name: "t." + zone, Type: "TXT", TTL: 60, Values: []string{`"ex\303\244mple"`}})
	recs, err := p.GetRecords(t.Context(), zone)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		if rr := r.RR(); rr.Name == "t" {
			got = append(got, rr.Data)
		}
	}
	if want := []string{"exämple"}; !slices.Equal(got, want) {
		t.Fatalf("read %q, want %q", got, want)
	}
}

// HostedZoneIDs is looked up by the zone name exactly as the caller spells
// it, while the check of the ID ignores case: with the ID given for
// "Example.com." (as a YAML file may spell it) and the zone used as
// "example.com.", the private zone's ID is silently ignored and the writes
// go to the PUBLIC zone of that name — the very mistake HostedZoneIDs is
// there to prevent.
func TestHostedZoneIDsMatchTheZoneWhateverItsCase(t *testing.T) {
	p, fake := setup(t, Options{})
	private := fake.AddPrivateZone(zone)
	p.opts.HostedZoneIDs = map[string]string{"Example.com.": private}
	if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{a("db", "10.0.0.5", time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if got := fake.Sets(fake.ZoneID(zone)); len(got) != 0 {
		t.Fatalf("public zone: got %q, want nothing (HostedZoneIDs names the private zone)", got)
	}
	if got, want := fake.Sets(private), []string{"db.example.com. A 60 10.0.0.5"}; !slices.Equal(got, want) {
		t.Fatalf("private zone: got %q, want %q", got, want)
	}
}

// DeleteRecords returns what it deleted as Route 53 stores it: a TXT value
// comes back with its quotes ("\"hello\""), unlike GetRecords, which
// returns the text. A caller comparing the two sees a different record.
func TestDeleteRecordsReturnsTXTAsText(t *testing.T) {
	p, _ := setup(t, Options{})
	txt := libdns.TXT{Name: "t", TTL: time.Minute, Text: "hello"}
	if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{txt}); err != nil {
		t.Fatal(err)
	}
	out, err := p.DeleteRecords(t.Context(), zone, []libdns.Record{txt})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range out {
		got = append(got, r.RR().Data)
	}
	if want := []string{"hello"}; !slices.Equal(got, want) {
		t.Fatalf("DeleteRecords returned %q, want %q", got, want)
	}
}

// Two AppendRecords to one RRset at once (an ACME client solving the apex
// and the wildcard of a certificate appends two TXT values to
// _acme-challenge concurrently) each read the set, add their value and
// UPSERT the whole set: the second UPSERT drops the first value, both calls
// succeed, and one challenge fails. libdns requires methods safe for
// concurrent use; appends to one zone must not lose each other.
func TestConcurrentAppendRecordsKeepBothValues(t *testing.T) {
	isolate(t)
	fake := route53fake.Start(zone)
	t.Cleanup(fake.Close)
	target, _ := url.Parse(fake.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	arrived := make(chan struct{}, 4)
	release := make(chan struct{})
	var lists atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/rrset") || lists.Add(1) > 2 {
			proxy.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, r) // the set as it is now
		arrived <- struct{}{}
		<-release // both appends have read the set before either is answered
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
	<-arrived
	select {
	case <-arrived: // both read before either wrote
	case <-time.After(2 * time.Second): // serialised: the second waits for the first
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
