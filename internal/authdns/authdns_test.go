package authdns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

const testZone = "example.test."

// source is a RecordGetter whose records, and whether it fails, a test
// changes while the server runs.
type source struct {
	mu   sync.Mutex
	recs []libdns.Record
	err  error
}

func (s *source) GetRecords(_ context.Context, zone string) ([]libdns.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if zone != testZone {
		return nil, fmt.Errorf("no zone %q", zone)
	}
	return slices.Clone(s.recs), s.err
}

func (s *source) set(recs []libdns.Record, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs, s.err = recs, err
}

func a(name, ip string) libdns.Record {
	return libdns.Address{Name: name, TTL: time.Minute, IP: netip.MustParseAddr(ip)}
}

func cname(name, target string) libdns.Record {
	return libdns.CNAME{Name: name, TTL: time.Minute, Target: target}
}

func start(t *testing.T, src libdns.RecordGetter) *Server {
	t.Helper()
	s, err := Start("127.0.0.1:0", testZone, src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// exchange sends m over network ("udp" or "tcp") to s.
func exchange(t *testing.T, s *Server, network string, m *dns.Msg) *dns.Msg {
	t.Helper()
	resp, _, err := (&dns.Client{Net: network}).Exchange(m, s.Addr())
	if err != nil {
		t.Fatalf("%s query %v: %v", network, m.Question, err)
	}
	return resp
}

func query(t *testing.T, s *Server, network, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	return exchange(t, s, network, m)
}

// texts returns rrs as sorted "owner TYPE data" strings, owners in lower
// case (a compressed answer takes the case of the question).
func texts(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		h := rr.Header()
		out = append(out, fmt.Sprintf("%s %s %s", strings.ToLower(h.Name), dns.TypeToString[h.Rrtype], strings.TrimPrefix(rr.String(), h.String())))
	}
	slices.Sort(out)
	return out
}

const synthSOA = "example.test. SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 30"

func TestAnswers(t *testing.T) {
	s := start(t, &source{recs: []libdns.Record{
		a("www", "192.0.2.10"), a("www", "192.0.2.11"),
		a("www", "192.0.2.10"), // a duplicate: an RRset is a set
		libdns.TXT{Name: "www", TTL: time.Minute, Text: `say "hi" \o/`},
		a("v6", "2001:db8::1"),
		a("@", "192.0.2.1"),
		libdns.MX{Name: "@", TTL: time.Hour, Preference: 10, Target: "mail.example.test."},
		cname("alias", "alias2.example.test."),
		cname("alias2", "www"), // relative: in the zone
		cname("out", "elsewhere.example.net."),
		cname("dangling", "gone.example.test."),
		cname("loop1", "loop2.example.test."), cname("loop2", "loop1.example.test."),
		a("deep.sub", "192.0.2.30"),
		libdns.RR{Name: "bad", TTL: time.Minute, Type: "A", Data: "not-an-ip"},
		libdns.RR{Name: "empty", TTL: time.Minute, Type: "A", Data: ""},
		libdns.RR{Name: "inject", TTL: time.Minute, Type: "A", Data: "192.0.2.40\n$INCLUDE /etc/passwd"},
		libdns.RR{Name: "odd", TTL: time.Minute, Type: "NOSUCHTYPE", Data: "x"},
	}})
	www := []string{"www.example.test. A 192.0.2.10", "www.example.test. A 192.0.2.11"}
	for _, tc := range []struct {
		name      string
		qname     string
		qtype     uint16
		qclass    uint16 // 0: IN
		rcode     int
		answer    []string
		authority []string
	}{
		{"A with two values", "www.example.test.", dns.TypeA, 0, dns.RcodeSuccess, www, nil},
		{"names compared case-insensitively", "WWW.Example.TEST.", dns.TypeA, 0, dns.RcodeSuccess, www, nil},
		{"AAAA", "v6.example.test.", dns.TypeAAAA, 0, dns.RcodeSuccess, []string{"v6.example.test. AAAA 2001:db8::1"}, nil},
		{"TXT with quotes and a backslash", "www.example.test.", dns.TypeTXT, 0, dns.RcodeSuccess, []string{`www.example.test. TXT "say \"hi\" \\o/"`}, nil},
		{"ANY: every record at the name", "www.example.test.", dns.TypeANY, 0, dns.RcodeSuccess, append(slices.Clone(www), `www.example.test. TXT "say \"hi\" \\o/"`), nil},
		{"apex", "example.test.", dns.TypeA, 0, dns.RcodeSuccess, []string{"example.test. A 192.0.2.1"}, nil},
		{"apex MX", "example.test.", dns.TypeMX, 0, dns.RcodeSuccess, []string{"example.test. MX 10 mail.example.test."}, nil},
		{"synthesized SOA", "example.test.", dns.TypeSOA, 0, dns.RcodeSuccess, []string{synthSOA}, nil},
		{"synthesized NS", "example.test.", dns.TypeNS, 0, dns.RcodeSuccess, []string{"example.test. NS ns1.example.test."}, nil},
		{"apex NODATA", "example.test.", dns.TypeAAAA, 0, dns.RcodeSuccess, nil, []string{synthSOA}},
		{"CNAME chain to an in-zone A", "alias.example.test.", dns.TypeA, 0, dns.RcodeSuccess, append([]string{
			"alias.example.test. CNAME alias2.example.test.", "alias2.example.test. CNAME www.example.test."}, www...), nil},
		{"CNAME asked for", "alias.example.test.", dns.TypeCNAME, 0, dns.RcodeSuccess, []string{"alias.example.test. CNAME alias2.example.test."}, nil},
		{"CNAME chain to NODATA", "alias.example.test.", dns.TypeAAAA, 0, dns.RcodeSuccess, []string{
			"alias.example.test. CNAME alias2.example.test.", "alias2.example.test. CNAME www.example.test."}, []string{synthSOA}},
		{"CNAME out of the zone", "out.example.test.", dns.TypeA, 0, dns.RcodeSuccess, []string{"out.example.test. CNAME elsewhere.example.net."}, nil},
		{"CNAME to a missing in-zone name", "dangling.example.test.", dns.TypeA, 0, dns.RcodeNameError, []string{"dangling.example.test. CNAME gone.example.test."}, []string{synthSOA}},
		{"CNAME loop", "loop1.example.test.", dns.TypeA, 0, dns.RcodeSuccess, []string{
			"loop1.example.test. CNAME loop2.example.test.", "loop2.example.test. CNAME loop1.example.test."}, nil},
		{"NODATA", "www.example.test.", dns.TypeAAAA, 0, dns.RcodeSuccess, nil, []string{synthSOA}},
		{"NXDOMAIN", "nope.example.test.", dns.TypeA, 0, dns.RcodeNameError, nil, []string{synthSOA}},
		{"NXDOMAIN below a name", "x.www.example.test.", dns.TypeA, 0, dns.RcodeNameError, nil, []string{synthSOA}},
		{"empty non-terminal", "sub.example.test.", dns.TypeA, 0, dns.RcodeSuccess, nil, []string{synthSOA}},
		{"record under the empty non-terminal", "deep.sub.example.test.", dns.TypeA, 0, dns.RcodeSuccess, []string{"deep.sub.example.test. A 192.0.2.30"}, nil},
		{"unparsable record skipped", "bad.example.test.", dns.TypeA, 0, dns.RcodeNameError, nil, []string{synthSOA}},
		{"record without data skipped", "empty.example.test.", dns.TypeA, 0, dns.RcodeNameError, nil, []string{synthSOA}},
		{"record with a newline skipped", "inject.example.test.", dns.TypeA, 0, dns.RcodeNameError, nil, []string{synthSOA}},
		{"record of an unknown type skipped", "odd.example.test.", dns.TypeA, 0, dns.RcodeNameError, nil, []string{synthSOA}},
		{"outside the zone", "www.example.net.", dns.TypeA, 0, dns.RcodeRefused, nil, nil},
		{"the parent zone", "test.", dns.TypeSOA, 0, dns.RcodeRefused, nil, nil},
		{"a name ending like the zone", "xexample.test.", dns.TypeA, 0, dns.RcodeRefused, nil, nil},
		{"class CH", "www.example.test.", dns.TypeTXT, dns.ClassCHAOS, dns.RcodeRefused, nil, nil},
		{"zone transfer", "example.test.", dns.TypeAXFR, 0, dns.RcodeRefused, nil, nil},
	} {
		for _, network := range []string{"udp", "tcp"} {
			t.Run(tc.name+"/"+network, func(t *testing.T) {
				m := new(dns.Msg)
				m.SetQuestion(tc.qname, tc.qtype)
				if tc.qclass != 0 {
					m.Question[0].Qclass = tc.qclass
				}
				resp := exchange(t, s, network, m)
				if got := texts(resp.Answer); resp.Rcode != tc.rcode || !slices.Equal(got, tc.answer) {
					t.Fatalf("got %s %q, want %s %q", dns.RcodeToString[resp.Rcode], got, dns.RcodeToString[tc.rcode], tc.answer)
				}
				if got := texts(resp.Ns); !slices.Equal(got, tc.authority) {
					t.Fatalf("authority %q, want %q", got, tc.authority)
				}
				if want := tc.rcode == dns.RcodeSuccess || tc.rcode == dns.RcodeNameError; resp.Authoritative != want {
					t.Fatalf("AA %v, want %v", resp.Authoritative, want)
				}
				if len(resp.Question) != 1 || resp.Question[0] != m.Question[0] || resp.Id != m.Id {
					t.Fatalf("question %v id %d, want %v id %d echoed", resp.Question, resp.Id, m.Question, m.Id)
				}
			})
		}
	}
}

// A zone with its own SOA and NS: those are served, nothing is
// synthesized, and negative answers carry the SOA with its TTL lowered to
// the SOA minimum (RFC 2308).
func TestZoneSOA(t *testing.T) {
	s := start(t, &source{recs: []libdns.Record{
		libdns.RR{Name: "@", TTL: time.Hour, Type: "SOA", Data: "ns.example.test. admin.example.test. 42 7200 900 1209600 300"},
		libdns.NS{Name: "@", TTL: time.Hour, Target: "ns.example.test."},
		a("ns", "192.0.2.53"),
	}})
	for _, tc := range []struct {
		name    string
		qname   string
		qtype   uint16
		section func(*dns.Msg) []dns.RR
		want    string
	}{
		{"SOA", "example.test.", dns.TypeSOA, func(m *dns.Msg) []dns.RR { return m.Answer }, "example.test.\t3600\tIN\tSOA\tns.example.test. admin.example.test. 42 7200 900 1209600 300"},
		{"NS", "example.test.", dns.TypeNS, func(m *dns.Msg) []dns.RR { return m.Answer }, "example.test.\t3600\tIN\tNS\tns.example.test."},
		{"NXDOMAIN", "nope.example.test.", dns.TypeA, func(m *dns.Msg) []dns.RR { return m.Ns }, "example.test.\t300\tIN\tSOA\tns.example.test. admin.example.test. 42 7200 900 1209600 300"},
		{"NODATA", "ns.example.test.", dns.TypeAAAA, func(m *dns.Msg) []dns.RR { return m.Ns }, "example.test.\t300\tIN\tSOA\tns.example.test. admin.example.test. 42 7200 900 1209600 300"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rrs := tc.section(query(t, s, "udp", tc.qname, tc.qtype))
			if len(rrs) != 1 || rrs[0].String() != tc.want {
				t.Fatalf("got %v, want [%s]", rrs, tc.want)
			}
		})
	}
}

