package authdns

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// maxChain bounds how many CNAMEs are followed inside the zone.
const maxChain = 8

// answer builds the reply to req as an authoritative server would.
func (s *Server) answer(req *dns.Msg) *dns.Msg {
	resp := new(dns.Msg)
	resp.SetReply(req)
	if len(req.Question) != 1 {
		return resp.SetRcode(req, dns.RcodeFormatError)
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	switch {
	case q.Qclass != dns.ClassINET:
		return resp.SetRcode(req, dns.RcodeRefused)
	case !dns.IsSubDomain(s.zone, name):
		return resp.SetRcode(req, dns.RcodeRefused)
	}
	resp.Authoritative = true

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	recs, err := s.src.GetRecords(ctx, s.zone)
	if err != nil {
		return resp.SetRcode(req, dns.RcodeServerFailure)
	}
	zone := s.records(recs)

	for i := 0; i < maxChain; i++ {
		rrs, exists := zone.at(name)
		if !exists {
			if i == 0 {
				resp.Rcode = dns.RcodeNameError
			}
			break
		}
		var match, cname []dns.RR
		for _, rr := range rrs {
			switch t := rr.Header().Rrtype; {
			case t == q.Qtype || q.Qtype == dns.TypeANY:
				match = append(match, rr)
			case t == dns.TypeCNAME:
				cname = append(cname, rr)
			}
		}
		if len(match) > 0 {
			resp.Answer = append(resp.Answer, match...)
			return resp
		}
		if len(cname) == 0 {
			break // the name exists without this type: NODATA
		}
		resp.Answer = append(resp.Answer, cname[0])
		name = strings.ToLower(cname[0].(*dns.CNAME).Target)
		if !dns.IsSubDomain(s.zone, name) {
			return resp // the resolver follows it elsewhere
		}
	}
	resp.Ns = append(resp.Ns, zone.soa) // NXDOMAIN or NODATA: the SOA gives the negative TTL
	return resp
}

// zoneData is the zone as DNS records, by lower-case owner name.
type zoneData struct {
	byName map[string][]dns.RR
	soa    dns.RR
}

// at returns the records at name, and whether the name exists (it holds
// records, or is an empty non-terminal above names that do).
func (z zoneData) at(name string) ([]dns.RR, bool) {
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

// records converts the libdns records of the zone, skipping those that do
// not parse, and adds an SOA and NS at the apex when the zone has none.
func (s *Server) records(recs []libdns.Record) zoneData {
	z := zoneData{byName: map[string][]dns.RR{}}
	for _, r := range recs {
		rr, err := toDNS(r.RR(), s.zone)
		if err != nil {
			continue
		}
		owner := strings.ToLower(rr.Header().Name)
		rr.Header().Name = owner
		z.byName[owner] = append(z.byName[owner], rr)
	}
	for _, rr := range z.byName[s.zone] {
		if rr.Header().Rrtype == dns.TypeSOA {
			z.soa = rr
		}
	}
	if z.soa == nil {
		z.soa, _ = dns.NewRR(fmt.Sprintf("%s 30 IN SOA ns1.%s hostmaster.%s 1 3600 600 86400 30", s.zone, s.zone, s.zone))
		z.byName[s.zone] = append(z.byName[s.zone], z.soa)
	}
	hasNS := false
	for _, rr := range z.byName[s.zone] {
		hasNS = hasNS || rr.Header().Rrtype == dns.TypeNS
	}
	if !hasNS {
		ns, _ := dns.NewRR(fmt.Sprintf("%s 3600 IN NS ns1.%s", s.zone, s.zone))
		z.byName[s.zone] = append(z.byName[s.zone], ns)
	}
	return z
}

// toDNS converts one libdns RR, whose name is relative to zone.
func toDNS(rr libdns.RR, zone string) (dns.RR, error) {
	owner := libdns.AbsoluteName(rr.Name, zone)
	ttl := uint32(rr.TTL / time.Second)
	if rr.Type == "TXT" { // libdns holds the text unescaped; zone-file syntax would need quoting
		txt := &dns.TXT{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: ttl}}
		for data := rr.Data; ; data = data[255:] {
			if len(data) <= 255 {
				txt.Txt = append(txt.Txt, data)
				break
			}
			txt.Txt = append(txt.Txt, data[:255])
		}
		return txt, nil
	}
	return dns.NewRR(fmt.Sprintf("%s %d IN %s %s", owner, ttl, rr.Type, rr.Data))
}
