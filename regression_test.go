package failover_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/provider/memory"
	"github.com/libdns/libdns"
)

// The regression tests below each reproduce a defect of the engine that
// the model test (model_test.go) found, named after its item of issue 11
// ("new" when the issue did not list it); all are fixed.

const rz = "example.test."

// rpol is the policy of the regression tests: quick to decide, no jitter.
var rpol = failover.Policy{Interval: 10 * time.Second, Timeout: time.Second, Jitter: time.Nanosecond, FailAfter: 1, RecoverAfter: 1,
	FailbackDelay: time.Minute, TTL: time.Minute, FailoverTTL: 30 * time.Second, StableAfter: 2 * time.Minute}

// switches is a comparable Checker whose targets pass unless set down.
type switches struct {
	mu   sync.Mutex
	down map[string]bool
}

func newSwitches(down ...string) *switches {
	s := &switches{down: map[string]bool{}}
	for _, d := range down {
		s.down[d] = true
	}
	return s
}

func (s *switches) Check(_ context.Context, target string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down[target] {
		return errModelDown
	}
	return nil
}

func (s *switches) set(target string, down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down[target] = down
}

// rig runs one Manager in a synctest bubble and keeps its events.
type rig struct {
	t      *testing.T
	m      *failover.Manager
	mu     sync.Mutex
	events []failover.Event
	cancel context.CancelFunc
	done   chan error
}

// startRig runs a Manager of cfg; prep, if not nil, is called before Run
// (to carry over state).
func startRig(t *testing.T, cfg failover.Config, prep func(*failover.Manager)) *rig {
	t.Helper()
	r := &rig{t: t, done: make(chan error, 1)}
	cfg.OnEvent = func(e failover.Event) {
		r.mu.Lock()
		r.events = append(r.events, e)
		r.mu.Unlock()
	}
	m, err := failover.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if prep != nil {
		prep(m)
	}
	r.m = m
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- m.Run(ctx) }()
	t.Cleanup(func() {
		if r.cancel != nil {
			r.stop()
		}
	})
	return r
}

// stop cancels Run and returns how long it took to return.
func (r *rig) stop() time.Duration {
	r.cancel()
	r.cancel = nil
	start := time.Now()
	if err := <-r.done; err != nil {
		r.t.Errorf("Run: %v", err)
	}
	return time.Since(start)
}

// carry returns a prep that carries over every record of old.
func carry(t *testing.T, old *failover.Manager) func(*failover.Manager) {
	return func(m *failover.Manager) {
		if err := m.CarryOver(old, func(failover.RecordID) bool { return true }); err != nil {
			t.Fatal(err)
		}
	}
}

func (r *rig) of(k failover.EventKind) []failover.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []failover.Event
	for _, e := range r.events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// record returns the Status of the record named name.
func (r *rig) record(name string) failover.RecordStatus {
	for _, z := range r.m.Status().Zones {
		for _, rs := range z.Records {
			if rs.Name == name {
				return rs
			}
		}
	}
	r.t.Fatalf("no record %q in Status", name)
	return failover.RecordStatus{}
}

// wantWritten fails the test unless p holds 192.0.2.10 for name's A
// RRset and a record-written event reported it.
func (r *rig) wantWritten(p *memory.Provider, name string) {
	r.t.Helper()
	got, _ := holds(p, name)
	written := slices.ContainsFunc(r.of(failover.EventRecordWritten), func(e failover.Event) bool { return e.Record.Name == name })
	if !slices.Equal(got, []string{"192.0.2.10"}) || !written {
		r.t.Errorf("%s: provider holds %v, record-written %v; want 192.0.2.10, reported", name, got, written)
	}
}

func memWith(t *testing.T, recs ...libdns.Record) *memory.Provider {
	t.Helper()
	p := &memory.Provider{}
	if err := p.AddZone(rz, recs...); err != nil {
		t.Fatal(err)
	}
	return p
}

// holds returns the sorted values and TTL p holds for name's A RRset.
func holds(p *memory.Provider, name string) ([]string, time.Duration) {
	var vals []string
	var ttl time.Duration
	for _, rec := range p.Records(rz) {
		if rr := rec.RR(); rr.Name == name && rr.Type == "A" {
			vals, ttl = append(vals, rr.Data), rr.TTL
		}
	}
	slices.Sort(vals)
	return vals, ttl
}

// twoTiers is an A record: 192.0.2.10, then 192.0.2.20.
func twoTiers(name string, check failover.Checker, p failover.Policy) failover.Record {
	return failover.Record{Name: name, Type: "A", Check: check, Policy: p,
		Endpoints: []failover.Endpoint{{Value: "192.0.2.10"}, {Value: "192.0.2.20", Priority: 1}}}
}

func config(p failover.Provider, recs ...failover.Record) failover.Config {
	return failover.Config{Zones: []failover.Zone{{Name: rz, Providers: []failover.Provider{p}, Records: recs}}}
}

func settle(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// Item 17: a start that finds in DNS what the checks decide emits no
// record-decided event.
func TestStartupDecisionEqualToDNSIsNoChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memWith(t, libdnsRecord("www", "A", "192.0.2.10", time.Minute))
		r := startRig(t, config(p, twoTiers("www", newSwitches(), rpol)), nil)
		settle(time.Minute)
		if got := r.of(failover.EventRecordDecided); len(got) > 0 {
			t.Errorf("got %d record-decided events (first: %v), want none: DNS already holds the decision", len(got), got[0])
		}
	})
}

