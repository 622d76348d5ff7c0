// Package rfc2136 is a libdns provider for any DNS server that takes RFC
// 2136 dynamic updates signed with TSIG (BIND, Knot, PowerDNS, …) and
// allows zone transfers to the same key. It replaces
// github.com/libdns/rfc2136 v1.0.1, which sends a whole write as one UPDATE
// message: about 900 short RRsets exceed a DNS message ("dns: message too
// large"), so a large zone never fails over, and the same write is retried
// forever. Here:
//
//   - A write is split into UPDATE messages of at most MaxMessageSize bytes
//     (over TCP), every RRset whole inside one message. Each message is
//     applied atomically by the server; a write that needs several is not
//     atomic as a whole, and after an error the messages before the failed
//     one have been applied (the error says how many).
//   - TXT values are written and read as raw text (quotes, backslashes and
//     bytes outside printable ASCII round-trip), split into 255-octet
//     strings.
//   - DeleteRecords reads the zone first, honours libdns's wildcards (empty
//     type, zero TTL, empty value), deletes each record exactly as held
//     and returns what it deleted.
//   - A CNAME and other data at one name are an error naming the records
//     (wrapping ErrCNAMEConflict), not a silent no-op: the server ignores
//     such an addition and answers NOERROR (RFC 2136 section 3.4.2.2).
//     Records that a CNAME excludes are sent with the prerequisite "no
//     CNAME at this name"; a CNAME written is queried back.
//   - Owner names must be printable ASCII: an internationalised name is
//     written in its ASCII form (Punycode, xn--…). BIND refuses others;
//     Knot takes the raw bytes and lists them escaped (b\195\188cher), so
//     the record would never be found under the name written.
//   - A SERVFAIL for an RRset of more than 100 records says that BIND
//     (9.18.28 and later) likely refused it for its max-records-per-type.
//
// Reads are a TSIG-signed zone transfer (AXFR).
package rfc2136

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// DefaultKeyAlg is the TSIG algorithm used when Provider.KeyAlg is empty.
const DefaultKeyAlg = "hmac-sha256"

// exchangeTimeout bounds each message's round trip when the context has no
// earlier deadline.
const exchangeTimeout = 30 * time.Second

// Provider writes to one primary server with RFC 2136 UPDATE messages and
// reads with AXFR, both over TCP and signed with one TSIG key. Its methods
// are safe for concurrent use; the server serialises the updates.
type Provider struct {
	// Server is the primary's host:port, such as "192.0.2.53:53".
	Server string
	// KeyName is the TSIG key's name; KeyAlg its algorithm (empty means
	// DefaultKeyAlg); Key its base64 secret.
	KeyName string
	KeyAlg  string
	Key     string
	// MaxMessageSize bounds each UPDATE message in bytes, TSIG included.
	// Zero means 65,535, the most a DNS message over TCP can hold.
	MaxMessageSize int
}

// String names the server and the key, never the secret.
func (p *Provider) String() string { return fmt.Sprintf("rfc2136 %s key %s", p.Server, p.KeyName) }

// GoString is String: fmt's %#v shows no secret either.
func (p *Provider) GoString() string { return p.String() }

func (p *Provider) keyName() string { return strings.ToLower(dns.Fqdn(p.KeyName)) }

func (p *Provider) keyAlg() string {
	if p.KeyAlg == "" {
		return dns.Fqdn(DefaultKeyAlg)
	}
	return strings.ToLower(dns.Fqdn(p.KeyAlg))
}

func (p *Provider) check(zone string) error {
	var errs []error
	if p.Server == "" {
		errs = append(errs, errors.New("the Server field is empty"))
	}
	if p.KeyName == "" {
		errs = append(errs, errors.New("the KeyName field is empty"))
	}
	if p.Key == "" {
		errs = append(errs, errors.New("the Key field is empty"))
	}
	if !strings.HasSuffix(zone, ".") {
		errs = append(errs, fmt.Errorf("zone %q has no trailing dot", zone))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("rfc2136: zone %s on %s: %w", zone, p.Server, err)
	}
	return nil
}

