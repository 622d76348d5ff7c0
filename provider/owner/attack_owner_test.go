//go:build failing

package owner_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover/provider/memory"
	"github.com/libdns/libdns"
)

// A provider that applies the RRset but fails the owner record of the
// same call (Cloudflare: two requests; any provider's partial write) leaves
// the RRset written and unowned. The Manager reads the zone back, finds
// its values there, and never writes it again while nothing changes: the
// claim is never retried, so the record stays unowned and the next
// deployment to write it takes it over. The user sees owner: prod, a
// healthy in-sync Status, and no owner record in the zone.
func TestAttackClaimLostAfterPartialWriteNeverRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := zoneWith(t)
		var mu sync.Mutex
		failed := false
		p.SetHook(func(c memory.Call) *memory.Fault {
			mu.Lock()
			defer mu.Unlock()
			if c.Method != memory.MethodSetRecords || failed {
				return nil
			}
			for _, r := range c.Records {
				if r.RR().Type == "TXT" {
					failed = true
					return &memory.Fault{Partial: 1} // the RRset goes in, its owner record does not
				}
			}
			return nil
		})
		var down sync.Map
		d := startDeployment(t, slowly, p, "prod", record("www", "A", 10*time.Second, &down, "192.0.2.10"))
		until(t, time.Minute, "www written", func() (bool, string) {
			h := held(p)
			return slices.Contains(h, "www A 192.0.2.10"), fmt.Sprint(h)
		})
		until(t, 10*time.Minute, "the owner record written after the failed claim", func() (bool, string) {
			h := held(p)
			return slices.Contains(h, "_failover-owner-a.www TXT failover-owner=prod,type=A"), fmt.Sprintf("zone %q, status %+v", h, d.m.Status().Zones[0].Providers[0])
		})
	})
}

// DeleteRecords with a record whose Type is empty (libdns: delete the
// records at the name whatever their type) is "claimed" with an owner
// record at "_failover-owner-.www" holding "failover-owner=prod,type=":
// a malformed owner record that no reader recognises (ownedKey rejects an
// empty type), left in the user's zone for ever. The wrapper must refuse
// a typeless record (or resolve it to the RRsets it names) instead.
func TestAttackDeleteWithoutTypeWritesBogusOwnerRecord(t *testing.T) {
	p := zoneWith(t, a("www", "192.0.2.1"), txt("_failover-owner-a.www", "failover-owner=prod,type=A"))
	d := wrap(t, p, "prod").(libdns.RecordDeleter)
	d.DeleteRecords(t.Context(), zone, []libdns.Record{libdns.RR{Name: "www"}})
	for _, r := range held(p) {
		if strings.HasPrefix(r, "_failover-owner-.") {
			t.Errorf("zone holds the malformed owner record %q, want none", r)
		}
	}
}

// DeleteRecords with a typeless record at a name whose A RRset another
// deployment owns deletes that RRset: the ownership check keys on
// (name, ""), which no owner record names, so staging's refusal never
// happens and prod removes staging's live record from DNS. The user
// sees another deployment's www vanish.
func TestAttackDeleteWithoutTypeDeletesForeignRRset(t *testing.T) {
	p := zoneWith(t, a("www", "192.0.2.1"), txt("_failover-owner-a.www", "failover-owner=staging,type=A"))
	d := wrap(t, p, "prod").(libdns.RecordDeleter)
	_, err := d.DeleteRecords(t.Context(), zone, []libdns.Record{libdns.RR{Name: "www"}})
	if h := held(p); !slices.Contains(h, "www A 192.0.2.1") {
		t.Errorf("staging's www A deleted by prod (error %v): zone holds %q, want it kept and the delete refused", err, h)
	}
}