// reloadDuringFailback runs a Manager until www waits to fail back to its
// recovered primary, then replaces it with one of cfg2 carrying it over.
func reloadDuringFailback(t *testing.T, p *memory.Provider, sw *switches, cfg1, cfg2 failover.Config) *rig {
	sw.set("192.0.2.10", true)
	r1 := startRig(t, cfg1, nil)
	settle(15 * time.Second)
	if got, _ := holds(p, "www"); !slices.Equal(got, []string{"192.0.2.20"}) {
		t.Fatalf("before the reload, provider holds %v, want the backup", got)
	}
	sw.set("192.0.2.10", false)
	settle(20 * time.Second) // the primary is up again: failback due a minute later
	r1.stop()
	return startRig(t, cfg2, carry(t, r1.m))
}

// Item 1: a failback that was waiting on FailbackDelay happens after a
// reload that carried the record over.
func TestCarriedRecordFailsBackAfterReload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, sw := memWith(t), newSwitches()
		cfg := config(p, twoTiers("www", sw, rpol))
		reloadDuringFailback(t, p, sw, cfg, cfg)
		settle(5 * time.Minute)
		if got, _ := holds(p, "www"); !slices.Equal(got, []string{"192.0.2.10"}) {
			t.Errorf("5 minutes after the reload, provider holds %v, want the primary (FailbackDelay %v)", got, rpol.FailbackDelay)
		}
	})
}

// Item 1: StableAfter restores the TTL of a record carried over.
func TestCarriedRecordRestoresItsTTLAfterReload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, sw := memWith(t), newSwitches()
		cfg := config(p, twoTiers("www", sw, rpol))
		r1 := startRig(t, cfg, nil)
		settle(time.Minute)
		sw.set("192.0.2.10", true) // failover: FailoverTTL until StableAfter
		settle(30 * time.Second)
		r1.stop()
		r := startRig(t, cfg, carry(t, r1.m))
		settle(10 * time.Minute)
		if got := r.record("www").TTL; got != rpol.TTL {
			t.Errorf("10 minutes after the reload, TTL %v, want %v (StableAfter %v)", got, rpol.TTL, rpol.StableAfter)
		}
	})
}

// Item 1: a changed policy applies to a record carried over.
func TestCarriedRecordAppliesItsChangedPolicy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, sw := memWith(t), newSwitches()
		r1 := startRig(t, config(p, twoTiers("www", sw, rpol)), nil)
		settle(time.Minute)
		r1.stop()
		pol := rpol
		pol.TTL = 5 * time.Minute
		startRig(t, config(p, twoTiers("www", sw, pol)), carry(t, r1.m))
		settle(time.Minute)
		if _, ttl := holds(p, "www"); ttl != pol.TTL {
			t.Errorf("a minute after the reload, provider holds TTL %v, want the new TTL %v", ttl, pol.TTL)
		}
	})
}

// Item 1: a drain set for a minute ends a minute later, across a reload.
func TestCarriedDrainExpiresAfterReload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, sw := memWith(t), newSwitches()
		cfg := config(p, twoTiers("www", sw, rpol))
		r1 := startRig(t, cfg, nil)
		settle(15 * time.Second)
		id := failover.RecordID{Zone: rz, Name: "www", Type: "A"}
		if err := r1.m.SetOverride(id, "192.0.2.10", failover.ForceDown, time.Minute); err != nil {
			t.Fatal(err)
		}
		settle(10 * time.Second)
		r1.stop()
		r := startRig(t, cfg, carry(t, r1.m))
		settle(5 * time.Minute)
		if o := r.record("www").Endpoints[0]; o.Override != failover.NoOverride {
			t.Errorf("5 minutes after a 1-minute drain, endpoint %s has override %v until %v, want none", o.Value, o.Override, o.OverrideUntil)
		}
		if got, _ := holds(p, "www"); !slices.Equal(got, []string{"192.0.2.10"}) {
			t.Errorf("provider holds %v, want the primary back after the drain", got)
		}
	})
}

// Item 1 (found by the model; not in the text): a record that a
// reload changed, and so did not carry over, whose endpoints share their
// probe with a record that was carried over, finds them known without a
// change, and is never decided: its new policy never reaches DNS.
func TestReloadDecidesARecordSharingACarriedProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, sw := memWith(t), newSwitches()
		r1 := startRig(t, config(p, twoTiers("www", sw, rpol), twoTiers("api", sw, rpol)), nil)
		settle(time.Minute)
		r1.stop()
		pol := rpol
		pol.TTL = 5 * time.Minute
		keepWWW := func(m *failover.Manager) {
			if err := m.CarryOver(r1.m, func(id failover.RecordID) bool { return id.Name == "www" }); err != nil {
				t.Fatal(err)
			}
		}
		r := startRig(t, config(p, twoTiers("www", sw, rpol), twoTiers("api", sw, pol)), keepWWW)
		settle(2 * time.Minute)
		if st := r.record("api"); !st.Decided || st.TTL != pol.TTL {
			t.Errorf("api 2 minutes after the reload: decided %v, TTL %v, want decided with its new TTL %v", st.Decided, st.TTL, pol.TTL)
		}
	})
}

