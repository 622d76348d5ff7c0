package failover

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/failover/provider/memory"
	"github.com/libdns/libdns"
)

// invalid is a Checker whose Validate fails with err.
type invalid struct{ err error }

func (invalid) Check(context.Context, string) error { return nil }
func (c invalid) Validate() error                   { return c.err }

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

	cname := func(name string, values ...string) Record {
		r := Record{Name: name, Type: "CNAME", Check: newSwitchboard()}
		for i, v := range values {
			r.Endpoints = append(r.Endpoints, Endpoint{Value: v, Priority: i})
		}
		return r
	}
	inZone := func(name string, recs ...Record) Zone {
		return Zone{Name: name, Providers: []Provider{getSetter{}}, Records: recs}
	}
	cfg := func(f func(*Config)) Config { c := Config{Zones: []Zone{zone(ok())}}; f(&c); return c }
	label63 := strings.Repeat("a", 63)
	for _, tc := range []struct {
		name string
		in   any      // a Zone, alone in its Config, or a whole Config
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

		// Nil in disguise: an interface holding a nil pointer or func passes
		// a == nil test and panics at the first call.
		{"typed-nil provider", Zone{Name: testZone, Providers: []Provider{(*memory.Provider)(nil)}, Records: []Record{ok()}}, []string{"Providers[0]", "nil *memory.Provider"}},
		{"typed-nil checker", with(func(r *Record) { r.Check = (*switchboard)(nil) }), []string{`record "www A"`, "Check", "nil *failover.switchboard"}},
		{"nil CheckerFunc", with(func(r *Record) { r.Check = CheckerFunc(nil) }), []string{"Check", "nil failover.CheckerFunc"}},
		{"nil check inside All", with(func(r *Record) { r.Check = All(newSwitchboard(), nil) }), []string{"Check", "check 1: no checker"}},
		{"typed-nil check inside Any", with(func(r *Record) { r.Check = Any(CheckerFunc(nil)) }), []string{"Check", "check 0: nil failover.CheckerFunc"}},
		{"AtLeast that can never be met", with(func(r *Record) { r.Check = AtLeast(3, newSwitchboard(), newSwitchboard()) }), []string{"Check", "AtLeast(3) of 2 checks can never be met"}},
		{"All of nothing", with(func(r *Record) { r.Check = All() }), []string{"Check", "AtLeast(0) of 0"}},
		{"checker's Validate", with(func(r *Record) { r.Check = invalid{errors.New("tcp check: Port: required (1-65535)")} }), []string{`record "www A"`, "Check: tcp check: Port: required"}},
		{"every problem of a checker's Validate", with(func(r *Record) {
			r.Check = invalid{errors.Join(errors.New("http check: Scheme: bad"), errors.New("http check: Port: bad"))}
		}), []string{"Check: http check: Scheme: bad", "Check: http check: Port: bad"}},
		{"Validate inside a composite", with(func(r *Record) {
			r.Check = All(newSwitchboard(), Any(invalid{errors.New("dns check: Name: required")}))
		}), []string{"Check: check 1: check 0: dns check: Name: required"}},
		{"duplicate provider", Zone{Name: testZone, Providers: []Provider{memZone(t), getSetter{}, getSetter{}}, Records: []Record{ok()}}, []string{"Providers[2]", "same provider as Providers[1]"}},

		// Names.
		{"CNAME at the apex", zone(cname("@", "www.example.net.")), []string{`record "@ CNAME"`, "Type", "apex"}},
		{"FQDN over 253 characters", zone(cname(label63+"."+label63+"."+label63+"."+strings.Repeat("x", 50), "a.example.net.")), []string{"Name", "more than 253"}},
		{"label over 63 characters", with(func(r *Record) { r.Name = label63 + "a" }), []string{"Name", "1 to 63 characters"}},
		{"label starting with a hyphen", with(func(r *Record) { r.Name = "-www" }), []string{"Name", "starts or ends with a hyphen"}},
		{"wildcard not first", with(func(r *Record) { r.Name = "www.*" }), []string{"Name", `'*' is not allowed`}},
		{"CNAME target that is an IP address", zone(cname("alias", "192.0.2.1")), []string{`endpoint "192.0.2.1"`, "Endpoints[0].Value", "IP address", "A or AAAA"}},
		{"CNAME target with a wildcard", zone(cname("alias", "*.example.net.")), []string{"Endpoints[0].Value", `'*' is not allowed`}},
		{"CNAME to itself", zone(cname("alias", "ALIAS.example.test.")), []string{"Endpoints[0].Value", "points to the record itself"}},
		{"CNAME fallback of two values", zone(func() Record {
			r := cname("alias", "a.example.net.")
			r.Policy = Policy{AllDown: PublishFallback, Fallback: []string{"b.example.net.", "c.example.net."}}
			return r
		}()), []string{"Policy.Fallback", "a CNAME publishes one value"}},
		{"CNAME fallback that is an IP address", zone(func() Record {
			r := cname("alias", "a.example.net.")
			r.Policy = Policy{AllDown: PublishFallback, Fallback: []string{"192.0.2.1"}}
			return r
		}()), []string{"Policy.Fallback[0]", "IP address"}},
		{"unspecified address", with(func(r *Record) { r.Endpoints[0].Value = "0.0.0.0" }), []string{"Endpoints[0].Value", "unspecified address"}},
		{"same FQDN in two zones", Config{Zones: []Zone{
			inZone("example.com.", cname("www.sub", "a.example.net.")),
			inZone("sub.example.com.", cname("www", "b.example.net.")),
		}}, []string{`zone "example.com."`, `record "www.sub CNAME"`, "Name", `www.sub.example.com. CNAME is also managed in zone "sub.example.com."`}},
		{"record below another managed zone", Config{Zones: []Zone{
			inZone("example.com.", cname("api.sub", "a.example.net.")),
			inZone("sub.example.com.", cname("www", "b.example.net.")),
		}}, []string{`record "api.sub CNAME"`, `api.sub.example.com. is inside zone "sub.example.com."`}},
		{"duplicate nameserver", Zone{Name: testZone, Providers: []Provider{getSetter{}}, Records: []Record{ok()}, Nameservers: []string{"ns1.example.net", "ns1.example.net:53"}}, []string{"Nameservers[1]", "duplicate"}},

		// Durations that are surely a units mistake, and limits.
		{"interval in nanoseconds", pol(func(p *Policy) { p.Interval = 5 }), []string{"Policy.Interval", "5ns is below 1ms"}},
		{"timeout in nanoseconds", pol(func(p *Policy) { p.Timeout = 500 }), []string{"Policy.Timeout", "below 1ms"}},
		{"fast interval in microseconds", pol(func(p *Policy) { p.FastInterval = 250 * time.Microsecond }), []string{"Policy.FastInterval", "below 1ms"}},
		{"confirm interval in nanoseconds", pol(func(p *Policy) { p.ConfirmInterval = 10 }), []string{"Policy.ConfirmInterval", "below 1ms"}},
		{"TTL above 2^31-1 s", pol(func(p *Policy) { p.TTL = (1 << 31) * time.Second }), []string{"Policy.TTL", "more than 2147483647s"}},
		{"failover TTL above 2^31-1 s", pol(func(p *Policy) {
			p.TTL, p.FailoverTTL = (1<<31)*time.Second, (1<<31)*time.Second
		}), []string{"Policy.FailoverTTL", "more than 2147483647s"}},
		{"reconcile interval in nanoseconds", cfg(func(c *Config) { c.ReconcileInterval = 60 }), []string{"ReconcileInterval", "below 1ms"}},
		{"provider timeout in nanoseconds", cfg(func(c *Config) { c.ProviderTimeout = 30 }), []string{"ProviderTimeout", "below 1ms"}},
		{"propagation interval in nanoseconds", cfg(func(c *Config) { c.PropagationInterval = 1 }), []string{"PropagationInterval", "below 1ms"}},
		{"retry backoff above its cap", cfg(func(c *Config) { c.RetryBackoff, c.MaxRetryBackoff = time.Minute, time.Second }), []string{"RetryBackoff", "1m0s is more than MaxRetryBackoff 1s"}},
		{"retry backoff above the default cap", cfg(func(c *Config) { c.RetryBackoff = 2 * time.Minute }), []string{"RetryBackoff", "more than MaxRetryBackoff 1m0s (the default)"}},
		{"propagation interval above its timeout", cfg(func(c *Config) { c.PropagationInterval, c.PropagationTimeout = time.Minute, time.Second }), []string{"PropagationInterval", "more than PropagationTimeout 1s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config, ok := tc.in.(Config)
			if !ok {
				config = Config{Zones: []Zone{tc.in.(Zone)}}
			}
			m, err := New(config)
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
