package check

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/failover/internal/authdns"
	"github.com/dnsfailover/failover/provider/memory"
	"github.com/libdns/libdns"
)

// dnsServer is a real DNS server on loopback, answering for example.test.
func dnsServer(t *testing.T) int {
	t.Helper()
	p := &memory.Provider{}
	recs := []libdns.Record{
		libdns.Address{Name: "www", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.10")},
		libdns.TXT{Name: "www", TTL: time.Minute, Text: "v=spf1 -all"},
	}
	for i := range 60 { // too many for a 512-byte UDP answer
		recs = append(recs, libdns.Address{Name: "big", TTL: time.Minute, IP: netip.MustParseAddr(fmt.Sprintf("192.0.2.%d", i+1))})
	}
	if err := p.AddZone("example.test.", recs...); err != nil {
		t.Fatal(err)
	}
	s, err := authdns.Start("127.0.0.1:0", "example.test.", p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	_, port := hostPort(t, s.Addr())
	return port
}

func TestDNSCheck(t *testing.T) {
	port := dnsServer(t)
	for _, tc := range []struct {
		name   string
		check  *DNS
		errHas string
	}{
		{"answers", &DNS{Port: port, Name: "www.example.test"}, ""},
		{"answer contains", &DNS{Port: port, Name: "www.example.test.", Contains: "192.0.2.10"}, ""},
		{"answer lacks", &DNS{Port: port, Name: "www.example.test.", Contains: "192.0.2.99"}, `no answer holds "192.0.2.99" (answers: ["192.0.2.10"])`},
		{"answer matches", &DNS{Port: port, Name: "www.example.test.", Type: "txt", Matches: regexp.MustCompile(`spf1`)}, ""},
		{"NXDOMAIN", &DNS{Port: port, Name: "nope.example.test."}, "rcode NXDOMAIN, want NOERROR"},
		{"NXDOMAIN expected", &DNS{Port: port, Name: "nope.example.test.", ExpectRcode: "nxdomain"}, ""},
		{"REFUSED outside the zone", &DNS{Port: port, Name: "example.net."}, "rcode REFUSED"},
		{"truncated over UDP, complete over TCP", &DNS{Port: port, Name: "big.example.test.", Contains: "192.0.2.60"}, ""},
		{"no name", &DNS{Port: port}, "Name: required"},
		{"bad type", &DNS{Port: port, Name: "www.example.test.", Type: "BOGUS"}, `Type: unknown type "BOGUS"`},
		{"bad rcode", &DNS{Port: port, Name: "www.example.test.", ExpectRcode: "FINE"}, `ExpectRcode: unknown response code "FINE"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check.Check(t.Context(), "127.0.0.1")
			if tc.errHas == "" && err != nil || tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)) {
				t.Fatalf("got %v, want error containing %q", err, tc.errHas)
			}
		})
	}
}

func TestDNSCheckHonoursDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	// Nothing answers UDP on a closed port's number: the query times out
	// (or is refused by ICMP), and either way the check fails in time.
	err := (&DNS{Port: closedPort(t), Name: "www.example.test."}).Check(ctx, "127.0.0.1")
	if err == nil || !(strings.Contains(err.Error(), "deadline exceeded") || strings.Contains(err.Error(), "refused")) {
		t.Fatalf("got %v, want a deadline or refused error", err)
	}
}