// Item 1 (found by the model; not in the text): two records that
// checked one target with different policies, and after a reload share
// one probe, get the state of one of them, chosen at random; the other
// keeps a carried decision that contradicts it and, with nothing changing,
// keeps it. Each run is a coin toss: 16 runs make it certain.
func TestCarryOverIntoASharedProbeKeepsDecisionsConsistent(t *testing.T) {
	for range 16 {
		synctest.Test(t, func(t *testing.T) {
			p, sw := memWith(t), newSwitches()
			slow := rpol
			slow.FailAfter = 3
			r1 := startRig(t, config(p, twoTiers("www", sw, rpol), twoTiers("api", sw, slow)), nil)
			settle(time.Minute)
			sw.set("192.0.2.10", true)
			settle(10 * time.Second) // www has failed over, api's probe still counts failures
			r1.stop()
			r := startRig(t, config(p, twoTiers("www", sw, rpol), twoTiers("api", sw, rpol)), carry(t, r1.m))
			settle(time.Minute)
			for _, name := range []string{"www", "api"} {
				st := r.record(name)
				for _, e := range st.Endpoints {
					if e.Published && e.Health != failover.HealthUp {
						t.Fatalf("%s publishes %v, though its endpoint %s is %v", name, st.Published, e.Value, e.Health)
					}
				}
			}
		})
	}
}

// Item 2: a carried record whose tiers were renumbered stays on its
// healthy primary; with PublishNothing it is not deleted.
func TestCarriedRenumberedTiersKeepTheHealthyPrimary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, sw := memWith(t), newSwitches()
		pol := rpol
		pol.AllDown = failover.PublishNothing
		r1 := startRig(t, config(p, twoTiers("www", sw, pol)), nil)
		settle(time.Minute)
		r1.stop()
		renumbered := twoTiers("www", sw, pol)
		renumbered.Endpoints[0].Priority, renumbered.Endpoints[1].Priority = 10, 20
		startRig(t, config(p, renumbered), carry(t, r1.m))
		sw.set("192.0.2.20", true) // the backup fails: the record decides again
		settle(time.Minute)
		if got, _ := holds(p, "www"); !slices.Equal(got, []string{"192.0.2.10"}) {
			t.Errorf("provider holds %v, want the healthy primary", got)
		}
	})
}

// flapper fails every other check of the targets in flap.
type flapper struct {
	mu   sync.Mutex
	flap map[string]bool
	n    map[string]int
}

func (f *flapper) Check(_ context.Context, target string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n[target]++
	if f.flap[target] && f.n[target]%2 == 0 {
		return errModelDown
	}
	return nil
}

// Item 3: an endpoint that alternates pass and fail from start-up does
// not keep its record undecided forever.
func TestAlternatingEndpointDoesNotFreezeItsRecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memWith(t)
		pol := rpol
		pol.FailAfter, pol.RecoverAfter = 2, 2
		f := &flapper{flap: map[string]bool{"192.0.2.11": true}, n: map[string]int{}}
		rec := failover.Record{Name: "www", Type: "A", Check: f, Policy: pol,
			Endpoints: []failover.Endpoint{{Value: "192.0.2.10"}, {Value: "192.0.2.11"}}}
		r := startRig(t, config(p, rec), nil)
		settle(10 * time.Minute)
		if st := r.record("www"); !st.Decided {
			t.Errorf("after 10 minutes the record is not decided (endpoints %+v)", st.Endpoints)
		}
		if got, _ := holds(p, "www"); !slices.Contains(got, "192.0.2.10") {
			t.Errorf("provider holds %v, want the healthy 192.0.2.10 published", got)
		}
	})
}

// slowChecker passes every check after 90% of its deadline.
type slowChecker struct{}

func (slowChecker) Check(ctx context.Context, _ string) error {
	d, _ := ctx.Deadline()
	time.Sleep(time.Until(d) * 9 / 10)
	return nil
}

// Item 4: checks that pass in time are not failed for waiting for their
// turn under MaxChecks.
func TestSaturatedChecksAreNotFailedByTheirWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := config(memWith(t), failover.Record{Name: "www", Type: "A", Check: slowChecker{}, Policy: rpol,
			Endpoints: []failover.Endpoint{{Value: "192.0.2.10"}, {Value: "192.0.2.11"}, {Value: "192.0.2.12"}}})
		cfg.MaxChecks = 1
		r := startRig(t, cfg, nil)
		settle(10 * time.Minute)
		if down := r.of(failover.EventEndpointDown); len(down) > 0 {
			t.Errorf("%d endpoint-down events (first: %v), want none: every check passed within its timeout", len(down), down[0])
		}
	})
}

// watchedSlow passes checks after 900 ms until dead, then fails at once;
// it hands its notice function to the test.
type watchedSlow struct {
	mu     sync.Mutex
	dead   bool
	notice func(error)
}

func (w *watchedSlow) Check(context.Context, string) error {
	w.mu.Lock()
	dead := w.dead
	w.mu.Unlock()
	if dead {
		return errModelDown
	}
	time.Sleep(900 * time.Millisecond)
	return nil
}

func (w *watchedSlow) Watch(ctx context.Context, _ string, notice func(error)) {
	w.mu.Lock()
	w.notice = notice
	w.mu.Unlock()
	<-ctx.Done()
}

// Item 5: a check already running when a notice comes does not lift the
// suspicion.
func TestSuspicionIsNotLiftedByACheckStartedBeforeTheNotice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &watchedSlow{}
		r := startRig(t, config(memWith(t), failover.Record{Name: "www", Type: "A", Check: w, Policy: rpol,
			Endpoints: []failover.Endpoint{{Value: "192.0.2.10"}, {Value: "192.0.2.20", Priority: 1}}}), nil)
		settle(11300 * time.Millisecond) // checks start at 0 s and 10.9 s: the second is running
		w.mu.Lock()
		w.dead = true
		notice := w.notice
		w.mu.Unlock()
		notice(errors.New("connection reset"))
		settle(5 * time.Second)
		ended := r.of(failover.EventSuspicionEnded)
		if len(ended) == 0 || ended[0].Err == nil {
			t.Errorf("suspicion ended %v, want confirmed: every check started after the notice failed", ended)
		}
	})
}

