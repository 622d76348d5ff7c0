// Package owner keeps deployments that share a zone from fighting over
// its records: a provider wrapper that writes an owner record (a TXT
// record naming the deployment, see Label and Value) beside each RRset it
// writes, and refuses to write an RRset whose owner record names another
// deployment, as external-dns's TXT registry does.
//
// Wrap any failover.Provider with an owner id, one per deployment
// ("prod", "staging"), and give the wrapped provider to the Manager:
//
//	p, err := owner.Wrap(cloudflareProvider, "prod")
//
// What the wrapper does, per (name, type) RRset of a write:
//   - owned by this id: written, as without the wrapper;
//   - unowned (no owner record): claimed, its owner record written in the
//     same SetRecords call as the RRset, right after it (atomic where the
//     provider's write is: RFC 2136, PowerDNS, Route 53; on Cloudflare
//     they are two requests);
//   - owned by another id, or its owner record holds something else:
//     refused with a *ForeignError, nothing of it sent; the other RRsets
//     of the call are written all the same, and the call returns what it
//     wrote with the refusals joined as its error. A ForeignError matches
//     failover.ErrRRsetRefused: the Manager reads the zone back (finding
//     the others written), writes the refused RRset alone, and
//     quarantines it at once; Status shows the ForeignError, and the
//     quarantine's retries, refused again, send nothing either.
//
// Reads pass through unchanged (owner records included: the Manager
// ignores RRsets it does not manage), and teach the wrapper the owners of
// the zone; a write to a zone not read yet reads it first. An owner record
// outlives its RRset: a delete (AllDown: PublishNothing) keeps it, so the
// name stays this deployment's. A name with an owner record but no record
// of its own is an empty non-terminal: it answers NODATA, and a wildcard
// above it no longer covers it.
//
// Ownership is taken by writing. A record that exists without an owner
// record (created before the wrapper, or its owner record deleted by
// hand) belongs to no one until a deployment writes it: the Manager adopts
// it without writing, so it stays unowned until its first change, and the
// first deployment to write it owns it. An exception keeps a running
// deployment from snatching a record whose owner record is deleted while
// it watches: a wrapper that has read an RRset as another's goes on
// refusing it when the owner record disappears; a new wrapper (a restart,
// a failoverd reload) may claim it. Two deployments that claim one
// unowned RRset at once both write; the last writer's owner record (and
// values) stay, and the other refuses from its next read of the zone (a
// Manager reads after every failed write and every ReconcileInterval).
//
// A claim that may not have been written is retried. When a SetRecords
// call fails, the provider may have written an RRset but not its owner
// record (Cloudflare writes them in two requests; any provider may leave
// a write half done), and the Manager, reading its values back, would
// never write it again. So the next read that finds such an RRset
// without an owner record writes its owner record (one SetRecords call
// of owner records, made by GetRecords); if that call fails, GetRecords
// returns its error, and the next read tries again. An RRset the read
// does not find, or finds with an owner record (any owner's), is no
// longer retried: the Manager's next write of it claims it as usual.
// This applies only to RRsets whose claim this wrapper sent; a new
// wrapper (a restart, a failoverd reload) forgets them, and adopts such
// an RRset unowned like any other.
//
// To hand records over to another deployment, delete their owner records
// and restart (or reload) the deployment that is to take them.
//
// Names whose labels start with Label are reserved: a write there is
// refused with an error. So is a record without a type (which libdns
// lets DeleteRecords take to mean every type at the name): ownership is
// per type. The Manager always names the type.
package owner

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/libdns/libdns"
)

// TTL is the TTL of owner records, raised to the provider's MinTTL when
// it declares a higher one. Only deployments read owner records, through
// the provider's API; resolvers never need them.
const TTL = time.Hour

// Wrap returns p with owner records for the owner id (1 to MaxIDLength
// letters, digits, '-', '_' and '.'; compared exactly). The result keeps
// p's optional extras: it implements libdns.RecordDeleter only when p
// does, and reports p's MinTTL, AutomaticTTL and Name (p's type when it
// has no Name: two unnamed providers of one type in a zone are then
// named alike, where the Manager would have told the second by a "#1"
// suffix; give them names). It is safe for concurrent use, and serves any number of
// zones. Wrap returns an error, naming the id, for an invalid id or a nil
// p.
func Wrap(p failover.Provider, id string) (failover.Provider, error) {
	if p == nil || reflect.ValueOf(p).Kind() == reflect.Pointer && reflect.ValueOf(p).IsNil() {
		return nil, fmt.Errorf("owner: owner id %q: nil provider", id)
	}
	if err := checkID(id); err != nil {
		return nil, fmt.Errorf("owner: %w", err)
	}
	w := &wrapper{inner: p, id: id, zones: map[string]*zoneOwners{}}
	if d, ok := p.(libdns.RecordDeleter); ok {
		return &deleter{wrapper: w, del: d}, nil
	}
	return w, nil
}

