package rfc2136

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

const zone = "example.test."

func addrs(n int) []libdns.Record {
	var recs []libdns.Record
	for i := range n {
		recs = append(recs, libdns.Address{Name: fmt.Sprintf("r%05d", i), TTL: time.Minute,
			IP: netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})})
	}
	return recs
}

// Every message, signed, fits the limit; every RRset is whole in exactly
// one message; the order of the input is kept.
func TestSplitFitsAndKeepsRRsetsWhole(t *testing.T) {
	secret := "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0cw=="
	wide := make([]libdns.Record, 0, 40)
	for i := range 40 { // one RRset of 40 values, then small ones
		wide = append(wide, libdns.Address{Name: "wide", TTL: time.Minute, IP: netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})})
	}
	for _, tc := range []struct {
		name  string
		limit int
		recs  []libdns.Record
		want  int // messages
	}{
		// Each A RRset carries its prerequisite (no CNAME at its name).
		{"one RRset", 0, addrs(1), 1},
		{"10,000 RRsets in 64 KiB messages", 0, addrs(10000), 15},
		{"1,000 RRsets in 4 KiB messages", 4096, addrs(1000), 25},
		{"a wide RRset stays whole", 2048, append(wide, addrs(30)...), 3},
		{"TXT of 1,000 octets", 1400, append([]libdns.Record{libdns.TXT{Name: "long", TTL: time.Minute, Text: strings.Repeat("x", 1000)}}, addrs(20)...), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Provider{Server: "127.0.0.1:53", KeyName: "k", Key: secret, MaxMessageSize: tc.limit}
			sets, err := p.rrsets(zone, tc.recs)
			if err != nil {
				t.Fatal(err)
			}
			for i := range sets {
				sets[i].replace = true
			}
			msgs, err := p.split(zone, sets)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != tc.want {
				t.Errorf("got %d messages, want %d", len(msgs), tc.want)
			}
			limit := tc.limit
			if limit == 0 {
				limit = dns.MaxMsgSize
			}
			seen := map[string]int{} // RRset → message
			var order []string
			for i, m := range msgs {
				p.sign(m.msg)
				wire, _, err := dns.TsigGenerate(m.msg, secret, "", false)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if len(wire) > limit {
					t.Errorf("message %d: got %d bytes signed, want at most %d", i, len(wire), limit)
				}
				for _, rr := range m.msg.Ns {
					key := rr.Header().Name + " " + dns.TypeToString[rr.Header().Rrtype]
					if j, ok := seen[key]; ok && j != i {
						t.Errorf("RRset %s is in messages %d and %d, want one", key, j, i)
					}
					if _, ok := seen[key]; !ok {
						order = append(order, key)
					}
					seen[key] = i
				}
				names := map[string]bool{}
				for _, rr := range m.msg.Ns {
					names[rr.Header().Name] = true
				}
				for _, rr := range m.msg.Answer {
					if !names[rr.Header().Name] {
						t.Errorf("message %d: prerequisite for %s without its RRset, want them together", i, rr.Header().Name)
					}
				}
				if got, want := len(m.msg.Answer), len(names); got != want {
					t.Errorf("message %d: got %d prerequisites, want %d (one per name of an A or TXT RRset)", i, got, want)
				}
			}
			if len(order) != len(sets) {
				t.Fatalf("got %d RRsets in the messages, want %d", len(order), len(sets))
			}
			for i, s := range sets {
				if want := s.name + " " + s.typ; order[i] != want {
					t.Fatalf("RRset %d: got %s, want %s (input order)", i, order[i], want)
				}
			}
		})
	}
}

func TestSplitRefusesAnRRsetLargerThanAMessage(t *testing.T) {
	p := &Provider{Server: "127.0.0.1:53", KeyName: "k", Key: "c2VjcmV0", MaxMessageSize: 512}
	sets, err := p.rrsets(zone, []libdns.Record{libdns.TXT{Name: "big", TTL: time.Minute, Text: strings.Repeat("x", 600)}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.split(zone, sets)
	if err == nil || !strings.Contains(err.Error(), "big.example.test. TXT") {
		t.Fatalf("got %v, want an error naming the RRset", err)
	}
}

func TestBadRecordsAreErrorsNamingZoneAndRecord(t *testing.T) {
	p := &Provider{Server: "127.0.0.1:53", KeyName: "k", Key: "c2VjcmV0"}
	for _, tc := range []struct {
		rec  libdns.Record
		want string
	}{
		{libdns.RR{Name: "", Type: "A", Data: "192.0.2.1"}, "name is empty"},
		{libdns.RR{Name: "www", Type: "", Data: "192.0.2.1"}, "type is empty"},
		{libdns.RR{Name: "www", Type: "A", Data: "not-an-ip"}, `www A "not-an-ip"`},
		{libdns.RR{Name: "www", Type: "A", Data: ""}, "www A"},
		{libdns.RR{Name: "www", Type: "A", TTL: -time.Second, Data: "192.0.2.1"}, "TTL -1s is out of range"},
		{libdns.RR{Name: "www", Type: "A", Data: "192.0.2.1\nevil 60 IN A 192.0.2.2"}, "line break"},
		{libdns.RR{Name: "www", Type: "NOSUCHTYPE", Data: "x"}, "NOSUCHTYPE"},
		{libdns.RR{Name: "bücher", Type: "A", Data: "192.0.2.1"}, "Punycode"},
		{nil, "record 0 is nil"},
	} {
		_, err := p.rrsets(zone, []libdns.Record{tc.rec})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), zone) {
			t.Errorf("%v: got %v, want an error naming %s and containing %q", tc.rec, err, zone, tc.want)
		}
	}
	if _, err := (&Provider{}).SetRecords(t.Context(), "example.test", addrs(1)); err == nil ||
		!strings.Contains(err.Error(), "the Server field is empty") || !strings.Contains(err.Error(), "no trailing dot") {
		t.Errorf("empty provider, zone without dot: got %v, want both named", err)
	}
}
