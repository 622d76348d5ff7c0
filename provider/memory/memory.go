// Package memory is an in-memory libdns provider with exact libdns v1
// semantics, for tests, examples and demos. It can inject faults (errors,
// delays, partially applied writes) and counts calls per method, so tests
// can assert how a client behaves when a provider misbehaves and how many
// calls it costs.
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

// ErrNoZone is wrapped by the error of every call on a zone the provider
// does not hold.
var ErrNoZone = errors.New("memory: no such zone")

// Provider is an in-memory DNS provider. The zero value is ready to use and
// holds no zones. It is safe for concurrent use and must not be copied after
// first use.
type Provider struct {
	// MinimumTTL, when positive, is the smallest TTL the provider accepts:
	// SetRecords and AppendRecords with a lower TTL fail, naming the record,
	// and change nothing (as Cloudflare does below 60 s).
	MinimumTTL time.Duration

	mu     sync.Mutex
	zones  map[string][]libdns.RR
	faults faults
}

// MinTTL returns MinimumTTL: the floor a client should raise its TTLs to.
func (p *Provider) MinTTL() time.Duration { return p.MinimumTTL }

// AddZone creates zone (an FQDN with its trailing dot) holding recs. It is
// not counted as a call and is never faulted.
func (p *Provider) AddZone(zone string, recs ...libdns.Record) error {
	if !strings.HasSuffix(zone, ".") {
		return fmt.Errorf("memory: zone %q: must end with a dot", zone)
	}
	rrs, err := p.check(zone, recs, false)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.zones[zone]; ok {
		return fmt.Errorf("memory: zone %q already exists", zone)
	}
	if p.zones == nil {
		p.zones = map[string][]libdns.RR{}
	}
	p.zones[zone] = nil
	for _, rr := range rrs {
		p.zones[zone] = add(p.zones[zone], rr)
	}
	return nil
}

// Records returns what zone holds, as typed records sorted by name, type
// and value, or nil if there is no such zone. It is not counted as a call
// and is never faulted.
func (p *Provider) Records(zone string) []libdns.Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	rrs, ok := p.zones[zone]
	if !ok {
		return nil
	}
	return typed(rrs)
}

// GetRecords returns every record of zone.
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	var out []libdns.Record
	err := p.call(ctx, MethodGetRecords, zone, nil, func(_ int) error {
		rrs, err := p.zone(zone)
		out = typed(rrs)
		return err
	})
	return out, err
}

// SetRecords makes zone hold, for every (name, type) pair of recs, exactly
// the records of recs with that pair; other records are untouched. It
// returns the records set. Invalid input changes nothing.
func (p *Provider) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	rrs, err := p.check(zone, recs, true)
	if err != nil {
		return nil, err
	}
	var out []libdns.Record
	err = p.call(ctx, MethodSetRecords, zone, recs, func(partial int) error {
		held, err := p.zone(zone)
		if err != nil {
			return err
		}
		type pair struct{ name, typ string }
		var order []pair
		groups := map[pair][]libdns.RR{}
		for _, rr := range rrs {
			k := pair{rr.Name, rr.Type}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], rr)
		}
		if partial > 0 && partial < len(order) {
			order = order[:partial]
		}
		for _, k := range order {
			held = slices.DeleteFunc(held, func(rr libdns.RR) bool { return rr.Name == k.name && rr.Type == k.typ })
			for _, rr := range groups[k] {
				held = add(held, rr)
				out = append(out, parse(rr))
			}
		}
		p.zones[zone] = held
		return nil
	})
	return out, err
}

// AppendRecords adds recs to zone and returns those that were added: a
// record already held (same name, type and value) is not added twice.
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	rrs, err := p.check(zone, recs, true)
	if err != nil {
		return nil, err
	}
	var out []libdns.Record
	err = p.call(ctx, MethodAppendRecords, zone, recs, func(_ int) error {
		held, err := p.zone(zone)
		if err != nil {
			return err
		}
		for _, rr := range rrs {
			if !slices.ContainsFunc(held, func(h libdns.RR) bool { return h.Name == rr.Name && h.Type == rr.Type && h.Data == rr.Data }) {
				held = append(held, rr)
				out = append(out, parse(rr))
			}
		}
		p.zones[zone] = held
		return nil
	})
	return out, err
}

