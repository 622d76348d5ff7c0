package failover

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover/provider/memory"
	"github.com/libdns/libdns"
)

// flapper is a checker whose endpoints go down and up on a seeded
// schedule until calm is closed, then stay healthy.
type flapper struct {
	start time.Time
	calm  chan struct{}
}

func (f *flapper) Check(_ context.Context, target string) error {
	select {
	case <-f.calm:
		return nil
	default:
	}
	h := fnv.New64a()
	h.Write([]byte(target))
	seed := h.Sum64()
	period := time.Duration(60+seed%240) * time.Second // each endpoint has its own rhythm
	slot := uint64(time.Since(f.start) / period)
	if (seed>>8+slot*2654435761)%5 == 0 { // down one slot in five
		return fmt.Errorf("%s flapped down", target)
	}
	return nil
}

// TestChaos runs 1,000 records of 3 endpoints for a simulated hour while
// endpoints flap and the provider fails a fifth of its calls, applies some
// writes partially and delays others. Throughout, no empty RRset is written
// unless the record's policy says so and nothing outside the configuration
// is touched; once the chaos stops, the provider converges to exactly what
// the decisions say.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos takes a few seconds")
	}
	synctest.Test(t, func(t *testing.T) {
		const records = 1000
		unrelated := []libdns.Record{
			libdns.TXT{Name: "@", TTL: time.Hour, Text: "v=spf1 -all"},
			libdns.MX{Name: "@", TTL: time.Hour, Preference: 10, Target: "mail.example.test."},
			libdns.Address{Name: "mail", TTL: time.Hour, IP: netip.MustParseAddr("192.0.2.25")},
		}
		for i := range records { // a TXT beside every managed name
			unrelated = append(unrelated, libdns.TXT{Name: fmt.Sprintf("r%d", i), TTL: time.Hour, Text: "keep"})
		}
		p := memZone(t, unrelated...)
		before := p.Records(testZone)

		flaps := &flapper{start: time.Now(), calm: make(chan struct{})}
		policies := []Policy{{AllDown: KeepPublished}, {AllDown: PublishAll}, {AllDown: PublishFallback, Fallback: []string{"198.51.100.99"}}, {AllDown: PublishNothing}}
		var recs []Record
		nothing := map[string]bool{}
		for i := range records {
			pol := policies[i%len(policies)]
			pol.Interval, pol.FailAfter, pol.RecoverAfter, pol.FailbackDelay = 30*time.Second, 2, 2, 2*time.Minute
			name := fmt.Sprintf("r%d", i)
			if pol.AllDown == PublishNothing {
				nothing[name] = true
			}
			recs = append(recs, Record{
				Name: name, Type: "A",
				Endpoints: []Endpoint{
					{Value: fmt.Sprintf("10.%d.%d.1", i/256, i%256)},
					{Value: fmt.Sprintf("10.%d.%d.2", i/256, i%256)},
					{Value: fmt.Sprintf("10.%d.%d.3", i/256, i%256), Priority: 1},
				},
				Check:  flaps,
				Policy: pol,
			})
		}

		// The provider misbehaves, and every call it gets is checked.
		var mu sync.Mutex
		rng := rand.New(rand.NewPCG(1, 2))
		var violations []string
		chaos := true
		p.SetHook(func(c memory.Call) *memory.Fault {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range c.Records {
				rr := r.RR()
				if rr.Type != "A" || !strings.HasPrefix(rr.Name, "r") {
					violations = append(violations, fmt.Sprintf("%s touched %s %s", c.Method, rr.Name, rr.Type))
				}
				if c.Method == memory.MethodDeleteRecords && !nothing[rr.Name] {
					violations = append(violations, fmt.Sprintf("deleted %s, whose policy is not to publish nothing", rr.Name))
				}
			}
			if !chaos || c.Method == memory.MethodGetRecords && rng.IntN(2) == 0 {
				return nil
			}
			switch n := rng.IntN(10); {
			case n < 2:
				return &memory.Fault{Err: errors.New("chaos: provider error")}
			case n < 3 && c.Method == memory.MethodSetRecords:
				return &memory.Fault{Partial: 1 + rng.IntN(3)}
			case n < 4:
				return &memory.Fault{Delay: time.Duration(rng.IntN(5000)) * time.Millisecond}
			}
			return nil
		})

		cfg := oneZone(p, recs...)
		cfg.ReconcileInterval = time.Minute
		cfg.MaxRetryBackoff = 10 * time.Second
		h := run(t, cfg)
		time.Sleep(time.Hour)

		// Calm: faults stop, every endpoint recovers.
		mu.Lock()
		chaos = false
		mu.Unlock()
		close(flaps.calm)
		time.Sleep(2*time.Minute + 2*cfg.ReconcileInterval) // recovery, failback delay, two reconciles
		synctest.Wait()

		mu.Lock()
		if len(violations) > 0 {
			t.Errorf("%d violations, first: %s", len(violations), violations[0])
		}
		mu.Unlock()
		unmanaged := func(recs []libdns.Record) []libdns.Record {
			return slices.DeleteFunc(recs, func(r libdns.Record) bool { return r.RR().Type == "A" && strings.HasPrefix(r.RR().Name, "r") })
		}
		if !sameRecords(unmanaged(p.Records(testZone)), unmanaged(before)) {
			t.Error("records outside the configuration changed")
		}
		st := h.m.Status()
		for _, r := range st.Zones[0].Records {
			got, ttl := held(p, r.Name, "A")
			want := slices.Clone(r.Published)
			slices.Sort(want)
			if !slices.Equal(got, want) || len(want) > 0 && ttl != r.TTL {
				t.Fatalf("%s: provider holds %v TTL %v, decision is %v TTL %v", r.Name, got, ttl, want, r.TTL)
			}
			if primaries := []string{r.Endpoints[0].Value, r.Endpoints[1].Value}; !slices.Equal(want, primaries) {
				t.Fatalf("%s: after the calm it publishes %v, want its primaries %v", r.Name, want, primaries)
			}
		}
		if ps := st.Zones[0].Providers[0]; !ps.InSync {
			t.Errorf("provider not in sync after the calm: %+v", ps)
		}
		sets := p.Calls(memory.MethodSetRecords) + p.Calls(memory.MethodDeleteRecords)
		decided, failed := len(h.of(EventRecordDecided)), len(h.of(EventProviderCallFailed))+len(h.of(EventRecordQuarantined))
		t.Logf("%d decisions, %d failed calls, %d writes (SetRecords and DeleteRecords calls)", decided, failed, sets)
		if bound := decided + failed + len(h.of(EventDriftRepaired)); sets > bound {
			t.Errorf("%d writes, want at most one per decision, failure or repair (%d)", sets, bound)
		}
	})
}

// sameRecords compares two record lists by their RR values.
func sameRecords(a, b []libdns.Record) bool {
	return slices.EqualFunc(a, b, func(x, y libdns.Record) bool { return x.RR() == y.RR() })
}