// What failover relies on: every query reads the source, so the answer
// changes as soon as the records do, and a failing source is SERVFAIL.
func TestAnswerFollowsTheSource(t *testing.T) {
	src := &source{recs: []libdns.Record{a("www", "192.0.2.10")}}
	s := start(t, src)
	for _, step := range []struct {
		name  string
		recs  []libdns.Record
		err   error
		rcode int
		want  []string
	}{
		{"before", []libdns.Record{a("www", "192.0.2.10")}, nil, dns.RcodeSuccess, []string{"www.example.test. A 192.0.2.10"}},
		{"failed over", []libdns.Record{a("www", "192.0.2.20")}, nil, dns.RcodeSuccess, []string{"www.example.test. A 192.0.2.20"}},
		{"source failing", nil, errors.New("provider unreachable"), dns.RcodeServerFailure, nil},
		{"source back", []libdns.Record{a("www", "192.0.2.10"), a("www", "192.0.2.20")}, nil, dns.RcodeSuccess, []string{"www.example.test. A 192.0.2.10", "www.example.test. A 192.0.2.20"}},
		{"record removed", nil, nil, dns.RcodeNameError, nil},
	} {
		src.set(step.recs, step.err)
		for _, network := range []string{"udp", "tcp"} {
			resp := query(t, s, network, "www.example.test.", dns.TypeA)
			if got := texts(resp.Answer); resp.Rcode != step.rcode || !slices.Equal(got, step.want) {
				t.Fatalf("%s over %s: got %s %q, want %s %q", step.name, network, dns.RcodeToString[resp.Rcode], got, dns.RcodeToString[step.rcode], step.want)
			}
		}
	}
}

