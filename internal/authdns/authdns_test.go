package authdns

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// source is a RecordGetter whose records and failure a test changes.
type source struct {
	mu   sync.Mutex
	recs []libdns.Record
	err  error
}

func (s *source) GetRecords(context.Context, string) ([]libdns.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.recs), s.err
}

func (s *source) set(recs []libdns.Record, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs, s.err = recs, err
}

func a(name, ip string) libdns.Record {
	return libdns.Address{Name: name, TTL: 60 * time.Second, IP: netip.MustParseAddr(ip)}
}

func start(t *testing.T, src *source) *Server {
	t.Helper()
	s, err := Start("127.0.0.1:0", "example.test.", src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// ask sends one query over net ("udp" or "tcp") and returns the rcode and
// the answer section as sorted "TYPE data" strings.
func ask(t *testing.T, s *Server, net, name string, qtype uint16) (*dns.Msg, []string) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	resp, _, err := (&dns.Client{Net: net}).Exchange(m, s.Addr())
	if err != nil {
		t.Fatalf("%s query %s: %v", net, name, err)
	}
	var got []string
	for _, rr := range resp.Answer {
		got = append(got, fmt.Sprintf("%s %s", dns.TypeToString[rr.Header().Rrtype], rr.String()[len(rr.Header().String()):]))
	}
	sort.Strings(got)
	return resp, got
}

func TestAnswers(t *testing.T) {
	src := &source{recs: []libdns.Record{
		a("www", "192.0.2.10"), a("www", "192.0.2.11"),
		libdns.Address{Name: "v6", TTL: time.Minute, IP: netip.MustParseAddr("2001:db8::1")},
		a("@", "192.0.2.1"),
		libdns.CNAME{Name: "alias", TTL: time.Minute, Target: "www.example.test."},
		libdns.CNAME{Name: "out", TTL: time.Minute, Target: "elsewhere.example.net."},
		a("deep.sub", "192.0.2.30"),
		libdns.TXT{Name: "www", TTL: time.Minute, Text: "hello world"},
	}}
	s := start(t, src)
	for _, tc := range []struct {
		name  string
		qname string
		qtype uint16
		rcode int
		want  []string
		soa   bool
	}{
		{"A with two values", "www.example.test.", dns.TypeA, dns.RcodeSuccess, []string{"A 192.0.2.10", "A 192.0.2.11"}, false},
		{"case-insensitive", "WWW.Example.TEST.", dns.TypeA, dns.RcodeSuccess, []string{"A 192.0.2.10", "A 192.0.2.11"}, false},
		{"AAAA", "v6.example.test.", dns.TypeAAAA, dns.RcodeSuccess, []string{"AAAA 2001:db8::1"}, false},
		{"apex", "example.test.", dns.TypeA, dns.RcodeSuccess, []string{"A 192.0.2.1"}, false},
		{"TXT", "www.example.test.", dns.TypeTXT, dns.RcodeSuccess, []string{`TXT "hello world"`}, false},
		{"CNAME chain in the zone", "alias.example.test.", dns.TypeA, dns.RcodeSuccess, []string{"A 192.0.2.10", "A 192.0.2.11", "CNAME www.example.test."}, false},
		{"CNAME out of the zone", "out.example.test.", dns.TypeA, dns.RcodeSuccess, []string{"CNAME elsewhere.example.net."}, false},
		{"NODATA", "www.example.test.", dns.TypeAAAA, dns.RcodeSuccess, nil, true},
		{"NXDOMAIN", "nope.example.test.", dns.TypeA, dns.RcodeNameError, nil, true},
		{"empty non-terminal", "sub.example.test.", dns.TypeA, dns.RcodeSuccess, nil, true},
		{"synthesized SOA", "example.test.", dns.TypeSOA, dns.RcodeSuccess, []string{"SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 30"}, false},
		{"outside the zone", "www.example.net.", dns.TypeA, dns.RcodeRefused, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, got := ask(t, s, "udp", tc.qname, tc.qtype)
			if resp.Rcode != tc.rcode || !slices.Equal(got, tc.want) {
				t.Fatalf("got %s %q, want %s %q", dns.RcodeToString[resp.Rcode], got, dns.RcodeToString[tc.rcode], tc.want)
			}
			if hasSOA := len(resp.Ns) == 1 && resp.Ns[0].Header().Rrtype == dns.TypeSOA; hasSOA != tc.soa {
				t.Fatalf("authority section %v, want SOA: %v", resp.Ns, tc.soa)
			}
			if tc.rcode != dns.RcodeRefused && !resp.Authoritative {
				t.Fatal("AA not set")
			}
		})
	}
}

func TestAnswerFollowsTheSource(t *testing.T) {
	src := &source{recs: []libdns.Record{a("www", "192.0.2.10")}}
	s := start(t, src)
	if _, got := ask(t, s, "udp", "www.example.test.", dns.TypeA); !slices.Equal(got, []string{"A 192.0.2.10"}) {
		t.Fatalf("before: got %q", got)
	}
	src.set([]libdns.Record{a("www", "192.0.2.20")}, nil)
	if _, got := ask(t, s, "tcp", "www.example.test.", dns.TypeA); !slices.Equal(got, []string{"A 192.0.2.20"}) {
		t.Fatalf("after the change, over TCP on the same port: got %q, want the new value", got)
	}
	src.set(nil, errors.New("provider unreachable"))
	if resp, _ := ask(t, s, "udp", "www.example.test.", dns.TypeA); resp.Rcode != dns.RcodeServerFailure {
		t.Fatalf("source failing: got %s, want SERVFAIL", dns.RcodeToString[resp.Rcode])
	}
}

func TestTruncatesLargeUDPAnswers(t *testing.T) {
	var recs []libdns.Record
	for i := range 60 {
		recs = append(recs, a("big", fmt.Sprintf("192.0.2.%d", i+1)))
	}
	s := start(t, &source{recs: recs})
	m := new(dns.Msg)
	m.SetQuestion("big.example.test.", dns.TypeA)
	resp, _, err := (&dns.Client{Net: "udp"}).Exchange(m, s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Truncated || len(resp.Answer) == 60 {
		t.Fatalf("UDP at 512 bytes: got TC=%v with %d answers, want TC and fewer than 60", resp.Truncated, len(resp.Answer))
	}
	if _, got := ask(t, s, "tcp", "big.example.test.", dns.TypeA); len(got) != 60 {
		t.Fatalf("TCP: got %d answers, want 60", len(got))
	}
}

func TestCloseStopsAnswering(t *testing.T) {
	s, err := Start("127.0.0.1:0", "example.test.", &source{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	m := new(dns.Msg)
	m.SetQuestion("www.example.test.", dns.TypeA)
	if _, _, err := (&dns.Client{Net: "tcp", Timeout: time.Second}).Exchange(m, s.Addr()); err == nil {
		t.Fatal("query after Close: got an answer, want an error")
	}
	if _, err := Start("127.0.0.1:0", "example.test", &source{}); err == nil {
		t.Fatal("zone without trailing dot: got nil error")
	}
}
