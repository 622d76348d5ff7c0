package authdns

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

const (
	// maxChain bounds how many CNAMEs one answer follows inside the zone.
	maxChain = 8
	// lookupTimeout bounds the GetRecords call of one query.
	lookupTimeout = 2 * time.Second
	// ednsSize is the UDP payload size the server advertises.
	ednsSize = 1232
	// negativeTTL is the TTL and minimum of the synthesized SOA, hence how
	// long resolvers cache NXDOMAIN and NODATA.
	negativeTTL = 30
	// nsTTL is the TTL of the synthesized apex NS record.
	nsTTL = 3600
)

// answer builds the reply to req as an authoritative server for the zone
// would, from the records src holds now.
func (s *Server) answer(ctx context.Context, req *dns.Msg) *dns.Msg {
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.Compress = true
	if opt := req.IsEdns0(); opt != nil {
		resp.SetEdns0(ednsSize, false)
		if opt.Version() != 0 {
			resp.Rcode = dns.RcodeBadVers
			return resp
		}
	}
	if req.Opcode != dns.OpcodeQuery {
		resp.Rcode = dns.RcodeNotImplemented
		return resp
	}
	if len(req.Question) != 1 {
		resp.Rcode = dns.RcodeFormatError
		return resp
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	if q.Qclass != dns.ClassINET || !dns.IsSubDomain(s.apex, name) || q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR {
		resp.Rcode = dns.RcodeRefused
		return resp
	}

	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	recs, err := s.src.GetRecords(ctx, s.zone)
	cancel()
	if err != nil {
		resp.Rcode = dns.RcodeServerFailure
		return resp
	}
	resp.Authoritative = true
	newZone(s.zone, recs).resolve(resp, name, q.Qtype)
	return resp
}

// zone is the zone's data as DNS records, by lower-case owner name, with
// an SOA and NS at the apex (synthesized when the records have none).
type zone struct {
	apex   string
	byName map[string][]dns.RR
	soa    *dns.SOA
}

// newZone converts the libdns records of zone origin, skipping those that
// do not parse or lie outside the zone, and duplicates.
func newZone(origin string, recs []libdns.Record) *zone {
	z := &zone{apex: strings.ToLower(origin), byName: map[string][]dns.RR{}}
	seen := map[string]bool{}
	for _, r := range recs {
		if r == nil {
			continue
		}
		rr, err := toRR(r.RR(), origin)
		if err != nil {
			continue
		}
		owner := strings.ToLower(rr.Header().Name)
		if !dns.IsSubDomain(z.apex, owner) {
			continue
		}
		rr.Header().Name = owner
		key := rr.String()
		if seen[key] {
			continue
		}
		seen[key] = true
		if soa, ok := rr.(*dns.SOA); ok && owner == z.apex {
			if z.soa != nil {
				continue // one SOA per zone
			}
			z.soa = soa
		}
		z.byName[owner] = append(z.byName[owner], rr)
	}
	if z.soa == nil {
		z.soa = &dns.SOA{
			Hdr:     dns.RR_Header{Name: z.apex, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: negativeTTL},
			Ns:      "ns1." + z.apex,
			Mbox:    "hostmaster." + z.apex,
			Serial:  1,
			Refresh: 3600,
			Retry:   600,
			Expire:  86400,
			Minttl:  negativeTTL,
		}
		z.byName[z.apex] = append(z.byName[z.apex], z.soa)
	}
	if !z.has(z.apex, dns.TypeNS) {
		z.byName[z.apex] = append(z.byName[z.apex], &dns.NS{
			Hdr: dns.RR_Header{Name: z.apex, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: nsTTL},
			Ns:  "ns1." + z.apex,
		})
	}
	return z
}

// has reports whether name holds a record of type t.
func (z *zone) has(name string, t uint16) bool {
	for _, rr := range z.byName[name] {
		if rr.Header().Rrtype == t {
			return true
		}
	}
	return false
}

// lookup returns the records at name, and whether the name exists: it
// holds records, or is an empty non-terminal above names that do.
func (z *zone) lookup(name string) ([]dns.RR, bool) {
	if rrs, ok := z.byName[name]; ok {
		return rrs, true
	}
	for owner := range z.byName {
		if strings.HasSuffix(owner, "."+name) {
			return nil, true
		}
	}
	return nil, false
}

// resolve fills resp for a query of name (lower case, in the zone) and
// qtype: the RRset, or the CNAME chain followed inside the zone, or a
// negative answer (NODATA or NXDOMAIN for the last name of the chain)
// with the SOA in the authority section.
func (z *zone) resolve(resp *dns.Msg, name string, qtype uint16) {
	followed := map[string]bool{}
	for range maxChain + 1 {
		rrs, ok := z.lookup(name)
		if !ok {
			resp.Rcode = dns.RcodeNameError
			resp.Ns = append(resp.Ns, z.negativeSOA())
			return
		}
		var cname *dns.CNAME
		found := false
		for _, rr := range rrs {
			if t := rr.Header().Rrtype; t == qtype || qtype == dns.TypeANY {
				resp.Answer = append(resp.Answer, rr)
				found = true
			} else if c, ok := rr.(*dns.CNAME); ok && cname == nil {
				cname = c
			}
		}
		if found {
			return
		}
		if cname == nil { // the name exists without this type: NODATA
			resp.Ns = append(resp.Ns, z.negativeSOA())
			return
		}
		resp.Answer = append(resp.Answer, cname)
		followed[name] = true
		name = strings.ToLower(cname.Target)
		if followed[name] || !dns.IsSubDomain(z.apex, name) {
			return // a loop, or a target the resolver looks up elsewhere
		}
	}
}

// negativeSOA returns the SOA for a negative answer, its TTL lowered to
// the SOA minimum as RFC 2308 asks.
func (z *zone) negativeSOA() dns.RR {
	soa := dns.Copy(z.soa).(*dns.SOA)
	soa.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
	return soa
}

// toRR converts one libdns record, whose name is relative to origin. The
// data is read in zone-file syntax with origin as $ORIGIN (so relative
// names in it are in the zone), except TXT data, which libdns holds as
// unescaped text.
func toRR(r libdns.RR, origin string) (dns.RR, error) {
	if r.Type == "" || strings.ContainsAny(r.Name+r.Type, " \t\r\n") || strings.ContainsAny(r.Data, "\r\n") {
		return nil, fmt.Errorf("malformed record %+v", r)
	}
	owner := libdns.AbsoluteName(r.Name, origin)
	ttl := uint32(min(max(r.TTL/time.Second, 0), math.MaxInt32))
	if strings.EqualFold(r.Type, "TXT") {
		txt := &dns.TXT{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: ttl}}
		// miekg/dns keeps TXT strings escaped; at most 255 bytes each.
		for data := r.Data; ; {
			n := min(len(data), 255)
			txt.Txt = append(txt.Txt, strings.ReplaceAll(data[:n], `\`, `\\`))
			if data = data[n:]; data == "" {
				break
			}
		}
		return txt, nil
	}
	if strings.TrimSpace(r.Data) == "" {
		return nil, fmt.Errorf("record %+v has no data", r) // would parse to empty RDATA
	}
	// Like dns.NewRR, but with the zone as origin and $INCLUDE off.
	zp := dns.NewZoneParser(strings.NewReader(fmt.Sprintf("%s %d IN %s %s\n", owner, ttl, r.Type, r.Data)), origin, "")
	rr, ok := zp.Next()
	if !ok {
		if err := zp.Err(); err != nil {
			return nil, err
		}
		return nil, errors.New("no record")
	}
	return rr, nil
}
