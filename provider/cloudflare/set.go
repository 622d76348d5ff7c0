package cloudflare

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/libdns/libdns"
)

// pair names one RRset: its name, fully qualified in lower case with a
// trailing dot, and its type.
type pair struct{ name, typ string }

func pairOf(r record) pair {
	return pair{strings.ToLower(strings.TrimSuffix(r.Name, ".")) + ".", r.Type}
}

// SetRecords makes zone hold exactly recs for every (name, type) pair of
// recs, changing values in place: a value that changes is a PATCH of a
// record that goes, which keeps its proxied, comment, tags and settings.
// Records are created or deleted only when the number of values changes;
// created ones copy proxied, comment, tags and settings from the RRset's
// records. A value's TTL is written when it differs, except on a proxied
// record, whose TTL is Cloudflare's to choose (see AutomaticTTL). Values
// are compared exactly, as Cloudflare stores them (TXT unquoted, MX with
// its priority, SRV, CAA, HTTPS and SVCB by their data).
//
// With per-record requests (the default) patches go first, then
// creations, then deletions, so a name is never empty on the way; the
// call is not atomic: after an error the pairs may be partly replaced, so
// read the zone back before trying again. With BatchSize, each batch
// request is atomic; an RRset is split between batches only when it alone
// is larger than BatchSize, its creations and patches before its
// deletions.
func (p *Provider) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	var order []pair
	want := map[pair][]record{}
	for _, r := range recs {
		c, err := toRecord(r.RR(), zone)
		if err != nil {
			return nil, p.wrap("writing to", zone, err)
		}
		k := pairOf(c)
		if _, ok := want[k]; !ok {
			order = append(order, k)
		}
		if !slices.ContainsFunc(want[k], func(w record) bool { return w.canonical() == c.canonical() }) {
			want[k] = append(want[k], c) // a value given twice is one record
		}
	}
	if len(order) == 0 {
		return nil, nil
	}
	zoneID, err := p.zoneID(ctx, zone)
	if err != nil {
		return nil, err
	}
	unlock, err := p.writing.Lock(ctx, zone)
	if err != nil {
		return nil, p.wrap("writing to", zone, err)
	}
	defer unlock()
	held, err := p.held(ctx, zoneID, order)
	if err != nil {
		return nil, p.wrap("listing records of", zone, err)
	}
	var plans []plan
	for _, k := range order {
		plans = append(plans, diff(held[k], want[k]))
	}
	if p.batchSize > 0 {
		err = p.applyBatches(ctx, zoneID, plans)
	} else {
		for i, c := range plans {
			if err = p.apply(ctx, zoneID, c); err != nil {
				err = fmt.Errorf("%s %s: %w", order[i].name, order[i].typ, err)
				break
			}
		}
	}
	if err != nil {
		return nil, p.wrap("writing to", zone, err)
	}
	return recs, nil
}

// held reads the records of the given pairs (nil: every pair). One pair
// is listed alone, filtered by name and type. Several are read with the
// whole zone (100 records a page) when it fits in fewer pages than there
// are pairs; otherwise each pair is listed alone: fewer requests, and
// each RRset then fits one page, which no concurrent change can shift.
func (p *Provider) held(ctx context.Context, zoneID string, pairs []pair) (map[pair][]record, error) {
	var recs []record
	var err error
	if len(pairs) == 1 {
		recs, err = p.list(ctx, zoneID, pairs[0].typ, pairs[0].name)
	} else {
		recs, err = p.zoneOrPairs(ctx, zoneID, pairs)
	}
	out := map[pair][]record{}
	for _, r := range recs {
		out[pairOf(r)] = append(out[pairOf(r)], r)
	}
	return out, err
}

// zoneOrPairs reads the first page of the zone and then either the rest
// of it or, when the zone takes more pages than there are pairs, each
// pair alone.
func (p *Provider) zoneOrPairs(ctx context.Context, zoneID string, pairs []pair) ([]record, error) {
	first, info, err := p.page(ctx, zoneID, "", "", 1)
	if err != nil {
		return nil, err
	}
	if pairs == nil || info == nil || len(first) >= info.TotalCount || len(pairs) >= (info.TotalCount+max(info.PerPage, 1)-1)/max(info.PerPage, 1) {
		return p.listFrom(ctx, zoneID, "", "", first, info)
	}
	var all []record
	for _, k := range pairs {
		recs, err := p.list(ctx, zoneID, k.typ, k.name)
		if err != nil {
			return nil, err
		}
		all = append(all, recs...)
	}
	return all, nil
}

// plan is what turns one RRset into the wanted one.
type plan struct {
	patches []record // records changed in place, by ID, with only what changes
	posts   []record // values added
	deletes []record // records that go
}