// Item 7: records sharing a probe each lower their TTL on a failing check
// when their own policy says so.
func TestSharedProbeAppliesEachRecordsLowerTTLOnFailing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sw := newSwitches()
		lower := rpol
		lower.FailAfter, lower.LowerTTLOnFailing = 3, true
		plain := lower
		plain.LowerTTLOnFailing = false
		r := startRig(t, config(memWith(t), twoTiers("www", sw, plain), twoTiers("api", sw, lower)), nil)
		settle(3 * time.Minute) // stable: TTL restored
		sw.set("192.0.2.10", true)
		settle(10 * time.Second) // one failed check, not yet down
		if got := r.record("api").TTL; got != lower.FailoverTTL {
			t.Errorf("api: TTL %v after a failed check of its published endpoint, want FailoverTTL %v (LowerTTLOnFailing)", got, lower.FailoverTTL)
		}
	})
}

// Item 8: an RRset the provider refuses does not hold back the others of
// its zone.
func TestRefusedRRsetDoesNotHoldBackTheOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memWith(t)
		p.SetHook(func(c memory.Call) *memory.Fault {
			if slices.ContainsFunc(c.Records, func(r libdns.Record) bool { return r.RR().Name == "bad" }) {
				return &memory.Fault{Err: errors.New("refused: bad")}
			}
			return nil
		})
		p.FailNext(memory.MethodSetRecords, 1, nil) // a write of www alone fails: its retry carries both
		startRig(t, config(p, twoTiers("www", newSwitches(), rpol), twoTiers("bad", newSwitches(), rpol)), nil)
		settle(5 * time.Minute)
		if got, _ := holds(p, "www"); !slices.Equal(got, []string{"192.0.2.10"}) {
			t.Errorf("provider holds %v for www, want 192.0.2.10 although bad is refused", got)
		}
	})
}

// Item 9: a provider that silently rounds TTLs is not written again at
// every reconcile.
func TestSilentTTLRoundingIsNotRewrittenAtEveryReconcile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memWith(t)
		p.RoundTTL = func(ttl time.Duration) time.Duration { return max(ttl, 2*time.Minute) }
		cfg := config(p, twoTiers("www", newSwitches(), rpol))
		r := startRig(t, cfg, nil)
		settle(10 * time.Minute)
		if n, drift := p.Calls(memory.MethodSetRecords), len(r.of(failover.EventDriftRepaired)); n > 2 || drift > 0 {
			t.Errorf("%d SetRecords calls and %d drift repairs in 10 minutes of one decision, want at most 2 and none", n, drift)
		}
	})
}

// Item 11: a change that a partial write applied is reported as written.
func TestPartialWriteReportsWhatItApplied(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memWith(t)
		p.PartialNext(1)
		r := startRig(t, config(p, twoTiers("www", newSwitches(), rpol), twoTiers("api", newSwitches(), rpol)), nil)
		settle(time.Minute)
		r.wantWritten(p, "www")
		r.wantWritten(p, "api")
	})
}

// Item 11 (found by the model; a cause the issue does not name): a write
// whose SetRecords succeeds and whose DeleteRecords fails reports the set
// changes as written.
func TestWriteWhoseDeleteFailsReportsItsSet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memWith(t, libdnsRecord("gone", "A", "192.0.2.10", time.Minute))
		p.FailNext(memory.MethodSetRecords, 1, nil)    // a write of www alone fails: its retry carries both changes
		p.FailNext(memory.MethodDeleteRecords, 3, nil) // whose delete fails
		nothing := rpol
		nothing.AllDown = failover.PublishNothing
		r := startRig(t, config(p, twoTiers("www", newSwitches(), rpol), twoTiers("gone", newSwitches("192.0.2.10", "192.0.2.20"), nothing)), nil)
		settle(time.Minute)
		r.wantWritten(p, "www")
	})
}

// A write whose SetRecords succeeds and whose DeleteRecords fails reports
// the set at once, not after a read that may be long in coming (found by
// FuzzManagerModel, b8000047f4bc4726: while reads failed, such a set went
// unreported).
func TestSetReportedAtOnceWhenItsDeleteFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memWith(t, libdnsRecord("gone", "A", "192.0.2.10", time.Minute))
		var reads atomic.Int32
		p.SetHook(func(c memory.Call) *memory.Fault {
			switch c.Method {
			case memory.MethodGetRecords:
				if reads.Add(1) > 1 {
					return &memory.Fault{Err: errors.New("rate limited")}
				}
			case memory.MethodDeleteRecords:
				return &memory.Fault{Err: errors.New("refused")}
			}
			return nil
		})
		nothing := rpol
		nothing.AllDown = failover.PublishNothing
		r := startRig(t, config(p, twoTiers("www", newSwitches(), rpol), twoTiers("gone", newSwitches("192.0.2.10", "192.0.2.20"), nothing)), nil)
		settle(time.Second) // before any retry: the first write must say what it did
		r.wantWritten(p, "www")
	})
}