func TestTruncation(t *testing.T) {
	var recs []libdns.Record
	for i := range 60 {
		recs = append(recs, a("big", fmt.Sprintf("192.0.2.%d", i+1)))
	}
	s := start(t, &source{recs: recs})
	for _, tc := range []struct {
		name      string
		network   string
		edns      uint16 // 0: no EDNS0
		truncated bool
	}{
		{"UDP at 512 bytes", "udp", 0, true},
		{"UDP with EDNS0 at 512 bytes", "udp", 512, true},
		{"UDP with EDNS0 at 4096 bytes", "udp", 4096, false},
		{"TCP", "tcp", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := new(dns.Msg)
			m.SetQuestion("big.example.test.", dns.TypeA)
			if tc.edns != 0 {
				m.SetEdns0(tc.edns, false)
			}
			resp := exchange(t, s, tc.network, m)
			if resp.Truncated != tc.truncated || (len(resp.Answer) < 60) != tc.truncated {
				t.Fatalf("TC %v with %d answers, want TC %v", resp.Truncated, len(resp.Answer), tc.truncated)
			}
			if (resp.IsEdns0() != nil) != (tc.edns != 0) {
				t.Fatalf("OPT in the reply: %v, want it when the query had one", resp.IsEdns0())
			}
		})
	}
}

