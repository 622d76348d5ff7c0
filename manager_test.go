package failover

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover/check"
	"github.com/dnsfailover/failover/provider/memory"
	"github.com/libdns/libdns"
)

var (
	www      = RecordID{Zone: testZone, Name: "www", Type: "A"}
	primary  = []string{"192.0.2.10", "192.0.2.11"}
	backup   = []string{"192.0.2.20"}
	basePol  = Policy{Interval: 10 * time.Second, Timeout: time.Second}
	stepTime = 100 * time.Millisecond
)

// startWWW runs a Manager for the www record with policy pol on an empty
// memory zone, and waits until its first decision is written.
func startWWW(t *testing.T, pol Policy) (*harness, *switchboard, *memory.Provider) {
	t.Helper()
	sb, p := newSwitchboard(), memZone(t)
	h := run(t, oneZone(p, wwwRecord(sb, pol)))
	h.settled()
	return h, sb, p
}

// settled waits until the first decision has been written.
func (h *harness) settled() {
	h.t.Helper()
	h.until(time.Minute, stepTime, "first write", func() bool { return len(h.of(EventRecordWritten)) > 0 })
}

// holds waits until p holds want for www A.
func (h *harness) holds(p *memory.Provider, limit time.Duration, want []string) time.Duration {
	h.t.Helper()
	return h.until(limit, stepTime, "provider holds "+strings.Join(want, ","), func() bool {
		got, _ := held(p, "www", "A")
		return equal(got, want)
	})
}

func TestFailoverAfterExactlyFailAfterFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pol := basePol
		pol.FastInterval = pol.Interval // count checks at one pace
		h, sb, p := startWWW(t, pol)
		if got, _ := held(p, "www", "A"); !equal(got, primary) {
			t.Fatalf("after start-up: got %v, want %v", got, primary)
		}

		sb.set("192.0.2.10", true)
		sb.set("192.0.2.11", true)
		n0 := sb.count("192.0.2.10")
		for i := 1; i <= 3; i++ {
			h.until(time.Minute, stepTime, "next check", func() bool { return sb.count("192.0.2.10") == n0+i })
			synctest.Wait()
			got, _ := held(p, "www", "A")
			want := primary
			if i == 3 {
				want = backup
			}
			if !equal(got, want) {
				t.Fatalf("after %d failed checks: got %v, want %v", i, got, want)
			}
		}
		downs := h.of(EventEndpointDown)
		if len(downs) != 2 || downs[0].Err == nil {
			t.Fatalf("got %d endpoint-down events (%v), want 2 with the check's error", len(downs), downs)
		}
	})
}

func TestFastRecheckShortensDetection(t *testing.T) {
	for _, tc := range []struct {
		name string
		fast time.Duration
		want time.Duration // from the last good check to the endpoint marked down
	}{
		{"fast re-check", 2500 * time.Millisecond, 15 * time.Second}, // 10 s, then 2 × 2.5 s
		{"no fast re-check", 10 * time.Second, 30 * time.Second},     // 3 × 10 s
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				pol := basePol
				pol.FastInterval = tc.fast
				h, sb, _ := startWWW(t, pol)
				lastGood := time.Now() // the endpoints just passed their second check
				sb.set("192.0.2.10", true)
				h.until(time.Minute, stepTime, "endpoint down", func() bool { return len(h.of(EventEndpointDown)) > 0 })
				if got := h.of(EventEndpointDown)[0].Time.Sub(lastGood); got != tc.want {
					t.Fatalf("detection took %v, want %v", got, tc.want)
				}
			})
		})
	}
}

// failover takes the primary tier down and waits for the backup in DNS.
func failover(h *harness, sb *switchboard, p *memory.Provider) {
	h.t.Helper()
	sb.set("192.0.2.10", true)
	sb.set("192.0.2.11", true)
	h.holds(p, time.Minute, backup)
}

func TestRecoveryAfterRecoverAfterSuccesses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pol := basePol
		pol.RecoverAfter = 3
		h, sb, p := startWWW(t, pol)
		failover(h, sb, p)
		sb.set("192.0.2.10", false)
		n0 := sb.count("192.0.2.10")
		for i := 1; i <= 3; i++ {
			h.until(time.Minute, stepTime, "next check", func() bool { return sb.count("192.0.2.10") == n0+i })
			synctest.Wait()
			got := 0
			for _, e := range h.of(EventEndpointUp) {
				if e.Endpoint == "192.0.2.10" && e.Time.After(h.of(EventEndpointDown)[0].Time) {
					got++
				}
			}
			want := 0
			if i == 3 {
				want = 1
			}
			if got != want {
				t.Fatalf("after %d good checks: got %d endpoint-up events, want %d", i, got, want)
			}
		}
	})
}

func TestFailbackWaitsFailbackDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, sb, p := startWWW(t, basePol)
		failover(h, sb, p)
		sb.set("192.0.2.10", false)
		sb.set("192.0.2.11", false)
		h.holds(p, 5*time.Minute, primary)
		up, back := h.last(EventEndpointUp), h.last(EventRecordDecided)
		if got := back.Time.Sub(up.Time); got != DefaultFailbackDelay {
			t.Fatalf("failback %v after the primary recovered, want %v", got, DefaultFailbackDelay)
		}
		if !strings.Contains(back.Reason, "failback") {
			t.Fatalf("got reason %q, want a failback", back.Reason)
		}
	})
}

func TestFailbackWaitRestartsWhenPrimaryFlaps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, sb, p := startWWW(t, basePol)
		failover(h, sb, p)
		sb.set("192.0.2.10", false)
		sb.set("192.0.2.11", false)
		h.until(time.Minute, stepTime, "primary up", func() bool { return len(h.of(EventEndpointUp)) == 5 })

		time.Sleep(30 * time.Second) // half the delay, then the primary flaps
		sb.set("192.0.2.10", true)
		sb.set("192.0.2.11", true)
		h.until(time.Minute, stepTime, "primary down again", func() bool { return len(h.of(EventEndpointDown)) == 4 })
		sb.set("192.0.2.10", false)
		sb.set("192.0.2.11", false)
		h.until(time.Minute, stepTime, "primary up again", func() bool { return len(h.of(EventEndpointUp)) == 7 })
		synctest.Wait()
		if got, _ := held(p, "www", "A"); !equal(got, backup) {
			t.Fatalf("right after the flap: got %v, want %v", got, backup)
		}
		h.holds(p, 5*time.Minute, primary)
		if got := h.last(EventRecordDecided).Time.Sub(h.last(EventEndpointUp).Time); got != DefaultFailbackDelay {
			t.Fatalf("failback %v after the flap ended, want %v", got, DefaultFailbackDelay)
		}
	})
}

func TestManualFailback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pol := basePol
		pol.ManualFailback = true
		h, sb, p := startWWW(t, pol)
		failover(h, sb, p)
		sb.set("192.0.2.10", false)
		sb.set("192.0.2.11", false)
		time.Sleep(time.Hour)
		synctest.Wait()
		if got, _ := held(p, "www", "A"); !equal(got, backup) {
			t.Fatalf("an hour after recovery without a manual failback: got %v, want %v", got, backup)
		}
		if err := h.m.Failback(www); err != nil {
			t.Fatal(err)
		}
		if took := h.holds(p, time.Second, primary); took > stepTime {
			t.Fatalf("manual failback took %v, want at once", took)
		}
		if err := h.m.Failback(RecordID{Zone: testZone, Name: "nope", Type: "A"}); err == nil {
			t.Fatal("Failback of an unknown record: got nil error")
		}
	})
}

// TestStatusShowsPendingFailback: a Failback made while the Manager does
// not run (between two runs of failoverd) is visible in Status, so that it
// can be kept, until the record's next decision takes it.
func TestStatusShowsPendingFailback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, p := newSwitchboard(), memZone(t)
		m, err := New(oneZone(p, wwwRecord(sb, basePol)))
		if err != nil {
			t.Fatal(err)
		}
		pending := func() bool { return m.Status().Zones[0].Records[0].FailbackRequested }
		if pending() {
			t.Fatal("before any Failback: FailbackRequested is true, want false")
		}
		if err := m.Failback(www); err != nil {
			t.Fatal(err)
		}
		if !pending() {
			t.Fatal("after Failback, before Run: FailbackRequested is false, want true")
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- m.Run(ctx) }()
		time.Sleep(time.Minute)
		synctest.Wait()
		if pending() {
			t.Error("after Run decided the record: FailbackRequested is true, want false")
		}
		cancel()
		<-done
	})
}

func TestEqualPrioritiesPublishedTogetherAndCapped(t *testing.T) {
	for _, tc := range []struct {
		name       string
		maxAnswers int
		want       []string
		afterDown  []string // after 192.0.2.10 goes down
	}{
		{"all of the tier", 0, primary, []string{"192.0.2.11"}},
		{"capped at one", 1, []string{"192.0.2.10"}, []string{"192.0.2.11"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				pol := basePol
				pol.MaxAnswers = tc.maxAnswers
				h, sb, p := startWWW(t, pol)
				if got, _ := held(p, "www", "A"); !equal(got, tc.want) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
				sb.set("192.0.2.10", true)
				h.holds(p, time.Minute, tc.afterDown)
			})
		})
	}
}