// wrapper is a provider wrapped by Wrap.
type wrapper struct {
	inner failover.Provider
	id    string

	mu    sync.Mutex
	zones map[string]*zoneOwners // by lower-case zone name
}

// zoneOwners is what a wrapper knows of one zone's owner records, as last
// read (and written since).
type zoneOwners struct {
	claims map[key]claim
	stale  bool // a write failed since: read before the next one
	// unsure holds the RRsets whose claim was sent in a failed call and
	// not confirmed since: GetRecords claims them again (see the package doc).
	unsure map[key]bool
}

// claim is what an RRset's owner record says.
type claim struct {
	owner   string // the owner id; "" when problem is set
	problem string // why the owner record names no owner
	gone    bool   // another owner's, whose owner record is gone (see gone)
}

// deleter is a wrapper of a provider that can delete.
type deleter struct {
	*wrapper
	del libdns.RecordDeleter
}

// Name returns the wrapped provider's name, or its type when it has none.
func (w *wrapper) Name() string {
	if n, ok := w.inner.(interface{ Name() string }); ok && n.Name() != "" {
		return n.Name()
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", w.inner), "*")
}

// MinTTL returns the wrapped provider's MinTTL, or 0.
func (w *wrapper) MinTTL() time.Duration {
	if f, ok := w.inner.(failover.MinTTLProvider); ok {
		return f.MinTTL()
	}
	return 0
}

// AutomaticTTL returns the wrapped provider's AutomaticTTL, or 0.
func (w *wrapper) AutomaticTTL() time.Duration {
	if a, ok := w.inner.(failover.AutomaticTTLProvider); ok {
		return a.AutomaticTTL()
	}
	return 0
}

// GetRecords returns the wrapped provider's records of zone, unchanged,
// and learns the zone's owner records from them. It writes the owner
// records of the RRsets it finds unowned whose claim this wrapper sent in
// a failed call (see the package doc), and returns an error, naming the
// zone and the RRsets, if that write fails.
func (w *wrapper) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	recs, err := w.inner.GetRecords(ctx, zone)
	if err != nil {
		return recs, err
	}
	retry := w.learn(zone, recs)
	if len(retry) == 0 {
		return recs, nil
	}
	claims := make([]libdns.Record, 0, len(retry))
	for _, k := range retry {
		claims = append(claims, w.claimOf(k))
	}
	if _, err := w.inner.SetRecords(ctx, zone, claims); err != nil {
		w.forget(zone)
		return nil, fmt.Errorf("owner: zone %s: writing the owner records of %v, whose claim a failed write may have left out: %w", zone, retry, err)
	}
	w.claimed(zone, retry)
	return recs, nil
}

// claimOf returns this owner's owner record of k.
func (w *wrapper) claimOf(k key) libdns.Record {
	return libdns.TXT{Name: ownerName(k), TTL: max(TTL, w.MinTTL()), Text: value(w.id, k.typ)}
}

// SetRecords writes the RRsets of recs that are this owner's or unowned
// (claiming the latter in the same call), refuses the others with a
// *ForeignError each, and returns what it wrote (owner records left out)
// with the refusals joined as its error. An error of the wrapped provider
// comes first in the joined error.
func (w *wrapper) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	pl, err := w.plan(ctx, zone, recs)
	if err != nil {
		return nil, err
	}
	if len(pl.records) == 0 {
		return nil, pl.failed(nil)
	}
	stored, err := w.inner.SetRecords(ctx, zone, pl.write)
	if err != nil {
		w.forget(zone, pl.claiming...)
		return withoutOwnerRecords(stored), pl.failed(err)
	}
	w.claimed(zone, pl.claiming)
	return withoutOwnerRecords(stored), pl.failed(nil)
}

// DeleteRecords deletes the records of recs whose RRsets are this
// owner's or unowned, claiming the latter first (one SetRecords call of
// their owner records: the name stays this owner's), refuses the others
// with a *ForeignError each, and returns what the wrapped provider
// deleted with the refusals joined as its error. Owner records are kept.
// A record without a type (libdns: every type at its name) is refused
// with an error naming the zone and the name, and nothing is deleted: the
// wrapper checks ownership per type.
func (d *deleter) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	pl, err := d.plan(ctx, zone, recs)
	if err != nil {
		return nil, err
	}
	if len(pl.claims) > 0 {
		if _, err := d.inner.SetRecords(ctx, zone, pl.claims); err != nil {
			d.forget(zone)
			return nil, pl.failed(fmt.Errorf("owner: claiming before deleting: %w", err))
		}
		d.claimed(zone, pl.claiming)
	}
	if len(pl.records) == 0 {
		return nil, pl.failed(nil)
	}
	gone, err := d.del.DeleteRecords(ctx, zone, pl.records)
	if err != nil {
		d.forget(zone)
	}
	return gone, pl.failed(err)
}

