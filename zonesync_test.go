package failover

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/libdns/libdns"

	"github.com/dnsfailover/failover/provider/memory"
)

// A failed provider call is reported for the whole zone, naming the call:
// a failed read is not reported as a write.
func TestProviderCallFailedNamesTheOperation(t *testing.T) {
	errProvider := errors.New("provider says no")
	for _, tc := range []struct {
		name   string
		method memory.Method
		policy Policy
		down   []string // endpoints taken down after the first write
		want   Operation
	}{
		{"read at start-up", memory.MethodGetRecords, basePol, nil, OpGet},
		{"write of a failover", memory.MethodSetRecords, basePol, []string{"192.0.2.10", "192.0.2.11"}, OpSet},
		{"delete when all are down", memory.MethodDeleteRecords, Policy{Interval: basePol.Interval, Timeout: basePol.Timeout, AllDown: PublishNothing},
			[]string{"192.0.2.10", "192.0.2.11", "192.0.2.20"}, OpDelete},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sb, p := newSwitchboard(), memZone(t)
				if tc.method == memory.MethodGetRecords {
					p.FailNext(tc.method, 1, errProvider)
				}
				h := run(t, oneZone(p, wwwRecord(sb, tc.policy)))
				h.settled()
				if tc.method != memory.MethodGetRecords {
					p.FailNext(tc.method, 1, errProvider)
					for _, v := range tc.down {
						sb.set(v, true)
					}
				}
				h.until(time.Minute, stepTime, "a failed call", func() bool { return len(h.of(EventProviderCallFailed)) > 0 })
				e := h.of(EventProviderCallFailed)[0]
				if e.Operation != tc.want || e.Zone != testZone || e.Record != (RecordID{}) || e.Provider != "memory.Provider" || e.Failures != 1 || !errors.Is(e.Err, errProvider) {
					t.Fatalf("got %v, want op=%v zone=%s provider=memory.Provider failures=1 err=%v and no record", e, tc.want, testZone, errProvider)
				}
			})
		})
	}
}

// recordNamed returns the A record name with the two tiers of wwwRecord.
func recordNamed(name string, check Checker, p Policy) Record {
	r := wwwRecord(check, p)
	r.Name = name
	return r
}

// providerStatus returns the status of the first provider of the first
// zone.
func (h *harness) providerStatus() ProviderStatus { return h.m.Status().Zones[0].Providers[0] }

// Item 8: one RRset the provider rejects is quarantined with its own
// error; the other records of the zone are written, now and later; once
// the provider accepts it, it is written too.
func TestRejectedRRsetQuarantined(t *testing.T) {
	errRejected := errors.New("conflicts with pre-existing RRset")
	for _, order := range []string{"rejected first", "rejected last"} {
		t.Run(order, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sb, p := newSwitchboard(), memZone(t)
				var mu sync.Mutex
				reject := true
				p.SetHook(func(c memory.Call) *memory.Fault {
					mu.Lock()
					defer mu.Unlock()
					if c.Method == memory.MethodSetRecords && reject && slices.ContainsFunc(c.Records, func(r libdns.Record) bool { return r.RR().Name == "bad" }) {
						return &memory.Fault{Err: errRejected}
					}
					return nil
				})
				recs := []Record{wwwRecord(sb, basePol), recordNamed("bad", sb, basePol)}
				if order == "rejected first" {
					slices.Reverse(recs)
				}
				h := run(t, oneZone(p, recs...))
				h.holds(p, 2*time.Minute, primary)
				h.until(time.Minute, stepTime, "bad quarantined", func() bool { return len(h.providerStatus().Quarantined) == 1 })
				q := h.providerStatus().Quarantined[0]
				if q.Record != "bad.example.test. A" || !strings.Contains(q.Error, errRejected.Error()) || q.Failures < 1 || !q.RetryAt.After(time.Now()) {
					t.Fatalf("got quarantined %+v, want bad.example.test. A with the provider's error and a retry to come", q)
				}
				e := h.last(EventRecordQuarantined)
				if e.Record.Name != "bad" || e.Provider != "memory.Provider" || e.Operation != OpSet || !errors.Is(e.Err, errRejected) {
					t.Fatalf("got %v, want record-quarantined for bad with op=set and the provider's error", e)
				}

				failover(h, sb, p) // the rest of the zone is still written
				h.until(time.Minute, stepTime, "www backup in Status", func() bool { return !slices.Contains(h.providerStatus().Pending, "www.example.test. A") })

				mu.Lock()
				reject = false
				mu.Unlock()
				h.until(2*DefaultMaxRetryBackoff, stepTime, "bad written once accepted", func() bool { got, _ := held(p, "bad", "A"); return equal(got, backup) })
				h.until(time.Minute, stepTime, "in sync", func() bool { ps := h.providerStatus(); return ps.InSync && len(ps.Quarantined) == 0 })
			})
		})
	}
}

