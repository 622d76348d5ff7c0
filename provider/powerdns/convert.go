package powerdns

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dnsfailover/failover/internal/dnstxt"
	"github.com/libdns/libdns"
)

// group converts recs to REPLACE changes, one per (name, type) in the
// order each pair first appears, checking every record. Identical values
// are sent once (PowerDNS refuses duplicates).
func group(zone string, recs []libdns.Record) ([]rrset, error) {
	if !strings.HasSuffix(zone, ".") {
		return nil, fmt.Errorf("powerdns: zone %q has no trailing dot", zone)
	}
	var sets []rrset
	index := map[[2]string]int{}
	var errs []error
	for i, rec := range recs {
		if rec == nil {
			errs = append(errs, fmt.Errorf("record %d is nil", i))
			continue
		}
		rr := rec.RR()
		name, typ, content, err := toAPI(rr, zone)
		if err != nil {
			errs = append(errs, fmt.Errorf("record %d (%s %s %q): %w", i, rr.Name, rr.Type, rr.Data, err))
			continue
		}
		key := [2]string{strings.ToLower(name), typ}
		j, ok := index[key]
		if !ok {
			j = len(sets)
			index[key] = j
			sets = append(sets, rrset{Name: name, Type: typ, TTL: int(rr.TTL / time.Second), ChangeType: "REPLACE"})
		}
		if !hasContent(sets[j].Records, content) {
			sets[j].Records = append(sets[j].Records, record{Content: content})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("powerdns: zone %s: %w", zone, err)
	}
	return sets, nil
}

// toAPI returns the API's absolute name, type and content for rr.
func toAPI(rr libdns.RR, zone string) (name, typ, content string, err error) {
	switch {
	case rr.Name == "":
		return "", "", "", errors.New(`name is empty (the apex is "@")`)
	case rr.Type == "":
		return "", "", "", errors.New("type is empty")
	case rr.TTL < 0:
		return "", "", "", fmt.Errorf("TTL %v is negative", rr.TTL)
	case rr.Data == "" && !strings.EqualFold(rr.Type, "TXT"):
		return "", "", "", errors.New("value is empty")
	}
	typ = strings.ToUpper(rr.Type)
	content = rr.Data
	name = libdns.AbsoluteName(rr.Name, zone)
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	switch {
	case typ == "TXT":
		return name, typ, dnstxt.Quote(rr.Data), nil
	case strings.ContainsAny(content, "\n\r"):
		return "", "", "", errors.New("value contains a line break")
	case typ == "SVCB" || typ == "HTTPS":
		content = svcbContent(content)
	}
	return name, typ, qualify(typ, strings.TrimSpace(content)), nil
}

// nameField is, for the types whose value holds a domain name, which
// field (from 0) it is.
var nameField = map[string]int{"CNAME": 0, "DNAME": 0, "NS": 0, "PTR": 0, "MX": 1, "SRV": 3, "SVCB": 1, "HTTPS": 1}

// qualify returns a value of type typ with its domain name fully
// qualified (a trailing dot added), as PowerDNS wants it; the rest of the
// value is left as it is.
func qualify(typ, value string) string {
	i, ok := nameField[typ]
	if !ok {
		return value
	}
	end := 0
	for range i + 1 {
		start := end + strings.IndexFunc(value[end:], func(r rune) bool { return r != ' ' && r != '\t' })
		if start < end {
			return value // fewer fields: PowerDNS says what is wrong
		}
		end = start + strings.IndexAny(value[start:], " \t")
		if end < start {
			end = len(value)
		}
	}
	if strings.HasSuffix(value[:end], ".") {
		return value
	}
	return value[:end] + "." + value[end:]
}

// svcbContent returns an SVCB or HTTPS value as PowerDNS accepts it: its
// parameters in key order and unquoted (libdns writes them sorted by name,
// some quoted). A value with a space inside a parameter is left as is.
func svcbContent(value string) string {
	f := strings.Fields(value)
	if len(f) < 3 || strings.Count(value, `"`) != 2*strings.Count(value, `="`) {
		return value
	}
	params := f[2:]
	for i, p := range params {
		k, v, _ := strings.Cut(p, "=")
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			params[i] = k + "=" + v[1:len(v)-1]
		}
	}
	slices.SortStableFunc(params, func(a, b string) int { return cmp.Compare(svcbKey(a), svcbKey(b)) })
	return strings.Join(f, " ")
}

// svcbKey is the number of a parameter's key (RFC 9460 section 14.3.2).
func svcbKey(param string) int {
	k, _, _ := strings.Cut(param, "=")
	if n, ok := strings.CutPrefix(k, "key"); ok {
		if i, err := strconv.Atoi(n); err == nil {
			return i
		}
	}
	if i := slices.Index([]string{"mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint", "dohpath", "ohttp"}, k); i >= 0 {
		return i
	}
	return 1 << 16
}

// fromAPI converts one record of an API RRset to the libdns type for it
// (an opaque libdns.RR when libdns has none or cannot parse the value).
func fromAPI(s rrset, content, zone string) (libdns.Record, error) {
	rr := libdns.RR{Name: libdns.RelativeName(s.Name, zone), TTL: time.Duration(s.TTL) * time.Second, Type: s.Type, Data: content}
	if s.Type == "TXT" {
		text, err := dnstxt.Unquote(content)
		if err != nil {
			return nil, fmt.Errorf("%s TXT: %w", s.Name, err)
		}
		return libdns.TXT{Name: rr.Name, TTL: rr.TTL, Text: text}, nil
	}
	if rec, err := rr.Parse(); err == nil {
		return rec, nil
	}
	return rr, nil
}

// matchesAny reports whether the zone's record h matches one of the delete
// patterns: on name, and on type, TTL and value unless left empty.
func matchesAny(pats []libdns.RR, h libdns.RR) bool {
	for _, r := range pats {
		if strings.EqualFold(r.Name, h.Name) &&
			(r.Type == "" || strings.EqualFold(r.Type, h.Type)) &&
			(r.TTL == 0 || r.TTL == h.TTL) &&
			(r.Data == "" || normal(r) == normal(h)) {
			return true
		}
	}
	return false
}

// normal is rr's value as libdns writes it after parsing (so that
// "2001:0db8::1" and "2001:db8::1" compare equal).
func normal(rr libdns.RR) string {
	if rec, err := rr.Parse(); err == nil {
		return rec.RR().Data
	}
	return rr.Data
}