// Requests that are not plain queries.
func TestRequests(t *testing.T) {
	s := start(t, &source{recs: []libdns.Record{a("www", "192.0.2.10")}})
	for _, tc := range []struct {
		name  string
		edit  func(*dns.Msg)
		rcode int
	}{
		{"two questions", func(m *dns.Msg) {
			m.Question = append(m.Question, dns.Question{Name: "v6.example.test.", Qtype: dns.TypeAAAA, Qclass: dns.ClassINET})
		}, dns.RcodeFormatError},
		{"NOTIFY", func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }, dns.RcodeNotImplemented},
		{"EDNS version 1", func(m *dns.Msg) { m.SetEdns0(1232, false); m.IsEdns0().SetVersion(1) }, dns.RcodeBadVers},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := new(dns.Msg)
			m.SetQuestion("www.example.test.", dns.TypeA)
			tc.edit(m)
			resp := exchange(t, s, "udp", m)
			if resp.Rcode != tc.rcode || len(resp.Answer) != 0 {
				t.Fatalf("got %s with %v, want %s and no answer", dns.RcodeToString[resp.Rcode], resp.Answer, dns.RcodeToString[tc.rcode])
			}
		})
	}
}

func TestAddr(t *testing.T) {
	s := start(t, &source{})
	host, port, err := net.SplitHostPort(s.Addr())
	if err != nil || host != "127.0.0.1" || port == "0" {
		t.Fatalf("Addr() = %q, want 127.0.0.1:PORT", s.Addr())
	}
	// Both transports answer on that one port.
	for _, network := range []string{"udp", "tcp"} {
		if resp := query(t, s, network, "example.test.", dns.TypeSOA); resp.Rcode != dns.RcodeSuccess {
			t.Fatalf("%s: %s", network, dns.RcodeToString[resp.Rcode])
		}
	}
}

