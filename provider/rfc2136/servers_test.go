package rfc2136_test

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/servertest"
	"github.com/dnsfailover/failover/provider/rfc2136"
	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

const zone = "example.test."

// server is a real RFC 2136 server started for one test.
type server struct {
	addr string
	p    *rfc2136.Provider
}

// servers are the RFC 2136 servers every test here runs on, each started
// with the zone-file lines.
var servers = []struct {
	name  string
	start func(t testing.TB, lines ...string) server
}{
	{"BIND", func(t testing.TB, lines ...string) server {
		b := servertest.StartBIND(t, zone, lines...)
		return server{b.Addr, b.Provider()}
	}},
	{"Knot", func(t testing.TB, lines ...string) server {
		k := servertest.StartKnot(t, zone, lines...)
		return server{k.Addr, k.Provider()}
	}},
}

// rrset returns the (name, typ) RRset of zone as sorted "ttl data" strings.
func rrset(t *testing.T, p *rfc2136.Provider, name, typ string) []string {
	t.Helper()
	return servertest.RRset(t, p, zone, name, typ)
}

// TXT values round-trip through the server as raw text: quotes,
// backslashes, non-ASCII, and more than 255 octets.
func TestTXTRoundTrip(t *testing.T) {
	texts := []string{`v=spf1 -all`, `say "hi"`, `back\slash`, "ünïcödé", strings.Repeat("long", 100)}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			s := srv.start(t)
			for i, text := range texts {
				name := fmt.Sprintf("txt%d", i)
				if _, err := s.p.SetRecords(t.Context(), zone, []libdns.Record{libdns.TXT{Name: name, TTL: time.Minute, Text: text}}); err != nil {
					t.Fatal(err)
				}
				if got := rrset(t, s.p, name, "TXT"); !slices.Equal(got, []string{"60 " + text}) {
					t.Errorf("got %q, want %q", got, "60 "+text)
				}
			}
		})
	}
}

// DeleteRecords honours libdns's wildcards (zero TTL, empty value), leaves
// what does not match, and returns what it deleted.
func TestDeleteRecordsMatches(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			s := srv.start(t, "www 60 IN A 192.0.2.1", "www 60 IN A 192.0.2.2", "www 60 IN AAAA 2001:db8::1",
				"api 60 IN A 192.0.2.1", "web 120 IN A 192.0.2.1")
			for _, tc := range []struct {
				del       libdns.RR
				name, typ string
				deleted   int
				left      []string
			}{
				{libdns.RR{Name: "www", Type: "A", TTL: 2 * time.Minute, Data: "192.0.2.1"}, "www", "A", 0, []string{"60 192.0.2.1", "60 192.0.2.2"}},
				{libdns.RR{Name: "www", Type: "A", Data: "192.0.2.1"}, "www", "A", 1, []string{"60 192.0.2.2"}},
				{libdns.RR{Name: "www", Type: "A"}, "www", "A", 1, nil},
				{libdns.RR{Name: "www", Type: "A"}, "www", "AAAA", 0, []string{"60 2001:db8::1"}},
				{libdns.RR{Name: "web", TTL: 2 * time.Minute}, "web", "A", 1, nil},
				{libdns.RR{Name: "api"}, "api", "A", 1, nil},
			} {
				got, err := s.p.DeleteRecords(t.Context(), zone, []libdns.Record{tc.del})
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != tc.deleted {
					t.Errorf("delete %+v: got %d records returned (%v), want %d", tc.del, len(got), got, tc.deleted)
				}
				if left := rrset(t, s.p, tc.name, tc.typ); !slices.Equal(left, tc.left) {
					t.Errorf("delete %+v: %s %s left %q, want %q", tc.del, tc.name, tc.typ, left, tc.left)
				}
			}
		})
	}
}

