package owner_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/provider/memory"
	"github.com/dnsfailover/failover/provider/owner"
	"github.com/libdns/libdns"
)

const zone = "example.test."

func a(name, ip string) libdns.Record {
	return libdns.Address{Name: name, TTL: time.Minute, IP: netip.MustParseAddr(ip)}
}

func txt(name, text string) libdns.Record {
	return libdns.TXT{Name: name, TTL: time.Hour, Text: text}
}

// zoneWith returns a memory provider holding zone with recs.
func zoneWith(t *testing.T, recs ...libdns.Record) *memory.Provider {
	t.Helper()
	p := &memory.Provider{}
	if err := p.AddZone(zone, recs...); err != nil {
		t.Fatal(err)
	}
	return p
}

func wrap(t *testing.T, p failover.Provider, id string) failover.Provider {
	t.Helper()
	w, err := owner.Wrap(p, id)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// held returns the zone's records as "name TYPE data" lines, sorted.
func held(p *memory.Provider) []string {
	var out []string
	for _, r := range p.Records(zone) {
		rr := r.RR()
		out = append(out, fmt.Sprintf("%s %s %s", rr.Name, rr.Type, rr.Data))
	}
	slices.Sort(out)
	return out
}

func rrStrings(recs []libdns.Record) []string {
	var out []string
	for _, r := range recs {
		rr := r.RR()
		out = append(out, fmt.Sprintf("%s %s %s", rr.Name, rr.Type, rr.Data))
	}
	slices.Sort(out)
	return out
}

// An unowned RRset is claimed by its first write: the owner record goes in
// the same call, named for the type (apex, wildcard and case included), and
// is left out of what SetRecords returns.
func TestClaimOnFirstWrite(t *testing.T) {
	for _, tc := range []struct {
		name, typ, value string
		wantOwner        string
	}{
		{"www", "A", "192.0.2.1", "_failover-owner-a.www"},
		{"WWW", "A", "192.0.2.1", "_failover-owner-a.www"},
		{"www", "AAAA", "2001:db8::1", "_failover-owner-aaaa.www"},
		{"@", "A", "192.0.2.1", "_failover-owner-a"},
		{"*", "A", "192.0.2.1", "_failover-owner-a-wildcard"},
		{"*.eu", "A", "192.0.2.1", "_failover-owner-a-wildcard.eu"},
		{"alias", "CNAME", "target.example.net.", "_failover-owner-cname.alias"},
		{"deep.alias.eu", "CNAME", "target.example.net.", "_failover-owner-cname.deep.alias.eu"},
	} {
		t.Run(tc.name+" "+tc.typ, func(t *testing.T) {
			p := zoneWith(t)
			w := wrap(t, p, "prod")
			rec := libdns.RR{Name: tc.name, TTL: time.Minute, Type: tc.typ, Data: tc.value}
			got, err := w.SetRecords(t.Context(), zone, []libdns.Record{rec})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].RR().Type != tc.typ {
				t.Errorf("SetRecords returned %v, want the one %s record", rrStrings(got), tc.typ)
			}
			want := fmt.Sprintf("%s TXT failover-owner=prod,type=%s", tc.wantOwner, tc.typ)
			if h := held(p); !slices.Contains(h, want) || len(h) != 2 {
				t.Errorf("zone holds %q, want the record and %q", h, want)
			}
			if got := p.Calls(memory.MethodSetRecords); got != 1 {
				t.Errorf("got %d SetRecords calls, want 1 (the owner record in the same call)", got)
			}
		})
	}
}