func TestAllDown(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy Policy
		want   []string
	}{
		{"keep published", Policy{AllDown: KeepPublished}, []string{"192.0.2.10"}},
		{"publish all", Policy{AllDown: PublishAll}, []string{"192.0.2.10", "192.0.2.11", "192.0.2.20"}},
		{"publish fallback", Policy{AllDown: PublishFallback, Fallback: []string{"192.0.2.99"}}, []string{"192.0.2.99"}},
		{"publish nothing", Policy{AllDown: PublishNothing}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sb := newSwitchboard()
				p := memZone(t, addr("www", "192.0.2.1", time.Minute), libdns.TXT{Name: "www", Text: "keep me"})
				pol := tc.policy
				pol.Interval, pol.Timeout = basePol.Interval, basePol.Timeout
				h := run(t, oneZone(p, wwwRecord(sb, pol)))
				h.settled()
				// One at a time, the backup first, so that what is published
				// when the last one fails is known: 192.0.2.10 alone.
				for i, v := range []string{"192.0.2.20", "192.0.2.11", "192.0.2.10"} {
					sb.set(v, true)
					h.until(time.Minute, stepTime, v+" down", func() bool { return len(h.of(EventEndpointDown)) == i+1 })
				}
				h.until(time.Minute, stepTime, "all down", func() bool { return len(h.of(EventAllDown)) > 0 })
				synctest.Wait()
				if got, _ := held(p, "www", "A"); !equal(got, tc.want) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
				if got, _ := held(p, "www", "TXT"); len(got) != 1 {
					t.Fatalf("the TXT record beside it: got %v, want it kept", got)
				}
			})
		})
	}
}

func TestAllDownAtStartWritesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb := newSwitchboard()
		for _, v := range []string{"192.0.2.10", "192.0.2.11", "192.0.2.20"} {
			sb.set(v, true)
		}
		p := memZone(t) // nothing published yet, and nothing to keep
		h := run(t, oneZone(p, wwwRecord(sb, basePol)))
		h.until(time.Minute, stepTime, "all down", func() bool { return len(h.of(EventAllDown)) > 0 })
		time.Sleep(10 * time.Minute)
		if n := p.Calls(memory.MethodSetRecords); n != 0 {
			t.Fatalf("got %d SetRecords calls, want 0: there was nothing to keep", n)
		}
	})
}

func TestTTLLoweredOnChangeAndRestored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, sb, p := startWWW(t, basePol)
		if _, ttl := held(p, "www", "A"); ttl != DefaultTTL {
			t.Fatalf("first publication: got TTL %v, want %v", ttl, DefaultTTL)
		}
		failover(h, sb, p)
		changed := h.last(EventRecordDecided).Time
		if _, ttl := held(p, "www", "A"); ttl != DefaultFailoverTTL {
			t.Fatalf("after failover: got TTL %v, want %v", ttl, DefaultFailoverTTL)
		}
		h.until(time.Hour, stepTime, "TTL restored", func() bool { _, ttl := held(p, "www", "A"); return ttl == DefaultTTL })
		if got := h.last(EventRecordDecided).Time.Sub(changed); got != DefaultStableAfter {
			t.Fatalf("TTL restored %v after the change, want %v", got, DefaultStableAfter)
		}
		st := h.m.Status().Zones[0].Records[0]
		if want := st.ChangedAt.Add(DefaultTTL); !st.ConvergedBy.Equal(want) {
			t.Fatalf("ConvergedBy = %v, want change time + previous TTL = %v", st.ConvergedBy, want)
		}
	})
}

func TestTTLLoweredAsSoonAsPublishedEndpointFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pol := basePol
		pol.LowerTTLOnFailing = true
		h, sb, p := startWWW(t, pol)
		sb.set("192.0.2.10", true)
		n0 := sb.count("192.0.2.10")
		h.until(time.Minute, stepTime, "one failed check", func() bool { return sb.count("192.0.2.10") == n0+1 })
		synctest.Wait()
		vals, ttl := held(p, "www", "A")
		if !equal(vals, primary) || ttl != DefaultFailoverTTL {
			t.Fatalf("after one failed check: got %v TTL %v, want %v TTL %v", vals, ttl, primary, DefaultFailoverTTL)
		}
	})
}

func TestStartupAdoptsWhatDNSHolds(t *testing.T) {
	t.Run("on the backup: no write, no early failback", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			sb := newSwitchboard()
			p := memZone(t, addr("www", "192.0.2.20", DefaultTTL))
			h := run(t, oneZone(p, wwwRecord(sb, basePol)))
			time.Sleep(DefaultFailbackDelay - time.Second)
			synctest.Wait()
			if n := p.Calls(memory.MethodSetRecords); n != 0 {
				t.Fatalf("before FailbackDelay: got %d SetRecords calls, want 0", n)
			}
			h.holds(p, time.Minute, primary)
			if n := p.Calls(memory.MethodSetRecords); n != 1 {
				t.Fatalf("got %d SetRecords calls, want 1 (the failback)", n)
			}
		})
	})
	t.Run("on the primary: no write at all", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			sb := newSwitchboard()
			p := memZone(t, addr("www", "192.0.2.10", DefaultTTL), addr("www", "192.0.2.11", DefaultTTL))
			h := run(t, oneZone(p, wwwRecord(sb, basePol)))
			h.until(time.Minute, stepTime, "decided", func() bool { return len(h.of(EventRecordAdopted)) > 0 })
			time.Sleep(time.Hour)
			if n := p.Calls(memory.MethodSetRecords); n != 0 {
				t.Fatalf("got %d SetRecords calls, want 0", n)
			}
		})
	})
}

