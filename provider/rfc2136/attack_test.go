//go:build failing

package rfc2136_test

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/libdns/libdns"
)

// A TXT value held as several character-strings ("v=DKIM1; k=rsa; "
// "p=MIIB…", as zone files and other tools write long values) is matched
// by its text, returned as deleted, but the delete sent re-splits the text
// into 255-octet strings: its rdata is not the held record's, the server
// ignores it (RFC 2136 2.5.4 deletes only an exact match), and the record
// stays while DeleteRecords reports it gone.
func TestDeleteRecordsDeletesAMultiStringTXT(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			s := srv.start(t, `dkim 300 IN TXT "v=DKIM1; k=rsa; " "p=MIIBIjANBgkq"`)
			out, err := s.p.DeleteRecords(t.Context(), zone, []libdns.Record{libdns.TXT{Name: "dkim", Text: "v=DKIM1; k=rsa; p=MIIBIjANBgkq"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := rrset(t, s.p, "dkim", "TXT"); len(got) != 0 {
				t.Fatalf("DeleteRecords returned %d records as deleted, but the zone still holds %q", len(out), got)
			}
		})
	}
}

// RFC 2136 section 3.4.2.2: a server silently ignores an update that adds
// a CNAME at a name holding other data (and other data beside a CNAME),
// and still answers NOERROR. SetRecords sends the UPDATE, sees NOERROR and
// reports the CNAME written, though the zone is unchanged: no error ever
// tells the user, and the Manager finds the same difference at every
// reconcile and "writes" it again, forever.
func TestSetRecordsOfACNAMEBesideOtherDataIsAnError(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			s := srv.start(t, "www 300 IN A 192.0.2.1")
			_, err := s.p.SetRecords(t.Context(), zone, []libdns.Record{libdns.CNAME{Name: "www", TTL: time.Minute, Target: "lb.example.net."}})
			got := rrset(t, s.p, "www", "CNAME")
			if err == nil && !slices.Equal(got, []string{"60 lb.example.net."}) {
				t.Fatalf("SetRecords(www CNAME) beside www A: no error, but www CNAME holds %q, want it written or an error", got)
			}
		})
	}
}

// The other direction: an A record beside a CNAME.
func TestSetRecordsOfAnABesideACNAMEIsAnError(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			s := srv.start(t, "www 300 IN CNAME lb.example.net.")
			_, err := s.p.SetRecords(t.Context(), zone, []libdns.Record{libdns.Address{Name: "www", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.1")}})
			got := rrset(t, s.p, "www", "A")
			if err == nil && !slices.Equal(got, []string{"60 192.0.2.1"}) {
				t.Fatalf("SetRecords(www A) beside www CNAME: no error, but www A holds %q, want it written or an error", got)
			}
		})
	}
}

// A name outside ASCII (an IDN written as Unicode, not Punycode) is
// accepted by SetRecords on Knot, and read back by GetRecords as
// "b\195\188cher": the record written is never found under the name it
// was written with, so the Manager writes it again at every reconcile.
// (BIND refuses the write with REFUSED, which at least is an error.)
func TestNameOutsideASCIIReadBackAsWritten(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			s := srv.start(t)
			_, err := s.p.SetRecords(t.Context(), zone, []libdns.Record{libdns.Address{Name: "bücher", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.1")}})
			if err != nil {
				return // refused: the caller knows
			}
			if got, want := rrset(t, s.p, "bücher", "A"), []string{"60 192.0.2.1"}; !slices.Equal(got, want) {
				t.Fatalf("SetRecords(bücher A) succeeded; read back under that name: got %q, want %q", got, want)
			}
		})
	}
}
