package powerdns_test

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/dnsfailover/failover/internal/servertest"
	"github.com/libdns/libdns"
)

// TTL 0 is a valid TTL (RFC 2181 section 8; "do not cache", used for
// failover records) and libdns's zero value. Left out of the REPLACE
// (omitempty), PowerDNS 4.7 answers 422 "Key 'ttl' not an Integer or not
// present", and the Manager would retry the write forever. The same record
// writes fine on BIND and Knot.
func TestSetRecordsWithTTLZero(t *testing.T) {
	s := servertest.StartPowerDNS(t, zone)
	p := s.Provider()
	rec := libdns.Address{Name: "www", TTL: 0, IP: netip.MustParseAddr("192.0.2.1")}
	if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{rec}); err != nil {
		t.Fatalf("SetRecords(www A 192.0.2.1 TTL 0): got %v, want success", err)
	}
	if got, want := servertest.RRset(t, p, zone, "www", "A"), []string{"0 192.0.2.1"}; !slices.Equal(got, want) {
		t.Fatalf("read %q, want %q", got, want)
	}
	if _, err := p.DeleteRecords(t.Context(), zone, []libdns.Record{rec}); err != nil {
		t.Fatalf("DeleteRecords(www A 192.0.2.1 TTL 0): got %v, want success", err)
	}
	if got := servertest.RRset(t, p, zone, "www", "A"); len(got) != 0 {
		t.Fatalf("after DeleteRecords: read %q, want nothing", got)
	}
}

// PowerDNS refuses a domain name in a value without its trailing dot (422
// "Not in expected format (parsed as 'lb.example.net.')"), where the
// other providers take it as the absolute name it is. Such names are sent
// fully qualified.
func TestTargetsWithoutTrailingDotAreQualified(t *testing.T) {
	s := servertest.StartPowerDNS(t, zone)
	p := s.Provider()
	for _, tc := range []struct {
		rec  libdns.Record
		want string // as read back
	}{
		{libdns.CNAME{Name: "c", TTL: time.Minute, Target: "lb.example.net"}, "60 lb.example.net."},
		{libdns.MX{Name: "m", TTL: time.Minute, Preference: 10, Target: "mx.example.net"}, "60 10 mx.example.net."},
		{libdns.RR{Name: "n", TTL: time.Minute, Type: "NS", Data: "ns.example.net"}, "60 ns.example.net."},
		{libdns.RR{Name: "p", TTL: time.Minute, Type: "PTR", Data: "host.example.net"}, "60 host.example.net."},
		{libdns.SRV{Service: "sip", Transport: "tcp", Name: "s", TTL: time.Minute, Priority: 1, Weight: 2, Port: 5060, Target: "sip.example.net"}, "60 1 2 5060 sip.example.net."},
		{libdns.ServiceBinding{Scheme: "https", Name: "h", TTL: time.Minute, Priority: 1, Target: "svc.example.net"}, "60 1 svc.example.net. "}, // libdns writes an empty parameter list as a trailing space
		{libdns.CNAME{Name: "q", TTL: time.Minute, Target: "already.example.net."}, "60 already.example.net."},
	} {
		rr := tc.rec.RR()
		t.Run(rr.Type+" "+rr.Name, func(t *testing.T) {
			if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{tc.rec}); err != nil {
				t.Fatalf("SetRecords(%s %s %q): got %v, want success", rr.Name, rr.Type, rr.Data, err)
			}
			if got := servertest.RRset(t, p, zone, rr.Name, rr.Type); !slices.Equal(got, []string{tc.want}) {
				t.Fatalf("read %q, want %q", got, tc.want)
			}
		})
	}
}
