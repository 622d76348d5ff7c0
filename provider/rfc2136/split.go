package rfc2136

import (
	"errors"
	"fmt"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// rrset is the part of a write that concerns one (name, type): the
// records to add (replace: after deleting the RRset) or to remove.
type rrset struct {
	name, typ string // absolute owner name and type, for messages
	rrs       []dns.RR
	replace   bool // delete the whole RRset before adding rrs
	remove    bool // delete rrs (by value) instead of adding them
}

// rrsets converts recs to wire records grouped by (name, type), in the
// order each pair first appears, checking every record.
func (p *Provider) rrsets(zone string, recs []libdns.Record) ([]rrset, error) {
	if err := p.check(zone); err != nil {
		return nil, err
	}
	var rrs []dns.RR
	var errs []error
	for i, rec := range recs {
		if rec == nil {
			errs = append(errs, fmt.Errorf("record %d is nil", i))
			continue
		}
		rr, err := toRR(rec.RR(), zone)
		if err != nil {
			errs = append(errs, fmt.Errorf("record %d: %w", i, err))
			continue
		}
		rrs = append(rrs, rr)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("rfc2136: zone %s: %w", zone, errors.Join(errs...))
	}
	return group(rrs), nil
}

// group gathers wire records by (name, type), in the order each pair
// first appears.
func group(rrs []dns.RR) []rrset {
	var sets []rrset
	index := map[[2]string]int{}
	for _, rr := range rrs {
		h := rr.Header()
		key := [2]string{dns.CanonicalName(h.Name), dns.TypeToString[h.Rrtype]}
		j, ok := index[key]
		if !ok {
			j = len(sets)
			index[key] = j
			sets = append(sets, rrset{name: h.Name, typ: key[1]})
		}
		sets[j].rrs = append(sets[j].rrs, rr)
	}
	return sets
}

// besideCNAME reports whether the records s adds are data that a CNAME
// at their name excludes (RFC 2136 section 3.4.2.2; DNSSEC records may
// stand beside a CNAME).
func (s rrset) besideCNAME() bool {
	switch {
	case s.remove:
		return false
	case s.typ == "CNAME", s.typ == "RRSIG", s.typ == "NSEC", s.typ == "NSEC3":
		return false
	}
	return true
}

// prerequisite returns the prerequisite-section records of s: for data
// that a CNAME excludes, "no CNAME at the name" (RFC 2136 section 2.4.3,
// class NONE), so that the server refuses the UPDATE (YXRRSET) instead of
// ignoring the records in silence.
func (s rrset) prerequisite() []dns.RR {
	if !s.besideCNAME() {
		return nil
	}
	return []dns.RR{&dns.ANY{Hdr: dns.RR_Header{Name: s.name, Rrtype: dns.TypeCNAME, Class: dns.ClassNONE}}}
}

// section returns the update-section records of s, as RFC 2136 section
// 2.5 spells them: delete an RRset (class ANY, no rdata), delete one
// record (class NONE, TTL 0), add one record (class IN).
func (s rrset) section() []dns.RR {
	var out []dns.RR
	if s.replace {
		out = append(out, &dns.ANY{Hdr: dns.RR_Header{Name: s.name, Rrtype: dns.StringToType[s.typ], Class: dns.ClassANY}})
	}
	for _, rr := range s.rrs {
		rr = dns.Copy(rr)
		h := rr.Header()
		h.Class = dns.ClassINET
		if s.remove {
			h.Class, h.Ttl = dns.ClassNONE, 0
		}
		out = append(out, rr)
	}
	return out
}

// message is one UPDATE, the RRsets it carries and their range, for
// errors.
type message struct {
	msg         *dns.Msg
	sets        []rrset
	first, last string
}

// split packs sets into UPDATE messages of at most p.MaxMessageSize bytes
// with their TSIG, each RRset whole in one message. Sizes are counted
// without name compression, so a message is never larger once packed.
func (p *Provider) split(zone string, sets []rrset) ([]message, error) {
	limit := p.MaxMessageSize
	if limit <= 0 || limit > dns.MaxMsgSize {
		limit = dns.MaxMsgSize
	}
	fresh := func() *dns.Msg {
		m := new(dns.Msg)
		m.SetUpdate(zone)
		m.Compress = true
		return m
	}
	// Header, question and the TSIG record with the longest MAC (SHA-512).
	base := fresh().Len() + dns.Len(&dns.TSIG{
		Hdr:       dns.RR_Header{Name: p.keyName(), Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
		Algorithm: p.keyAlg(),
		MAC:       string(make([]byte, 2*64)),
		OtherData: string(make([]byte, 2*6)),
	})
	var msgs []message
	var cur *message
	size := 0
	for _, s := range sets {
		sec, pre := s.section(), s.prerequisite()
		n := 0
		for _, rr := range append(pre, sec...) {
			n += dns.Len(rr)
		}
		label := s.name + " " + s.typ
		if base+n > limit {
			return nil, fmt.Errorf("RRset %s needs %d bytes, more than one UPDATE message holds (%d)", label, base+n, limit)
		}
		if cur == nil || size+n > limit {
			msgs = append(msgs, message{msg: fresh(), first: label})
			cur, size = &msgs[len(msgs)-1], base
		}
		cur.msg.Answer = append(cur.msg.Answer, pre...)
		cur.msg.Ns = append(cur.msg.Ns, sec...)
		cur.sets = append(cur.sets, s)
		cur.last = label
		size += n
	}
	return msgs, nil
}
