package failover

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"
)

// getSetter is a provider without DeleteRecords.
type getSetter struct{}

func (getSetter) GetRecords(context.Context, string) ([]libdns.Record, error) { return nil, nil }
func (getSetter) SetRecords(_ context.Context, _ string, r []libdns.Record) ([]libdns.Record, error) {
	return r, nil
}

func TestNewRejectsBadInput(t *testing.T) {
	ok := func() Record { return wwwRecord(newSwitchboard(), Policy{}) }
	zone := func(recs ...Record) Zone {
		return Zone{Name: testZone, Providers: []Provider{getSetter{}}, Records: recs}
	}
	with := func(f func(*Record)) Zone { r := ok(); f(&r); return zone(r) }
	pol := func(f func(*Policy)) Zone { return with(func(r *Record) { f(&r.Policy) }) }

	for _, tc := range []struct {
		name string
		zone Zone
		want []string // every substring must appear in the error
	}{
		{"zone without trailing dot", Zone{Name: "example.test", Providers: []Provider{getSetter{}}, Records: []Record{ok()}}, []string{`zone "example.test"`, "trailing dot"}},
		{"no provider", Zone{Name: testZone, Records: []Record{ok()}}, []string{"Providers", "no provider"}},
		{"bad nameserver port", Zone{Name: testZone, Providers: []Provider{getSetter{}}, Records: []Record{ok()}, Nameservers: []string{"ns1.example.net:99999"}}, []string{"Nameservers[0]", "bad port"}},
		{"bad nameserver host", Zone{Name: testZone, Providers: []Provider{getSetter{}}, Records: []Record{ok()}, Nameservers: []string{"not a host"}}, []string{"Nameservers[0]", "neither an address nor a host name"}},
		{"nil provider", Zone{Name: testZone, Providers: []Provider{nil}, Records: []Record{ok()}}, []string{"Providers[0]", "nil provider"}},
		{"no record", zone(), []string{"Records", "no record"}},
		{"FQDN record name", with(func(r *Record) { r.Name = "www.example.test." }), []string{`record "www.example.test. A"`, "relative"}},
		{"zone repeated in the name", with(func(r *Record) { r.Name = "www.example.test" }), []string{"www.example.test.example.test."}},
		{"empty name", with(func(r *Record) { r.Name = "" }), []string{"Records[0].Name", `"@"`}},
		{"bad type", with(func(r *Record) { r.Type = "MX" }), []string{"Type", `"MX"`}},
		{"not IPv4 for A", with(func(r *Record) { r.Endpoints[1].Value = "10.0.0.300" }), []string{`endpoint "10.0.0.300"`, "Endpoints[1].Value", "not an IP"}},
		{"IPv6 for A", with(func(r *Record) { r.Endpoints[0].Value = "2001:db8::1" }), []string{"not an IPv4 address"}},
		{"IPv4 for AAAA", with(func(r *Record) { r.Type = "AAAA"; r.Endpoints = []Endpoint{{Value: "192.0.2.1"}} }), []string{"not an IPv6 address"}},
		{"bad CNAME target", with(func(r *Record) { r.Type = "CNAME"; r.Endpoints = []Endpoint{{Value: "bad host!"}} }), []string{"not a valid host name"}},
		{"two CNAME values published together", with(func(r *Record) {
			r.Type = "CNAME"
			r.Endpoints = []Endpoint{{Value: "a.example.net."}, {Value: "b.example.net."}}
		}), []string{"Endpoints[1].Priority", "one value"}},
		{"duplicate endpoint", with(func(r *Record) { r.Endpoints[1].Value = "192.0.2.10" }), []string{"Endpoints[1].Value", "duplicate endpoint"}},
		{"no endpoints", with(func(r *Record) { r.Endpoints = nil }), []string{"Endpoints", "no endpoint"}},
		{"no checker", with(func(r *Record) { r.Check = nil }), []string{"Check", "no checker"}},
		{"negative interval", pol(func(p *Policy) { p.Interval = -time.Second }), []string{"Policy.Interval", "negative"}},
		{"timeout not below interval", pol(func(p *Policy) { p.Interval, p.Timeout = time.Second, time.Second }), []string{"Policy.Timeout", "not less than Interval"}},
		{"threshold below 1", pol(func(p *Policy) { p.FailAfter = -1 }), []string{"Policy.FailAfter", "below 1"}},
		{"failover TTL above TTL", pol(func(p *Policy) { p.TTL, p.FailoverTTL = 30*time.Second, time.Minute }), []string{"Policy.FailoverTTL", "more than TTL"}},
		{"fractional TTL", pol(func(p *Policy) { p.TTL = 1500 * time.Millisecond }), []string{"Policy.TTL", "whole number of seconds"}},
		{"fallback of the wrong type", pol(func(p *Policy) { p.AllDown, p.Fallback = PublishFallback, []string{"2001:db8::1"} }), []string{"Policy.Fallback[0]", "not an IPv4"}},
		{"fallback without the action", pol(func(p *Policy) { p.Fallback = []string{"192.0.2.1"} }), []string{"Policy.Fallback", "AllDown is keep"}},
		{"fallback action without values", pol(func(p *Policy) { p.AllDown = PublishFallback }), []string{"Policy.Fallback", "no fallback value"}},
		{"publish nothing without a deleter", pol(func(p *Policy) { p.AllDown = PublishNothing }), []string{"Providers[0]", "RecordDeleter"}},
		{"unknown all-down action", pol(func(p *Policy) { p.AllDown = 7 }), []string{"Policy.AllDown", "unknown"}},
		{"duplicate record", zone(ok(), ok()), []string{"Records[1]", "duplicate record"}},
		{"CNAME beside A", zone(ok(), Record{Name: "www", Type: "CNAME", Endpoints: []Endpoint{{Value: "x.example.net."}}, Check: newSwitchboard()}), []string{"CNAME cannot share a name with A"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(Config{Zones: []Zone{tc.zone}})
			if err == nil {
				t.Fatalf("New returned a Manager (%v), want an error", m)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("got %v, want it to wrap ErrInvalidConfig", err)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Errorf("got %T, want a *ConfigError inside", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got error %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestNewReportsEveryProblemAtOnce(t *testing.T) {
	bad := Record{Name: "www", Type: "A", Endpoints: []Endpoint{{Value: "nope"}, {Value: "192.0.2.1"}, {Value: "192.0.2.1"}}, Policy: Policy{Interval: -1}}
	_, err := New(Config{Zones: []Zone{{Name: "example.test", Records: []Record{bad}}}})
	for _, w := range []string{"trailing dot", "no provider", `"nope"`, "duplicate endpoint", "no checker", "Policy.Interval"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("got %v, want it to mention %q", err, w)
		}
	}
}

func TestNewDoesNotChangeTheCallersConfig(t *testing.T) {
	cfg := oneZone(getSetter{}, wwwRecord(newSwitchboard(), Policy{AllDown: PublishFallback, Fallback: []string{"192.0.2.99"}}))
	if _, err := New(cfg); err != nil {
		t.Fatal(err)
	}
	if p := cfg.Zones[0].Records[0].Policy; p.Interval != 0 || p.Fallback[0] != "192.0.2.99" {
		t.Fatalf("New changed the caller's policy: %+v", p)
	}
}

func TestNewAcceptsNormalisedForms(t *testing.T) {
	cfg := Config{Zones: []Zone{{Name: "Example.Test.", Providers: []Provider{getSetter{}}, Records: []Record{
		{Name: "@", Type: "aaaa", Endpoints: []Endpoint{{Value: "2001:DB8::1"}}, Check: newSwitchboard()},
		{Name: "alias", Type: "CNAME", Endpoints: []Endpoint{{Value: "Target.Example.Net"}, {Value: "other.example.net.", Priority: 1}}, Check: newSwitchboard()},
	}}}}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	recs := m.Status().Zones[0].Records
	if recs[0].Endpoints[0].Value != "2001:db8::1" || recs[1].Endpoints[0].Value != "target.example.net." {
		t.Fatalf("got %+v, want values in canonical form", recs)
	}
	if _, err := m.record(RecordID{Zone: "example.test.", Name: "ALIAS", Type: "cname"}); err != nil {
		t.Fatalf("lookup ignoring case: %v", err)
	}
}
