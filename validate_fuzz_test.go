package failover

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"
)

// New never panics on user input, and accepts a record only when every
// value it holds is valid for its type.
func FuzzNew(f *testing.F) {
	f.Add("example.test.", "www", "A", "192.0.2.1", "192.0.2.2", int64(10), 3)
	f.Add("example.test", "www.example.test.", "CNAME", "a.example.net", "b..example.net", int64(-1), 0)
	f.Add("", "@", "aaaa", "2001:db8::1", "::ffff:192.0.2.1", int64(0), -1)
	f.Add("example.test.", "@", "CNAME", "a.example.net.", "b.example.net.", int64(10), 3)                                                                                          // CNAME at the apex
	f.Add("example.test.", "alias", "CNAME", "192.0.2.1", "b.example.net", int64(10), 3)                                                                                            // CNAME to an address
	f.Add("example.test.", "alias", "CNAME", "alias.example.test", "b.example.net", int64(10), 3)                                                                                   // CNAME to itself
	f.Add("example.test.", "alias", "CNAME", "*.example.net", "-b.example.net", int64(10), 3)                                                                                       // wildcard and hyphen in targets
	f.Add("example.test.", "*.www", "A", "0.0.0.0", "192.0.2.2", int64(10), 3)                                                                                                      // wildcard name, unspecified address
	f.Add("example.test.", "www.*", "AAAA", "::", "2001:db8::2", int64(10), 3)                                                                                                      // wildcard not first
	f.Add("example.test.", strings.Repeat("a", 63)+"."+strings.Repeat("b", 63)+"."+strings.Repeat("c", 63)+"."+strings.Repeat("d", 60), "A", "192.0.2.1", "192.0.2.2", int64(1), 1) // FQDN over 253
	f.Add("example.test.", strings.Repeat("a", 64), "A", "192.0.2.1", "192.0.2.2", int64(1), 1)                                                                                     // label over 63
	f.Add("example.test.", "www", "A", "192.0.2.1", "192.0.2.2", int64(1<<40), 3)                                                                                                   // an interval that overflows
	f.Add("Example.TEST.", "WWW", "a", "192.0.2.1", "192.0.2.1", int64(-5), 0)                                                                                                      // case, duplicate, negatives
	f.Add("example.test.", "www\x00", "A", "192.0.2.1\x00", "192.0.2.2", int64(10), 3)                                                                                              // NUL bytes
	f.Fuzz(func(t *testing.T, zone, name, typ, v1, v2 string, interval int64, failAfter int) {
		rec := Record{
			Name: name, Type: typ,
			Endpoints: []Endpoint{{Value: v1}, {Value: v2, Priority: 1}},
			Check:     newSwitchboard(),
			Policy:    Policy{Interval: time.Duration(interval) * time.Second, FailAfter: failAfter},
		}
		m, err := New(Config{Zones: []Zone{{Name: zone, Providers: []Provider{getSetter{}}, Records: []Record{rec}}}})
		if err != nil {
			return
		}
		r := m.records[0].spec
		for _, e := range r.endpoints {
			if got, err := normalizeValue(r.id.Type, e.Value); err != nil || got != e.Value {
				t.Fatalf("accepted %q for %s, which normalises to %q, %v", e.Value, r.id.Type, got, err)
			}
			if _, err := netip.ParseAddr(strings.TrimSuffix(e.Value, ".")); err == nil && r.id.Type == "CNAME" {
				t.Fatalf("accepted the address %q as a CNAME target", e.Value)
			}
		}
		fqdn := libdns.AbsoluteName(r.id.Name, r.id.Zone)
		if len(fqdn) > 254 || r.id.Type == "CNAME" && r.id.Name == "@" {
			t.Fatalf("accepted %s %s", fqdn, r.id.Type)
		}
		if p := r.policy; p.Interval < time.Millisecond || p.TTL > maxTTL {
			t.Fatalf("accepted Interval %v, TTL %v", p.Interval, p.TTL)
		}
	})
}

// Whatever a provider returns for a managed RRset, reading it back never
// panics, and a value the Manager would write reads back as itself.
func FuzzReadBack(f *testing.F) {
	f.Add("www", "A", "192.0.2.1", int64(60))
	f.Add("WWW.example.test.", "a", "::ffff:192.0.2.1", int64(-5))
	f.Add("", "CNAME", "Target.Example.Net", int64(300))
	f.Add("@", "AAAA", "2001:DB8::1%eth0", int64(1))
	f.Fuzz(func(t *testing.T, name, typ, data string, ttl int64) {
		managed := map[rrKey]bool{{"www", "A"}: true, {"www", "AAAA"}: true, {"@", "CNAME"}: true, {"@", "AAAA"}: true}
		rr := libdns.RR{Name: name, Type: typ, Data: data, TTL: time.Duration(ttl) * time.Second}
		sets := managedRRsets(testZone, []libdns.Record{rr}, managed)
		for key, s := range sets {
			if !managed[key] || len(s.values) != 1 || len(s.held) != 1 {
				t.Fatalf("%+v read back as %v: %+v", rr, key, s)
			}
			if v, err := normalizeValue(key.typ, data); err == nil && s.values[0] != v {
				t.Fatalf("%q read back as %q, want %q", data, s.values[0], v)
			}
		}
	})
}