// A lone RRset whose write fails with an error matching ErrRRsetRefused
// is quarantined at once, though no other write proved the provider
// healthy meanwhile; one that fails with any other error is not: the
// provider may be in trouble.
func TestRefusedLoneRRsetQuarantinedAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name           string
		err            error
		wantQuarantine bool
	}{
		{"refused", fmt.Errorf("owned by another deployment: %w", ErrRRsetRefused), true},
		{"other error", errors.New("provider down"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sb, p := newSwitchboard(), memZone(t)
				h := run(t, oneZone(p, wwwRecord(sb, basePol)))
				h.settled()
				p.SetHook(func(c memory.Call) *memory.Fault {
					if c.Method == memory.MethodSetRecords {
						return &memory.Fault{Err: tc.err}
					}
					return nil
				})
				sb.set("192.0.2.10", true) // a failover: one RRset to write
				sb.set("192.0.2.11", true)
				h.until(5*time.Minute, stepTime, "a quarantine or three failed writes", func() bool {
					return len(h.of(EventRecordQuarantined)) > 0 || len(h.of(EventProviderCallFailed)) >= 3
				})
				synctest.Wait()
				q := h.providerStatus().Quarantined
				if got := len(q) == 1 && strings.Contains(q[0].Error, tc.err.Error()); got != tc.wantQuarantine {
					t.Fatalf("got quarantined %+v, want quarantined with the error: %v", q, tc.wantQuarantine)
				}
			})
		})
	}
}

// Item 9: a provider that raises TTLs below a floor it does not declare
// gets one repair, then the floor is learned and said once; reconciles
// then find nothing to write.
func TestSilentTTLFloorLearned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, p := newSwitchboard(), memZone(t)
		p.RoundTTL = silentFloor(time.Minute)
		pol := basePol
		pol.TTL, pol.FailoverTTL, pol.StableAfter = 2*time.Minute, 30*time.Second, time.Hour
		h := run(t, oneZone(p, wwwRecord(sb, pol)))
		h.settled()
		failover(h, sb, p) // written with 30 s, held with 60 s
		h.until(5*time.Minute, stepTime, "floor learned", func() bool { return len(h.of(EventTTLFloorLearned)) > 0 })
		sets := p.Calls(memory.MethodSetRecords)
		time.Sleep(10 * DefaultReconcileInterval)
		if got := p.Calls(memory.MethodSetRecords) - sets; got != 0 {
			t.Errorf("got %d SetRecords calls in 10 reconciles after the floor was learned, want 0", got)
		}
		if got := len(h.of(EventDriftRepaired)); got > 1 {
			t.Errorf("got %d drift-repaired events, want at most 1 (the repair whose read-back teaches the floor)", got)
		}
		learned := h.of(EventTTLFloorLearned)
		if len(learned) != 1 || learned[0].TTL != time.Minute || learned[0].Provider != "memory.Provider" {
			t.Errorf("got %v, want one ttl-floor-learned event with TTL 1m", learned)
		}
		if ps := h.providerStatus(); ps.LearnedMinTTL != time.Minute || !ps.InSync {
			t.Errorf("got provider status %+v, want LearnedMinTTL 1m and in sync", ps)
		}
		if r := h.m.Status().Zones[0].Records[0]; r.TTL != time.Minute {
			t.Errorf("Status TTL %v, want the learned floor 1m", r.TTL)
		}
	})
}