func TestDriftRepairedByReconciler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _, p := startWWW(t, basePol)
		// Someone edits the record by hand.
		if _, err := p.SetRecords(t.Context(), testZone, []libdns.Record{addr("www", "203.0.113.5", time.Hour)}); err != nil {
			t.Fatal(err)
		}
		took := h.holds(p, 2*DefaultReconcileInterval, primary)
		if took > DefaultReconcileInterval {
			t.Fatalf("repaired after %v, want within the reconcile interval %v", took, DefaultReconcileInterval)
		}
		d := h.of(EventDriftRepaired)
		if len(d) != 1 || !equal(d[0].Previous, []string{"203.0.113.5"}) {
			t.Fatalf("got drift events %v, want one with previous [203.0.113.5]", d)
		}
	})
}

func TestWriteRetriedUntilItSucceeds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, sb, p := startWWW(t, basePol)
		p.ResetCalls()
		p.FailNext(memory.MethodSetRecords, 2, nil)
		failover(h, sb, p)
		if n := p.Calls(memory.MethodSetRecords); n != 3 {
			t.Fatalf("got %d SetRecords calls, want 3 (two failed, one good)", n)
		}
		if n := p.Calls(memory.MethodGetRecords); n != 2 {
			t.Fatalf("got %d GetRecords calls, want 2 (a read-back after each failure)", n)
		}
		if n := len(h.of(EventProviderCallFailed)); n != 2 {
			t.Fatalf("got %d provider-call-failed events, want 2", n)
		}
		if n := len(h.of(EventRecordWritten)); n != 2 {
			t.Fatalf("got %d record-written events, want 2 (start-up and failover)", n)
		}
		if ps := h.m.Status().Zones[0].Providers[0]; !ps.InSync || ps.Failures != 0 {
			t.Fatalf("provider status %+v, want in sync with no failures", ps)
		}
	})
}

func TestPartialWriteReadBackAndCompleted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb := newSwitchboard()
		p := memZone(t)
		api := wwwRecord(sb, basePol)
		api.Name = "api"
		h := run(t, oneZone(p, wwwRecord(sb, basePol), api))
		h.until(time.Minute, stepTime, "both written", func() bool { return len(h.of(EventRecordWritten)) == 2 })

		// The first write fails whole, so that both records' changes wait
		// for the retry; the retry applies only its first RRset.
		var calls [][]libdns.Record
		p.SetHook(func(c memory.Call) *memory.Fault {
			if c.Method != memory.MethodSetRecords {
				return nil
			}
			calls = append(calls, c.Records)
			switch len(calls) {
			case 1:
				return &memory.Fault{Err: errDown}
			case 2:
				return &memory.Fault{Partial: 1}
			}
			return nil
		})
		failover(h, sb, p)
		h.until(time.Minute, stepTime, "api on the backup", func() bool { got, _ := held(p, "api", "A"); return equal(got, backup) })
		synctest.Wait()
		if len(calls) != 3 {
			t.Fatalf("got %d SetRecords calls, want 3", len(calls))
		}
		if len(calls[1]) != 2 || len(calls[2]) != 1 {
			t.Fatalf("got calls %v, want both records in one batch, then only the one not applied", calls)
		}
		if got, _ := held(p, "www", "A"); !equal(got, backup) {
			t.Fatalf("www: got %v, want %v", got, backup)
		}
	})
}

func TestOneProviderDownDoesNotHoldBackTheOther(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb := newSwitchboard()
		good, bad := memZone(t), memZone(t)
		cfg := oneZone(good, wwwRecord(sb, basePol))
		cfg.Zones[0].Providers = append(cfg.Zones[0].Providers, bad)
		h := run(t, cfg)
		h.until(time.Minute, stepTime, "both written", func() bool { return len(h.of(EventRecordWritten)) == 2 })

		bad.FailNext(memory.MethodSetRecords, 1000, nil)
		bad.FailNext(memory.MethodGetRecords, 1000, nil)
		failover(h, sb, good)
		time.Sleep(time.Minute)
		st := h.m.Status().Zones[0].Providers
		if !st[0].InSync || st[1].InSync || st[1].LastError == "" || !equal(st[1].Pending, []string{"www.example.test. A"}) {
			t.Fatalf("got provider status %+v, want the first in sync and the second behind with its error", st)
		}
		if got, _ := held(bad, "www", "A"); !equal(got, primary) {
			t.Fatalf("failing provider: got %v, want unchanged %v", got, primary)
		}

		bad.FailNext(memory.MethodSetRecords, 0, nil)
		bad.FailNext(memory.MethodGetRecords, 0, nil)
		h.holds(bad, 2*DefaultMaxRetryBackoff, backup)
		if st := h.m.Status().Zones[0].Providers[1]; !st.InSync {
			t.Fatalf("after recovery: got %+v, want in sync", st)
		}
	})
}

