package rfc2136

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/dnsfailover/failover/internal/dnstxt"
	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// toRR converts a libdns record of zone to a wire record. Names in the
// value that do not end in a dot are relative to zone, as in a zone file.
func toRR(r libdns.RR, zone string) (dns.RR, error) {
	label := fmt.Sprintf("%s %s %q", r.Name, r.Type, r.Data)
	switch {
	case r.Name == "":
		return nil, fmt.Errorf("%s: name is empty (the apex is \"@\")", label)
	case r.Type == "":
		return nil, fmt.Errorf("%s: type is empty", label)
	case r.TTL < 0 || r.TTL/time.Second > math.MaxInt32:
		return nil, fmt.Errorf("%s: TTL %v is out of range", label, r.TTL)
	case strings.ContainsAny(r.Data, "\n\r") && !strings.EqualFold(r.Type, "TXT"):
		return nil, fmt.Errorf("%s: value contains a line break", label)
	}
	owner := libdns.AbsoluteName(r.Name, zone)
	if _, ok := dns.IsDomainName(owner); !ok {
		return nil, fmt.Errorf("%s: %q is not a domain name", label, owner)
	}
	if i := strings.IndexFunc(owner, func(c rune) bool { return c < '!' || c > '~' }); i >= 0 {
		return nil, fmt.Errorf("%s: name %q holds %q, outside printable ASCII: write an internationalised name in its ASCII form (Punycode, xn--…)", label, owner, []rune(owner[i:])[0])
	}
	hdr := dns.RR_Header{Name: owner, Class: dns.ClassINET, Ttl: uint32(r.TTL / time.Second)}
	if strings.EqualFold(r.Type, "TXT") {
		hdr.Rrtype = dns.TypeTXT
		return &dns.TXT{Hdr: hdr, Txt: dnstxt.Strings(r.Data)}, nil
	}
	rr, err := dns.NewRR(fmt.Sprintf("$ORIGIN %s\n%s %d IN %s %s", zone, owner, hdr.Ttl, r.Type, r.Data))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: %w", label, err)
	case rr == nil:
		return nil, fmt.Errorf("%s: value is empty", label)
	}
	return rr, nil
}

// fromRR converts a wire record of zone to the libdns type for it (an
// opaque libdns.RR when libdns has none or cannot parse the value).
func fromRR(rr dns.RR, zone string) (libdns.Record, error) {
	h := rr.Header()
	name := libdns.RelativeName(h.Name, zone)
	ttl := time.Duration(h.Ttl) * time.Second
	switch rr := rr.(type) {
	case *dns.TXT:
		text, err := dnstxt.Unescape(strings.Join(rr.Txt, ""))
		if err != nil {
			return nil, fmt.Errorf("TXT record %s: %w", h.Name, err)
		}
		return libdns.TXT{Name: name, TTL: ttl, Text: text}, nil
	case *dns.RFC3597:
		return libdns.RR{Name: name, TTL: ttl, Type: fmt.Sprintf("TYPE%d", h.Rrtype),
			Data: fmt.Sprintf(`\# %d %s`, len(rr.Rdata)/2, rr.Rdata)}, nil
	}
	raw := libdns.RR{Name: name, TTL: ttl, Type: dns.TypeToString[h.Rrtype],
		Data: strings.TrimPrefix(rr.String(), h.String())}
	if rec, err := raw.Parse(); err == nil {
		return rec, nil
	}
	return raw, nil
}
