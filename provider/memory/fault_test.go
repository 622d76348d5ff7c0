package memory

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/libdns/libdns"
)

func TestFailNext(t *testing.T) {
	p := newZone(t)
	boom := errors.New("boom")
	p.FailNext(MethodSetRecords, 2, boom)
	set := func() error {
		_, err := p.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.1", time.Minute)})
		return err
	}
	for i := range 2 {
		if err := set(); !errors.Is(err, boom) {
			t.Fatalf("call %d: got %v, want boom", i+1, err)
		}
		if n := len(p.Records(zone)); n != 0 {
			t.Fatalf("a failed call changed the zone: %d records", n)
		}
	}
	if err := set(); err != nil {
		t.Fatalf("third call: %v", err)
	}
	if n := p.Calls(MethodSetRecords); n != 3 {
		t.Fatalf("got %d calls, want 3 (failed ones count)", n)
	}
	p.FailNext(MethodGetRecords, 5, nil)
	p.FailNext(MethodGetRecords, 0, nil)
	if _, err := p.GetRecords(t.Context(), zone); err != nil {
		t.Fatalf("after FailNext(0): %v", err)
	}
	p.ResetCalls()
	if n := p.Calls(MethodSetRecords); n != 0 {
		t.Fatalf("after ResetCalls: %d", n)
	}
}

func TestPartialNext(t *testing.T) {
	p := newZone(t, a("www", "192.0.2.1", time.Minute), a("api", "192.0.2.1", time.Minute))
	p.PartialNext(1)
	_, err := p.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.2", time.Minute), a("api", "192.0.2.2", time.Minute)})
	if !errors.Is(err, ErrInjected) {
		t.Fatalf("got %v, want ErrInjected", err)
	}
	if recs := p.Records(zone); !equal(recs, "api 60 A 192.0.2.1", "www 60 A 192.0.2.2") {
		t.Fatalf("got %v, want only the first RRset applied", dump(recs))
	}
}

func TestDelayHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newZone(t)
		p.Delay(MethodSetRecords, 10*time.Second)
		start := time.Now()
		if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.1", time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 10*time.Second {
			t.Fatalf("call took %v, want 10s", got)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := p.SetRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.9", time.Minute)}); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want the context's error", err)
		}
		if recs := p.Records(zone); !equal(recs, "www 60 A 192.0.2.1") {
			t.Fatalf("a cancelled call changed the zone: %v", dump(recs))
		}
	})
}

func TestHook(t *testing.T) {
	p := newZone(t)
	var seen []Call
	p.SetHook(func(c Call) *Fault {
		seen = append(seen, c)
		if c.Method == MethodGetRecords {
			return &Fault{Err: errors.New("hooked")}
		}
		return nil
	})
	if _, err := p.GetRecords(t.Context(), zone); err == nil || err.Error() != "hooked" {
		t.Fatalf("got %v, want the hook's error", err)
	}
	if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.1", time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[1].Method != MethodSetRecords || len(seen[1].Records) != 1 || seen[1].Zone != zone {
		t.Fatalf("hook saw %+v", seen)
	}
	p.SetHook(nil)
	if _, err := p.GetRecords(t.Context(), zone); err != nil {
		t.Fatalf("after removing the hook: %v", err)
	}
}