// Item 12: a provider call that ignores its context is reported failed
// after the call timeout, and Run returns.
func TestProviderCallIgnoringItsContextIsAbandoned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memWith(t)
		release := make(chan struct{})
		p.SetHook(func(c memory.Call) *memory.Fault {
			if c.Method == memory.MethodSetRecords {
				<-release // ignores ctx
			}
			return nil
		})
		cfg := config(p, twoTiers("www", newSwitches(), rpol))
		setCallTimeout(&cfg, 10*time.Second)
		r := startRig(t, cfg, nil)
		settle(30 * time.Second)
		if n := len(r.of(evCallFailed)); n == 0 {
			t.Errorf("no call-failed event 30 s into a write with a 10 s timeout")
		}
		stopped := make(chan time.Duration, 1)
		go func() { stopped <- r.stop() }()
		var took time.Duration
		select {
		case took = <-stopped:
			close(release) // the abandoned call ends before the bubble does
		case <-time.After(time.Hour): // Run waits for the call: let it end
			close(release)
			took = <-stopped
		}
		synctest.Wait()
		if took > 11*time.Second {
			t.Errorf("Run returned %v after its context ended, want within the call timeout", took)
		}
	})
}

// Item 13: failing reads do not stop the writes.
func TestFailingReadsDoNotStopTheWrites(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memWith(t)
		p.SetHook(func(c memory.Call) *memory.Fault {
			if c.Method == memory.MethodGetRecords {
				return &memory.Fault{Err: errors.New("rate limited")}
			}
			return nil
		})
		startRig(t, config(p, twoTiers("www", newSwitches(), rpol)), nil)
		settle(30 * time.Minute)
		if got, _ := holds(p, "www"); !slices.Equal(got, []string{"192.0.2.10"}) {
			t.Errorf("after 30 minutes of failing reads, provider holds %v, want the decision 192.0.2.10", got)
		}
	})
}

// counter counts checks per target.
type counter struct {
	mu    sync.Mutex
	first map[string]time.Time
}

func (c *counter) Check(_ context.Context, target string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.first[target]; !ok {
		c.first[target] = time.Now()
	}
	return nil
}

// Item 14: a read that hangs in one zone at start-up does not delay the
// checks of another.
func TestChecksStartWhileAnotherZoneReadHangs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fast, slow := memWith(t), &memory.Provider{}
		if err := slow.AddZone("other.test."); err != nil {
			t.Fatal(err)
		}
		slow.Delay(memory.MethodGetRecords, time.Minute)
		c := &counter{first: map[string]time.Time{}}
		cfg := config(fast, failover.Record{Name: "www", Type: "A", Check: c, Policy: rpol, Endpoints: []failover.Endpoint{{Value: "192.0.2.10"}}})
		cfg.Zones = append(cfg.Zones, failover.Zone{Name: "other.test.", Providers: []failover.Provider{slow},
			Records: []failover.Record{{Name: "www", Type: "A", Check: c, Policy: rpol, Endpoints: []failover.Endpoint{{Value: "192.0.2.99"}}}}})
		setCallTimeout(&cfg, 2*time.Minute)
		start := time.Now()
		startRig(t, cfg, nil)
		settle(2 * time.Minute)
		c.mu.Lock()
		defer c.mu.Unlock()
		if first := c.first["192.0.2.10"]; first.Sub(start) > time.Second {
			t.Errorf("the first check of example.test.'s endpoint started %v after Run, want at once", first.Sub(start))
		}
	})
}

// hangingChecker ignores its context for ten minutes.
type hangingChecker struct{}

func (hangingChecker) Check(context.Context, string) error {
	time.Sleep(10 * time.Minute)
	return nil
}

// Item 18: Run returns promptly while a check ignores its context, and
// says what it abandoned.
func TestRunReturnsWhileACheckIgnoresItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := config(memWith(t), twoTiers("www", hangingChecker{}, rpol))
		cfg.StopTimeout = 2 * time.Second
		m, err := failover.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		settle(10 * time.Second)
		cancel()
		start := time.Now()
		err = <-done
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("Run returned %v after its context ended, want within its StopTimeout", took)
		}
		if !errors.Is(err, failover.ErrAbandoned) || !strings.Contains(err.Error(), "192.0.2.10") {
			t.Errorf("Run: got %v, want ErrAbandoned naming the hung check", err)
		}
		time.Sleep(10 * time.Minute) // the abandoned checks end before the bubble does
	})
}

// New (found by the model): a Manager that starts while the zone cannot
// be read, for a record whose endpoints are all down and whose policy is
// to publish nothing, still deletes what the provider holds: an RRset it
// has never seen is unknown, not empty.
func TestUnreadZoneStillGetsItsDelete(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memWith(t, libdnsRecord("www", "A", "192.0.2.10", time.Minute))
		p.SetHook(func(c memory.Call) *memory.Fault {
			if c.Method == memory.MethodGetRecords {
				return &memory.Fault{Err: errors.New("rate limited")}
			}
			return nil
		})
		nothing := rpol
		nothing.AllDown = failover.PublishNothing
		startRig(t, config(p, twoTiers("www", newSwitches("192.0.2.10", "192.0.2.20"), nothing)), nil)
		settle(10 * time.Minute)
		if got, _ := holds(p, "www"); len(got) != 0 {
			t.Errorf("after 10 minutes with every endpoint down and reads failing, provider holds %v, want the RRset deleted", got)
		}
	})
}

// slowFor passes every check, taking delay[target] (zero: at once).
type slowFor map[string]time.Duration

func (s slowFor) Check(_ context.Context, target string) error {
	time.Sleep(s[target])
	return nil
}

