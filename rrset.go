package failover

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/libdns/libdns"
)

// rrset is the content of one RRset as the Manager compares it: normalised
// values, sorted, and one TTL (-1 when the provider holds mixed TTLs). held
// keeps the records as a provider returned them, to delete them exactly.
type rrset struct {
	values []string
	ttl    time.Duration
	auto   bool // the provider chooses the TTL (see AutomaticTTLProvider)
	held   []libdns.Record
}

func newRRset(values []string, ttl time.Duration) rrset {
	v := slices.Clone(values)
	slices.Sort(v)
	return rrset{values: v, ttl: ttl}
}

// matches reports whether s already holds want, with want's TTL raised to
// floor; any TTL matches when the provider chooses s's.
func (s rrset) matches(want rrset, floor time.Duration) bool {
	if len(want.values) == 0 {
		return len(s.values) == 0
	}
	return slices.Equal(s.values, want.values) && (s.auto || s.ttl == max(want.ttl, floor))
}

// same reports whether s and o are the same decision: values and TTL.
func (s rrset) same(o rrset) bool {
	return slices.Equal(s.values, o.values) && s.ttl == o.ttl
}

// records returns s as libdns records named name, of type typ, with TTL
// ttl. Values were normalised by validation, so they parse.
func (s rrset) records(key rrKey, ttl time.Duration) []libdns.Record {
	recs := make([]libdns.Record, 0, len(s.values))
	for _, v := range s.values {
		switch key.typ {
		case "CNAME":
			recs = append(recs, libdns.CNAME{Name: key.name, TTL: ttl, Target: v})
		default:
			recs = append(recs, libdns.Address{Name: key.name, TTL: ttl, IP: netip.MustParseAddr(v)})
		}
	}
	return recs
}

// managedRRsets picks out of a zone's records the RRsets whose keys are in
// managed. A managed key that the zone does not hold is absent from the
// result.
func managedRRsets(zone string, recs []libdns.Record, managed map[rrKey]bool) map[rrKey]rrset {
	out := map[rrKey]rrset{}
	for _, rec := range recs {
		rr := rec.RR()
		key := rrKey{name: relativeName(rr.Name, zone), typ: strings.ToUpper(rr.Type)}
		if !managed[key] {
			continue
		}
		v, err := normalizeValue(key.typ, rr.Data)
		if err != nil {
			v = rr.Data // kept as is: it differs from any decided value, so it is replaced
		}
		s, seen := out[key]
		switch {
		case !seen:
			s.ttl = rr.TTL.Truncate(time.Second)
		case s.ttl != rr.TTL.Truncate(time.Second):
			s.ttl = -1
		}
		if !slices.Contains(s.values, v) {
			s.values = append(s.values, v)
		}
		s.held = append(s.held, rec)
		out[key] = s
	}
	for k, s := range out {
		slices.Sort(s.values)
		out[k] = s
	}
	return out
}

// relativeName returns name relative to zone, lower case, "@" for the
// apex, whether the provider gave it relative, empty or fully qualified.
func relativeName(name, zone string) string {
	name = strings.ToLower(name)
	switch {
	case name == "" || name == "@":
		return "@"
	case strings.HasSuffix(name, "."):
		return libdns.RelativeName(name, zone)
	}
	return name
}
