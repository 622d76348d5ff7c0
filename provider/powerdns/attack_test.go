//go:build failing

package powerdns_test

import (
	"net/netip"
	"testing"

	"github.com/dnsfailover/failover/internal/servertest"
	"github.com/libdns/libdns"
)

// TTL 0 is a valid TTL (RFC 2181 section 8; "do not cache", used for
// failover records) and libdns's zero value. The wrapper's rrset.TTL is
// `json:"ttl,omitempty"`, so a TTL of 0 is left out of the REPLACE and
// PowerDNS 4.7 answers 422 "Key 'ttl' not an Integer or not present": the
// write fails, and is retried forever by the Manager. The same record
// writes fine on BIND and Knot.
func TestSetRecordsWithTTLZero(t *testing.T) {
	s := servertest.StartPowerDNS(t, zone)
	p := s.Provider()
	rec := libdns.Address{Name: "www", TTL: 0, IP: netip.MustParseAddr("192.0.2.1")}
	if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{rec}); err != nil {
		t.Fatalf("SetRecords(www A 192.0.2.1 TTL 0): got %v, want success", err)
	}
	recs, err := p.GetRecords(t.Context(), zone)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if rr := r.RR(); rr.Name == "www" && rr.Type == "A" {
			if rr.TTL != 0 || rr.Data != "192.0.2.1" {
				t.Fatalf("read %+v, want TTL 0 and 192.0.2.1", rr)
			}
			return
		}
	}
	t.Fatalf("www A not found after SetRecords")
}