// An RRset another owner holds is refused, nothing of it sent; the other
// RRsets of the call are written, and returned.
func TestForeignRRsetRefusedOthersWritten(t *testing.T) {
	p := zoneWith(t, a("www", "192.0.2.1"), txt("_failover-owner-a.www", "failover-owner=staging,type=A"))
	w := wrap(t, p, "prod")
	got, err := w.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.99"), a("mail", "192.0.2.25")})
	var fe *owner.ForeignError
	if !errors.As(err, &fe) {
		t.Fatalf("got error %v, want a *owner.ForeignError", err)
	}
	want := owner.ForeignError{Zone: zone, Name: "www", Type: "A", Owner: "prod", Other: "staging"}
	if *fe != want {
		t.Errorf("got %+v, want %+v", *fe, want)
	}
	for _, s := range []string{"www.example.test. A", `"staging"`, `"prod"`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
	if g, w := rrStrings(got), []string{"mail A 192.0.2.25"}; !slices.Equal(g, w) {
		t.Errorf("SetRecords returned %q, want %q", g, w)
	}
	wantHeld := []string{"_failover-owner-a.mail TXT failover-owner=prod,type=A", "_failover-owner-a.www TXT failover-owner=staging,type=A", "mail A 192.0.2.25", "www A 192.0.2.1"}
	if h := held(p); !slices.Equal(h, wantHeld) {
		t.Errorf("zone holds %q, want %q", h, wantHeld)
	}
}

// Owner records that are not this package's, or that do not name one
// owner, make their RRset foreign: refused, with the reason; once such a
// record is deleted, the RRset is claimed by the next write.
func TestOwnerRecordNotOursRefused(t *testing.T) {
	huge := strings.Repeat("x", 10000)
	for _, tc := range []struct {
		name    string
		at      []libdns.Record
		problem string // in the error; "" means the write goes through
	}{
		{"quoted value of ours", []libdns.Record{txt("_failover-owner-a.www", `"failover-owner=prod,type=A"`)}, ""},
		{"upper-case owner name", []libdns.Record{txt("_FAILOVER-OWNER-A.WWW", "failover-owner=prod,type=A")}, ""},
		{"two values of ours", []libdns.Record{txt("_failover-owner-a.www", "failover-owner=prod,type=A"), txt("_failover-owner-a.www", `"failover-owner=prod,type=A"`)}, ""},
		{"free text", []libdns.Record{txt("_failover-owner-a.www", "hello")}, "not of the form"},
		{"empty owner", []libdns.Record{txt("_failover-owner-a.www", "failover-owner=,type=A")}, "empty owner id"},
		{"other type", []libdns.Record{txt("_failover-owner-a.www", "failover-owner=prod,type=AAAA")}, "for type"},
		{"trailing field", []libdns.Record{txt("_failover-owner-a.www", "failover-owner=prod,type=A,x=1")}, "for type"},
		{"bad owner characters", []libdns.Record{txt("_failover-owner-a.www", "failover-owner=pr od,type=A")}, "only letters"},
		{"owner of another case", []libdns.Record{txt("_failover-owner-a.www", "failover-owner=PROD,type=A")}, `owned by "PROD"`},
		{"two owners", []libdns.Record{txt("_failover-owner-a.www", "failover-owner=prod,type=A"), txt("_failover-owner-a.www", "failover-owner=staging,type=A")}, "two owners"},
		{"huge value", []libdns.Record{txt("_failover-owner-a.www", huge)}, "not of the form"},
		{"huge owner", []libdns.Record{txt("_failover-owner-a.www", "failover-owner="+huge+",type=A")}, "longer than 63"},
		{"control characters", []libdns.Record{txt("_failover-owner-a.www", "failover-owner=pr\x00od\n,type=A")}, "only letters"},
		{"not a TXT", []libdns.Record{a("_failover-owner-a.www", "192.0.2.7")}, "not of the form"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := zoneWith(t, append([]libdns.Record{a("www", "192.0.2.1")}, tc.at...)...)
			w := wrap(t, p, "prod")
			_, err := w.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.99")})
			var fe *owner.ForeignError
			switch {
			case tc.problem == "" && err != nil:
				t.Fatalf("got %v, want the write to go through", err)
			case tc.problem == "":
				if got := held(p); !slices.Contains(got, "www A 192.0.2.99") {
					t.Errorf("zone holds %q, want www written", got)
				}
				return
			case !errors.As(err, &fe):
				t.Fatalf("got %v, want a *owner.ForeignError", err)
			case !strings.Contains(err.Error(), tc.problem):
				t.Errorf("got %q, want it to say %q", err, tc.problem)
			case len(err.Error()) > 500:
				t.Errorf("error of %d bytes, want a short quote of the value", len(err.Error()))
			}
			if got := held(p); !slices.Contains(got, "www A 192.0.2.1") {
				t.Errorf("zone holds %q, want www untouched", got)
			}
			if fe.Other != "" {
				return
			}
			if _, err := p.DeleteRecords(t.Context(), zone, tc.at); err != nil {
				t.Fatal(err)
			}
			if _, err := w.GetRecords(t.Context(), zone); err != nil {
				t.Fatal(err)
			}
			if _, err := w.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.99")}); err != nil {
				t.Errorf("after the bad owner record was deleted: %v, want www claimed", err)
			}
		})
	}
}

