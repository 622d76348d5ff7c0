package route53

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/dnsfailover/failover/internal/dnstxt"
	"github.com/libdns/libdns"
)

// Quotas of one ChangeResourceRecordSets request (Route 53 quotas,
// "Elements and characters in ChangeResourceRecordSets requests"); an
// UPSERT counts twice against both.
const (
	maxRecordsPerRequest = 1000
	maxCharsPerRequest   = 32000
)

// Writes to one zone are serialised (SetRecords, AppendRecords and
// DeleteRecords each wait for the others' calls on the zone): an append
// reads the set and upserts it whole, so two at once would each drop the
// other's value.

// SetRecords replaces, for each (name, type) of recs, the record set with
// recs (TTL from the first record of each), with one UPSERT per set in one
// ChangeResourceRecordSets request, applied atomically by Route 53 (split
// into several, each atomic, only beyond the request quotas). An RRset
// held as an alias or as routing-policy sets is refused with an error and
// nothing is sent (see the package doc).
func (p *Provider) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	unlock, err := p.writing.Lock(ctx, zone)
	if err != nil {
		return nil, wrap("writing to", zone, err)
	}
	defer unlock()
	z, err := p.zoneRead(ctx, zone, false)
	if err != nil {
		return nil, err
	}
	order, sets := group(recs, zone)
	if err := z.refuse(order); err != nil {
		return nil, wrap("writing to", zone, err)
	}
	var changes []types.Change
	for _, k := range order {
		changes = append(changes, change(types.ChangeActionUpsert, k, sets[k]))
	}
	if err := p.send(ctx, z, changes); err != nil {
		return nil, wrap("writing to", zone, err)
	}
	return recs, nil
}

// AppendRecords adds recs to the record sets of zone (a set that does not
// exist is created with the TTL of its first record), in one request
// after reading the zone once.
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	unlock, err := p.writing.Lock(ctx, zone)
	if err != nil {
		return nil, wrap("appending to", zone, err)
	}
	defer unlock()
	z, err := p.zoneRead(ctx, zone, true)
	if err != nil {
		return nil, err
	}
	order, sets := group(recs, zone)
	if err := z.refuse(order); err != nil {
		return nil, wrap("appending to", zone, err)
	}
	var changes []types.Change
	z.mu.Lock()
	for _, k := range order {
		set := sets[k]
		if held, ok := z.simple[k]; ok {
			values := slices.Clone(held.values)
			for _, v := range set.values {
				if !slices.ContainsFunc(values, func(h string) bool { return sameValue(k.typ, h, v) }) {
					values = append(values, v)
				}
			}
			set = recordSets{ttl: held.ttl, values: values}
		}
		changes = append(changes, change(types.ChangeActionUpsert, k, set))
	}
	z.mu.Unlock()
	if err := p.send(ctx, z, changes); err != nil {
		return nil, wrap("appending to", zone, err)
	}
	return recs, nil
}

// DeleteRecords deletes the records of zone that match recs and returns
// them: same name, same type (any when empty), same value (any when
// empty), same TTL (any when zero). It reads the zone once and sends one
// request: a set left empty is deleted, others are upserted with the
// values that remain.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	unlock, err := p.writing.Lock(ctx, zone)
	if err != nil {
		return nil, wrap("deleting from", zone, err)
	}
	defer unlock()
	z, err := p.zoneRead(ctx, zone, true)
	if err != nil {
		return nil, err
	}
	z.mu.Lock()
	remain := map[pair][]string{}
	var order, targeted []pair
	var out []libdns.Record
	for _, r := range recs {
		rr := r.RR()
		name := strings.ToLower(libdns.AbsoluteName(rr.Name, zone))
		for k, held := range z.simple {
			if k.name != name || rr.Type != "" && k.typ != strings.ToUpper(rr.Type) || rr.TTL != 0 && time.Duration(held.ttl)*time.Second != rr.TTL.Truncate(time.Second) {
				continue
			}
			values, seen := remain[k]
			if !seen {
				values = slices.Clone(held.values)
				order = append(order, k)
			}
			want := value(rr)
			values = slices.DeleteFunc(values, func(v string) bool {
				if rr.Data != "" && !sameValue(k.typ, v, want) {
					return false
				}
				out = append(out, libdns.RR{Name: libdns.RelativeName(k.name, zone), Type: k.typ, TTL: time.Duration(held.ttl) * time.Second, Data: text(k.typ, v)})
				return true
			})
			remain[k] = values
		}
		if rr.Type != "" {
			targeted = append(targeted, pair{name, strings.ToUpper(rr.Type)})
		}
	}
	var changes []types.Change
	for _, k := range order {
		held := z.simple[k]
		switch {
		case len(remain[k]) == len(held.values):
		case len(remain[k]) == 0:
			changes = append(changes, change(types.ChangeActionDelete, k, held))
		default:
			changes = append(changes, change(types.ChangeActionUpsert, k, recordSets{ttl: held.ttl, values: remain[k]}))
		}
	}
	z.mu.Unlock()
	if err := z.refuse(targeted); err != nil {
		return nil, wrap("deleting from", zone, err)
	}
	if len(changes) == 0 {
		return nil, nil
	}
	if err := p.send(ctx, z, changes); err != nil {
		return nil, wrap("deleting from", zone, err)
	}
	return out, nil
}