func TestUnrelatedRecordsUntouched(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb := newSwitchboard()
		others := []libdns.Record{
			libdns.Address{Name: "www", TTL: time.Hour, IP: netip.MustParseAddr("2001:db8::1")},
			libdns.TXT{Name: "www", TTL: time.Hour, Text: "v=spf1 -all"},
			libdns.Address{Name: "@", TTL: time.Hour, IP: netip.MustParseAddr("192.0.2.1")},
			libdns.MX{Name: "@", TTL: time.Hour, Preference: 10, Target: "mail.example.test."},
			libdns.CNAME{Name: "docs", TTL: time.Hour, Target: "www.example.test."},
		}
		p := memZone(t, others...)
		before := without(p.Records(testZone), "www", "A")
		h := run(t, oneZone(p, wwwRecord(sb, basePol)))
		h.settled()
		failover(h, sb, p)
		after := without(p.Records(testZone), "www", "A")
		if len(before) != len(after) {
			t.Fatalf("got %d other records, want %d", len(after), len(before))
		}
		for i := range before {
			if before[i].RR() != after[i].RR() {
				t.Fatalf("record %d changed: got %+v, want %+v", i, after[i].RR(), before[i].RR())
			}
		}
	})
}

func TestDryRunWritesNothingButEmitsEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb := newSwitchboard()
		p := memZone(t, addr("www", "192.0.2.10", DefaultTTL), addr("www", "192.0.2.11", DefaultTTL))
		cfg := oneZone(p, wwwRecord(sb, basePol))
		cfg.DryRun = true
		h := run(t, cfg)
		sb.set("192.0.2.10", true)
		sb.set("192.0.2.11", true)
		h.until(time.Minute, stepTime, "dry-run write of the backup", func() bool {
			w := h.of(EventRecordWritten)
			return len(w) > 0 && equal(w[len(w)-1].Values, backup)
		})
		if n := p.Calls(memory.MethodSetRecords); n != 0 {
			t.Fatalf("got %d SetRecords calls, want 0", n)
		}
		if got, _ := held(p, "www", "A"); !equal(got, primary) {
			t.Fatalf("got %v, want unchanged %v", got, primary)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, e := range h.events {
			if !e.DryRun {
				t.Fatalf("event %v not marked dry-run", e)
			}
		}
	})
}

func TestOverrideBeatsChecksAndExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, sb, p := startWWW(t, basePol)

		if err := h.m.SetOverride(www, "192.0.2.10", ForceDown, 5*time.Minute); err != nil {
			t.Fatal(err)
		}
		if took := h.holds(p, time.Second, []string{"192.0.2.11"}); took > stepTime {
			t.Fatalf("drain took %v, want at once", took)
		}
		h.holds(p, 10*time.Minute, primary)
		if ended := h.of(EventOverrideEnded); len(ended) != 1 || ended[0].Override != ForceDown || ended[0].Reason != "expired" {
			t.Fatalf("got override-ended events %v, want one: force-down expired", ended)
		}
		if got := h.last(EventOverrideEnded).Time.Sub(h.last(EventOverrideSet).Time); got != 5*time.Minute {
			t.Fatalf("drain ended after %v, want 5m", got)
		}

		// Forced up, a failing endpoint stays published until cleared.
		if err := h.m.SetOverride(www, "192.0.2.10", ForceUp, 0); err != nil {
			t.Fatal(err)
		}
		sb.set("192.0.2.10", true)
		time.Sleep(10 * time.Minute)
		if got, _ := held(p, "www", "A"); !equal(got, primary) {
			t.Fatalf("forced up but failing: got %v, want %v", got, primary)
		}
		if err := h.m.SetOverride(www, "192.0.2.10", NoOverride, 0); err != nil {
			t.Fatal(err)
		}
		h.holds(p, time.Second, []string{"192.0.2.11"})
		if e := h.last(EventOverrideEnded); e.Override != ForceUp || e.Reason != "cleared by operator" {
			t.Fatalf("after clearing: got %v, want force-up cleared by operator", e)
		}

		if err := h.m.SetOverride(www, "192.0.2.99", ForceDown, 0); err == nil {
			t.Fatal("override of an unknown endpoint: got nil error")
		}
	})
}

func TestRunWaitsForWriteInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb := newSwitchboard()
		p := memZone(t)
		p.Delay(memory.MethodSetRecords, 10*time.Second)
		m, stop := runStoppable(t, oneZone(p, wwwRecord(sb, basePol)))
		for p.Calls(memory.MethodSetRecords) == 0 {
			time.Sleep(stepTime)
		}
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if got, _ := held(p, "www", "A"); !equal(got, primary) {
			t.Fatalf("after Run returned: got %v, want the write in flight finished (%v)", got, primary)
		}
		if err := m.Run(t.Context()); err != ErrStarted {
			t.Fatalf("second Run: got %v, want ErrStarted", err)
		}
		// synctest.Test fails if any goroutine Run started is still alive.
	})
}

func TestStatusShowsRecordsEndpointsProviders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, sb, p := startWWW(t, basePol)
		failover(h, sb, p)
		st := h.m.Status()
		r := st.Zones[0].Records[0]
		if !r.Decided || !equal(r.Published, backup) || r.Priority != 1 || r.TTL != DefaultFailoverTTL {
			t.Fatalf("record status %+v, want decided on %v at priority 1 with the failover TTL", r, backup)
		}
		e := r.Endpoints[0]
		if e.Health != HealthDown || e.Published || e.LastError == "" || e.ConsecutiveFailures != 3 {
			t.Fatalf("endpoint status %+v, want down, unpublished, with its error", e)
		}
		if !r.Endpoints[2].Published || r.Endpoints[2].Health != HealthUp {
			t.Fatalf("backup status %+v, want up and published", r.Endpoints[2])
		}
	})
}

// without returns recs minus those of (name, typ).
func without(recs []libdns.Record, name, typ string) []libdns.Record {
	var out []libdns.Record
	for _, r := range recs {
		if rr := r.RR(); rr.Name != name || rr.Type != typ {
			out = append(out, r)
		}
	}
	return out
}

func TestTTLRaisedToProviderFloor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb := newSwitchboard()
		p := memZone(t)
		p.MinimumTTL = 45 * time.Second // the memory provider rejects lower TTLs, as Cloudflare does below 60 s
		h := run(t, oneZone(p, wwwRecord(sb, basePol)))
		h.settled()
		failover(h, sb, p)
		if _, ttl := held(p, "www", "A"); ttl != 45*time.Second {
			t.Fatalf("got TTL %v, want the failover TTL (30s) raised to the floor (45s)", ttl)
		}
		if w := h.last(EventRecordWritten); w.TTL != 45*time.Second {
			t.Fatalf("written event TTL %v, want 45s", w.TTL)
		}
		n := p.Calls(memory.MethodSetRecords)
		time.Sleep(5 * time.Minute) // reconciles see the floor as matching: no rewrite
		if got := p.Calls(memory.MethodSetRecords); got != n {
			t.Fatalf("got %d more SetRecords calls, want none", got-n)
		}
	})
}

func TestCNAMEFailover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb := newSwitchboard()
		p := memZone(t)
		rec := Record{
			Name: "cdn", Type: "CNAME",
			Endpoints: []Endpoint{{Value: "primary.example.net"}, {Value: "Backup.Example.Net.", Priority: 1}},
			Check:     sb, Policy: basePol,
		}
		h := run(t, oneZone(p, rec))
		h.settled()
		if got, _ := held(p, "cdn", "CNAME"); !equal(got, []string{"primary.example.net."}) {
			t.Fatalf("got %v, want the primary as an FQDN", got)
		}
		sb.set("primary.example.net.", true)
		h.until(time.Minute, stepTime, "CNAME on the backup", func() bool {
			got, _ := held(p, "cdn", "CNAME")
			return equal(got, []string{"backup.example.net."})
		})
	})
}

// Records that use one Checker value for the same target share its
// checks, and decide together: their failover is one write.
func TestRecordsShareChecks(t *testing.T) {
	checks := func(records int) (int, int) {
		var calls, sets int
		synctest.Test(t, func(t *testing.T) {
			sb := newSwitchboard()
			p := memZone(t)
			var recs []Record
			for i := range records {
				recs = append(recs, Record{Name: fmt.Sprintf("r%d", i), Type: "A", Check: sb, Policy: basePol,
					Endpoints: []Endpoint{{Value: "192.0.2.10"}, {Value: "192.0.2.20", Priority: 1}}})
			}
			h := run(t, oneZone(p, recs...))
			h.settled()
			p.ResetCalls()
			sb.set("192.0.2.10", true)
			time.Sleep(10 * time.Minute)
			calls, sets = sb.count("192.0.2.10"), p.Calls(memory.MethodSetRecords)
		})
		return calls, sets
	}
	one, _ := checks(1)
	many, sets := checks(50)
	if one != many {
		t.Fatalf("50 records made %d checks of 192.0.2.10, one record %d: want the same", many, one)
	}
	if sets != 1 {
		t.Fatalf("the failover of 50 records took %d SetRecords calls, want 1", sets)
	}
}