// The owner records live at names of their own: a TXT the user keeps at
// the managed name itself is neither taken for an owner record nor
// touched, and one deployment may own A and AAAA at one name.
func TestUserTXTAtManagedNameUntouched(t *testing.T) {
	p := zoneWith(t, txt("www", "v=spf1 -all"), txt("www", "failover-owner=staging,type=A"))
	w := wrap(t, p, "prod")
	if _, err := w.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.1"), libdns.Address{Name: "www", TTL: time.Minute, IP: netip.MustParseAddr("2001:db8::1")}}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"_failover-owner-a.www TXT failover-owner=prod,type=A", "_failover-owner-aaaa.www TXT failover-owner=prod,type=AAAA",
		"www A 192.0.2.1", "www AAAA 2001:db8::1", "www TXT failover-owner=staging,type=A", "www TXT v=spf1 -all",
	}
	if got := held(p); !slices.Equal(got, want) {
		t.Errorf("zone holds %q, want %q", got, want)
	}
}

// Reads pass through unchanged, owner records included.
func TestReadsPassThrough(t *testing.T) {
	recs := []libdns.Record{a("www", "192.0.2.1"), txt("_failover-owner-a.www", "failover-owner=staging,type=A"), txt("@", "hello")}
	p := zoneWith(t, recs...)
	w := wrap(t, p, "prod")
	got, err := w.GetRecords(t.Context(), zone)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := rrStrings(got), rrStrings(recs); !slices.Equal(g, w) {
		t.Errorf("got %q, want %q", g, w)
	}
}

// A write to a zone the wrapper has not read reads it first; after a read
// or a successful write it does not read again; after a failed write it
// does.
func TestReadsZoneBeforeFirstWrite(t *testing.T) {
	p := zoneWith(t)
	w := wrap(t, p, "prod")
	steps := []struct {
		name      string
		fail      bool
		wantReads int
	}{
		{"first write reads the zone", false, 1},
		{"second write does not", false, 1},
		{"failed write", true, 1},
		{"write after a failed one reads again", false, 2},
	}
	for _, s := range steps {
		if s.fail {
			p.FailNext(memory.MethodSetRecords, 1, nil)
		}
		_, err := w.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.1")})
		if (err != nil) != s.fail {
			t.Fatalf("%s: got error %v, want failure %v", s.name, err, s.fail)
		}
		if got := p.Calls(memory.MethodGetRecords); got != s.wantReads {
			t.Errorf("%s: got %d reads, want %d", s.name, got, s.wantReads)
		}
	}
}

// Deletes: this owner's records are deleted and the owner record kept; an
// unowned RRset is claimed, then deleted; another owner's is refused.
func TestDeleteKeepsOwnerRecord(t *testing.T) {
	p := zoneWith(t,
		a("mine", "192.0.2.1"), txt("_failover-owner-a.mine", "failover-owner=prod,type=A"),
		a("free", "192.0.2.2"),
		a("theirs", "192.0.2.3"), txt("_failover-owner-a.theirs", "failover-owner=staging,type=A"))
	w := wrap(t, p, "prod")
	del, ok := w.(libdns.RecordDeleter)
	if !ok {
		t.Fatalf("%T does not delete, though memory.Provider does", w)
	}
	gone, err := del.DeleteRecords(t.Context(), zone, []libdns.Record{a("mine", "192.0.2.1"), a("free", "192.0.2.2"), a("theirs", "192.0.2.3")})
	var fe *owner.ForeignError
	if !errors.As(err, &fe) || fe.Name != "theirs" {
		t.Fatalf("got %v, want a *owner.ForeignError for theirs", err)
	}
	if g, w := rrStrings(gone), []string{"free A 192.0.2.2", "mine A 192.0.2.1"}; !slices.Equal(g, w) {
		t.Errorf("deleted %q, want %q", g, w)
	}
	want := []string{
		"_failover-owner-a.free TXT failover-owner=prod,type=A", "_failover-owner-a.mine TXT failover-owner=prod,type=A",
		"_failover-owner-a.theirs TXT failover-owner=staging,type=A", "theirs A 192.0.2.3",
	}
	if got := held(p); !slices.Equal(got, want) {
		t.Errorf("zone holds %q, want %q", got, want)
	}
}