// Item 17 (found by the model; a cause the issue does not name): a record
// DNS holds at its FailoverTTL, raised to the provider's floor, is decided
// once while one of its endpoints is still unknown; that decision kept the
// TTL raised to the floor, so the first real decision (the same values at
// the FailoverTTL) differed from the adopted one and was reported as a
// change.
func TestStartupDecisionAtTheFloorWhileAnEndpointIsUnknownIsNoChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memWith(t, libdnsRecord("www", "A", "192.0.2.10", time.Minute))
		p.MinimumTTL = time.Minute
		pol := rpol
		pol.TTL, pol.FailoverTTL = 5*time.Minute, 30*time.Second // held at the floor: FailoverTTL, raised
		check := slowFor{"192.0.2.20": 500 * time.Millisecond}   // known after .10
		r := startRig(t, config(p, twoTiers("www", check, pol)), nil)
		settle(time.Minute)
		if got := r.of(failover.EventRecordDecided); len(got) > 0 {
			t.Errorf("got %d record-decided events (first: %v), want none: DNS already holds the decision", len(got), got[0])
		}
		if got := r.of(failover.EventRecordAdopted); len(got) != 1 {
			t.Errorf("got %d record-adopted events, want 1", len(got))
		}
	})
}

// Item 12 (found by the model; a cause the issue does not name): a write
// that hangs while the Manager isolates a rejected RRset (here after two
// failed writes of the whole zone) was taken for the provider rejecting
// that RRset: the RRset was quarantined, and the abandoned calls were
// reported as record-quarantined instead of provider-call-failed. A call
// the provider did not answer says nothing about what it carried.
func TestHungWriteIsACallFailureNotAQuarantine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memWith(t)
		var mu sync.Mutex
		var sets int
		var hung []time.Time // starts of the calls that ignored their context
		p.SetHook(func(c memory.Call) *memory.Fault {
			if c.Method != memory.MethodSetRecords {
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			sets++
			switch {
			case sets <= 2: // the whole zone fails twice: the Manager writes it in halves
				return &memory.Fault{Err: errors.New("try again")}
			case len(hung) < 2 && c.Records[0].RR().Name == "api":
				hung = append(hung, time.Now())
				return &memory.Fault{Delay: 30 * time.Second, IgnoreContext: true}
			}
			return nil
		})
		cfg := config(p, twoTiers("www", newSwitches(), rpol), twoTiers("api", newSwitches(), rpol))
		setCallTimeout(&cfg, 10*time.Second)
		r := startRig(t, cfg, nil)
		settle(2 * time.Minute)
		var abandoned int
		for _, e := range r.of(evCallFailed) {
			if errors.Is(e.Err, failover.ErrCallAbandoned) {
				abandoned++
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if abandoned < len(hung) || len(hung) < 2 {
			t.Errorf("%d writes hung, %d provider-call-failed events for abandoned calls; want 2 and 2", len(hung), abandoned)
		}
		if q := r.of(failover.EventRecordQuarantined); len(q) > 0 {
			t.Errorf("got %v, want no quarantine: the provider rejected nothing, it did not answer", q[0])
		}
		if got, _ := holds(p, "api"); !slices.Equal(got, []string{"192.0.2.10"}) {
			t.Errorf("provider holds %v for api, want 192.0.2.10", got)
		}
	})
}

// Item 12 (found by the model; a cause the issue does not name): a write
// running when Run's context ends is finished, but no new call starts
// after it: here the delete of the same write, which hangs, held Run up
// for a second call timeout.
func TestRunStartsNoCallAfterItsContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memWith(t, libdnsRecord("gone", "A", "192.0.2.10", time.Minute))
		p.SetHook(func(c memory.Call) *memory.Fault {
			switch c.Method {
			case memory.MethodSetRecords:
				return &memory.Fault{Delay: 5 * time.Second}
			case memory.MethodDeleteRecords:
				return &memory.Fault{Delay: time.Minute, IgnoreContext: true}
			}
			return nil
		})
		nothing := rpol
		nothing.AllDown = failover.PublishNothing
		cfg := config(p, twoTiers("www", newSwitches(), rpol), twoTiers("gone", newSwitches("192.0.2.10", "192.0.2.20"), nothing))
		setCallTimeout(&cfg, 10*time.Second)
		r := startRig(t, cfg, nil)
		settle(time.Second) // the write of www and gone has started: its SetRecords takes 5 s
		if took := r.stop(); took > 11*time.Second {
			t.Errorf("Run returned %v after its context ended, want within the call timeout and its grace (11s)", took)
		}
		time.Sleep(time.Minute) // a call abandoned ends before the bubble does
	})
}

// Item 13 (found by the model; a case the issue does not name): while
// reads fail, blind writes covered only the decisions the Manager believed
// the provider lacked, so a hand edit it could not see was never
// repaired. Without a read, every decided RRset is written again each
// ReconcileInterval.
func TestHandEditIsRepairedWhileReadsFail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memWith(t)
		failReads := readsFailOn(p)
		cfg := config(p, twoTiers("www", newSwitches(), rpol))
		cfg.ReconcileInterval = 2 * time.Minute
		startRig(t, cfg, nil)
		settle(time.Minute)
		failReads()
		if _, err := p.SetRecords(context.Background(), rz, []libdns.Record{libdnsRecord("www", "A", "203.0.113.66", time.Hour)}); err != nil {
			t.Fatal(err)
		}
		settle(10 * time.Minute)
		if got, ttl := holds(p, "www"); !slices.Equal(got, []string{"192.0.2.10"}) || ttl != rpol.TTL {
			t.Errorf("10 minutes after a hand edit, with reads failing, provider holds %v TTL %v, want 192.0.2.10 TTL %v", got, ttl, rpol.TTL)
		}
	})
}