// A write that one UPDATE cannot hold is split, and a bad RRset in a later
// message is reported with where it stopped.
func TestLargeWriteIsSplit(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			s := srv.start(t)
			var recs []libdns.Record
			for i := range 3000 {
				recs = append(recs, libdns.Address{Name: fmt.Sprintf("r%04d", i), TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.1")})
			}
			before := serial(t, s.addr)
			if _, err := s.p.SetRecords(t.Context(), zone, recs); err != nil {
				t.Fatalf("SetRecords of 3,000 RRsets: %v", err)
			}
			if got := serial(t, s.addr) - before; got != 5 { // each RRset with its prerequisite
				t.Errorf("got %d UPDATE messages applied, want 5", got)
			}
			all, err := s.p.GetRecords(t.Context(), zone)
			if err != nil {
				t.Fatal(err)
			}
			if got := count(all, "192.0.2.1"); got != 3000 {
				t.Errorf("got %d records written, want 3,000", got)
			}
		})
	}
}

// serial returns the zone's SOA serial: each UPDATE applied adds one.
func serial(t *testing.T, addr string) uint32 {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeSOA)
	resp, _, err := (&dns.Client{Net: "tcp"}).Exchange(m, addr)
	if err != nil || len(resp.Answer) != 1 {
		t.Fatalf("SOA of %s: %v %v", zone, resp, err)
	}
	return resp.Answer[0].(*dns.SOA).Serial
}

func count(recs []libdns.Record, value string) int {
	n := 0
	for _, r := range recs {
		if r.RR().Data == value {
			n++
		}
	}
	return n
}

// switchable is one checker shared by every record, so that a failover of
// all of them is one decision and one write.
type switchable struct{ down atomic.Bool }

func (s *switchable) Check(ctx context.Context, target string) error {
	if target == "192.0.2.10" && s.down.Load() {
		return fmt.Errorf("%s is down", target)
	}
	return nil
}

// A zone of 10,000 failover records fails over completely through the
// Manager: the write is split into UPDATE messages that each fit, instead
// of failing with "dns: message too large" and being retried forever.
// The test logs the number of messages and the time:
//
//	FAILOVER_REQUIRE_SERVERS=1 go test -run TestLargeZoneFailsOver -v ./provider/rfc2136
func TestLargeZoneFailsOver(t *testing.T) {
	const n = 10000
	lines := make([]string, n)
	records := make([]failover.Record, n)
	check := &switchable{}
	for i := range n {
		name := fmt.Sprintf("r%05d", i)
		lines[i] = name + " 60 IN A 192.0.2.10"
		records[i] = failover.Record{
			Name: name, Type: "A",
			Endpoints: []failover.Endpoint{{Value: "192.0.2.10"}, {Value: "192.0.2.20", Priority: 1}},
			Check:     check,
			Policy:    failover.Policy{Interval: 100 * time.Millisecond, FailAfter: 1, TTL: time.Minute, FailoverTTL: time.Minute},
		}
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			s := srv.start(t, lines...)
			var write atomic.Int64 // the longest write of the backup value
			m, err := failover.New(failover.Config{
				Zones:             []failover.Zone{{Name: zone, Providers: []failover.Provider{s.p}, Records: records}},
				ReconcileInterval: time.Hour,
				OnEvent: func(e failover.Event) {
					switch {
					case e.Kind == failover.EventProviderCallFailed:
						t.Errorf("write failed: %v", e)
					case e.Kind == failover.EventRecordWritten && slices.Equal(e.Values, []string{"192.0.2.20"}):
						if d := int64(e.CallDuration); d > write.Load() {
							write.Store(d)
						}
					}
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- m.Run(ctx) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Run: %v", err)
				}
			}()
			before := serial(t, s.addr)
			start := time.Now()
			check.down.Store(true)
			defer check.down.Store(false)
			deadline := time.Now().Add(2 * time.Minute)
			for {
				recs, err := s.p.GetRecords(t.Context(), zone)
				if err == nil && count(recs, "192.0.2.20") == n && count(recs, "192.0.2.10") == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after 2 minutes: %d of %d records on the backup (read error: %v)", count(recs, "192.0.2.20"), n, err)
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Logf("%s: %d records failed over: SetRecords took %v in %d UPDATE messages; %v from the check failing to the zone read back",
				srv.name, n, time.Duration(write.Load()).Round(time.Millisecond), serial(t, s.addr)-before, time.Since(start).Round(time.Millisecond))
		})
	}
}