// Writing at a reserved name is refused, and nothing of the call is sent.
func TestReservedNamesRefused(t *testing.T) {
	for _, name := range []string{"_failover-owner-a.www", "x._failover-owner-a.www", "_FAILOVER-OWNER-x"} {
		t.Run(name, func(t *testing.T) {
			p := zoneWith(t)
			w := wrap(t, p, "prod")
			_, err := w.SetRecords(t.Context(), zone, []libdns.Record{txt(name, "failover-owner=staging,type=A"), a("www", "192.0.2.1")})
			if err == nil || !strings.Contains(err.Error(), "reserved") {
				t.Fatalf("got %v, want an error saying the name is reserved", err)
			}
			if got := held(p); len(got) != 0 {
				t.Errorf("zone holds %q, want nothing written", got)
			}
		})
	}
}

// Two deployments that claim one RRset at once: the last writer's owner
// record stays; the other refuses from its next read on.
func TestConcurrentClaimLastWriterWins(t *testing.T) {
	p := zoneWith(t)
	prod, staging := wrap(t, p, "prod"), wrap(t, p, "staging")
	ctx := t.Context()
	for _, w := range []failover.Provider{prod, staging} { // both read the zone while www is unowned
		if _, err := w.GetRecords(ctx, zone); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := prod.SetRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := staging.SetRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.2")}); err != nil {
		t.Fatal(err) // staging has not seen prod's claim: it claims too
	}
	if got, want := held(p), []string{"_failover-owner-a.www TXT failover-owner=staging,type=A", "www A 192.0.2.2"}; !slices.Equal(got, want) {
		t.Fatalf("zone holds %q, want %q (the last writer's)", got, want)
	}
	if _, err := prod.GetRecords(ctx, zone); err != nil {
		t.Fatal(err)
	}
	_, err := prod.SetRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.1")})
	var fe *owner.ForeignError
	if !errors.As(err, &fe) || fe.Other != "staging" {
		t.Fatalf("prod after its read: got %v, want refused as staging's", err)
	}
	if _, err := staging.SetRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.3")}); err != nil {
		t.Fatalf("staging: %v", err)
	}
}

// An owner record deleted by hand leaves its RRset unowned: the next
// write after a read claims it again.
func TestOwnerRecordDeletedByHandReclaimed(t *testing.T) {
	p := zoneWith(t)
	w := wrap(t, p, "prod")
	ctx := t.Context()
	if _, err := w.SetRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.DeleteRecords(ctx, zone, []libdns.Record{txt("_failover-owner-a.www", "failover-owner=prod,type=A")}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.GetRecords(ctx, zone); err != nil {
		t.Fatal(err)
	}
	if _, err := w.SetRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.2")}); err != nil {
		t.Fatal(err)
	}
	if got, want := held(p), []string{"_failover-owner-a.www TXT failover-owner=prod,type=A", "www A 192.0.2.2"}; !slices.Equal(got, want) {
		t.Errorf("zone holds %q, want %q", got, want)
	}
}

// Wrap refuses what cannot work, naming it.
func TestWrapRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    failover.Provider
		id   string
		want string
	}{
		{"empty id", &memory.Provider{}, "", "empty owner id"},
		{"long id", &memory.Provider{}, strings.Repeat("a", 64), "longer than 63"},
		{"comma", &memory.Provider{}, "a,b", "only letters"},
		{"nil provider", nil, "prod", "nil provider"},
		{"nil pointer", (*memory.Provider)(nil), "prod", "nil provider"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := owner.Wrap(tc.p, tc.id)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// getSetter is a provider with no optional extra.
type getSetter struct{ p *memory.Provider }

func (g getSetter) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	return g.p.GetRecords(ctx, zone)
}

func (g getSetter) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return g.p.SetRecords(ctx, zone, recs)
}