// Item 10: a delete matches whatever TTL the provider holds, and a delete
// that removed less than asked is a failure, read back and retried.
func TestDeleteMatchesAnyTTLAndChecksWhatItRemoved(t *testing.T) {
	nothing := Policy{Interval: basePol.Interval, Timeout: basePol.Timeout, AllDown: PublishNothing}
	for _, tc := range []struct {
		name       string
		silent     time.Duration // the provider's undeclared floor
		raceEdit   bool          // someone edits the RRset just before the delete
		wantFailed bool
	}{
		{"held with a rounded TTL", time.Minute, false, false},
		{"changed before the delete", 0, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sb, p := newSwitchboard(), memZone(t)
				p.RoundTTL = silentFloor(tc.silent)
				h := run(t, oneZone(p, wwwRecord(sb, nothing)))
				h.settled()
				failover(h, sb, p) // the backup is written with the failover TTL 30 s
				var edited sync.Once
				if tc.raceEdit {
					p.SetHook(func(c memory.Call) *memory.Fault {
						if c.Method == memory.MethodDeleteRecords {
							edited.Do(func() {
								if _, err := p.SetRecords(context.Background(), testZone, []libdns.Record{addr("www", "203.0.113.5", time.Hour)}); err != nil {
									t.Error(err)
								}
							})
						}
						return nil
					})
				}
				sb.set("192.0.2.20", true)
				h.until(time.Minute, stepTime, "all down", func() bool { return len(h.of(EventAllDown)) > 0 })
				took := h.until(DefaultReconcileInterval, stepTime, "www deleted", func() bool { got, _ := held(p, "www", "A"); return len(got) == 0 })
				if took > 20*time.Second {
					t.Errorf("deleted after %v, want within 20s (not at the next reconcile)", took)
				}
				var failed []Event
				for _, e := range h.of(EventProviderCallFailed) {
					if e.Operation == OpDelete {
						failed = append(failed, e)
					}
				}
				if got := len(failed) > 0; got != tc.wantFailed {
					t.Errorf("got delete failures %v, want some: %v", failed, tc.wantFailed)
				} else if tc.wantFailed && !strings.Contains(failed[0].Err.Error(), "removed 0 of 1") {
					t.Errorf("got %v, want an error saying the delete removed 0 of 1 records", failed[0].Err)
				}
			})
		})
	}
}

// Item 11: a change that a failed write did apply is reported written
// once the read-back finds it in line.
func TestPartialWriteReportsWhatItApplied(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, p := newSwitchboard(), memZone(t)
		// One endpoint per tier, so that both records fail over in one write.
		rec := func(name string) Record {
			return Record{Name: name, Type: "A", Check: sb, Policy: basePol,
				Endpoints: []Endpoint{{Value: "192.0.2.10"}, {Value: "192.0.2.20", Priority: 1}}}
		}
		h := run(t, oneZone(p, rec("www"), rec("api")))
		h.until(time.Minute, stepTime, "both written", func() bool { return len(h.of(EventRecordWritten)) == 2 })
		p.PartialNext(1) // the failover batch applies its first RRset, then fails
		sb.set("192.0.2.10", true)
		for _, name := range []string{"www", "api"} {
			h.until(time.Minute, stepTime, name+" on the backup", func() bool { got, _ := held(p, name, "A"); return equal(got, backup) })
		}
		synctest.Wait()
		if n := len(h.of(EventProviderCallFailed)); n != 1 {
			t.Fatalf("got %d failed calls, want 1 (the partial write)", n)
		}
		written := map[string]int{}
		for _, e := range h.of(EventRecordWritten) {
			if equal(e.Values, backup) {
				written[e.Record.Name]++
			}
		}
		if written["www"] != 1 || written["api"] != 1 {
			t.Fatalf("got record-written events with the backup %v, want one per record", written)
		}
	})
}