func (c plan) size() int { return len(c.patches) + len(c.posts) + len(c.deletes) }

// diff compares the records held for one RRset with the wanted ones.
// Held values that are wanted stay (their TTL patched if it differs and is
// ours: a DNS-only record on automatic, TTL 1, reads as 300 s and is
// wanted as automatic or as 300 s alike); the others are patched to the missing values in place; what is
// left over is created (copying what the RRset's records carry) or
// deleted.
func diff(have, want []record) plan {
	var c plan
	var stale []record
	kept := make([]bool, len(want))
	for _, h := range have {
		i := -1
		for j, w := range want {
			if !kept[j] && w.canonical() == h.canonical() {
				i = j
				break
			}
		}
		if i < 0 {
			stale = append(stale, h)
			continue
		}
		kept[i] = true
		if !h.proxied() && h.ttl() != want[i].TTL && h.TTL != want[i].TTL {
			c.patches = append(c.patches, record{ID: h.ID, TTL: want[i].TTL})
		}
	}
	for j, w := range want {
		if kept[j] {
			continue
		}
		if len(stale) > 0 {
			h := stale[0]
			stale = stale[1:]
			patch := record{ID: h.ID, Content: w.Content, Priority: w.Priority, Data: w.Data}
			if !h.proxied() {
				patch.TTL = w.TTL
			}
			c.patches = append(c.patches, patch)
			continue
		}
		if len(have) > 0 { // carry what the RRset's records carry
			t := have[0]
			w.Proxied, w.Comment, w.Tags, w.Settings = t.Proxied, t.Comment, t.Tags, t.Settings
			if t.proxied() {
				w.TTL = 0 // automatic
			}
		}
		c.posts = append(c.posts, w)
	}
	c.deletes = stale
	return c
}

// apply makes one RRset change with per-record requests: patches, then
// creations, then deletions, so the name is never empty on the way.
func (p *Provider) apply(ctx context.Context, zoneID string, c plan) error {
	for _, r := range c.patches {
		id := r.ID
		r.ID = ""
		if _, err := p.call(ctx, p.token, http.MethodPatch, "/zones/"+zoneID+"/dns_records/"+id, r, nil); err != nil {
			return err
		}
	}
	for _, r := range c.posts {
		if _, err := p.call(ctx, p.token, http.MethodPost, "/zones/"+zoneID+"/dns_records", r, nil); err != nil {
			return err
		}
	}
	for _, r := range c.deletes {
		if _, err := p.call(ctx, p.token, http.MethodDelete, "/zones/"+zoneID+"/dns_records/"+r.ID, nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// batchBody is a request to the batch endpoint, which applies deletes,
// patches, puts and posts in that order, atomically.
type batchBody struct {
	Deletes []record `json:"deletes,omitempty"`
	Patches []record `json:"patches,omitempty"`
	Posts   []record `json:"posts,omitempty"`
}

func (b *batchBody) size() int { return len(b.Deletes) + len(b.Patches) + len(b.Posts) }

// applyBatches sends the plans through the batch endpoint, at most
// BatchSize changes a request, never splitting an RRset's plan between two
// requests unless it alone is larger than a batch; then its patches and
// creations go before its deletions.
func (p *Provider) applyBatches(ctx context.Context, zoneID string, plans []plan) error {
	var body batchBody
	flush := func() error {
		if body.size() == 0 {
			return nil
		}
		_, err := p.call(ctx, p.token, http.MethodPost, "/zones/"+zoneID+"/dns_records/batch", body, nil)
		body = batchBody{}
		return err
	}
	for _, c := range plans {
		if body.size()+c.size() > p.batchSize {
			if err := flush(); err != nil {
				return err
			}
		}
		if c.size() <= p.batchSize {
			body.Patches = append(body.Patches, c.patches...)
			body.Posts = append(body.Posts, c.posts...)
			for _, r := range c.deletes {
				body.Deletes = append(body.Deletes, record{ID: r.ID})
			}
			continue
		}
		type op struct {
			to *[]record
			r  record
		}
		var ops []op
		for _, r := range c.patches {
			ops = append(ops, op{&body.Patches, r})
		}
		for _, r := range c.posts {
			ops = append(ops, op{&body.Posts, r})
		}
		for _, r := range c.deletes {
			ops = append(ops, op{&body.Deletes, record{ID: r.ID}})
		}
		for _, o := range ops {
			if body.size() == p.batchSize {
				if err := flush(); err != nil {
					return err
				}
			}
			*o.to = append(*o.to, o.r)
		}
		if err := flush(); err != nil {
			return err
		}
	}
	return flush()
}
