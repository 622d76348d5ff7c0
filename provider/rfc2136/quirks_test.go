package rfc2136_test

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/failover/provider/rfc2136"
	"github.com/libdns/libdns"
)

// What RFC 2136 servers do without saying so: delete only an exact match,
// ignore a CNAME beside other data, keep a name's raw bytes, refuse a
// large RRset with a bare SERVFAIL. Each must reach the caller as the
// change asked for, or as an error naming the record.

// A TXT value held as several character-strings ("v=DKIM1; k=rsa; "
// "p=MIIB…", as zone files and other tools write long values) is deleted
// as those strings: re-split into 255-octet strings, its rdata would not
// be the held record's, and the server would ignore the delete (RFC 2136
// section 2.5.4 deletes only an exact match) while DeleteRecords reported
// it gone.
func TestDeleteRecordsDeletesAMultiStringTXT(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			s := srv.start(t, `dkim 300 IN TXT "v=DKIM1; k=rsa; " "p=MIIBIjANBgkq"`, `dkim 300 IN TXT "keep"`)
			out, err := s.p.DeleteRecords(t.Context(), zone, []libdns.Record{libdns.TXT{Name: "dkim", Text: "v=DKIM1; k=rsa; p=MIIBIjANBgkq"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != 1 || out[0].RR().Data != "v=DKIM1; k=rsa; p=MIIBIjANBgkq" {
				t.Errorf("DeleteRecords returned %v, want the one record deleted", out)
			}
			if got, want := rrset(t, s.p, "dkim", "TXT"), []string{"300 keep"}; !slices.Equal(got, want) {
				t.Fatalf("after DeleteRecords: the zone holds %q, want %q", got, want)
			}
		})
	}
}

// RFC 2136 section 3.4.2.2: a server ignores an update that adds a CNAME
// at a name holding other data, or other data beside a CNAME, and still
// answers NOERROR. Reported as written, the Manager would find the same
// difference at every reconcile and "write" it again, forever. It is an
// error wrapping ErrCNAMEConflict that names the record; the rest of the
// write is applied, and the data held stays.
func TestCNAMEBesideOtherDataIsAnError(t *testing.T) {
	for _, tc := range []struct {
		name      string
		held      string
		write     libdns.Record
		wantErr   string
		name2     string // an RRset that stays as held
		typ2      string
		wantHeld2 []string
	}{
		{"CNAME beside an A", "www 300 IN A 192.0.2.1",
			libdns.CNAME{Name: "www", TTL: time.Minute, Target: "lb.example.net."},
			"www.example.test. CNAME lb.example.net. (www.example.test. holds other data", "www", "A", []string{"300 192.0.2.1"}},
		{"CNAME at the apex", "",
			libdns.CNAME{Name: "@", TTL: time.Minute, Target: "lb.example.net."},
			"example.test. CNAME lb.example.net. (example.test. holds other data", "@", "CNAME", nil},
		{"A beside a CNAME", "www 300 IN CNAME lb.example.net.",
			libdns.Address{Name: "www", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.1")},
			"www.example.test. A (www.example.test. holds a CNAME to lb.example.net.)", "www", "CNAME", []string{"300 lb.example.net."}},
		{"TXT beside a CNAME", "www 300 IN CNAME lb.example.net.",
			libdns.TXT{Name: "www", TTL: time.Minute, Text: "hello"},
			"www.example.test. TXT (www.example.test. holds a CNAME to lb.example.net.)", "www", "CNAME", []string{"300 lb.example.net."}},
	} {
		for _, srv := range servers {
			t.Run(tc.name+"/"+srv.name, func(t *testing.T) {
				var lines []string
				if tc.held != "" {
					lines = append(lines, tc.held)
				}
				s := srv.start(t, lines...)
				other := libdns.Address{Name: "api", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.7")}
				_, err := s.p.SetRecords(t.Context(), zone, []libdns.Record{other, tc.write})
				if !errors.Is(err, rfc2136.ErrCNAMEConflict) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("SetRecords: got %v, want ErrCNAMEConflict naming %q", err, tc.wantErr)
				}
				rr := tc.write.RR()
				if got := rrset(t, s.p, rr.Name, rr.Type); len(got) != 0 {
					t.Errorf("%s %s: got %q, want nothing written", rr.Name, rr.Type, got)
				}
				if got := rrset(t, s.p, tc.name2, tc.typ2); !slices.Equal(got, tc.wantHeld2) {
					t.Errorf("%s %s: got %q, want %q as held", tc.name2, tc.typ2, got, tc.wantHeld2)
				}
				if got, want := rrset(t, s.p, "api", "A"), []string{"60 192.0.2.7"}; !slices.Equal(got, want) {
					t.Errorf("api A, written beside: got %q, want %q", got, want)
				}
			})
		}
	}
}

// A CNAME replacing a CNAME, and records at a name without one, are
// written as before: the prerequisite holds, and the CNAME reads back.
func TestCNAMEReplacedAndDataWritten(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			s := srv.start(t, "www 300 IN CNAME old.example.net.", "api 300 IN A 192.0.2.1")
			_, err := s.p.SetRecords(t.Context(), zone, []libdns.Record{
				libdns.CNAME{Name: "www", TTL: time.Minute, Target: "new.example.net."},
				libdns.Address{Name: "api", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.2")},
			})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := rrset(t, s.p, "www", "CNAME"), []string{"60 new.example.net."}; !slices.Equal(got, want) {
				t.Errorf("www CNAME: got %q, want %q", got, want)
			}
			if got, want := rrset(t, s.p, "api", "A"), []string{"60 192.0.2.2"}; !slices.Equal(got, want) {
				t.Errorf("api A: got %q, want %q", got, want)
			}
		})
	}
}

