package route53

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/libdns/libdns"
)

// pair names one RRset: its name, unescaped, lower case, fully qualified
// with a trailing dot, and its type.
type pair struct{ name, typ string }

func (k pair) String() string { return k.name + " " + k.typ }

// recordSets is a simple record set as held: its TTL and its values as
// Route 53 returns them.
type recordSets struct {
	ttl    int64
	values []string
}

// GetRecords returns every record of zone, reading every page: simple
// record sets as libdns's typed records, alias sets as a libdns.RR of
// their type whose Data is the alias target (TTL 0). Routing-policy sets
// are left out (see the package doc).
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	z, err := p.zone(ctx, zone)
	if err != nil {
		return nil, err
	}
	sets, err := p.read(ctx, z)
	if err != nil {
		return nil, wrap("reading", zone, err)
	}
	var out []libdns.Record
	for _, s := range sets {
		name := libdns.RelativeName(unescape(aws.ToString(s.Name)), zone)
		typ := string(s.Type)
		switch {
		case s.SetIdentifier != nil:
			continue
		case s.AliasTarget != nil:
			out = append(out, libdns.RR{Name: name, Type: typ, Data: aws.ToString(s.AliasTarget.DNSName)})
			continue
		}
		for _, v := range s.ResourceRecords {
			rr := libdns.RR{Name: name, Type: typ, TTL: time.Duration(aws.ToInt64(s.TTL)) * time.Second, Data: text(typ, aws.ToString(v.Value))}
			if typed, err := rr.Parse(); err == nil {
				out = append(out, typed)
			} else {
				out = append(out, rr)
			}
		}
	}
	return out, nil
}

// read lists every record set of z, and notes in z its alias sets, its
// routing-policy sets and its simple sets.
func (p *Provider) read(ctx context.Context, z *hostedZone) ([]types.ResourceRecordSet, error) {
	var all []types.ResourceRecordSet
	in := &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(z.id), MaxItems: aws.Int32(300)}
	for {
		out, err := p.client.ListResourceRecordSets(ctx, in)
		if err != nil {
			return nil, err
		}
		all = append(all, out.ResourceRecordSets...)
		if !out.IsTruncated {
			break
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier
	}
	alias, routing, simple := map[pair]string{}, map[pair][]string{}, map[pair]recordSets{}
	for _, s := range all {
		k := pair{strings.ToLower(unescape(aws.ToString(s.Name))), string(s.Type)}
		switch {
		case s.SetIdentifier != nil:
			routing[k] = append(routing[k], aws.ToString(s.SetIdentifier))
		case s.AliasTarget != nil:
			alias[k] = aws.ToString(s.AliasTarget.DNSName)
		default:
			set := recordSets{ttl: aws.ToInt64(s.TTL)}
			for _, v := range s.ResourceRecords {
				set.values = append(set.values, aws.ToString(v.Value))
			}
			simple[k] = set
		}
	}
	z.mu.Lock()
	z.read, z.alias, z.routing, z.simple = true, alias, routing, simple
	z.mu.Unlock()
	return all, nil
}

// refuse returns an error naming every RRset of pairs that the last read
// found held as an alias or as routing-policy sets: writing a simple set
// there would replace the alias, or be rejected by Route 53.
func (z *hostedZone) refuse(pairs []pair) error {
	z.mu.Lock()
	defer z.mu.Unlock()
	var errs []string
	for _, k := range pairs {
		if target, ok := z.alias[k]; ok {
			errs = append(errs, fmt.Sprintf("%s is an alias record set (to %s): never modified here", k, target))
		}
		if ids, ok := z.routing[k]; ok {
			ids = slices.Clone(ids)
			slices.Sort(ids)
			var quoted []string
			for _, id := range ids {
				quoted = append(quoted, strconv.Quote(id))
			}
			errs = append(errs, fmt.Sprintf("%s is held as routing-policy record sets (SetIdentifier %s): only simple record sets are written here, and Route 53 rejects one beside them", k, strings.Join(quoted, ", ")))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("refusing to write: %s", strings.Join(errs, "; "))
}

// unescape returns a name as Route 53 lists it with its \NNN octal
// escapes (\052 for *) replaced by the bytes they stand for.
func unescape(name string) string {
	if !strings.Contains(name, `\`) {
		return name
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] == '\\' && i+4 <= len(name) {
			if n, err := strconv.ParseUint(name[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(name[i])
	}
	return b.String()
}