// Item 13 (found by the model; a case the issue does not name): while
// reads keep failing, the Manager waited out its whole backoff (up to
// MaxRetryBackoff) before writing a new decision, though writes work: a
// failover came minutes late.
func TestNewDecisionIsWrittenAtOnceWhileReadsFail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memWith(t)
		p.SetHook(func(c memory.Call) *memory.Fault {
			if c.Method == memory.MethodGetRecords {
				return &memory.Fault{Err: errors.New("rate limited")}
			}
			return nil
		})
		sw := newSwitches()
		cfg := config(p, twoTiers("www", sw, rpol))
		cfg.RetryBackoff, cfg.MaxRetryBackoff = 10*time.Minute, 10*time.Minute // every backoff lasts 5 to 10 minutes
		startRig(t, cfg, nil)
		for deadline := time.Now().Add(time.Hour); ; settle(time.Second) { // until the blind write: a backoff starts
			if got, _ := holds(p, "www"); slices.Equal(got, []string{"192.0.2.10"}) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no blind write of 192.0.2.10 within an hour of failing reads")
			}
		}
		sw.set("192.0.2.10", true)
		settle(time.Minute)
		if got, _ := holds(p, "www"); !slices.Equal(got, []string{"192.0.2.20"}) {
			t.Errorf("a minute after the primary failed, with reads failing, provider holds %v, want the backup", got)
		}
	})
}

// Item 8 (found by the model; a case the issue does not name): an RRset
// the provider rejects, failing alone with nothing else to write, kept
// the zone in the backoff of its failures (up to MaxRetryBackoff): a new
// decision of another record waited it out.
func TestRefusedRRsetDoesNotDelayANewDecision(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memWith(t, libdnsRecord("www", "A", "192.0.2.10", time.Minute))
		p.SetHook(func(c memory.Call) *memory.Fault {
			if slices.ContainsFunc(c.Records, func(r libdns.Record) bool { return r.RR().Name == "bad" }) {
				return &memory.Fault{Err: errors.New("refused: bad")}
			}
			return nil
		})
		sw := newSwitches()
		cfg := config(p, twoTiers("www", sw, rpol), twoTiers("bad", newSwitches(), rpol))
		cfg.RetryBackoff, cfg.MaxRetryBackoff = 10*time.Minute, 10*time.Minute // every backoff lasts 5 to 10 minutes
		startRig(t, cfg, nil)
		settle(time.Second) // bad was written alone, and refused
		sw.set("192.0.2.10", true)
		settle(time.Minute)
		if got, _ := holds(p, "www"); !slices.Equal(got, []string{"192.0.2.20"}) {
			t.Errorf("a minute after www's primary failed, provider holds %v for www, want the backup although bad is refused", got)
		}
	})
}

// Item 11 (found by the model; a case the issue does not name): a change
// that a failed write applied, just before a reload, was never reported:
// the Manager stopped before its read-back, and the next one took it for
// what DNS held.
func TestPartialWriteBeforeAReloadIsReportedAfterIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, sw := memWith(t), newSwitches()
		cfg := config(p, twoTiers("www", sw, rpol))
		r1 := startRig(t, cfg, nil)
		settle(65 * time.Second)
		sw.set("192.0.2.10", true)
		p.PartialNext(1)        // the failover's write applies, and fails
		settle(5 * time.Second) // the check at 70 s: the write failed, its read-back waits for a backoff
		if got, _ := holds(p, "www"); !slices.Equal(got, []string{"192.0.2.20"}) {
			t.Fatalf("before the reload, provider holds %v, want the backup written by the failed call", got)
		}
		r1.stop()
		r2 := startRig(t, cfg, carry(t, r1.m))
		settle(time.Minute)
		written := func(e failover.Event) bool { return slices.Equal(e.Values, []string{"192.0.2.20"}) }
		if !slices.ContainsFunc(r1.of(failover.EventRecordWritten), written) && !slices.ContainsFunc(r2.of(failover.EventRecordWritten), written) {
			t.Errorf("no record-written event for the backup, which the provider holds since the failed write")
		}
	})
}

// Item 11 (found by the model; a case the issue does not name): on a
// provider that raises TTLs to a floor it does not declare, a change that
// a failed write applied was not recognised by the read-back (its TTL is
// not the one written), and so not reported while writes kept failing.
func TestPartialWriteOnASilentFloorReportsWhatItApplied(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memWith(t)
		silentFloorFirstWriteApplied(p)
		r := startRig(t, config(p, twoTiers("www", newSwitches(), rpol)), nil)
		settle(time.Minute)
		r.wantWritten(p, "www")
	})
}

// silentFloorFirstWriteApplied makes p raise every TTL to 2 minutes
// without a word, apply its first SetRecords and then fail it, and fail
// every later one.
func silentFloorFirstWriteApplied(p *memory.Provider) {
	p.RoundTTL = func(ttl time.Duration) time.Duration { return max(ttl, 2*time.Minute) }
	var mu sync.Mutex
	sets := 0
	p.SetHook(func(c memory.Call) *memory.Fault {
		mu.Lock()
		defer mu.Unlock()
		if c.Method != memory.MethodSetRecords {
			return nil
		}
		if sets++; sets == 1 {
			return &memory.Fault{Partial: 1} // applies the write, then fails
		}
		return &memory.Fault{Err: errors.New("try again")}
	})
}