func TestStartErrors(t *testing.T) {
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	for _, tc := range []struct {
		name, addr, zone string
	}{
		{"zone without a trailing dot", "127.0.0.1:0", "example.test"},
		{"bad zone", "127.0.0.1:0", "example..test."},
		{"bad address", "127.0.0.1", testZone},
		{"UDP port taken", udp.LocalAddr().String(), testZone},
		{"TCP port taken", tcp.Addr().String(), testZone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Start(tc.addr, tc.zone, &source{})
			if err == nil {
				s.Close()
				t.Fatal("got nil error")
			}
			if !strings.Contains(err.Error(), tc.addr) {
				t.Fatalf("error %q does not name the address %s", err, tc.addr)
			}
		})
	}
}

func TestCloseStopsAnswering(t *testing.T) {
	s, err := Start("127.0.0.1:0", testZone, &source{recs: []libdns.Record{a("www", "192.0.2.10")}})
	if err != nil {
		t.Fatal(err)
	}
	// A TCP client that keeps its connection open must not hold Close up.
	m := new(dns.Msg)
	m.SetQuestion("www.example.test.", dns.TypeA)
	tcpConn, err := (&dns.Client{Net: "tcp"}).Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer tcpConn.Close()
	if resp, _, err := (&dns.Client{Net: "tcp"}).ExchangeWithConn(m, tcpConn); err != nil || len(resp.Answer) != 1 {
		t.Fatalf("before Close: %v %v", resp, err)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, _, err := (&dns.Client{Net: "tcp"}).ExchangeWithConn(m, tcpConn); err == nil {
		t.Fatal("query on a connection open before Close: got an answer, want an error")
	}
	if _, _, err := (&dns.Client{Net: "tcp", Timeout: time.Second}).Exchange(m, s.Addr()); err == nil {
		t.Fatal("query after Close: got an answer, want an error")
	}
	// The port is free again, on both transports.
	s2, err := Start(s.Addr(), testZone, &source{})
	if err != nil {
		t.Fatalf("Start again on %s: %v", s.Addr(), err)
	}
	s2.Close()
}

// Queries in parallel while the records change: each answer is one state
// of the zone or the other, never a mix, and there is no data race.
func TestConcurrentQueries(t *testing.T) {
	primary := []libdns.Record{a("www", "192.0.2.10"), a("www", "192.0.2.11")}
	backup := []libdns.Record{a("www", "192.0.2.20")}
	src := &source{recs: primary}
	s := start(t, src)
	var wg sync.WaitGroup
	for i := range 8 {
		network := []string{"udp", "tcp"}[i%2]
		wg.Go(func() {
			for range 20 {
				m := new(dns.Msg)
				m.SetQuestion("www.example.test.", dns.TypeA)
				resp, _, err := (&dns.Client{Net: network}).Exchange(m, s.Addr())
				if err != nil {
					t.Error(err)
					return
				}
				if got := texts(resp.Answer); !slices.Equal(got, []string{"www.example.test. A 192.0.2.10", "www.example.test. A 192.0.2.11"}) &&
					!slices.Equal(got, []string{"www.example.test. A 192.0.2.20"}) {
					t.Errorf("mixed answer %q", got)
					return
				}
			}
		})
	}
	for i := range 50 {
		src.set([][]libdns.Record{primary, backup}[i%2], nil)
	}
	wg.Wait()
}
