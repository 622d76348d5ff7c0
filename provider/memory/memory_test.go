package memory

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"
)

// The interfaces a Provider implements.
var (
	_ libdns.RecordGetter   = (*Provider)(nil)
	_ libdns.RecordSetter   = (*Provider)(nil)
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
	_ libdns.ZoneLister     = (*Provider)(nil)
)

const zone = "example.com."

func a(name, ip string, ttl time.Duration) libdns.Record {
	return libdns.Address{Name: name, TTL: ttl, IP: netip.MustParseAddr(ip)}
}

func txt(name, text string, ttl time.Duration) libdns.Record {
	return libdns.TXT{Name: name, TTL: ttl, Text: text}
}

// dump renders records as "name ttl type data" lines, for comparisons.
func dump(recs []libdns.Record) []string {
	var out []string
	for _, r := range recs {
		rr := r.RR()
		out = append(out, fmt.Sprintf("%s %d %s %s", rr.Name, int(rr.TTL.Seconds()), rr.Type, rr.Data))
	}
	return out
}

// newZone returns a provider holding zone with recs.
func newZone(t *testing.T, recs ...libdns.Record) *Provider {
	t.Helper()
	p := &Provider{}
	if err := p.AddZone(zone, recs...); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkZone fails t unless p's zone holds exactly want.
func checkZone(t *testing.T, p *Provider, want ...string) {
	t.Helper()
	if got := dump(p.Records(zone)); !slices.Equal(got, want) {
		t.Fatalf("zone holds %q, want %q", got, want)
	}
}

// The two examples of the libdns SetRecords documentation, and more.
func TestSetRecords(t *testing.T) {
	const h = time.Hour
	for _, tc := range []struct {
		name     string
		zone     []libdns.Record
		input    []libdns.Record
		want     []string // returned
		wantZone []string
	}{
		{
			name:     "libdns example 1",
			zone:     []libdns.Record{a("@", "192.0.2.1", h), a("@", "192.0.2.2", h), txt("@", "hello world", h)},
			input:    []libdns.Record{a("@", "192.0.2.3", h)},
			want:     []string{"@ 3600 A 192.0.2.3"},
			wantZone: []string{"@ 3600 A 192.0.2.3", "@ 3600 TXT hello world"},
		},
		{
			name:  "libdns example 2",
			zone:  []libdns.Record{a("alpha", "2001:db8::1", h), a("alpha", "2001:db8::2", h), a("beta", "2001:db8::3", h), a("beta", "2001:db8::4", h)},
			input: []libdns.Record{a("alpha", "2001:db8::1", h), a("alpha", "2001:db8::2", h), a("alpha", "2001:db8::5", h)},
			want:  []string{"alpha 3600 AAAA 2001:db8::1", "alpha 3600 AAAA 2001:db8::2", "alpha 3600 AAAA 2001:db8::5"},
			wantZone: []string{"alpha 3600 AAAA 2001:db8::1", "alpha 3600 AAAA 2001:db8::2", "alpha 3600 AAAA 2001:db8::5",
				"beta 3600 AAAA 2001:db8::3", "beta 3600 AAAA 2001:db8::4"},
		},
		{
			name:     "duplicates in the input collapse, the last TTL wins",
			zone:     []libdns.Record{a("www", "192.0.2.1", h)},
			input:    []libdns.Record{a("www", "192.0.2.2", h), a("www", "192.0.2.2", time.Minute)},
			want:     []string{"www 60 A 192.0.2.2"},
			wantZone: []string{"www 60 A 192.0.2.2"},
		},
		{
			name:     "a TTL change alone",
			zone:     []libdns.Record{a("www", "192.0.2.1", h)},
			input:    []libdns.Record{a("www", "192.0.2.1", time.Minute)},
			want:     []string{"www 60 A 192.0.2.1"},
			wantZone: []string{"www 60 A 192.0.2.1"},
		},
		{
			name:     "other types of the name are untouched",
			zone:     []libdns.Record{a("www", "192.0.2.1", h), a("www", "2001:db8::1", h), txt("www", "v=1", h)},
			input:    []libdns.Record{a("www", "192.0.2.9", h)},
			want:     []string{"www 3600 A 192.0.2.9"},
			wantZone: []string{"www 3600 A 192.0.2.9", "www 3600 AAAA 2001:db8::1", "www 3600 TXT v=1"},
		},
		{
			name:     "several RRsets, one of them new",
			zone:     []libdns.Record{a("www", "192.0.2.1", h)},
			input:    []libdns.Record{a("api", "192.0.2.7", h), a("www", "192.0.2.8", h), libdns.CNAME{Name: "docs", TTL: h, Target: "www.example.com."}},
			want:     []string{"api 3600 A 192.0.2.7", "docs 3600 CNAME www.example.com.", "www 3600 A 192.0.2.8"},
			wantZone: []string{"api 3600 A 192.0.2.7", "docs 3600 CNAME www.example.com.", "www 3600 A 192.0.2.8"},
		},
		{
			name:     "TTLs are truncated to whole seconds",
			input:    []libdns.Record{a("www", "192.0.2.1", 90*time.Second+900*time.Millisecond)},
			want:     []string{"www 90 A 192.0.2.1"},
			wantZone: []string{"www 90 A 192.0.2.1"},
		},
		{
			name:     "no input changes nothing",
			zone:     []libdns.Record{a("www", "192.0.2.1", h)},
			wantZone: []string{"www 3600 A 192.0.2.1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newZone(t, tc.zone...)
			got, err := p.SetRecords(t.Context(), zone, tc.input)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !slices.Equal(dump(got), tc.want) {
				t.Fatalf("returned %q, want %q", dump(got), tc.want)
			}
			checkZone(t, p, tc.wantZone...)
		})
	}
}

func TestAppendRecords(t *testing.T) {
	const m = time.Minute
	for _, tc := range []struct {
		name     string
		zone     []libdns.Record
		input    []libdns.Record
		want     []string // returned
		wantZone []string
	}{
		{
			name:     "adds to an RRset",
			zone:     []libdns.Record{a("www", "192.0.2.1", m)},
			input:    []libdns.Record{a("www", "192.0.2.2", m)},
			want:     []string{"www 60 A 192.0.2.2"},
			wantZone: []string{"www 60 A 192.0.2.1", "www 60 A 192.0.2.2"},
		},
		{
			name:     "an existing record is neither duplicated nor changed",
			zone:     []libdns.Record{a("www", "192.0.2.1", m)},
			input:    []libdns.Record{a("www", "192.0.2.1", time.Hour), a("www", "192.0.2.9", m)},
			want:     []string{"www 60 A 192.0.2.9"},
			wantZone: []string{"www 60 A 192.0.2.1", "www 60 A 192.0.2.9"},
		},
		{
			name:     "duplicates in the input are added once",
			input:    []libdns.Record{txt("@", "v=1", m), txt("@", "v=1", m)},
			want:     []string{"@ 60 TXT v=1"},
			wantZone: []string{"@ 60 TXT v=1"},
		},
		{
			name:     "nothing new, nothing returned",
			zone:     []libdns.Record{a("www", "192.0.2.1", m)},
			input:    []libdns.Record{a("www", "192.0.2.1", m)},
			wantZone: []string{"www 60 A 192.0.2.1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newZone(t, tc.zone...)
			got, err := p.AppendRecords(t.Context(), zone, tc.input)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !slices.Equal(dump(got), tc.want) {
				t.Fatalf("returned %q, want %q", dump(got), tc.want)
			}
			checkZone(t, p, tc.wantZone...)
		})
	}
}

func TestDeleteRecords(t *testing.T) {
	const m = time.Minute
	initial := []libdns.Record{a("www", "192.0.2.1", m), a("www", "192.0.2.2", time.Hour), a("www", "2001:db8::1", m), txt("www", "v=1", m), a("api", "192.0.2.1", m)}
	for _, tc := range []struct {
		name     string
		input    []libdns.Record
		want     []string // returned
		wantZone []string
	}{
		{
			name:     "exact match",
			input:    []libdns.Record{a("www", "192.0.2.1", m)},
			want:     []string{"www 60 A 192.0.2.1"},
			wantZone: []string{"api 60 A 192.0.2.1", "www 3600 A 192.0.2.2", "www 60 AAAA 2001:db8::1", "www 60 TXT v=1"},
		},
		{
			name:     "another TTL matches nothing",
			input:    []libdns.Record{a("www", "192.0.2.1", time.Hour)},
			wantZone: []string{"api 60 A 192.0.2.1", "www 60 A 192.0.2.1", "www 3600 A 192.0.2.2", "www 60 AAAA 2001:db8::1", "www 60 TXT v=1"},
		},
		{
			name:     "absent records are ignored, only deleted ones returned",
			input:    []libdns.Record{a("www", "192.0.2.99", m), a("nope", "192.0.2.1", m), txt("www", "v=1", m)},
			want:     []string{"www 60 TXT v=1"},
			wantZone: []string{"api 60 A 192.0.2.1", "www 60 A 192.0.2.1", "www 3600 A 192.0.2.2", "www 60 AAAA 2001:db8::1"},
		},
		{
			name:     "zero TTL and empty data: the whole RRset",
			input:    []libdns.Record{libdns.RR{Name: "www", Type: "A"}},
			want:     []string{"www 60 A 192.0.2.1", "www 3600 A 192.0.2.2"},
			wantZone: []string{"api 60 A 192.0.2.1", "www 60 AAAA 2001:db8::1", "www 60 TXT v=1"},
		},
		{
			name:     "zero TTL only",
			input:    []libdns.Record{a("www", "192.0.2.2", 0)},
			want:     []string{"www 3600 A 192.0.2.2"},
			wantZone: []string{"api 60 A 192.0.2.1", "www 60 A 192.0.2.1", "www 60 AAAA 2001:db8::1", "www 60 TXT v=1"},
		},
		{
			name:     "empty type and data: everything of the name with that TTL",
			input:    []libdns.Record{libdns.RR{Name: "www", TTL: m}},
			want:     []string{"www 60 A 192.0.2.1", "www 60 AAAA 2001:db8::1", "www 60 TXT v=1"},
			wantZone: []string{"api 60 A 192.0.2.1", "www 3600 A 192.0.2.2"},
		},
		{
			name:     "empty type: any type with that data",
			input:    []libdns.Record{libdns.RR{Name: "www", Data: "v=1"}},
			want:     []string{"www 60 TXT v=1"},
			wantZone: []string{"api 60 A 192.0.2.1", "www 60 A 192.0.2.1", "www 3600 A 192.0.2.2", "www 60 AAAA 2001:db8::1"},
		},
		{
			name:     "a typed record without data",
			input:    []libdns.Record{libdns.Address{Name: "api"}},
			want:     []string{"api 60 A 192.0.2.1"},
			wantZone: []string{"www 60 A 192.0.2.1", "www 3600 A 192.0.2.2", "www 60 AAAA 2001:db8::1", "www 60 TXT v=1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newZone(t, initial...)
			got, err := p.DeleteRecords(t.Context(), zone, tc.input)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !slices.Equal(dump(got), tc.want) {
				t.Fatalf("returned %q, want %q", dump(got), tc.want)
			}
			checkZone(t, p, tc.wantZone...)
		})
	}
}

// What GetRecords returns is typed, sorted, can be given back to
// DeleteRecords, and belongs to the caller.
func TestGetRecords(t *testing.T) {
	p := newZone(t,
		txt("www", "v=1", time.Minute),
		libdns.RR{Name: "@", Type: "CAA", TTL: time.Minute, Data: "0 issue letsencrypt.org"}, // unquoted: stored as libdns writes it
		libdns.RR{Name: "@", Type: "MX", TTL: time.Minute, Data: "10   mail.example.com."},
		libdns.RR{Name: "v6", Type: "AAAA", TTL: time.Minute, Data: "2001:DB8::1"},
		libdns.CNAME{Name: "docs", TTL: time.Minute, Target: "www.example.com."},
		a("www", "192.0.2.1", time.Minute),
		libdns.RR{Name: "x", Type: "SPF", TTL: time.Minute, Data: "v=spf1 -all"}, // a type libdns does not parse
	)
	recs, err := p.GetRecords(t.Context(), zone)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"@ 60 CAA 0 issue \"letsencrypt.org\"", "@ 60 MX 10 mail.example.com.", "docs 60 CNAME www.example.com.",
		"v6 60 AAAA 2001:db8::1", "www 60 A 192.0.2.1", "www 60 TXT v=1", "x 60 SPF v=spf1 -all"}
	if !slices.Equal(dump(recs), want) {
		t.Fatalf("got %q, want %q", dump(recs), want)
	}
	var types []string
	for _, r := range recs {
		types = append(types, fmt.Sprintf("%T", r))
	}
	wantTypes := []string{"libdns.CAA", "libdns.MX", "libdns.CNAME", "libdns.Address", "libdns.Address", "libdns.TXT", "libdns.RR"}
	if !slices.Equal(types, wantTypes) {
		t.Fatalf("got types %v, want %v", types, wantTypes)
	}

	recs[0] = txt("changed", "by the caller", time.Minute)
	if got := dump(p.Records(zone))[0]; got != want[0] {
		t.Fatalf("after the caller changed its slice the zone starts with %q, want %q", got, want[0])
	}

	recs, _ = p.GetRecords(t.Context(), zone)
	gone, err := p.DeleteRecords(t.Context(), zone, recs)
	if err != nil || len(gone) != len(want) {
		t.Fatalf("deleting what GetRecords returned: got %q, %v, want all %d records", dump(gone), err, len(want))
	}
	checkZone(t, p)

	empty, err := p.GetRecords(t.Context(), zone)
	if err != nil || empty == nil || len(empty) != 0 {
		t.Fatalf("empty zone: got %#v, %v, want an empty slice", empty, err)
	}
}