// plan is what the wrapper makes of a write: the RRsets it lets through,
// the owner records claiming the unowned ones, and the refused ones.
type plan struct {
	records []libdns.Record // of the RRsets this owner's or unowned, in input order
	claims  []libdns.Record // owner records of the unowned RRsets
	// write is records with each claim right after its RRset, so that a
	// provider that splits a large write (RFC 2136) keeps them together.
	write    []libdns.Record
	claiming []key   // the unowned RRsets
	refused  []error // a *ForeignError per refused RRset
}

// failed returns the error of a write of pl that the provider answered
// with err: err, if any, then the refusals, joined; nil if neither.
func (pl plan) failed(err error) error {
	return errors.Join(append([]error{err}, pl.refused...)...)
}

// plan reads zone if the wrapper has not yet, and sorts the RRsets of
// recs; an error for a nil record, one without a type, one at a
// reserved name, or a failed read.
func (w *wrapper) plan(ctx context.Context, zone string, recs []libdns.Record) (plan, error) {
	order, sets, err := w.group(zone, recs)
	if err != nil {
		return plan{}, err
	}
	if w.stale(zone) {
		if _, err := w.GetRecords(ctx, zone); err != nil {
			return plan{}, fmt.Errorf("owner: reading zone %s for its owner records: %w", zone, err)
		}
	}
	var pl plan
	w.mu.Lock()
	defer w.mu.Unlock()
	z := w.zones[strings.ToLower(zone)]
	for _, k := range order {
		c, ok := z.claims[k]
		if ok && c.owner != w.id {
			pl.refused = append(pl.refused, &ForeignError{Zone: zone, Name: k.name, Type: k.typ, Owner: w.id, Other: c.owner, Problem: c.problem})
			continue
		}
		pl.records = append(pl.records, sets[k]...)
		pl.write = append(pl.write, sets[k]...)
		if !ok {
			claim := w.claimOf(k)
			pl.claims, pl.write = append(pl.claims, claim), append(pl.write, claim)
			pl.claiming = append(pl.claiming, k)
		}
	}
	return pl, nil
}

// group returns the RRsets of recs in the order each first appears, and
// their records; an error for a nil record, one without a type (libdns
// lets a delete leave the type out: all types at the name), or one at a
// reserved name.
func (w *wrapper) group(zone string, recs []libdns.Record) ([]key, map[key][]libdns.Record, error) {
	var order []key
	sets := map[key][]libdns.Record{}
	var errs []error
	for i, rec := range recs {
		if rec == nil {
			errs = append(errs, fmt.Errorf("record %d is nil", i))
			continue
		}
		k := keyOf(zone, rec.RR())
		if k.typ == "" {
			errs = append(errs, fmt.Errorf("record %d (%s): no type: the owner wrapper checks an RRset's owner by its type, so it writes or deletes only records that name one", i, k.name))
			continue
		}
		if reserved(k.name) {
			errs = append(errs, fmt.Errorf("record %d (%s): names starting with %s are reserved for owner records", i, k, Label))
			continue
		}
		if _, seen := sets[k]; !seen {
			order = append(order, k)
		}
		sets[k] = append(sets[k], rec)
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("owner: zone %s: %w", zone, errors.Join(errs...))
	}
	return order, sets, nil
}

// stale reports whether zone must be read before a write: it was never
// read, or a write failed since.
func (w *wrapper) stale(zone string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	z := w.zones[strings.ToLower(zone)]
	return z == nil || z.stale
}

// forget makes the next write to zone read it first: after a failed
// call, what the zone holds is unknown. unsure are the RRsets whose claim
// the failed call sent: hidden from reads until an owner record is read
// for them, or the read finds them gone, or a write claims them.
func (w *wrapper) forget(zone string, unsure ...key) {
	w.mu.Lock()
	defer w.mu.Unlock()
	z := w.zones[strings.ToLower(zone)]
	if z == nil {
		return
	}
	z.stale = true
	for _, k := range unsure {
		if z.unsure == nil {
			z.unsure = map[key]bool{}
		}
		z.unsure[k] = true
	}
}

// claimed notes that the owner records of keys were written.
func (w *wrapper) claimed(zone string, keys []key) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if z := w.zones[strings.ToLower(zone)]; z != nil {
		for _, k := range keys {
			z.claims[k] = claim{owner: w.id}
			delete(z.unsure, k)
		}
	}
}