// DeleteRecords deletes the records of zone that match one of recs by name,
// type, TTL and value; an empty type, a zero TTL or an empty value matches
// any (the libdns wildcards). It returns the records deleted.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	var want []libdns.RR
	for _, r := range recs {
		rr := r.RR()
		if rr.Name == "" {
			return nil, fmt.Errorf("memory: zone %q: delete: record with type %q has no name", zone, rr.Type)
		}
		rr.TTL = rr.TTL.Truncate(time.Second)
		want = append(want, rr)
	}
	var out []libdns.Record
	err := p.call(ctx, MethodDeleteRecords, zone, recs, func(_ int) error {
		held, err := p.zone(zone)
		if err != nil {
			return err
		}
		held = slices.DeleteFunc(held, func(rr libdns.RR) bool {
			for _, w := range want {
				if strings.EqualFold(w.Name, rr.Name) && (w.Type == "" || w.Type == rr.Type) &&
					(w.TTL == 0 || w.TTL == rr.TTL) && (w.Data == "" || w.Data == rr.Data) {
					out = append(out, parse(rr))
					return true
				}
			}
			return false
		})
		p.zones[zone] = held
		return nil
	})
	return out, err
}

// ListZones returns the zones, sorted by name.
func (p *Provider) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	var out []libdns.Zone
	err := p.call(ctx, MethodListZones, "", nil, func(_ int) error {
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
		return nil, fmt.Errorf("%w: %q", ErrNoZone, zone)
	}
	return slices.Clone(rrs), nil
}

// check validates records before anything changes, returning them as RRs
// with TTLs in whole seconds.
func (p *Provider) check(zone string, recs []libdns.Record, floor bool) ([]libdns.RR, error) {
	if !strings.HasSuffix(zone, ".") {
		return nil, fmt.Errorf("%w: %q (a zone ends with a dot)", ErrNoZone, zone)
	}
	var out []libdns.RR
	for _, r := range recs {
		rr := r.RR()
		rr.TTL = rr.TTL.Truncate(time.Second)
		switch {
		case rr.Name == "":
			return nil, fmt.Errorf("memory: zone %q: %s record without a name (use \"@\" for the apex)", zone, rr.Type)
		case strings.HasSuffix(rr.Name, "."):
			return nil, fmt.Errorf("memory: zone %q: name %q must be relative to the zone", zone, rr.Name)
		case rr.Type == "":
			return nil, fmt.Errorf("memory: zone %q: record %q has no type", zone, rr.Name)
		case floor && p.MinimumTTL > 0 && rr.TTL < p.MinimumTTL:
			return nil, fmt.Errorf("memory: zone %q: record %q %s: TTL %v is below the minimum %v", zone, rr.Name, rr.Type, rr.TTL, p.MinimumTTL)
		}
		if _, err := rr.Parse(); err != nil {
			return nil, fmt.Errorf("memory: zone %q: record %q %s %q: %w", zone, rr.Name, rr.Type, rr.Data, err)
		}
		out = append(out, rr)
	}
	return out, nil
}

// add returns rrs with rr added, unless an equal record (name, type,
// value) is there: then its TTL is updated.
func add(rrs []libdns.RR, rr libdns.RR) []libdns.RR {
	for i, h := range rrs {
		if h.Name == rr.Name && h.Type == rr.Type && h.Data == rr.Data {
			rrs[i].TTL = rr.TTL
			return rrs
		}
	}
	return append(rrs, rr)
}

func parse(rr libdns.RR) libdns.Record {
	r, err := rr.Parse()
	if err != nil {
		return rr // not reached: records are parsed before they are stored
	}
	return r
}

// typed returns rrs as sorted typed records.
func typed(rrs []libdns.RR) []libdns.Record {
	rrs = slices.Clone(rrs)
	slices.SortFunc(rrs, func(a, b libdns.RR) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Type, b.Type), strings.Compare(a.Data, b.Data))
	})
	out := make([]libdns.Record, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, parse(rr))
	}
	return out
}