// dial opens a TCP connection to the server that is closed when ctx ends;
// close it with the returned stop.
func (p *Provider) dial(ctx context.Context) (net.Conn, func(), error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", p.Server)
	if err != nil {
		return nil, nil, err
	}
	stopClose := context.AfterFunc(ctx, func() { c.Close() })
	return c, func() { stopClose(); c.Close() }, nil
}

// conn wraps c for one signed exchange: package dns chains the MAC of
// every message sent on one dns.Conn into the next, as for the messages of
// one zone transfer, which a server rejects for separate requests.
func (p *Provider) conn(c net.Conn) *dns.Conn {
	return &dns.Conn{Conn: c, TsigSecret: p.secret()}
}

func (p *Provider) secret() map[string]string { return map[string]string{p.keyName(): p.Key} }

// sign adds a TSIG record to m; the connection computes its MAC.
func (p *Provider) sign(m *dns.Msg) {
	m.SetTsig(p.keyName(), p.keyAlg(), 300, time.Now().Unix())
}

// GetRecords returns every record of zone, read by a zone transfer (the
// SOA once). TXT records carry their raw text.
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	if err := p.check(zone); err != nil {
		return nil, err
	}
	rrs, err := p.transfer(ctx, zone)
	if err != nil {
		return nil, fmt.Errorf("rfc2136: reading zone %s from %s: %w", zone, p.Server, err)
	}
	recs := make([]libdns.Record, 0, len(rrs))
	for _, rr := range rrs {
		rec, err := fromRR(rr, zone)
		if err != nil {
			return nil, fmt.Errorf("rfc2136: reading zone %s from %s: %w", zone, p.Server, err)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// transfer returns the zone's records by AXFR, without the closing SOA.
func (p *Provider) transfer(ctx context.Context, zone string) ([]dns.RR, error) {
	c, stop, err := p.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer stop()
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	tr := &dns.Transfer{Conn: p.conn(c), TsigSecret: p.secret()}
	m := new(dns.Msg)
	m.SetAxfr(zone)
	p.sign(m)
	env, err := tr.In(m, p.Server)
	if err != nil {
		return nil, contextErr(ctx, err)
	}
	var rrs []dns.RR
	for e := range env { // the channel closes after an error envelope
		if e.Error != nil {
			return nil, contextErr(ctx, e.Error)
		}
		rrs = append(rrs, e.RR...)
	}
	if n := len(rrs); n > 1 && rrs[n-1].Header().Rrtype == dns.TypeSOA {
		rrs = rrs[:n-1]
	}
	return rrs, nil
}

// contextErr prefers the context's error to the network error it caused.
func contextErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

// SetRecords replaces, for each (name, type) of recs, the RRset in zone by
// the records of recs with that pair; other RRsets are untouched. Each
// UPDATE message deletes and re-adds whole RRsets; a write that fits one
// message is atomic. It returns recs.
func (p *Provider) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	sets, err := p.rrsets(zone, recs)
	if err != nil {
		return nil, err
	}
	for i := range sets {
		sets[i].replace = true
	}
	if err := p.update(ctx, zone, "setting", sets); err != nil {
		return nil, err
	}
	return recs, nil
}

// AppendRecords adds recs to zone; records already there stay (a server
// ignores an exact duplicate). It returns recs.
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	sets, err := p.rrsets(zone, recs)
	if err != nil {
		return nil, err
	}
	if err := p.update(ctx, zone, "appending to", sets); err != nil {
		return nil, err
	}
	return recs, nil
}