// zoneRead returns zone's hosted zone after a full read of it: a new read
// when fresh, else the last one (made now if there was none).
func (p *Provider) zoneRead(ctx context.Context, zone string, fresh bool) (*hostedZone, error) {
	z, err := p.zone(ctx, zone)
	if err != nil {
		return nil, err
	}
	z.mu.Lock()
	read := z.read
	z.mu.Unlock()
	if fresh || !read {
		if _, err := p.read(ctx, z); err != nil {
			return nil, wrap("reading", zone, err)
		}
	}
	return z, nil
}

// group gathers recs into record sets by (name, type), in order of first
// appearance, each with the TTL of its first record and its values as
// Route 53 takes them, without duplicates.
func group(recs []libdns.Record, zone string) ([]pair, map[pair]recordSets) {
	var order []pair
	sets := map[pair]recordSets{}
	for _, r := range recs {
		rr := r.RR()
		k := pair{strings.ToLower(libdns.AbsoluteName(rr.Name, zone)), strings.ToUpper(rr.Type)}
		set, ok := sets[k]
		if !ok {
			order = append(order, k)
			set.ttl = int64(rr.TTL / time.Second)
		}
		if v := value(rr); !slices.Contains(set.values, v) {
			set.values = append(set.values, v)
		}
		sets[k] = set
	}
	return order, sets
}

// value is rr's data as Route 53 takes it: TXT quoted, with octal
// escapes.
func value(rr libdns.RR) string {
	if t := strings.ToUpper(rr.Type); t == "TXT" || t == "SPF" {
		return dnstxt.QuoteOctal(rr.Data)
	}
	return rr.Data
}

// text is a value of type typ as Route 53 holds it, as libdns holds it:
// TXT as its text.
func text(typ, v string) string {
	if typ == "TXT" || typ == "SPF" {
		return dnstxt.TextOctal(v)
	}
	return v
}

// sameValue reports whether two values of type typ are the same record
// data: TXT by text, addresses by address, others ignoring case and a
// final dot.
func sameValue(typ, a, b string) bool {
	switch typ {
	case "TXT", "SPF":
		return dnstxt.TextOctal(a) == dnstxt.TextOctal(b)
	case "A", "AAAA":
		x, errX := netip.ParseAddr(a)
		y, errY := netip.ParseAddr(b)
		if errX == nil && errY == nil {
			return x == y
		}
	}
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}

func change(action types.ChangeAction, k pair, set recordSets) types.Change {
	rs := &types.ResourceRecordSet{Name: aws.String(k.name), Type: types.RRType(k.typ), TTL: aws.Int64(set.ttl)}
	for _, v := range set.values {
		rs.ResourceRecords = append(rs.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return types.Change{Action: action, ResourceRecordSet: rs}
}

// cost is what a change counts against a request's quotas.
func cost(c types.Change) (records, chars int) {
	weight := 1
	if c.Action == types.ChangeActionUpsert {
		weight = 2
	}
	for _, r := range c.ResourceRecordSet.ResourceRecords {
		records += weight
		chars += weight * len(aws.ToString(r.Value))
	}
	return records, chars
}

// send applies changes in as few ChangeResourceRecordSets requests as the
// quotas allow, in order, each change whole in one request, and waits for
// each to be INSYNC when asked to.
func (p *Provider) send(ctx context.Context, z *hostedZone, changes []types.Change) error {
	var batch []types.Change
	records, chars := 0, 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		out, err := p.client.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{
			HostedZoneId: aws.String(z.id),
			ChangeBatch:  &types.ChangeBatch{Changes: batch},
		})
		batch, records, chars = nil, 0, 0
		if err != nil {
			return err
		}
		if !p.opts.WaitForSync {
			return nil
		}
		wait := p.opts.MaxWait
		if wait <= 0 {
			wait = time.Minute
		}
		waiter := r53.NewResourceRecordSetsChangedWaiter(p.client, func(o *r53.ResourceRecordSetsChangedWaiterOptions) {
			o.MinDelay, o.MaxDelay = time.Second, 10*time.Second
		})
		return waiter.Wait(ctx, &r53.GetChangeInput{Id: out.ChangeInfo.Id}, wait)
	}
	for _, c := range changes {
		r, n := cost(c)
		if r > maxRecordsPerRequest || n > maxCharsPerRequest {
			return fmt.Errorf("%s %s: %d values of %d characters exceed one request's quotas (%d values, %d characters, an UPSERT counting twice)",
				aws.ToString(c.ResourceRecordSet.Name), c.ResourceRecordSet.Type, len(c.ResourceRecordSet.ResourceRecords), n, maxRecordsPerRequest, maxCharsPerRequest)
		}
		if records+r > maxRecordsPerRequest || chars+n > maxCharsPerRequest {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, c)
		records, chars = records+r, chars+n
	}
	return flush()
}