// A name outside ASCII (an IDN written as Unicode, not Punycode) is
// refused before anything is sent, on every server alike. Knot would take
// it and list it as "b\195\188cher", never found under the name written,
// so the Manager would write it at every reconcile; BIND refuses it with
// a bare REFUSED.
func TestNameOutsideASCIIIsRefused(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			s := srv.start(t)
			_, err := s.p.SetRecords(t.Context(), zone, []libdns.Record{libdns.Address{Name: "bücher", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.1")}})
			if err == nil || !strings.Contains(err.Error(), `"bücher.example.test."`) || !strings.Contains(err.Error(), "Punycode") {
				t.Fatalf("SetRecords(bücher A): got %v, want an error naming the name and its ASCII form", err)
			}
			if _, err := s.p.SetRecords(t.Context(), zone, []libdns.Record{libdns.Address{Name: "xn--bcher-kva", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.1")}}); err != nil {
				t.Fatalf("SetRecords(xn--bcher-kva A): got %v", err)
			}
			if got, want := rrset(t, s.p, "xn--bcher-kva", "A"), []string{"60 192.0.2.1"}; !slices.Equal(got, want) {
				t.Fatalf("xn--bcher-kva A: got %q, want %q", got, want)
			}
		})
	}
}

// BIND 9.18.28 and later refuse an RRset of more than max-records-per-type
// records (100 by default) with a bare SERVFAIL. The error names the
// RRset and the likely limit; Knot has no such limit.
func TestRRsetOverBINDsRecordLimit(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			s := srv.start(t)
			for _, n := range []int{100, 101} {
				var recs []libdns.Record
				for i := range n {
					recs = append(recs, libdns.Address{Name: "pool", TTL: time.Minute, IP: netip.AddrFrom4([4]byte{10, 0, byte(i / 200), byte(i%200 + 1)})})
				}
				_, err := s.p.SetRecords(t.Context(), zone, recs)
				switch {
				case n == 101 && srv.name == "BIND":
					if err == nil || !strings.Contains(err.Error(), "SERVFAIL") || !strings.Contains(err.Error(), "pool.example.test. A has 101 records") ||
						!strings.Contains(err.Error(), "max-records-per-type (100 by default)") {
						t.Fatalf("SetRecords of %d records in one RRset: got %v, want the SERVFAIL with the RRset and BIND's limit", n, err)
					}
				case err != nil:
					t.Fatalf("SetRecords of %d records in one RRset: %v", n, err)
				default:
					if got := len(rrset(t, s.p, "pool", "A")); got != n {
						t.Fatalf("after SetRecords of %d records: got %d held", n, got)
					}
				}
			}
		})
	}
}
