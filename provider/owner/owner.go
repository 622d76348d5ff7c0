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
// To hand records over to another deployment, delete their owner records
// and restart (or reload) the deployment that is to take them.
//
// Names whose labels start with Label are reserved: a write there is
// refused with an error.
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
// and learns the zone's owner records from them.
func (w *wrapper) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	recs, err := w.inner.GetRecords(ctx, zone)
	if err != nil {
		return recs, err
	}
	w.learn(zone, recs)
	return recs, nil
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
		w.forget(zone)
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
// recs; an error for a nil record, one at a reserved name, or a failed
// read.
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
			claim := libdns.TXT{Name: ownerName(k), TTL: max(TTL, w.MinTTL()), Text: value(w.id, k.typ)}
			pl.claims, pl.write = append(pl.claims, claim), append(pl.write, claim)
			pl.claiming = append(pl.claiming, k)
		}
	}
	return pl, nil
}

// group returns the RRsets of recs in the order each first appears, and
// their records; an error for a nil record or one at a reserved name.
func (w *wrapper) group(zone string, recs []libdns.Record) ([]key, map[key][]libdns.Record, error) {
	var order []key
	sets := map[key][]libdns.Record{}
	var errs []error
	for i, rec := range recs {
		if rec == nil {
			errs = append(errs, fmt.Errorf("record %d is nil", i))
			continue
		}
		rr := rec.RR()
		k := key{name: relativeName(rr.Name, zone), typ: strings.ToUpper(rr.Type)}
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
// call, what the zone holds is unknown.
func (w *wrapper) forget(zone string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if z := w.zones[strings.ToLower(zone)]; z != nil {
		z.stale = true
	}
}

// claimed notes that the owner records of keys were written.
func (w *wrapper) claimed(zone string, keys []key) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if z := w.zones[strings.ToLower(zone)]; z != nil {
		for _, k := range keys {
			z.claims[k] = claim{owner: w.id}
		}
	}
}

// learn replaces what the wrapper knows of zone's owner records with what
// recs, the whole zone, hold.
func (w *wrapper) learn(zone string, recs []libdns.Record) {
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
	if old := w.zones[strings.ToLower(zone)]; old != nil {
		for k, c := range old.claims {
			if _, ok := claims[k]; !ok && (c.gone || c.owner != "" && c.owner != w.id) {
				claims[k] = c.vanished()
			}
		}
	}
	w.zones[strings.ToLower(zone)] = &zoneOwners{claims: claims}
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
