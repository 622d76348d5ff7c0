package servertest

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

func query(t *testing.T, addr, name string) []string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	resp, _, err := (&dns.Client{Net: "tcp"}).Exchange(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, rr := range resp.Answer {
		out = append(out, rr.(*dns.A).A.String())
	}
	return out
}

// An update survives a crash of the server, on BIND and on Knot.
func TestUpdateSurvivesCrash(t *testing.T) {
	type server interface {
		Start(testing.TB)
		Stop(kill bool)
	}
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) (server, string, libdns.RecordSetter)
	}{
		{"BIND", func(t *testing.T) (server, string, libdns.RecordSetter) {
			b := StartBIND(t, "example.test.", "www 300 IN A 192.0.2.10")
			return b, b.Addr, b.Provider()
		}},
		{"Knot", func(t *testing.T) (server, string, libdns.RecordSetter) {
			k := StartKnot(t, "example.test.", "www 300 IN A 192.0.2.10")
			return k, k.Addr, k.Provider()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, addr, p := tc.start(t)
			if got := query(t, addr, "www.example.test."); len(got) != 1 || got[0] != "192.0.2.10" {
				t.Fatalf("got %v, want the record from the zone file", got)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if _, err := p.SetRecords(ctx, "example.test.", []libdns.Record{libdns.Address{Name: "www", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.20")}}); err != nil {
				t.Fatal(err)
			}
			s.Stop(true)
			s.Start(t)
			if got := query(t, addr, "www.example.test."); len(got) != 1 || got[0] != "192.0.2.20" {
				t.Fatalf("after an update and a crash: got %v, want the updated record", got)
			}
		})
	}
}

func TestPowerDNS(t *testing.T) {
	s := StartPowerDNS(t, "example.test.")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := s.Provider().SetRecords(ctx, "example.test.", []libdns.Record{libdns.Address{Name: "www", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.20")}}); err != nil {
		t.Fatal(err)
	}
	if got := query(t, s.Addr, "www.example.test."); len(got) != 1 || got[0] != "192.0.2.20" {
		t.Fatalf("got %v, want the record set through the API", got)
	}
}