// Item 11 (found by FuzzManagerModel, f890887df23f93bd): a partial write
// that changed only the TTL, on a provider that raises it silently, was
// never reported: the read-back found the values unchanged and a TTL that
// is neither the old one nor the one asked. A TTL moved toward the one
// asked is the write's doing.
func TestPartialTTLOnlyWriteOnASilentFloorReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memWith(t, libdnsRecord("www", "A", "192.0.2.10", time.Hour))
		silentFloorFirstWriteApplied(p)
		r := startRig(t, config(p, twoTiers("www", newSwitches(), rpol)), nil)
		settle(time.Minute)
		if !slices.ContainsFunc(r.of(failover.EventRecordWritten), func(e failover.Event) bool { return e.Record.Name == "www" }) {
			_, ttl := holds(p, "www")
			t.Errorf("www's TTL went from 1h to %v with no record-written event", ttl)
		}
	})
}

// Item 17 (found by the model; a case the issue does not name): a record
// that publishes nothing, carried over a reload that changed its TTL, was
// decided again as a change (record-decided, nothing to nothing): an
// empty RRset has no TTL to change.
func TestCarriedEmptyDecisionWithANewTTLIsNoChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, sw := memWith(t), newSwitches("192.0.2.10", "192.0.2.20")
		nothing := rpol
		nothing.AllDown = failover.PublishNothing
		r1 := startRig(t, config(p, twoTiers("www", sw, nothing)), nil)
		settle(time.Minute)
		r1.stop()
		longer := nothing
		longer.TTL = 5 * time.Minute
		r2 := startRig(t, config(p, twoTiers("www", sw, longer)), carry(t, r1.m))
		settle(time.Minute)
		if got := r2.of(failover.EventRecordDecided); len(got) > 0 {
			t.Errorf("got %v, want no record-decided: the record publishes nothing before and after", got[0])
		}
	})
}

// Item 13 (found by the model): the blind rewrite of every decided RRset
// while reads fail reported a record decided empty as written though it
// deleted nothing: a delete must name what it removes, and none is known.
func TestBlindRewriteDoesNotReportAnEmptyRRsetWritten(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memWith(t)
		failReads := readsFailOn(p)
		nothing := rpol
		nothing.AllDown = failover.PublishNothing
		cfg := config(p, twoTiers("www", newSwitches("192.0.2.10", "192.0.2.20"), nothing))
		cfg.ReconcileInterval = 2 * time.Minute
		r := startRig(t, cfg, nil)
		settle(time.Minute)
		failReads()
		settle(10 * time.Minute)
		if got := r.of(failover.EventRecordWritten); len(got) > 0 {
			t.Errorf("got %v, want no record-written: nothing was deleted", got[0])
		}
	})
}

// Item 10 (found by the model; a case the issue does not name): a record
// changed by a reload to publish nothing, on a provider that cannot be
// read, was deleted by naming what its new configuration could publish:
// the fallback of its old configuration, which the provider held, stayed.
func TestReloadToPublishNothingDeletesTheOldFallbackUnread(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memWith(t)
		failReads := readsFailOn(p)
		sw := newSwitches("192.0.2.10", "192.0.2.20")
		sorry := rpol
		sorry.AllDown, sorry.Fallback = failover.PublishFallback, []string{"198.51.100.9"}
		r1 := startRig(t, config(p, twoTiers("www", sw, sorry)), nil)
		settle(time.Minute)
		r1.stop()
		failReads()
		nothing := rpol
		nothing.AllDown = failover.PublishNothing
		startRig(t, config(p, twoTiers("www", sw, nothing)), func(m *failover.Manager) {
			if err := m.CarryOver(r1.m, func(failover.RecordID) bool { return false }); err != nil {
				t.Fatal(err)
			}
		})
		settle(time.Minute)
		if got, _ := holds(p, "www"); len(got) > 0 {
			t.Errorf("a minute after the reload, provider holds %v, want the RRset deleted", got)
		}
	})
}

// readsFailOn returns a function that makes every read of p fail from
// then on (a rate-limited list).
func readsFailOn(p *memory.Provider) (start func()) {
	var failing atomic.Bool
	p.SetHook(func(c memory.Call) *memory.Fault {
		if c.Method == memory.MethodGetRecords && failing.Load() {
			return &memory.Fault{Err: errors.New("rate limited")}
		}
		return nil
	})
	return func() { failing.Store(true) }
}

// Item 17 (found by the fuzzer; a case the issue does not name): on a
// provider whose floor raises TTL and FailoverTTL alike, what DNS holds
// is either; a first decision at the FailoverTTL was reported as a change
// from the TTL, though the provider holds the same.
func TestStartupDecisionAtAFloorCoveringBothTTLsIsNoChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := memWith(t, libdnsRecord("www", "A", "192.0.2.10", time.Minute))
		p.MinimumTTL = time.Minute
		pol := rpol
		pol.TTL, pol.FailoverTTL, pol.LowerTTLOnFailing = time.Minute, 10*time.Second, true
		pol.AllDown = failover.PublishAll // the failing endpoint stays published: FailoverTTL
		rec := failover.Record{Name: "www", Type: "A", Check: newSwitches("192.0.2.10"), Policy: pol, Endpoints: []failover.Endpoint{{Value: "192.0.2.10"}}}
		r := startRig(t, config(p, rec), nil)
		settle(30 * time.Second)
		if got := r.of(failover.EventRecordDecided); len(got) > 0 {
			t.Errorf("got %v, want no record-decided: the provider holds the decision, raised to its floor", got[0])
		}
	})
}