// failedOver runs a Manager for cfg (holding www on p, checked by sb)
// until the primary tier is down and p holds the backup, and returns it
// stopped.
func failedOver(t *testing.T, cfg Config, sb *switchboard, p *memory.Provider) *Manager {
	t.Helper()
	old, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	old.jitter = func(time.Duration) time.Duration { return 0 }
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- old.Run(ctx) }()
	sb.set("192.0.2.10", true)
	sb.set("192.0.2.11", true)
	(&harness{t: t}).holds(p, time.Minute, backup)
	cancel()
	<-done
	return old
}

// A Manager that carries over from a stopped one knows its endpoints at
// once: no unknown phase, no write, and the failback delay keeps running.
func TestCarryOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb := newSwitchboard()
		p := memZone(t)
		cfg := oneZone(p, wwwRecord(sb, basePol))
		old := failedOver(t, cfg, sb, p)
		p.ResetCalls()

		m, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.CarryOver(old, func(RecordID) bool { return true }); err != nil {
			t.Fatal(err)
		}
		st := m.Status().Zones[0].Records[0]
		if !st.Decided || !equal(st.Published, backup) || st.Endpoints[0].Health != HealthDown || st.Endpoints[2].Health != HealthUp {
			t.Fatalf("before Run: got %+v, want the old Manager's knowledge", st)
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := make(chan error)
		go func() { done <- m.Run(ctx) }()
		time.Sleep(time.Second)
		synctest.Wait()
		if n := p.Calls(memory.MethodSetRecords); n != 0 {
			t.Fatalf("got %d writes after carrying over, want 0", n)
		}
		if err := m.CarryOver(old, func(RecordID) bool { return true }); err != ErrStarted {
			t.Fatalf("CarryOver while running: got %v, want ErrStarted", err)
		}
		cancel()
		<-done
	})
}

// A record carried over into a configuration that no longer has its
// active tier moves to a tier that exists once its endpoints are known: it
// neither counts as all down nor keeps publishing a removed endpoint.
func TestCarryOverWithoutTheActiveTier(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb := newSwitchboard()
		p := memZone(t)
		old := failedOver(t, oneZone(p, wwwRecord(sb, basePol)), sb, p)

		rec := wwwRecord(sb, basePol)
		rec.Endpoints[2] = Endpoint{Value: "192.0.2.30", Priority: 2} // priority 1 is gone
		m, err := New(oneZone(p, rec))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.CarryOver(old, func(RecordID) bool { return true }); err != nil {
			t.Fatal(err)
		}
		h := &harness{t: t, m: m}
		m.cfg.OnEvent = func(e Event) { h.mu.Lock(); h.events = append(h.events, e); h.mu.Unlock() }
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- m.Run(ctx) }()
		defer func() { cancel(); <-done }()
		h.holds(p, time.Minute, []string{"192.0.2.30"})
		if n := len(h.of(EventAllDown)); n != 0 {
			t.Fatalf("got %d all-down events, want 0: priority 2 is healthy", n)
		}
	})
}

// An endpoint that alternates pass and fail from start-up (a VIP in front
// of one good and one bad server) does not freeze its record (issue 11,
// item 3): it is down after FailAfter failures, and the record fails over
// when another endpoint dies.
func TestFlappingEndpointDoesNotFreezeItsRecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		n := 0
		sb := newSwitchboard()
		flap := CheckerFunc(func(ctx context.Context, target string) error {
			if target != "192.0.2.11" {
				return sb.Check(ctx, target)
			}
			mu.Lock()
			defer mu.Unlock()
			n++
			if n%2 == 0 {
				return errDown
			}
			return nil
		})
		p := memZone(t)
		h := run(t, oneZone(p, wwwRecord(flap, basePol)))
		h.holds(p, time.Minute, []string{"192.0.2.10"})
		sb.set("192.0.2.10", true)
		h.holds(p, time.Minute, backup)
	})
}

// Records sharing a probe each apply their own policy fields that are not
// part of the probe's key (issue 11, item 7): only the record that asks
// for LowerTTLOnFailing lowers its TTL at the first failed check.
func TestSharedProbeAppliesEachRecordsPolicy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb, p := newSwitchboard(), memZone(t)
		rec := func(name string, lower bool) Record {
			pol := basePol
			pol.LowerTTLOnFailing = lower
			return Record{Name: name, Type: "A", Check: sb, Policy: pol,
				Endpoints: []Endpoint{{Value: "192.0.2.10"}, {Value: "192.0.2.20", Priority: 1}}}
		}
		h := run(t, oneZone(p, rec("plain", false), rec("lowers", true)))
		h.until(time.Minute, stepTime, "both written", func() bool { return len(h.of(EventRecordWritten)) == 2 })
		sb.set("192.0.2.10", true)
		n0 := sb.count("192.0.2.10")
		h.until(time.Minute, stepTime, "one failed check", func() bool { return sb.count("192.0.2.10") == n0+1 })
		synctest.Wait()
		for _, tc := range []struct {
			name string
			want time.Duration
		}{{"plain", DefaultTTL}, {"lowers", DefaultFailoverTTL}} {
			if _, ttl := held(p, tc.name, "A"); ttl != tc.want {
				t.Errorf("%s: got TTL %v after one failed check, want %v", tc.name, ttl, tc.want)
			}
		}
	})
}