func TestListZones(t *testing.T) {
	p := &Provider{}
	zones, err := p.ListZones(t.Context())
	if err != nil || len(zones) != 0 {
		t.Fatalf("no zones: got %v, %v, want none", zones, err)
	}
	for _, z := range []string{"b.example.", "a.example.", "c.example."} {
		if err := p.AddZone(z); err != nil {
			t.Fatal(err)
		}
	}
	zones, err = p.ListZones(t.Context())
	want := []libdns.Zone{{Name: "a.example."}, {Name: "b.example."}, {Name: "c.example."}}
	if err != nil || !slices.Equal(zones, want) {
		t.Fatalf("got %v, %v, want %v", zones, err, want)
	}
}

func TestAddZone(t *testing.T) {
	p := &Provider{MinimumTTL: time.Hour}
	if err := p.AddZone(zone, a("www", "192.0.2.1", time.Minute), a("www", "192.0.2.1", time.Second)); err != nil {
		t.Fatalf("got %v, want no error (MinimumTTL does not apply)", err)
	}
	checkZone(t, p, "www 1 A 192.0.2.1")
	for _, tc := range []struct {
		name, zone string
		recs       []libdns.Record
		wantErr    string
	}{
		{"exists", zone, nil, `"example.com."`},
		{"no trailing dot", "example.net", nil, `"example.net"`},
		{"empty", "", nil, `""`},
		{"bad record", "example.org.", []libdns.Record{libdns.RR{Name: "www", Type: "A", Data: "x"}}, `"www"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := p.AddZone(tc.zone, tc.recs...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want an error naming %s", err, tc.wantErr)
			}
		})
	}
	if got := p.Records("example.org."); got != nil {
		t.Fatalf("a failed AddZone left a zone holding %q", dump(got))
	}
	for _, m := range []Method{MethodGetRecords, MethodSetRecords, MethodAppendRecords, MethodDeleteRecords, MethodListZones} {
		if n := p.Calls(m); n != 0 {
			t.Fatalf("AddZone and Records counted as %d %s calls, want 0", n, m)
		}
	}
}

func TestUnknownZone(t *testing.T) {
	p := newZone(t, a("www", "192.0.2.1", time.Minute))
	recs := []libdns.Record{a("www", "192.0.2.1", time.Minute)}
	for _, z := range []string{"example.net.", "example.com", "", "."} {
		for _, tc := range []struct {
			method string
			call   func() ([]libdns.Record, error)
		}{
			{"GetRecords", func() ([]libdns.Record, error) { return p.GetRecords(t.Context(), z) }},
			{"SetRecords", func() ([]libdns.Record, error) { return p.SetRecords(t.Context(), z, recs) }},
			{"AppendRecords", func() ([]libdns.Record, error) { return p.AppendRecords(t.Context(), z, recs) }},
			{"DeleteRecords", func() ([]libdns.Record, error) { return p.DeleteRecords(t.Context(), z, recs) }},
		} {
			t.Run(fmt.Sprintf("%s %q", tc.method, z), func(t *testing.T) {
				got, err := tc.call()
				if !errors.Is(err, ErrNoZone) || !strings.Contains(err.Error(), fmt.Sprintf("%q", z)) {
					t.Fatalf("got %v, want an error wrapping ErrNoZone naming %q", err, z)
				}
				if got != nil {
					t.Fatalf("got records %q, want none", dump(got))
				}
			})
		}
	}
	if got := p.Records("example.net."); got != nil {
		t.Fatalf("Records of an unknown zone: got %q, want nil", dump(got))
	}
	checkZone(t, p, "www 60 A 192.0.2.1")
}

// Invalid input fails the whole call, naming the zone and the record, and
// changes nothing, even when other records of the call are valid.
func TestBadInputChangesNothing(t *testing.T) {
	ok := a("ok", "192.0.2.5", time.Minute)
	for _, tc := range []struct {
		name    string
		bad     libdns.Record
		wantErr string // besides the zone
	}{
		{"empty name", a("", "192.0.2.2", time.Minute), `"192.0.2.2"`},
		{"fully qualified name", a("www.example.com.", "192.0.2.2", time.Minute), `"www.example.com."`},
		{"no type", libdns.RR{Name: "www", Data: "x", TTL: time.Minute}, `"www"`},
		{"unparsable data", libdns.RR{Name: "www", Type: "A", Data: "not-an-ip", TTL: time.Minute}, `"www" A "not-an-ip"`},
		{"A holding an IPv6 address", libdns.RR{Name: "www", Type: "A", Data: "2001:db8::1", TTL: time.Minute}, `"www" A`},
		{"MX without a target", libdns.RR{Name: "@", Type: "MX", Data: "10", TTL: time.Minute}, `"@" MX`},
	} {
		for _, method := range []Method{MethodSetRecords, MethodAppendRecords} {
			t.Run(fmt.Sprintf("%s %s", method, tc.name), func(t *testing.T) {
				p := newZone(t, a("www", "192.0.2.1", time.Minute))
				write := p.SetRecords
				if method == MethodAppendRecords {
					write = p.AppendRecords
				}
				got, err := write(t.Context(), zone, []libdns.Record{ok, tc.bad})
				if err == nil || !strings.Contains(err.Error(), `"example.com."`) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error naming the zone and %s", err, tc.wantErr)
				}
				if got != nil {
					t.Fatalf("got records %q, want none", dump(got))
				}
				checkZone(t, p, "www 60 A 192.0.2.1")
			})
		}
	}
	for _, tc := range []struct {
		name string
		bad  libdns.Record
	}{
		{"empty name", libdns.RR{Type: "A"}},
		{"fully qualified name", libdns.RR{Name: "www.example.com.", Type: "A"}},
		{"unparsable data", libdns.RR{Name: "www", Type: "A", Data: "not-an-ip"}},
	} {
		t.Run("DeleteRecords "+tc.name, func(t *testing.T) {
			p := newZone(t, a("www", "192.0.2.1", time.Minute))
			got, err := p.DeleteRecords(t.Context(), zone, []libdns.Record{libdns.RR{Name: "www", Type: "A"}, tc.bad})
			if err == nil || !strings.Contains(err.Error(), `"example.com."`) {
				t.Fatalf("got %v, want an error naming the zone", err)
			}
			if got != nil {
				t.Fatalf("got records %q, want none", dump(got))
			}
			checkZone(t, p, "www 60 A 192.0.2.1")
		})
	}
}

func TestMinimumTTL(t *testing.T) {
	for _, tc := range []struct {
		name    string
		min     time.Duration
		ttl     time.Duration
		wantErr bool
	}{
		{"no floor, TTL 0", 0, 0, false},
		{"no floor, TTL 1s", 0, time.Second, false},
		{"below", time.Minute, 59 * time.Second, true},
		{"below by a fraction of a second", time.Minute, time.Minute - time.Millisecond, true},
		{"TTL 0 is below", time.Minute, 0, true},
		{"at the floor", time.Minute, time.Minute, false},
		{"above", time.Minute, time.Hour, false},
	} {
		for _, method := range []Method{MethodSetRecords, MethodAppendRecords} {
			t.Run(fmt.Sprintf("%s %s", method, tc.name), func(t *testing.T) {
				p := newZone(t, a("www", "192.0.2.1", time.Hour))
				p.MinimumTTL = tc.min
				if got := p.MinTTL(); got != tc.min {
					t.Fatalf("MinTTL: got %v, want %v", got, tc.min)
				}
				write := p.SetRecords
				if method == MethodAppendRecords {
					write = p.AppendRecords
				}
				_, err := write(t.Context(), zone, []libdns.Record{a("api", "192.0.2.2", time.Hour), a("www", "192.0.2.3", tc.ttl)})
				if !tc.wantErr {
					if err != nil {
						t.Fatalf("got %v, want no error", err)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), `"www" A "192.0.2.3"`) {
					t.Fatalf("got %v, want an error naming the record", err)
				}
				checkZone(t, p, "www 3600 A 192.0.2.1")
			})
		}
	}
	t.Run("DeleteRecords ignores the floor", func(t *testing.T) {
		p := newZone(t, a("www", "192.0.2.1", time.Second))
		p.MinimumTTL = time.Minute
		if got, err := p.DeleteRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.1", time.Second)}); err != nil || len(got) != 1 {
			t.Fatalf("got %q, %v, want the record deleted", dump(got), err)
		}
	})
}

// Many goroutines write different names at once (run with -race).
func TestConcurrentWrites(t *testing.T) {
	p := newZone(t)
	const workers, rounds = 32, 16
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			name := fmt.Sprintf("host%d", i)
			for j := range rounds {
				if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{a(name, fmt.Sprintf("192.0.2.%d", j+1), time.Minute)}); err != nil {
					t.Error(err)
				}
				if _, err := p.AppendRecords(t.Context(), zone, []libdns.Record{txt(name, fmt.Sprint(j), time.Minute)}); err != nil {
					t.Error(err)
				}
				if _, err := p.GetRecords(t.Context(), zone); err != nil {
					t.Error(err)
				}
				p.Records(zone)
			}
			if _, err := p.DeleteRecords(t.Context(), zone, []libdns.Record{libdns.RR{Name: name, Type: "TXT"}}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	recs := p.Records(zone)
	if len(recs) != workers {
		t.Fatalf("got %d records, want one per name (%d)", len(recs), workers)
	}
	for _, r := range recs {
		if want := fmt.Sprintf("192.0.2.%d", rounds); r.RR().Data != want {
			t.Fatalf("got %q, want each name's last write (%s)", dump([]libdns.Record{r}), want)
		}
	}
	for _, m := range []Method{MethodSetRecords, MethodAppendRecords, MethodGetRecords} {
		if got := p.Calls(m); got != workers*rounds {
			t.Fatalf("got %d %s calls, want %d", got, m, workers*rounds)
		}
	}
}

func TestSilentMinimumTTL(t *testing.T) {
	for _, tc := range []struct {
		name string
		ttl  time.Duration
		want string
	}{
		{"below is raised", 30 * time.Second, "www 60 A 192.0.2.3"},
		{"TTL 0 is raised", 0, "www 60 A 192.0.2.3"},
		{"at the floor", time.Minute, "www 60 A 192.0.2.3"},
		{"above is kept", time.Hour, "www 3600 A 192.0.2.3"},
	} {
		for _, method := range []Method{MethodSetRecords, MethodAppendRecords} {
			t.Run(fmt.Sprintf("%s %s", method, tc.name), func(t *testing.T) {
				p := newZone(t)
				p.SilentMinimumTTL = time.Minute
				write := p.SetRecords
				if method == MethodAppendRecords {
					write = p.AppendRecords
				}
				if _, err := write(t.Context(), zone, []libdns.Record{a("www", "192.0.2.3", tc.ttl)}); err != nil {
					t.Fatalf("got %v, want no error (the floor is silent)", err)
				}
				checkZone(t, p, tc.want)
				if got := p.MinTTL(); got != 0 {
					t.Fatalf("MinTTL: got %v, want 0 (the floor is not declared)", got)
				}
			})
		}
	}
}
