// Package memory is an in-memory libdns provider with exact libdns v1
// semantics, for tests, examples and demos.
//
// A [Provider] holds zones in memory and implements [libdns.RecordGetter],
// [libdns.RecordSetter], [libdns.RecordAppender], [libdns.RecordDeleter] and
// [libdns.ZoneLister] the way the libdns documentation specifies them. It
// also counts calls per method and can inject faults (errors, delays, writes
// left half done), so tests can check how a client copes with a provider
// that misbehaves and how many calls its work costs. Delays wait on a timer
// and the call's context, so a Provider works inside testing/synctest
// bubbles.
package memory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"
)

// ErrNoZone is wrapped by the error of a call on a zone the provider does
// not hold. The error names the zone.
var ErrNoZone = errors.New("memory: no such zone")

// Provider is an in-memory DNS provider. The zero value is ready to use and
// holds no zones; add them with [Provider.AddZone]. A Provider is safe for
// concurrent use and must not be copied after first use.
//
// Records are stored as [libdns.RR] values (name, type, data, TTL truncated
// to whole seconds), with the data written the way libdns writes it, and are
// returned as the typed structs of libdns ([libdns.Address] for A and AAAA,
// [libdns.CNAME], [libdns.TXT], ...), sorted by name, type and data. Every
// slice a Provider returns is new: callers may modify it.
//
// SetRecords, AppendRecords and DeleteRecords are atomic: they validate all
// of their input first, and an error means the zone is unchanged, except
// for SetRecords calls made partial on purpose (see [Provider.PartialNext]
// and [Fault]).
type Provider struct {
	// MinimumTTL, when positive, is the smallest TTL the provider accepts:
	// SetRecords and AppendRecords with a record whose TTL is lower (TTL 0
	// included) fail with an error naming the record, and change nothing,
	// like Cloudflare's 60 s floor. Zero or negative means no floor. Set it
	// before the provider is used; it must not change during calls.
	MinimumTTL time.Duration
	// SilentMinimumTTL, when positive, is a floor the provider applies
	// without saying so: SetRecords and AppendRecords store a record whose
	// TTL is lower with SilentMinimumTTL instead, and succeed, as providers
	// that round TTLs up do. MinTTL does not report it. Set it before the
	// provider is used; it must not change during calls.
	SilentMinimumTTL time.Duration

	mu     sync.Mutex
	zones  map[string][]libdns.RR // by zone name, in no particular order
	faults faults
}

// MinTTL returns MinimumTTL, the smallest TTL the provider accepts (0: no
// floor). Clients that look for this method raise their TTLs to it.
func (p *Provider) MinTTL() time.Duration { return p.MinimumTTL }

// AddZone creates zone, which must be a fully qualified name ending with
// ".", holding recs. It fails if zone lacks the trailing dot, if it exists
// already, or if a record is invalid (as for SetRecords); MinimumTTL does
// not apply. Equal records (name, type, data) collapse into one, the last
// TTL winning. AddZone is not counted as a call and is never faulted.
func (p *Provider) AddZone(zone string, recs ...libdns.Record) error {
	if !strings.HasSuffix(zone, ".") {
		return fmt.Errorf("memory: zone %q: a zone name must end with a dot", zone)
	}
	var rrs []libdns.RR
	for _, r := range recs {
		rr, err := record(zone, r)
		if err != nil {
			return err
		}
		rrs = add(rrs, rr)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.zones[zone]; ok {
		return fmt.Errorf("memory: zone %q already exists", zone)
	}
	if p.zones == nil {
		p.zones = map[string][]libdns.RR{}
	}
	p.zones[zone] = rrs
	return nil
}

// Records returns what zone holds, as typed records sorted by name, type
// and data, or nil if there is no such zone (an empty, non-nil slice for an
// empty zone). It is meant for tests: it is not counted as a call and is
// never faulted.
func (p *Provider) Records(zone string) []libdns.Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	rrs, ok := p.zones[zone]
	if !ok {
		return nil
	}
	return typed(rrs)
}

// GetRecords returns every record of zone, typed and sorted by name, type
// and data. It fails with an error wrapping [ErrNoZone] if there is no such
// zone.
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	var out []libdns.Record
	err := p.call(ctx, MethodGetRecords, zone, nil, func(int) error {
		held, err := p.zone(zone)
		if err != nil {
			return err
		}
		out = typed(held)
		return nil
	})
	return out, err
}