// With MaxChecks saturated, the time a check waits for its turn is not
// check time (issue 11, item 4): checks that pass in 0.9 s of a 1 s
// timeout, three of them sharing one slot, stay up; the wait shows in
// Status.
func TestSaturatedChecksDelayedNotFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := CheckerFunc(func(ctx context.Context, _ string) error {
			select {
			case <-time.After(900 * time.Millisecond):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		p := memZone(t)
		pol := basePol
		pol.FailAfter = 1 // one check counted failed is one too many
		cfg := oneZone(p, wwwRecord(slow, pol))
		cfg.MaxChecks = 1
		h := run(t, cfg)
		h.holds(p, time.Minute, primary)
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if downs := h.of(EventEndpointDown); len(downs) > 0 {
			t.Fatalf("got %v, want no endpoint down: waiting for a slot is not check time", downs[0])
		}
		st := h.m.Status().Checks
		if st.MaxChecks != 1 || st.Delayed == 0 || st.LongestWait != 1800*time.Millisecond {
			t.Fatalf("got %+v, want MaxChecks 1, Delayed above 0, LongestWait 1.8s", st)
		}
	})
}

// A check that ignores its deadline gives its slot back at the deadline:
// it cannot starve the others (issue 11, item 4).
func TestHungCheckDoesNotHoldItsSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		hang := CheckerFunc(func(_ context.Context, target string) error {
			if target == "192.0.2.10" {
				<-release // ignores ctx
			}
			return nil
		})
		p := memZone(t)
		cfg := oneZone(p, wwwRecord(hang, basePol))
		cfg.MaxChecks = 1
		h := run(t, cfg)
		defer close(release)
		h.holds(p, time.Minute, []string{"192.0.2.11"})
	})
}

// sameSwitch is a switchboard handle: separate values written alike,
// equal by their SameCheck method, share one probe (issue 13).
type sameSwitch struct {
	sb   *switchboard
	port int
}

func (s *sameSwitch) Check(ctx context.Context, target string) error { return s.sb.Check(ctx, target) }
func (s *sameSwitch) SameCheck(other any) bool {
	o, ok := other.(*sameSwitch)
	return ok && o.sb == s.sb && o.port == s.port
}

// Records whose checkers are equal values (not one pointer) share a
// probe: one check per target and interval, whatever the number of
// records (issue 13). Composites of equal checks are equal too; a checker
// without SameCheck that cannot be compared is never shared.
func TestEqualCheckersShareAProbe(t *testing.T) {
	sb := newSwitchboard()
	for _, tc := range []struct {
		name  string
		check func() Checker // called once per record
		want  int            // probes for 3 records on 2 endpoints
	}{
		{"one pointer", func() Checker { return sb }, 2},
		{"equal values", func() Checker { return &sameSwitch{sb, 80} }, 2},
		{"equal composites", func() Checker { return All(&sameSwitch{sb, 80}, &sameSwitch{sb, 443}) }, 2},
		{"composites of other checks", func() Checker { return Any(&sameSwitch{sb, 80}) }, 2},
		{"check.HTTP written apart", func() Checker { return &check.HTTP{Port: 80} }, 2},
		{"All of built-in checks written apart", func() Checker { return All(&check.HTTP{Port: 80}, &check.TCP{Port: 22}) }, 2},
		{"funcs", func() Checker { return CheckerFunc(sb.Check) }, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var recs []Record
			for i := range 3 {
				recs = append(recs, Record{Name: fmt.Sprintf("r%d", i), Type: "A", Check: tc.check(), Policy: basePol,
					Endpoints: []Endpoint{{Value: "192.0.2.10"}, {Value: "192.0.2.20", Priority: 1}}})
			}
			m, err := New(oneZone(memZone(t), recs...))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(m.probes); got != tc.want {
				t.Fatalf("got %d probes, want %d", got, tc.want)
			}
		})
	}
	m, err := New(oneZone(memZone(t),
		Record{Name: "a", Type: "A", Check: &sameSwitch{sb, 80}, Policy: basePol, Endpoints: []Endpoint{{Value: "192.0.2.10"}}},
		Record{Name: "b", Type: "A", Check: &sameSwitch{sb, 81}, Policy: basePol, Endpoints: []Endpoint{{Value: "192.0.2.10"}}}))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(m.probes); got != 2 {
		t.Fatalf("checks on other ports: got %d probes, want 2", got)
	}
}