// learn replaces what the wrapper knows of zone's owner records with what
// recs, the whole zone, hold, and returns the RRsets whose claim to
// write again: those whose claim is unsure that recs hold without an
// owner record, sorted.
func (w *wrapper) learn(zone string, recs []libdns.Record) []key {
	claims := map[key]claim{}
	for _, rec := range recs {
		if rec == nil || !maybeOwnerRecord(rec) {
			continue
		}
		rr := rec.RR()
		k, ok := ownedKey(relativeName(rr.Name, zone))
		if !ok {
			continue
		}
		v := rr.Data
		if !strings.EqualFold(rr.Type, "TXT") {
			v = rr.Type + " " + rr.Data // not an owner record: a foreign one
		}
		if c, seen := claims[k]; !seen || c.problem == "" {
			claims[k] = c.add(v, k.typ, seen)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	z := &zoneOwners{claims: claims}
	var retry []key
	if old := w.zones[strings.ToLower(zone)]; old != nil {
		if len(old.unsure) > 0 {
			present := rrsets(zone, recs)
			for k := range old.unsure {
				if _, owned := claims[k]; !owned && present[k] {
					retry = append(retry, k)
				}
			}
			slices.SortFunc(retry, func(a, b key) int { return strings.Compare(a.String(), b.String()) })
			z.unsure = old.unsure // until claimed: a read that fails to claim them tries again
			for k := range z.unsure {
				if !slices.Contains(retry, k) {
					delete(z.unsure, k)
				}
			}
		}
		for k, c := range old.claims {
			if _, ok := claims[k]; !ok && (c.gone || c.owner != "" && c.owner != w.id) {
				claims[k] = c.vanished()
			}
		}
	}
	w.zones[strings.ToLower(zone)] = z
	return retry
}

// rrsets returns the RRsets recs, records of zone, hold.
func rrsets(zone string, recs []libdns.Record) map[key]bool {
	out := map[key]bool{}
	for _, rec := range recs {
		if rec != nil {
			out[keyOf(zone, rec.RR())] = true
		}
	}
	return out
}

// keyOf returns the RRset of rr, a record of zone.
func keyOf(zone string, rr libdns.RR) key {
	return key{name: relativeName(rr.Name, zone), typ: strings.ToUpper(rr.Type)}
}

// vanished is what another owner's claim c becomes when its owner record
// is no longer read: still foreign. A deployment that found an RRset
// another's does not take it over when the owner record vanishes (deleted
// by hand, or by a tool cleaning TXT records): the owner would lose it to
// whoever writes next, mid-run, without a word. A new wrapper (a restart,
// a failoverd reload) may claim it. An owner record that names no owner
// is not remembered: deleting it is how an operator clears it.
func (c claim) vanished() claim {
	if c.gone {
		return c
	}
	return claim{gone: true, problem: fmt.Sprintf("was owned by %q when last read, and is gone: an RRset found another's is not taken over while the wrapper runs", c.owner)}
}

// maybeOwnerRecord is false for a record that is surely no owner record:
// one of the typed records the Manager manages, named otherwise. It
// spares a read of a huge zone converting every record with RR.
func maybeOwnerRecord(rec libdns.Record) bool {
	var name string
	switch r := rec.(type) {
	case libdns.Address:
		name = r.Name
	case libdns.CNAME:
		name = r.Name
	case libdns.TXT:
		name = r.Name
	default:
		return true
	}
	return len(name) >= len(Label) && strings.EqualFold(name[:len(Label)], Label)
}

// add returns what c, the claim of the values read so far at an owner
// name (none unless seen), says with v, one more value there, for an
// RRset of type typ: one owner, named by every value, or a problem.
func (c claim) add(v, typ string, seen bool) claim {
	id, err := parseValue(v, typ)
	switch {
	case err != nil:
		return claim{problem: err.Error()}
	case seen && id != c.owner:
		return claim{problem: fmt.Sprintf("names two owners, %q and %q", c.owner, id)}
	}
	return claim{owner: id}
}

// withoutOwnerRecords returns recs without the owner records.
func withoutOwnerRecords(recs []libdns.Record) []libdns.Record {
	return slices.DeleteFunc(slices.Clone(recs), func(r libdns.Record) bool {
		if r == nil {
			return false
		}
		rr := r.RR()
		_, ok := ownedKey(strings.ToLower(strings.TrimSuffix(rr.Name, ".")))
		return ok && strings.EqualFold(rr.Type, "TXT")
	})
}

// relativeName returns name relative to zone, lower case, "@" for the
// apex, whether the provider gave it relative, empty or fully qualified.
func relativeName(name, zone string) string {
	name = strings.ToLower(name)
	switch {
	case name == "" || name == "@":
		return "@"
	case strings.HasSuffix(name, "."):
		return libdns.RelativeName(name, strings.ToLower(zone))
	}
	return name
}