// DeleteRecords deletes from zone the records that match recs and returns
// them. A record matches on name and, unless left empty (zero), on type,
// TTL and value, as libdns specifies. The zone is read first, and each
// record is deleted exactly as read (a TXT value held as several
// character-strings is deleted as those strings; RFC 2136 deletes only an
// exact match); a record written by someone else between the read and the
// delete is not deleted.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	if err := p.check(zone); err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, nil
	}
	have, err := p.transfer(ctx, zone)
	if err != nil {
		return nil, fmt.Errorf("rfc2136: reading zone %s from %s: %w", zone, p.Server, err)
	}
	var gone []libdns.Record
	var wire []dns.RR
	for _, h := range have {
		if h.Header().Rrtype == dns.TypeSOA {
			continue
		}
		rec, err := fromRR(h, zone)
		if err != nil {
			return nil, fmt.Errorf("rfc2136: reading zone %s from %s: %w", zone, p.Server, err)
		}
		for _, r := range recs {
			if matches(r.RR(), rec.RR(), zone) {
				gone = append(gone, rec)
				wire = append(wire, h)
				break
			}
		}
	}
	sets := group(wire)
	for i := range sets {
		sets[i].remove = true
	}
	if err := p.update(ctx, zone, "deleting from", sets); err != nil {
		return nil, err
	}
	return gone, nil
}

// matches reports whether the zone's record h matches the delete pattern r.
func matches(r, h libdns.RR, zone string) bool {
	return strings.EqualFold(r.Name, h.Name) &&
		(r.Type == "" || strings.EqualFold(r.Type, h.Type)) &&
		(r.TTL == 0 || r.TTL == h.TTL) &&
		(r.Data == "" || sameData(r, h, zone))
}

// sameData compares values as the server holds them: both are converted
// to wire records and compared by rdata.
func sameData(r, h libdns.RR, zone string) bool {
	if r.Data == h.Data {
		return true
	}
	a, errA := toRR(r, zone)
	b, errB := toRR(h, zone)
	return errA == nil && errB == nil && dns.IsDuplicate(a, b)
}

// ErrCNAMEConflict is in the error of a write that held a CNAME and other
// data at one name: a CNAME beside records of another type, or records
// beside a CNAME. A server ignores such an addition in silence and answers
// NOERROR (RFC 2136 section 3.4.2.2); the error names every record
// concerned. The rest of the write is applied. Find it with errors.Is.
var ErrCNAMEConflict = errors.New("a CNAME cannot have other data beside it (RFC 2136 section 3.4.2.2)")

// maxRecordsPerType is BIND's default max-records-per-type (9.18.28 and
// later): a larger RRset is refused with a bare SERVFAIL.
const maxRecordsPerType = 100

// update sends sets in as few messages as fit, in order, over one
// connection, and stops at the first failure. Records that a CNAME
// excludes carry the prerequisite that their name holds no CNAME: when the
// server refuses a message for it, the names holding one are found, and
// the message is sent again without them. A CNAME written is queried back
// (the server would have ignored it beside other data). Both end in an
// error wrapping ErrCNAMEConflict, once every message has been sent.
func (p *Provider) update(ctx context.Context, zone, op string, sets []rrset) error {
	if len(sets) == 0 {
		return ctx.Err()
	}
	msgs, err := p.split(zone, sets)
	if err != nil {
		return fmt.Errorf("rfc2136: %s zone %s on %s: %w", op, zone, p.Server, err)
	}
	conn, stop, err := p.dial(ctx)
	if err != nil {
		return fmt.Errorf("rfc2136: %s zone %s on %s: %w", op, zone, p.Server, contextErr(ctx, err))
	}
	defer stop()
	x := exchanger{p: p, conn: conn, c: &dns.Client{Net: "tcp", TsigSecret: p.secret(), Timeout: exchangeTimeout}}
	var conflicts []string
	for i, m := range msgs {
		found, err := x.send(ctx, zone, m)
		conflicts = append(conflicts, found...)
		if err != nil {
			where := ""
			if len(msgs) > 1 {
				where = fmt.Sprintf(" (UPDATE %d of %d, RRsets %s to %s; the %d before it were applied)",
					i+1, len(msgs), m.first, m.last, i)
			}
			return fmt.Errorf("rfc2136: %s zone %s on %s%s: %w", op, zone, p.Server, where, contextErr(ctx, err))
		}
	}
	if len(conflicts) > 0 {
		return fmt.Errorf("rfc2136: %s zone %s on %s: %w: not written: %s", op, zone, p.Server, ErrCNAMEConflict, strings.Join(conflicts, "; "))
	}
	return nil
}