// Item 12: a call that ignores its context is abandoned at
// ProviderTimeout: reported failed, counted in Status while it runs; the
// zone is written by the next call and Run returns without waiting for it.
func TestProviderCallIgnoringItsContextIsAbandoned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, p := newSwitchboard(), memZone(t)
		cfg := oneZone(p, wwwRecord(sb, basePol))
		cfg.ProviderTimeout = 10 * time.Second
		h := run(t, cfg)
		h.settled()
		var hang sync.Once
		p.SetHook(func(c memory.Call) *memory.Fault {
			f := (*memory.Fault)(nil)
			if c.Method == memory.MethodSetRecords {
				hang.Do(func() { f = &memory.Fault{Delay: time.Hour, IgnoreContext: true} })
			}
			return f
		})
		failover(h, sb, p)
		failed := h.last(EventProviderCallFailed)
		if failed.Operation != OpSet || !errors.Is(failed.Err, ErrCallAbandoned) {
			t.Fatalf("got %v, want a failed set call wrapping ErrCallAbandoned", failed)
		}
		if ps := h.providerStatus(); ps.Abandoned != 1 || !ps.InSync {
			t.Fatalf("got provider status %+v, want one abandoned call and in sync", ps)
		}
		time.Sleep(2 * time.Hour) // the abandoned call returns
		synctest.Wait()
		if ps := h.providerStatus(); ps.Abandoned != 0 {
			t.Fatalf("after the call returned: got %d abandoned, want 0", ps.Abandoned)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		sb, p := newSwitchboard(), memZone(t)
		p.SetHook(func(c memory.Call) *memory.Fault {
			if c.Method == memory.MethodSetRecords {
				return &memory.Fault{Delay: time.Hour, IgnoreContext: true}
			}
			return nil
		})
		cfg := oneZone(p, wwwRecord(sb, basePol))
		cfg.ProviderTimeout = 10 * time.Second
		m, stop := runStoppable(t, cfg)
		for p.Calls(memory.MethodSetRecords) == 0 {
			time.Sleep(stepTime)
		}
		begin := time.Now()
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if took := time.Since(begin); took > 2*cfg.ProviderTimeout {
			t.Fatalf("Run returned %v after its context ended, want within about ProviderTimeout (10s)", took)
		}
		if n := m.Status().Zones[0].Providers[0].Abandoned; n != 1 {
			t.Fatalf("after Run returned: %d abandoned calls running, want 1", n)
		}
		time.Sleep(time.Hour) // the abandoned call returns before the bubble ends
	})
}

// Item 13: when reads keep failing, the decided RRsets are written without
// the read, and the event says so; then again once per ReconcileInterval
// (a hand edit cannot be seen), not more often.
func TestWritesWithoutReadAfterRepeatedReadFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, p := newSwitchboard(), memZone(t)
		p.FailNext(memory.MethodGetRecords, 1_000_000, nil)
		h := run(t, oneZone(p, wwwRecord(sb, basePol)))
		h.holds(p, 5*time.Minute, primary)
		e := h.last(EventRecordWritten)
		if !strings.Contains(e.Reason, "without reading") {
			t.Fatalf("got %v, want a record-written event saying it was written without reading the zone", e)
		}
		time.Sleep(time.Hour)
		if n, most := p.Calls(memory.MethodSetRecords), 1+int(time.Hour/DefaultReconcileInterval); n < 2 || n > most {
			t.Fatalf("got %d SetRecords calls in an hour, want the first and one per ReconcileInterval (at most %d)", n, most)
		}
		if e := h.last(EventRecordWritten); !strings.Contains(e.Reason, "in case it drifted") {
			t.Fatalf("got %v, want a record-written event saying it was written again in case the zone drifted", e)
		}
		if ps := h.providerStatus(); ps.InSync || ps.LastError == "" {
			t.Fatalf("got provider status %+v, want not in sync (it cannot be read) with the read's error", ps)
		}
	})
}

