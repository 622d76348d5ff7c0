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
//     type, zero TTL, empty value) and returns what it deleted.
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
// TTL and value, as libdns specifies. The zone is read first; a record
// written by someone else between the read and the delete is not deleted.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	if err := p.check(zone); err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, nil
	}
	have, err := p.GetRecords(ctx, zone)
	if err != nil {
		return nil, err
	}
	var gone []libdns.Record
	for _, h := range have {
		if h.RR().Type == "SOA" {
			continue
		}
		for _, r := range recs {
			if matches(r.RR(), h.RR(), zone) {
				gone = append(gone, h)
				break
			}
		}
	}
	sets, err := p.rrsets(zone, gone)
	if err != nil {
		return nil, err
	}
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

// update sends sets in as few messages as fit, in order, over one
// connection, and stops at the first failure.
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
	c := &dns.Client{Net: "tcp", TsigSecret: p.secret(), Timeout: exchangeTimeout}
	for i, m := range msgs {
		p.sign(m.msg)
		resp, _, err := c.ExchangeWithConnContext(ctx, m.msg, p.conn(conn))
		if err == nil && resp.Rcode != dns.RcodeSuccess {
			err = fmt.Errorf("the server answered %s", dns.RcodeToString[resp.Rcode])
		}
		if err != nil {
			where := ""
			if len(msgs) > 1 {
				where = fmt.Sprintf(" (UPDATE %d of %d, RRsets %s to %s; the %d before it were applied)",
					i+1, len(msgs), m.first, m.last, i)
			}
			return fmt.Errorf("rfc2136: %s zone %s on %s%s: %w", op, zone, p.Server, where, contextErr(ctx, err))
		}
	}
	return nil
}

var (
	_ libdns.RecordGetter   = (*Provider)(nil)
	_ libdns.RecordSetter   = (*Provider)(nil)
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
)