// extras is a provider with every optional extra.
type extras struct{ getSetter }

func (extras) MinTTL() time.Duration       { return 60 * time.Second }
func (extras) AutomaticTTL() time.Duration { return time.Second }
func (extras) Name() string                { return "edge" }
func (e extras) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return e.p.DeleteRecords(ctx, zone, recs)
}

// The wrapper keeps what the Manager finds by type assertion.
func TestKeepsOptionalExtras(t *testing.T) {
	for _, tc := range []struct {
		name        string
		p           failover.Provider
		wantDeleter bool
		wantMin     time.Duration
		wantAuto    time.Duration
		wantName    string
	}{
		{"none", getSetter{&memory.Provider{}}, false, 0, 0, "owner_test.getSetter"},
		{"all", extras{getSetter{&memory.Provider{}}}, true, time.Minute, time.Second, "edge"},
		{"memory", &memory.Provider{}, true, 0, 0, "memory.Provider"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := wrap(t, tc.p, "prod")
			if _, got := w.(libdns.RecordDeleter); got != tc.wantDeleter {
				t.Errorf("RecordDeleter: got %v, want %v", got, tc.wantDeleter)
			}
			if got := w.(failover.MinTTLProvider).MinTTL(); got != tc.wantMin {
				t.Errorf("MinTTL: got %v, want %v", got, tc.wantMin)
			}
			if got := w.(failover.AutomaticTTLProvider).AutomaticTTL(); got != tc.wantAuto {
				t.Errorf("AutomaticTTL: got %v, want %v", got, tc.wantAuto)
			}
			if got := w.(interface{ Name() string }).Name(); got != tc.wantName {
				t.Errorf("Name: got %q, want %q", got, tc.wantName)
			}
		})
	}
}

// A provider with a TTL floor gets owner records at or above it.
func TestOwnerRecordTTLRaisedToFloor(t *testing.T) {
	p := zoneWith(t)
	p.MinimumTTL = 2 * time.Hour
	w := wrap(t, extrasFloor{getSetter{p}}, "prod")
	if _, err := w.SetRecords(t.Context(), zone, []libdns.Record{libdns.Address{Name: "www", TTL: 2 * time.Hour, IP: netip.MustParseAddr("192.0.2.1")}}); err != nil {
		t.Fatal(err)
	}
}

type extrasFloor struct{ getSetter }

func (extrasFloor) MinTTL() time.Duration { return 2 * time.Hour }

// A deployment that found an RRset another's does not take it over when
// the owner record is deleted by hand while it runs; the owner reclaims
// it, and a new wrapper (a restart) would claim it.
func TestForeignOwnerRecordDeletedNotTakenOver(t *testing.T) {
	p := zoneWith(t, a("www", "192.0.2.1"), txt("_failover-owner-a.www", "failover-owner=prod,type=A"))
	staging := wrap(t, p, "staging")
	ctx := t.Context()
	if _, err := staging.GetRecords(ctx, zone); err != nil {
		t.Fatal(err)
	}
	if _, err := p.DeleteRecords(ctx, zone, []libdns.Record{txt("_failover-owner-a.www", "failover-owner=prod,type=A")}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // reads after the deletion do not forget
		if _, err := staging.GetRecords(ctx, zone); err != nil {
			t.Fatal(err)
		}
	}
	_, err := staging.SetRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.2")})
	var fe *owner.ForeignError
	if !errors.As(err, &fe) || !strings.Contains(fe.Problem, `was owned by "prod"`) {
		t.Fatalf("staging: got %v, want refused: it was prod's", err)
	}
	if _, err := wrap(t, p, "prod").SetRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.3")}); err != nil {
		t.Fatalf("prod reclaiming: %v", err)
	}
	if _, err := staging.GetRecords(ctx, zone); err != nil {
		t.Fatal(err)
	}
	if _, err := staging.SetRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.2")}); !errors.As(err, &fe) || fe.Other != "prod" {
		t.Fatalf("staging after prod reclaimed: got %v, want refused as prod's", err)
	}
	if _, err := wrap(t, p, "other").SetRecords(ctx, zone, []libdns.Record{a("mail", "192.0.2.4")}); err != nil {
		t.Fatalf("a new wrapper claiming an unowned RRset: %v", err)
	}
	if got, want := held(p), []string{"_failover-owner-a.mail TXT failover-owner=other,type=A", "_failover-owner-a.www TXT failover-owner=prod,type=A", "mail A 192.0.2.4", "www A 192.0.2.3"}; !slices.Equal(got, want) {
		t.Errorf("zone holds %q, want %q", got, want)
	}
}