// SetRecords makes zone hold, for every (name, type) pair in recs, exactly
// the records of recs with that pair; records with other pairs are left
// alone. Records equal in name, type and data collapse into one, the last
// TTL winning. It returns the records set, typed and sorted.
//
// It fails, changing nothing, if there is no such zone (the error wraps
// [ErrNoZone]), if a record has an empty name, a fully qualified name (one
// ending with "."), an empty type or data that libdns cannot parse, or if a
// TTL is below MinimumTTL; the error names the zone and the record. When a
// partial fault is injected it applies only the first RRsets and returns
// the records it did set together with the error.
func (p *Provider) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	var out []libdns.Record
	err := p.call(ctx, MethodSetRecords, zone, recs, func(partial int) error {
		held, err := p.zone(zone)
		if err != nil {
			return err
		}
		rrs, err := p.check(zone, recs)
		if err != nil {
			return err
		}
		type pair struct{ name, typ string }
		var order []pair
		for _, rr := range rrs {
			if k := (pair{rr.Name, rr.Type}); !slices.Contains(order, k) {
				order = append(order, k)
			}
		}
		if partial > 0 && partial < len(order) {
			order = order[:partial]
		}
		set := func(rr libdns.RR) bool { return slices.Contains(order, pair{rr.Name, rr.Type}) }
		held = slices.DeleteFunc(held, set)
		for _, rr := range rrs {
			if set(rr) {
				held = add(held, rr)
			}
		}
		p.zones[zone] = held
		var done []libdns.RR
		for _, rr := range held {
			if set(rr) {
				done = append(done, rr)
			}
		}
		out = typed(done)
		return nil
	})
	return out, err
}

// AppendRecords adds recs to zone and returns the records added, typed and
// sorted. It never changes a record already held: a record equal in name,
// type and data to one the zone holds (or to an earlier one of recs) is
// not added again, as a DNS server treats an RRset as a set. It fails, like
// SetRecords and changing nothing, on an unknown zone or invalid input.
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	var out []libdns.Record
	err := p.call(ctx, MethodAppendRecords, zone, recs, func(int) error {
		held, err := p.zone(zone)
		if err != nil {
			return err
		}
		rrs, err := p.check(zone, recs)
		if err != nil {
			return err
		}
		var added []libdns.RR
		for _, rr := range rrs {
			if !slices.ContainsFunc(held, func(h libdns.RR) bool { return same(h, rr) }) {
				held = append(held, rr)
				added = append(added, rr)
			}
		}
		p.zones[zone] = held
		out = typed(added)
		return nil
	})
	return out, err
}

// DeleteRecords deletes the records of zone that match one of recs exactly
// in name, type, TTL (in whole seconds) and data, and returns only the
// records it deleted, typed and sorted; records of recs that match nothing
// are ignored. As libdns specifies, an empty type, a zero TTL or empty data
// in recs matches any. The name cannot be left empty: a record of recs with
// an empty or fully qualified name, or with a type and data libdns cannot
// parse, fails the call, which then changes nothing. An unknown zone fails
// with an error wrapping [ErrNoZone].
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	var out []libdns.Record
	err := p.call(ctx, MethodDeleteRecords, zone, recs, func(int) error {
		held, err := p.zone(zone)
		if err != nil {
			return err
		}
		var want []libdns.RR
		for _, r := range recs {
			w := r.RR()
			if w.Name == "" || strings.HasSuffix(w.Name, ".") {
				return fmt.Errorf("memory: zone %q: DeleteRecords: %s record with name %q: the name must be given, relative to the zone", zone, w.Type, w.Name)
			}
			if w.Type != "" && w.Data != "" {
				rr, err := record(zone, r)
				if err != nil {
					return err
				}
				w.Data = rr.Data
			}
			want = append(want, w) // TTL not truncated: 0 is the wildcard, not 500ms
		}
		var gone []libdns.RR
		held = slices.DeleteFunc(held, func(rr libdns.RR) bool {
			for _, w := range want {
				if w.Name == rr.Name && (w.Type == "" || w.Type == rr.Type) &&
					(w.TTL == 0 || w.TTL.Truncate(time.Second) == rr.TTL) && (w.Data == "" || w.Data == rr.Data) {
					gone = append(gone, rr)
					return true
				}
			}
			return false
		})
		p.zones[zone] = held
		out = typed(gone)
		return nil
	})
	return out, err
}

