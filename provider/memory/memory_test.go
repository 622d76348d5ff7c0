package memory

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"
)

const zone = "example.com."

func a(name, ip string, ttl time.Duration) libdns.Record {
	return libdns.Address{Name: name, TTL: ttl, IP: netip.MustParseAddr(ip)}
}

// dump renders records as "name ttl type data" lines for comparison.
func dump(recs []libdns.Record) []string {
	var out []string
	for _, r := range recs {
		rr := r.RR()
		out = append(out, fmt.Sprintf("%s %d %s %s", rr.Name, int(rr.TTL.Seconds()), rr.Type, rr.Data))
	}
	return out
}

func equal(got []libdns.Record, want ...string) bool {
	return fmt.Sprint(dump(got)) == fmt.Sprint(want)
}

func newZone(t *testing.T, recs ...libdns.Record) *Provider {
	t.Helper()
	p := &Provider{}
	if err := p.AddZone(zone, recs...); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSetRecordsLibdnsExamples(t *testing.T) {
	t.Run("example 1: replace an RRset, leave the TXT", func(t *testing.T) {
		p := newZone(t, a("@", "192.0.2.1", time.Hour), a("@", "192.0.2.2", time.Hour), libdns.TXT{Name: "@", TTL: time.Hour, Text: "hello world"})
		got, err := p.SetRecords(t.Context(), zone, []libdns.Record{a("@", "192.0.2.3", time.Hour)})
		if err != nil || !equal(got, "@ 3600 A 192.0.2.3") {
			t.Fatalf("returned %v, %v", dump(got), err)
		}
		if recs := p.Records(zone); !equal(recs, "@ 3600 A 192.0.2.3", "@ 3600 TXT hello world") {
			t.Fatalf("got %v", dump(recs))
		}
	})
	t.Run("example 2: other names untouched", func(t *testing.T) {
		v6 := func(name, ip string) libdns.Record { return a(name, ip, time.Hour) }
		p := newZone(t, v6("alpha", "2001:db8::1"), v6("alpha", "2001:db8::2"), v6("beta", "2001:db8::3"), v6("beta", "2001:db8::4"))
		if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{v6("alpha", "2001:db8::1"), v6("alpha", "2001:db8::2"), v6("alpha", "2001:db8::5")}); err != nil {
			t.Fatal(err)
		}
		want := []string{"alpha 3600 AAAA 2001:db8::1", "alpha 3600 AAAA 2001:db8::2", "alpha 3600 AAAA 2001:db8::5", "beta 3600 AAAA 2001:db8::3", "beta 3600 AAAA 2001:db8::4"}
		if recs := p.Records(zone); !equal(recs, want...) {
			t.Fatalf("got %v, want %v", dump(recs), want)
		}
	})
}

func TestSemantics(t *testing.T) {
	ctx := t.Context()
	p := newZone(t, a("www", "192.0.2.1", time.Minute), a("www", "192.0.2.2", time.Minute), libdns.CNAME{Name: "docs", TTL: time.Minute, Target: "www.example.com."})

	// Typed records come back.
	recs, err := p.GetRecords(ctx, zone)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := recs[len(recs)-1].(libdns.Address); !ok {
		t.Fatalf("got %T, want libdns.Address", recs[len(recs)-1])
	}
	if _, ok := recs[0].(libdns.CNAME); !ok {
		t.Fatalf("got %T, want libdns.CNAME", recs[0])
	}

	// Duplicates in the input collapse; the TTL changes alone.
	if _, err := p.SetRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.1", 30*time.Second), a("www", "192.0.2.1", 30*time.Second)}); err != nil {
		t.Fatal(err)
	}
	if recs := p.Records(zone); !equal(recs, "docs 60 CNAME www.example.com.", "www 30 A 192.0.2.1") {
		t.Fatalf("after set: %v", dump(recs))
	}

	// Append never duplicates.
	added, err := p.AppendRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.1", 30*time.Second), a("www", "192.0.2.9", 30*time.Second)})
	if err != nil || !equal(added, "www 30 A 192.0.2.9") {
		t.Fatalf("append returned %v, %v; want only the new record", dump(added), err)
	}

	// Delete matches exactly, or with wildcards.
	gone, err := p.DeleteRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.9", time.Hour)})
	if err != nil || len(gone) != 0 {
		t.Fatalf("delete with another TTL: got %v, %v; want nothing deleted", dump(gone), err)
	}
	gone, err = p.DeleteRecords(ctx, zone, []libdns.Record{libdns.RR{Name: "www", Type: "A"}})
	if err != nil || len(gone) != 2 {
		t.Fatalf("wildcard delete: got %v, %v; want both A records", dump(gone), err)
	}
	if recs := p.Records(zone); !equal(recs, "docs 60 CNAME www.example.com.") {
		t.Fatalf("after delete: %v", dump(recs))
	}

	zones, err := p.ListZones(ctx)
	if err != nil || len(zones) != 1 || zones[0].Name != zone {
		t.Fatalf("ListZones: %v, %v", zones, err)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	ctx := t.Context()
	p := newZone(t, a("www", "192.0.2.1", time.Minute))
	p.MinimumTTL = time.Minute
	for _, tc := range []struct {
		name string
		recs []libdns.Record
	}{
		{"fully qualified name", []libdns.Record{a("ok", "192.0.2.5", time.Minute), a("www.example.com.", "192.0.2.2", time.Minute)}},
		{"empty name", []libdns.Record{a("", "192.0.2.2", time.Minute)}},
		{"unparsable value", []libdns.Record{libdns.RR{Name: "www", Type: "A", Data: "not-an-ip", TTL: time.Minute}}},
		{"no type", []libdns.Record{libdns.RR{Name: "www", Data: "x", TTL: time.Minute}}},
		{"TTL below the floor", []libdns.Record{a("www", "192.0.2.2", 30*time.Second)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := p.SetRecords(ctx, zone, tc.recs); err == nil {
				t.Fatal("SetRecords: got nil error")
			}
			if _, err := p.AppendRecords(ctx, zone, tc.recs); err == nil {
				t.Fatal("AppendRecords: got nil error")
			}
			if recs := p.Records(zone); !equal(recs, "www 60 A 192.0.2.1") {
				t.Fatalf("zone changed: %v", dump(recs))
			}
		})
	}
	if _, err := p.GetRecords(ctx, "nope.com."); !errors.Is(err, ErrNoZone) {
		t.Fatalf("unknown zone: got %v, want ErrNoZone", err)
	}
	if _, err := p.SetRecords(ctx, "example.com", nil); !errors.Is(err, ErrNoZone) {
		t.Fatalf("zone without dot: got %v, want ErrNoZone", err)
	}
	if err := p.AddZone(zone); err == nil {
		t.Fatal("AddZone twice: got nil error")
	}
	if got := p.MinTTL(); got != time.Minute {
		t.Fatalf("MinTTL: got %v, want 1m", got)
	}
}

func TestConcurrentWrites(t *testing.T) {
	p := newZone(t)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			name := fmt.Sprintf("host%d", i)
			for j := range 20 {
				if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{a(name, fmt.Sprintf("192.0.2.%d", j+1), time.Minute)}); err != nil {
					t.Error(err)
				}
				if _, err := p.GetRecords(t.Context(), zone); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := len(p.Records(zone)); n != 50 {
		t.Fatalf("got %d records, want one per name (50)", n)
	}
	if n := p.Calls(MethodSetRecords); n != 1000 {
		t.Fatalf("got %d SetRecords calls, want 1000", n)
	}
}