// exchanger sends signed messages over one connection.
type exchanger struct {
	p    *Provider
	conn net.Conn
	c    *dns.Client
}

func (x exchanger) exchange(ctx context.Context, m *dns.Msg) (*dns.Msg, error) {
	x.p.sign(m)
	resp, _, err := x.c.ExchangeWithConnContext(ctx, m, x.p.conn(x.conn))
	return resp, err
}

// send sends one UPDATE message and returns the records it could not
// write for a CNAME conflict.
func (x exchanger) send(ctx context.Context, zone string, m message) ([]string, error) {
	resp, err := x.exchange(ctx, m.msg)
	if err != nil {
		return nil, err
	}
	var conflicts []string
	sent := m.sets
	if resp.Rcode == dns.RcodeYXRrset { // a name of m holds a CNAME
		var rest []rrset
		for _, s := range m.sets {
			if !s.besideCNAME() {
				rest = append(rest, s)
				continue
			}
			cname, err := x.held(ctx, s.name)
			if err != nil {
				return nil, err
			}
			if len(cname) > 0 {
				conflicts = append(conflicts, fmt.Sprintf("%s %s (%s holds a CNAME to %s)", s.name, s.typ, s.name, cname[0].(*dns.CNAME).Target))
				continue
			}
			rest = append(rest, s)
		}
		if len(conflicts) == 0 {
			return nil, errors.New("the server answered YXRRSET (a name written holds a CNAME), but none holds one now")
		}
		if len(rest) == 0 {
			return conflicts, nil
		}
		again, err := x.p.split(zone, rest) // a part of one message: one message
		if err != nil {
			return nil, err
		}
		if resp, err = x.exchange(ctx, again[0].msg); err != nil {
			return nil, err
		}
		sent = rest
	}
	if resp.Rcode != dns.RcodeSuccess {
		return nil, rcodeError(resp.Rcode, sent)
	}
	for _, s := range sent {
		if s.typ != "CNAME" || s.remove {
			continue
		}
		cname, err := x.held(ctx, s.name)
		if err != nil {
			return nil, err
		}
		if len(cname) != 1 || !dns.IsDuplicate(cname[0], s.rrs[0]) {
			conflicts = append(conflicts, fmt.Sprintf("%s CNAME %s (%s holds other data: the server ignored the CNAME)", s.name, s.rrs[0].(*dns.CNAME).Target, s.name))
		}
	}
	return conflicts, nil
}

// held returns the CNAME held at name, if any, asked of the server.
func (x exchanger) held(ctx context.Context, name string) ([]dns.RR, error) {
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeCNAME)
	resp, err := x.exchange(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("asking for the CNAME of %s: %w", name, err)
	}
	var out []dns.RR
	for _, rr := range resp.Answer {
		if rr.Header().Rrtype == dns.TypeCNAME && strings.EqualFold(rr.Header().Name, name) {
			out = append(out, rr)
		}
	}
	return out, nil
}

// rcodeError says that the server refused a message of sets, and why it
// likely did when the answer alone does not tell.
func rcodeError(rcode int, sets []rrset) error {
	err := fmt.Errorf("the server answered %s", dns.RcodeToString[rcode])
	if rcode != dns.RcodeServerFailure {
		return err
	}
	var big []string
	for _, s := range sets {
		if !s.remove && len(s.rrs) > maxRecordsPerType {
			big = append(big, fmt.Sprintf("%s %s has %d records", s.name, s.typ, len(s.rrs)))
		}
	}
	if len(big) == 0 {
		return err
	}
	return fmt.Errorf("%w: likely the server's limit of records per RRset: %s, and BIND 9.18.28 and later refuse more than max-records-per-type (%d by default) with SERVFAIL", err, strings.Join(big, ", "), maxRecordsPerType)
}

var (
	_ libdns.RecordGetter   = (*Provider)(nil)
	_ libdns.RecordSetter   = (*Provider)(nil)
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
)