// DeleteRecords with a record without a type (libdns: every type at the
// name) is refused, naming the zone and the name, and changes nothing:
// no malformed owner record "_failover-owner-.www", and no RRset of
// another deployment deleted because no owner record names type "".
func TestDeleteWithoutTypeRefused(t *testing.T) {
	for _, tc := range []struct{ name, owner string }{
		{"ours", "prod"},
		{"another deployment's", "staging"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := zoneWith(t, a("www", "192.0.2.1"), txt("_failover-owner-a.www", "failover-owner="+tc.owner+",type=A"))
			before := held(p)
			d := wrap(t, p, "prod").(libdns.RecordDeleter)
			gone, err := d.DeleteRecords(t.Context(), zone, []libdns.Record{libdns.RR{Name: "www"}})
			if err == nil || !strings.Contains(err.Error(), zone) || !strings.Contains(err.Error(), "www") || !strings.Contains(err.Error(), "no type") {
				t.Errorf("got error %v, want one naming zone %s, www and the missing type", err, zone)
			}
			if len(gone) != 0 {
				t.Errorf("DeleteRecords returned %v, want nothing deleted", rrStrings(gone))
			}
			if h := held(p); !slices.Equal(h, before) {
				t.Errorf("zone holds %q, want %q unchanged", h, before)
			}
		})
	}
}

// After a SetRecords call that failed, the next read writes the owner
// record of each RRset whose claim the call sent and that the read finds
// without one; an RRset the read does not find, or finds owned, is left
// alone, and a failed retry is the read's error, tried again by the next
// read.
func TestFailedClaimRetriedByRead(t *testing.T) {
	const ours = "_failover-owner-a.www TXT failover-owner=prod,type=A"
	for _, tc := range []struct {
		name      string
		partial   int    // RRsets the failed write applies: 1 is www without its owner record
		meanwhile string // an owner record another deployment writes before the read, if any
		retryFail bool   // the first retry fails too
		want      []string
	}{
		{"written without owner record", 1, "", false, []string{ours, "www A 192.0.2.1"}},
		{"retry fails, next read retries", 1, "", true, []string{ours, "www A 192.0.2.1"}},
		{"nothing written", 0, "", false, nil},
		{"claimed by another meanwhile", 1, "staging", false, []string{"_failover-owner-a.www TXT failover-owner=staging,type=A", "www A 192.0.2.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := zoneWith(t)
			w := wrap(t, p, "prod")
			if tc.partial > 0 {
				p.PartialNext(tc.partial)
			} else {
				p.FailNext(memory.MethodSetRecords, 1, nil)
			}
			if _, err := w.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.1")}); err == nil {
				t.Fatal("the injected failure did not fail SetRecords")
			}
			if tc.meanwhile != "" {
				if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{txt("_failover-owner-a.www", "failover-owner="+tc.meanwhile+",type=A")}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.retryFail {
				p.FailNext(memory.MethodSetRecords, 1, nil)
				if _, err := w.GetRecords(t.Context(), zone); err == nil || !strings.Contains(err.Error(), zone) || !strings.Contains(err.Error(), "www A") {
					t.Errorf("read with a failing retry: got error %v, want one naming zone %s and www A", err, zone)
				}
			}
			if _, err := w.GetRecords(t.Context(), zone); err != nil {
				t.Fatal(err)
			}
			if h := held(p); !slices.Equal(h, tc.want) {
				t.Errorf("zone holds %q, want %q", h, tc.want)
			}
			calls := p.Calls(memory.MethodSetRecords)
			if _, err := w.GetRecords(t.Context(), zone); err != nil {
				t.Fatal(err)
			}
			if got := p.Calls(memory.MethodSetRecords); got != calls {
				t.Errorf("a later read made %d SetRecords calls, want none: the claim is retried once it succeeds", got-calls)
			}
		})
	}
}