// ListZones returns the zones the provider holds, sorted by name.
func (p *Provider) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	var out []libdns.Zone
	err := p.call(ctx, MethodListZones, "", nil, func(int) error {
		out = []libdns.Zone{}
		for name := range p.zones {
			out = append(out, libdns.Zone{Name: name})
		}
		slices.SortFunc(out, func(a, b libdns.Zone) int { return strings.Compare(a.Name, b.Name) })
		return nil
	})
	return out, err
}

// zone returns a copy of what zone holds. p.mu must be held.
func (p *Provider) zone(zone string) ([]libdns.RR, error) {
	rrs, ok := p.zones[zone]
	if !ok {
		if !strings.HasSuffix(zone, ".") {
			return nil, fmt.Errorf("%w: %q (a zone name ends with a dot)", ErrNoZone, zone)
		}
		return nil, fmt.Errorf("%w: %q", ErrNoZone, zone)
	}
	return slices.Clone(rrs), nil
}

// check validates recs, the input of a write to zone, and returns them as
// they are stored.
func (p *Provider) check(zone string, recs []libdns.Record) ([]libdns.RR, error) {
	var out []libdns.RR
	for _, r := range recs {
		rr, err := record(zone, r)
		if err != nil {
			return nil, err
		}
		if p.MinimumTTL > 0 && rr.TTL < p.MinimumTTL {
			return nil, fmt.Errorf("memory: zone %q: record %q %s %q: TTL %v is below the provider's minimum %v", zone, rr.Name, rr.Type, rr.Data, rr.TTL, p.MinimumTTL)
		}
		rr.TTL = max(rr.TTL, p.SilentMinimumTTL.Truncate(time.Second))
		out = append(out, rr)
	}
	return out, nil
}

// record validates r, a record to store in zone, and returns it as stored:
// its TTL truncated to whole seconds and its data the way libdns writes it,
// so that what GetRecords returns matches what is stored. A record whose
// name or type libdns parsing would change (an A record holding an IPv6
// address, say) is rejected.
func record(zone string, r libdns.Record) (libdns.RR, error) {
	rr := r.RR()
	rr.TTL = rr.TTL.Truncate(time.Second)
	switch {
	case rr.Name == "":
		return rr, fmt.Errorf("memory: zone %q: %s record %q has no name (use \"@\" for the zone apex)", zone, rr.Type, rr.Data)
	case strings.HasSuffix(rr.Name, "."):
		return rr, fmt.Errorf("memory: zone %q: %s record %q: name must be relative to the zone", zone, rr.Type, rr.Name)
	case rr.Type == "":
		return rr, fmt.Errorf("memory: zone %q: record %q %q has no type", zone, rr.Name, rr.Data)
	}
	parsed, err := rr.Parse()
	if err != nil {
		return rr, fmt.Errorf("memory: zone %q: record %q %s %q: %w", zone, rr.Name, rr.Type, rr.Data, err)
	}
	c := parsed.RR()
	if c.Name != rr.Name || c.Type != rr.Type {
		return rr, fmt.Errorf("memory: zone %q: record %q %s %q: libdns parses it as %q %s", zone, rr.Name, rr.Type, rr.Data, c.Name, c.Type)
	}
	rr.Data = c.Data
	return rr, nil
}

// add returns rrs with rr added, or, if rrs holds a record equal to rr in
// name, type and data, with that record's TTL set to rr's.
func add(rrs []libdns.RR, rr libdns.RR) []libdns.RR {
	if i := slices.IndexFunc(rrs, func(h libdns.RR) bool { return same(h, rr) }); i >= 0 {
		rrs[i].TTL = rr.TTL
		return rrs
	}
	return append(rrs, rr)
}

// same reports whether a and b are the same record: equal in name, type
// and data, whatever their TTLs.
func same(a, b libdns.RR) bool {
	return a.Name == b.Name && a.Type == b.Type && a.Data == b.Data
}

// typed returns rrs as typed records sorted by name, type and data, in a
// new slice.
func typed(rrs []libdns.RR) []libdns.Record {
	rrs = slices.Clone(rrs)
	slices.SortFunc(rrs, func(a, b libdns.RR) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Type, b.Type), strings.Compare(a.Data, b.Data))
	})
	out := make([]libdns.Record, 0, len(rrs))
	for _, rr := range rrs {
		r, err := rr.Parse()
		if err != nil {
			r = rr // not reached: records are parsed before they are stored
		}
		out = append(out, r)
	}
	return out
}
