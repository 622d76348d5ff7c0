package route53

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/failover/internal/route53fake"
	"github.com/libdns/libdns"
)

func weight(w int64) *int64 { return &w }

// A write of many RRsets is one ChangeResourceRecordSets request.
func TestOneRequestPerWrite(t *testing.T) {
	p, fake := setup(t, Options{})
	id := fake.ZoneID(zone)
	var recs []libdns.Record
	for i := range 20 {
		fake.Put(id, route53fake.RecordSet{Name: fmt.Sprintf("r%d.%s", i, zone), Type: "A", TTL: 60, Values: []string{"192.0.2.10"}})
		recs = append(recs, a(fmt.Sprintf("r%d", i), "192.0.2.20", time.Minute))
	}
	if _, err := p.GetRecords(t.Context(), zone); err != nil {
		t.Fatal(err)
	}
	fake.ResetRequests()
	if _, err := p.SetRecords(t.Context(), zone, recs); err != nil {
		t.Fatal(err)
	}
	if got, want := fake.Requests(""), 1; got != want {
		t.Fatalf("20 RRsets cost %d requests, want %d", got, want)
	}
	for _, s := range fake.Sets(id) {
		if !strings.HasSuffix(s, " 60 192.0.2.20") {
			t.Fatalf("got %q, want every RRset moved", s)
		}
	}
}

// A write beyond one request's quotas (1,000 ResourceRecord elements,
// 32,000 characters, UPSERT counted twice) is split, each RRset whole.
func TestWritesSplitAtTheQuotas(t *testing.T) {
	for _, tc := range []struct {
		name string
		recs func() []libdns.Record
		want int
	}{
		{"600 RRsets of one value", func() []libdns.Record {
			var recs []libdns.Record
			for i := range 600 {
				recs = append(recs, a(fmt.Sprintf("r%d", i), "192.0.2.20", time.Minute))
			}
			return recs
		}, 2},
		{"TXT values of 2,000 characters", func() []libdns.Record {
			var recs []libdns.Record
			for i := range 20 {
				recs = append(recs, libdns.TXT{Name: fmt.Sprintf("t%d", i), TTL: time.Minute, Text: strings.Repeat("x", 2000)})
			}
			return recs
		}, 3},
		{"one RRset of 400 values", func() []libdns.Record {
			var recs []libdns.Record
			for i := range 400 {
				recs = append(recs, a("big", fmt.Sprintf("10.0.%d.%d", i/256, i%256), time.Minute))
			}
			return recs
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, fake := setup(t, Options{})
			if _, err := p.GetRecords(t.Context(), zone); err != nil {
				t.Fatal(err)
			}
			fake.ResetRequests()
			recs := tc.recs()
			if _, err := p.SetRecords(t.Context(), zone, recs); err != nil {
				t.Fatal(err)
			}
			if got := fake.Requests("change"); got != tc.want {
				t.Fatalf("got %d change requests, want %d", got, tc.want)
			}
			read, err := p.GetRecords(t.Context(), zone)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, r := range read {
				if typ := r.RR().Type; typ == "A" || typ == "TXT" {
					n++
				}
			}
			if n != len(recs) {
				t.Fatalf("read back %d records, want %d", n, len(recs))
			}
		})
	}
}

// Alias record sets are read, never modified.
func TestAliasReadButNeverModified(t *testing.T) {
	p, fake := setup(t, Options{})
	id := fake.ZoneID(zone)
	fake.Put(id, route53fake.RecordSet{Name: "www." + zone, Type: "A", Alias: &route53fake.AliasTarget{HostedZoneID: "Z35SXDOTRQ7X7K", DNSName: "lb-1.us-east-1.elb.amazonaws.com."}})
	recs, err := p.GetRecords(t.Context(), zone)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		if rr := r.RR(); rr.Name == "www" {
			got = append(got, rr.Type+" "+rr.Data)
		}
	}
	if want := []string{"A lb-1.us-east-1.elb.amazonaws.com."}; !slices.Equal(got, want) {
		t.Fatalf("read www: got %q, want %q (the alias, read)", got, want)
	}
	fake.ResetRequests()
	_, err = p.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.1", time.Minute), a("other", "192.0.2.1", time.Minute)})
	if err == nil || !strings.Contains(err.Error(), "www.example.com. A") || !strings.Contains(err.Error(), "alias") {
		t.Fatalf("writing over an alias: got %v, want an error naming www.example.com. A and the alias", err)
	}
	if n := fake.Requests("change"); n != 0 {
		t.Fatalf("got %d change requests, want none sent", n)
	}
	if got, want := fake.Sets(id), []string{"www.example.com. A ALIAS lb-1.us-east-1.elb.amazonaws.com."}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// Routing-policy record sets (weighted here) are not read as one RRset,
