package route53

import (
	"slices"
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
// f\374bar). Package dns's DECIMAL escapes (\195\164 for ä in UTF-8)
// would be taken for other bytes, or refused (9 is not an octal digit).
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
// (as the console or another tool wrote it). Read as decimal, \303 is no
// octet, and the value would come back raw, quotes and backslashes
// included, never equal to the text.
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

// DeleteRecords returns what it deleted as GetRecords returns it: a TXT
// value as its text, not with the quotes and escapes Route 53 stores
// ("\"hello\""), so a caller comparing the two sees the same record.
func TestDeleteRecordsReturnsTXTAsText(t *testing.T) {
	p, _ := setup(t, Options{})
	txt := libdns.TXT{Name: "t", TTL: time.Minute, Text: "hellö"}
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
	if want := []string{"hellö"}; !slices.Equal(got, want) {
		t.Fatalf("DeleteRecords returned %q, want %q", got, want)
	}
}
