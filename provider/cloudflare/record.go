package cloudflare

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/dnsfailover/failover/internal/dnstxt"
	"github.com/libdns/libdns"
)

// record is a DNS record in Cloudflare's API. Fields left empty are not
// sent: a PATCH keeps them.
type record struct {
	ID       string         `json:"id,omitempty"`
	Type     string         `json:"type,omitempty"`
	Name     string         `json:"name,omitempty"`
	Content  string         `json:"content,omitempty"`
	TTL      int            `json:"ttl,omitempty"`
	Priority *uint16        `json:"priority,omitempty"`
	Data     map[string]any `json:"data,omitempty"`
	Proxied  *bool          `json:"proxied,omitempty"`
	Comment  *string        `json:"comment,omitempty"`
	Tags     []string       `json:"tags,omitempty"`
	Settings map[string]any `json:"settings,omitempty"`
}

// automaticTTL is what a DNS-only record with TTL 1 ("automatic") is
// served with.
const automaticTTL = 300

func (r record) proxied() bool { return r.Proxied != nil && *r.Proxied }

// ttl is the record's TTL in seconds as reads report it: 1 for a proxied
// record (automatic: Cloudflare's to choose), 300 for a DNS-only record on
// automatic, else its TTL.
func (r record) ttl() int {
	switch {
	case r.proxied():
		return 1
	case r.TTL == 1:
		return automaticTTL
	}
	return r.TTL
}

// rr returns the record as a libdns RR with a name relative to zone.
func (r record) rr(zone string) libdns.RR {
	name := libdns.RelativeName(strings.TrimSuffix(r.Name, ".")+".", zone)
	return libdns.RR{Name: name, TTL: time.Duration(r.ttl()) * time.Second, Type: r.Type, Data: r.data()}
}

// data is the record's value in zone-file form, as libdns parses it.
func (r record) data() string {
	num := func(k string) int {
		f, _ := r.Data[k].(float64)
		return int(f)
	}
	str := func(k string) string {
		s, _ := r.Data[k].(string)
		return s
	}
	pri := 0
	if r.Priority != nil {
		pri = int(*r.Priority)
	}
	switch r.Type {
	case "CNAME", "NS", "PTR":
		return fqdn(r.Content)
	case "MX":
		return fmt.Sprintf("%d %s", pri, fqdn(r.Content))
	case "TXT":
		return dnstxt.Text(r.Content)
	case "SRV":
		if r.Data != nil {
			return fmt.Sprintf("%d %d %d %s", num("priority"), num("weight"), num("port"), fqdn(str("target")))
		}
		return fmt.Sprintf("%d %s", pri, r.Content)
	case "CAA":
		if r.Data != nil {
			return fmt.Sprintf("%d %s %q", num("flags"), str("tag"), str("value"))
		}
	case "HTTPS", "SVCB":
		if r.Data != nil {
			return strings.TrimSpace(fmt.Sprintf("%d %s %s", num("priority"), str("target"), str("value")))
		}
	}
	return r.Content
}

// typed returns the record as libdns's typed struct when libdns has one.
func (r record) typed(zone string) libdns.Record {
	rr := r.rr(zone)
	if typed, err := rr.Parse(); err == nil {
		return typed
	}
	return rr
}

// toRecord returns rr as Cloudflare takes it: MX preference in priority;
// SRV, CAA, HTTPS and SVCB as data; names fully qualified without a
// trailing dot; TTL 0 (libdns: the provider's default) as 1, automatic,
// Cloudflare's default.
func toRecord(rr libdns.RR, zone string) (record, error) {
	r := record{Type: strings.ToUpper(rr.Type), Name: strings.TrimSuffix(libdns.AbsoluteName(rr.Name, zone), "."), TTL: max(int(rr.TTL/time.Second), 1), Content: rr.Data}
	bad := func(err error) (record, error) {
		return r, fmt.Errorf("%s %s %q: %w", r.Name, r.Type, rr.Data, err)
	}
	switch r.Type {
	case "A", "AAAA":
		ip, err := netip.ParseAddr(rr.Data)
		if err != nil {
			return bad(err)
		}
		r.Content = ip.String()
	case "CNAME", "NS", "PTR":
		r.Content = strings.TrimSuffix(rr.Data, ".")
	case "MX", "SRV", "CAA", "HTTPS", "SVCB":
		typed, err := rr.Parse()
		if err != nil {
			return bad(err)
		}
		r.Content = ""
		switch t := typed.(type) {
		case libdns.MX:
			r.Priority, r.Content = &t.Preference, strings.TrimSuffix(t.Target, ".")
		case libdns.SRV:
			r.Data = map[string]any{"priority": t.Priority, "weight": t.Weight, "port": t.Port, "target": strings.TrimSuffix(t.Target, ".")}
		case libdns.CAA:
			r.Data = map[string]any{"flags": t.Flags, "tag": t.Tag, "value": t.Value}
		case libdns.ServiceBinding:
			r.Data = map[string]any{"priority": t.Priority, "target": t.Target, "value": t.Params.String()}
		}
	}
	return r, nil
}

// canonical returns the value of r, as a read would return it, so that a
// wanted record and a held one compare exactly.
func (r record) canonical() string {
	if r.Data != nil { // numbers as JSON decodes them
		d := make(map[string]any, len(r.Data))
		for k, v := range r.Data {
			switch n := v.(type) {
			case uint8:
				d[k] = float64(n)
			case uint16:
				d[k] = float64(n)
			default:
				d[k] = v
			}
		}
		r.Data = d
	}
	return r.data()
}

func fqdn(name string) string { return strings.TrimSuffix(name, ".") + "." }