// Item 14: a read that hangs in one zone at start-up delays neither the
// checks nor the writes of another zone, and its own zone is written only
// after its adoption read.
func TestHungAdoptionReadDelaysOnlyItsZone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb := newSwitchboard()
		fast := memZone(t)
		slow := &memory.Provider{}
		if err := slow.AddZone("slow.test.", addr("www", "192.0.2.20", DefaultTTL)); err != nil {
			t.Fatal(err)
		}
		slow.Delay(memory.MethodGetRecords, time.Minute)
		cfg := oneZone(fast, wwwRecord(sb, basePol))
		cfg.Zones = append(cfg.Zones, Zone{Name: "slow.test.", Providers: []Provider{slow}, Records: []Record{wwwRecord(sb, basePol)}})
		cfg.ProviderTimeout = 2 * time.Minute
		h := run(t, cfg)
		took := h.holds(fast, 2*time.Minute, primary)
		if took > 30*time.Second {
			t.Fatalf("the fast zone was written after %v, want within 30s (not after the slow zone's read)", took)
		}
		time.Sleep(time.Minute + DefaultFailbackDelay/2)
		if n := slow.Calls(memory.MethodSetRecords); n != 0 {
			t.Fatalf("slow zone: got %d SetRecords calls, want 0 (it adopted the backup and waits FailbackDelay)", n)
		}
	})
}

// Item 15: on a provider with a TTL floor, a restart adopts the floored
// TTL as what it stands for (no write, no early TTL raise), and Status
// gives the TTL served and the convergence time that follows from it.
func TestTTLFloorInAdoptionAndStatus(t *testing.T) {
	t.Run("restart mid-incident writes nothing", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			sb, p := newSwitchboard(), memZone(t)
			p.MinimumTTL = time.Minute
			pol := basePol
			pol.TTL, pol.FailoverTTL, pol.StableAfter = 5*time.Minute, 30*time.Second, 10*time.Minute
			cfg := oneZone(p, wwwRecord(sb, pol))
			_, stop := runStoppable(t, cfg)
			h0 := &harness{t: t}
			h0.holds(p, time.Minute, primary)
			sb.set("192.0.2.10", true)
			sb.set("192.0.2.11", true)
			h0.holds(p, time.Minute, backup)
			if err := stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}
			p.ResetCalls()

			h := run(t, cfg)
			h.until(time.Minute, stepTime, "decided", func() bool { return h.m.Status().Zones[0].Records[0].Decided })
			time.Sleep(5 * time.Minute)
			if n := p.Calls(memory.MethodSetRecords); n != 0 {
				t.Fatalf("got %d SetRecords calls within 5 minutes of the restart, want 0", n)
			}
			if r := h.m.Status().Zones[0].Records[0]; r.TTL != time.Minute {
				t.Fatalf("Status TTL %v, want the 1m the provider holds", r.TTL)
			}
		})
	})
	t.Run("Status", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			sb, p := newSwitchboard(), memZone(t)
			p.MinimumTTL = time.Minute
			pol := basePol
			pol.TTL, pol.FailoverTTL = 45*time.Second, 30*time.Second
			h := run(t, oneZone(p, wwwRecord(sb, pol)))
			h.settled()
			if r := h.m.Status().Zones[0].Records[0]; r.TTL != time.Minute {
				t.Fatalf("before the failover: Status TTL %v, want the floor 1m", r.TTL)
			}
			failover(h, sb, p)
			r := h.m.Status().Zones[0].Records[0]
			if got := r.ConvergedBy.Sub(r.ChangedAt); got != time.Minute || r.TTL != time.Minute {
				t.Fatalf("after the failover: ConvergedBy is ChangedAt + %v and TTL %v, want + 1m (the TTL held before) and 1m", got, r.TTL)
			}
		})
	})
}