// and no write the API must reject is sent.
func TestRoutingPolicySetsRefused(t *testing.T) {
	p, fake := setup(t, Options{})
	id := fake.ZoneID(zone)
	fake.Put(id, route53fake.RecordSet{Name: "www." + zone, Type: "A", SetIdentifier: "blue", Weight: weight(70), TTL: 60, Values: []string{"192.0.2.1"}})
	fake.Put(id, route53fake.RecordSet{Name: "www." + zone, Type: "A", SetIdentifier: "green", Weight: weight(30), TTL: 60, Values: []string{"192.0.2.2"}})
	recs, err := p.GetRecords(t.Context(), zone)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.RR().Name == "www" {
			t.Fatalf("read %v: want weighted sets left out, not read as one RRset", r.RR())
		}
	}
	fake.ResetRequests()
	_, err = p.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.3", time.Minute)})
	if err == nil || !strings.Contains(err.Error(), "www.example.com. A") || !strings.Contains(err.Error(), `"blue"`) {
		t.Fatalf("writing beside weighted sets: got %v, want an error naming www.example.com. A and its set identifiers", err)
	}
	if n := fake.Requests("change"); n != 0 {
		t.Fatalf("got %d change requests, want none sent", n)
	}
}

// With a hosted zone ID, writes go to that zone (a private zone of the
// same name as a public one, say); an ID of another zone is refused.
func TestHostedZoneIDHonoured(t *testing.T) {
	p, fake := setup(t, Options{})
	private := fake.AddPrivateZone(zone)
	p.opts.HostedZoneIDs = map[string]string{zone: "/hostedzone/" + private}
	if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{a("db", "10.0.0.5", time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if got, want := fake.Sets(private), []string{"db.example.com. A 60 10.0.0.5"}; !slices.Equal(got, want) {
		t.Fatalf("private zone: got %q, want %q", got, want)
	}
	if got := fake.Sets(fake.ZoneID(zone)); len(got) != 0 {
		t.Fatalf("public zone: got %q, want nothing written there", got)
	}
	other, fake2 := setup(t, Options{})
	elsewhere := fake2.AddPrivateZone("example.org.")
	other.opts.HostedZoneIDs = map[string]string{zone: elsewhere}
	if _, err := other.GetRecords(t.Context(), zone); err == nil || !strings.Contains(err.Error(), "example.org.") {
		t.Fatalf("an ID of example.org. for example.com.: got %v, want an error naming both", err)
	}
}

// PriorRequestNotComplete and Throttling are retried.
func TestBusyAndThrottledRetried(t *testing.T) {
	for _, code := range []string{"PriorRequestNotComplete", "Throttling"} {
		t.Run(code, func(t *testing.T) {
			p, fake := setup(t, Options{MaxRetryWait: time.Millisecond})
			if _, err := p.GetRecords(t.Context(), zone); err != nil {
				t.Fatal(err)
			}
			fake.ResetRequests()
			fake.FailNext(2, "change", code)
			if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.1", time.Minute)}); err != nil {
				t.Fatalf("after two %s: %v", code, err)
			}
			if got, want := fake.Requests("change"), 3; got != want {
				t.Fatalf("got %d change requests, want %d", got, want)
			}
		})
	}
}

// Names come back with octal escapes (\052 for *): they are unescaped.
func TestEscapedNamesRead(t *testing.T) {
	p, _ := setup(t, Options{})
	if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{a("*", "192.0.2.1", time.Minute), a("*.dev", "192.0.2.2", time.Minute)}); err != nil {
		t.Fatal(err)
	}
	recs, err := p.GetRecords(t.Context(), zone)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		if rr := r.RR(); rr.Type == "A" {
			got = append(got, rr.Name)
		}
	}
	slices.Sort(got)
	if want := []string{"*", "*.dev"}; !slices.Equal(got, want) {
		t.Fatalf("got names %q, want %q", got, want)
	}
}

// DeleteRecords reads the zone once, then sends one change.
func TestDeleteRecordsReadsOnce(t *testing.T) {
	p, fake := setup(t, Options{})
	id := fake.ZoneID(zone)
	for _, n := range []string{"a", "b", "c"} {
		fake.Put(id, route53fake.RecordSet{Name: n + "." + zone, Type: "A", TTL: 60, Values: []string{"192.0.2.1", "192.0.2.2"}})
	}
	if _, err := p.GetRecords(t.Context(), zone); err != nil {
		t.Fatal(err)
	}
	fake.ResetRequests()
	del := []libdns.Record{a("a", "192.0.2.1", time.Minute), a("b", "192.0.2.1", time.Minute), a("b", "192.0.2.2", time.Minute), a("c", "192.0.2.9", time.Minute)}
	out, err := p.DeleteRecords(t.Context(), zone, del)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 {
		t.Fatalf("got %d records deleted, want 3", len(out))
	}
	if got, want := fake.Sets(id), []string{"a.example.com. A 60 192.0.2.2", "c.example.com. A 60 192.0.2.1,192.0.2.2"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got, want := fake.Requests(""), 2; got != want {
		t.Fatalf("got %d requests, want %d (one list, one change)", got, want)
	}
}

// AppendRecords adds to a set in one request, keeping its TTL.
func TestAppendRecords(t *testing.T) {
	p, fake := setup(t, Options{})
	id := fake.ZoneID(zone)
	fake.Put(id, route53fake.RecordSet{Name: "www." + zone, Type: "A", TTL: 300, Values: []string{"192.0.2.1"}})
	fake.ResetRequests()
	if _, err := p.AppendRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.2", time.Minute), a("new", "192.0.2.3", time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if got, want := fake.Sets(id), []string{"new.example.com. A 60 192.0.2.3", "www.example.com. A 300 192.0.2.1,192.0.2.2"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got, want := fake.Requests("change"), 1; got != want {
		t.Fatalf("got %d change requests, want %d", got, want)
	}
}
