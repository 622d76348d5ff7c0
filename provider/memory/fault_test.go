package memory

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/libdns/libdns"
)

var www = []libdns.Record{a("www", "192.0.2.9", time.Minute)}

func TestFailNext(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		err     error
		wantErr error
	}{
		{"given error", boom, boom},
		{"nil means ErrInjected", nil, ErrInjected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newZone(t, a("www", "192.0.2.1", time.Minute))
			p.FailNext(MethodSetRecords, 2, tc.err)
			for i := range 2 {
				got, err := p.SetRecords(t.Context(), zone, www)
				if !errors.Is(err, tc.wantErr) || got != nil {
					t.Fatalf("call %d: got %q, %v, want no records and %v", i+1, dump(got), err, tc.wantErr)
				}
				checkZone(t, p, "www 60 A 192.0.2.1")
			}
			if _, err := p.GetRecords(t.Context(), zone); err != nil {
				t.Fatalf("GetRecords: got %v, want no error (only SetRecords fails)", err)
			}
			if _, err := p.SetRecords(t.Context(), zone, www); err != nil {
				t.Fatalf("third call: got %v, want recovery", err)
			}
			checkZone(t, p, "www 60 A 192.0.2.9")
			if got := p.Calls(MethodSetRecords); got != 3 {
				t.Fatalf("got %d calls, want 3 (failed ones count)", got)
			}
		})
	}
	t.Run("n 0 cancels", func(t *testing.T) {
		p := newZone(t)
		p.FailNext(MethodGetRecords, 5, nil)
		p.FailNext(MethodGetRecords, 0, nil)
		if _, err := p.GetRecords(t.Context(), zone); err != nil {
			t.Fatalf("got %v, want no error", err)
		}
	})
	t.Run("every method", func(t *testing.T) {
		p := newZone(t)
		for _, tc := range []struct {
			m    Method
			call func() error
		}{
			{MethodGetRecords, func() error { _, err := p.GetRecords(t.Context(), zone); return err }},
			{MethodSetRecords, func() error { _, err := p.SetRecords(t.Context(), zone, www); return err }},
			{MethodAppendRecords, func() error { _, err := p.AppendRecords(t.Context(), zone, www); return err }},
			{MethodDeleteRecords, func() error { _, err := p.DeleteRecords(t.Context(), zone, www); return err }},
			{MethodListZones, func() error { _, err := p.ListZones(t.Context()); return err }},
		} {
			p.FailNext(tc.m, 1, nil)
			if err := tc.call(); !errors.Is(err, ErrInjected) {
				t.Fatalf("%s: got %v, want ErrInjected", tc.m, err)
			}
			if err := tc.call(); err != nil {
				t.Fatalf("%s after the fault: got %v, want no error", tc.m, err)
			}
		}
		checkZone(t, p) // set, then deleted
	})
}

// Every call is counted, whatever fails it; AddZone and Records are not.
func TestCalls(t *testing.T) {
	p := newZone(t)
	ctx := t.Context()
	p.GetRecords(ctx, zone)
	p.GetRecords(ctx, "nope.")                                                // unknown zone
	p.SetRecords(ctx, zone, []libdns.Record{libdns.RR{Name: "x", Type: "A"}}) // bad input
	p.FailNext(MethodAppendRecords, 1, nil)
	p.AppendRecords(ctx, zone, www) // injected fault
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	p.DeleteRecords(cancelled, zone, www) // context done
	p.ListZones(ctx)
	p.Records(zone)
	p.AddZone("example.net.")

	for m, want := range map[Method]int{MethodGetRecords: 2, MethodSetRecords: 1, MethodAppendRecords: 1, MethodDeleteRecords: 1, MethodListZones: 1} {
		if got := p.Calls(m); got != want {
			t.Fatalf("Calls(%s): got %d, want %d", m, got, want)
		}
	}
	p.ResetCalls()
	if got := p.Calls(MethodGetRecords); got != 0 {
		t.Fatalf("after ResetCalls: got %d, want 0", got)
	}
}

func TestCancelledContextChangesNothing(t *testing.T) {
	p := newZone(t, a("www", "192.0.2.1", time.Minute))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := p.SetRecords(ctx, zone, www); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	checkZone(t, p, "www 60 A 192.0.2.1")
}

func TestPartialNext(t *testing.T) {
	initial := []libdns.Record{a("www", "192.0.2.1", time.Minute), a("api", "192.0.2.1", time.Minute), a("ftp", "192.0.2.1", time.Minute)}
	input := []libdns.Record{a("www", "192.0.2.2", time.Minute), a("api", "192.0.2.2", time.Minute), a("www", "192.0.2.3", time.Minute), a("ftp", "192.0.2.2", time.Minute)}
	for _, tc := range []struct {
		name     string
		n        int
		want     []string // returned
		wantZone []string
	}{
		{"first RRset", 1,
			[]string{"www 60 A 192.0.2.2", "www 60 A 192.0.2.3"},
			[]string{"api 60 A 192.0.2.1", "ftp 60 A 192.0.2.1", "www 60 A 192.0.2.2", "www 60 A 192.0.2.3"}},
		{"first two RRsets", 2,
			[]string{"api 60 A 192.0.2.2", "www 60 A 192.0.2.2", "www 60 A 192.0.2.3"},
			[]string{"api 60 A 192.0.2.2", "ftp 60 A 192.0.2.1", "www 60 A 192.0.2.2", "www 60 A 192.0.2.3"}},
		{"more than there are", 5,
			[]string{"api 60 A 192.0.2.2", "ftp 60 A 192.0.2.2", "www 60 A 192.0.2.2", "www 60 A 192.0.2.3"},
			[]string{"api 60 A 192.0.2.2", "ftp 60 A 192.0.2.2", "www 60 A 192.0.2.2", "www 60 A 192.0.2.3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newZone(t, initial...)
			p.PartialNext(tc.n)
			if _, err := p.AppendRecords(t.Context(), zone, nil); err != nil {
				t.Fatalf("AppendRecords: got %v, want no error (PartialNext is for SetRecords)", err)
			}
			got, err := p.SetRecords(t.Context(), zone, input)
			if !errors.Is(err, ErrInjected) {
				t.Fatalf("got %v, want an error wrapping ErrInjected", err)
			}
			if !slices.Equal(dump(got), tc.want) {
				t.Fatalf("returned %q, want %q", dump(got), tc.want)
			}
			checkZone(t, p, tc.wantZone...)
			if _, err := p.SetRecords(t.Context(), zone, input); err != nil {
				t.Fatalf("next call: got %v, want no error", err)
			}
			checkZone(t, p, "api 60 A 192.0.2.2", "ftp 60 A 192.0.2.2", "www 60 A 192.0.2.2", "www 60 A 192.0.2.3")
		})
	}
	t.Run("FailNext wins and uses it up", func(t *testing.T) {
		p := newZone(t, initial...)
		p.FailNext(MethodSetRecords, 1, nil)
		p.PartialNext(1)
		if _, err := p.SetRecords(t.Context(), zone, input); !errors.Is(err, ErrInjected) {
			t.Fatalf("got %v, want ErrInjected", err)
		}
		checkZone(t, p, "api 60 A 192.0.2.1", "ftp 60 A 192.0.2.1", "www 60 A 192.0.2.1")
		if _, err := p.SetRecords(t.Context(), zone, input); err != nil {
			t.Fatalf("next call: got %v, want no error", err)
		}
	})
	t.Run("bad input is still all or nothing", func(t *testing.T) {
		p := newZone(t, initial...)
		p.PartialNext(1)
		bad := append(slices.Clone(input), libdns.RR{Name: "x", Type: "A", Data: "bad"})
		if _, err := p.SetRecords(t.Context(), zone, bad); err == nil || errors.Is(err, ErrInjected) {
			t.Fatalf("got %v, want the validation error", err)
		}
		checkZone(t, p, "api 60 A 192.0.2.1", "ftp 60 A 192.0.2.1", "www 60 A 192.0.2.1")
	})
}

func TestDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newZone(t, a("www", "192.0.2.1", time.Minute))
		p.Delay(MethodSetRecords, 10*time.Second)

		start := time.Now()
		if _, err := p.GetRecords(t.Context(), zone); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 0 {
			t.Fatalf("GetRecords took %v, want 0 (only SetRecords is delayed)", got)
		}

		if _, err := p.SetRecords(t.Context(), zone, www); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 10*time.Second {
			t.Fatalf("SetRecords took %v, want 10s", got)
		}

		start = time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		_, err := p.SetRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.7", time.Minute)})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want context.DeadlineExceeded", err)
		}
		if got := time.Since(start); got != 3*time.Second {
			t.Fatalf("the cancelled call took %v, want 3s", got)
		}
		checkZone(t, p, "www 60 A 192.0.2.9")

		p.Delay(MethodSetRecords, 0)
		start = time.Now()
		if _, err := p.SetRecords(t.Context(), zone, www); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 0 {
			t.Fatalf("after Delay(0) the call took %v, want 0", got)
		}
	})
}

// A call cancelled while it waits returns promptly and leaves no goroutine
// or timer behind (synctest.Test fails otherwise).
func TestDelayCancelledMidway(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newZone(t, a("www", "192.0.2.1", time.Minute))
		p.Delay(MethodDeleteRecords, time.Hour)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() {
			_, err := p.DeleteRecords(ctx, zone, []libdns.Record{libdns.RR{Name: "www"}})
			done <- err
		}()
		synctest.Wait() // the call is waiting out its delay
		start := time.Now()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		if got := time.Since(start); got != 0 {
			t.Fatalf("the call returned %v after the cancel, want at once", got)
		}
		checkZone(t, p, "www 60 A 192.0.2.1")
	})
}

func TestHook(t *testing.T) {
	hooked := errors.New("hooked")
	t.Run("sees every counted call", func(t *testing.T) {
		p := newZone(t)
		var seen []Call
		p.SetHook(func(c Call) *Fault {
			seen = append(seen, c)
			p.Calls(c.Method) // the lock is not held
			return nil
		})
		in := []libdns.Record{a("www", "192.0.2.1", time.Minute)}
		p.SetRecords(t.Context(), zone, in)
		in[0] = nil // the hook got a copy
		p.GetRecords(t.Context(), zone)
		p.ListZones(t.Context())
		p.Records(zone)
		want := []string{"SetRecords example.com. [www 60 A 192.0.2.1]", "GetRecords example.com. []", "ListZones  []"}
		var got []string
		for _, c := range seen {
			got = append(got, string(c.Method)+" "+c.Zone+" ["+strings.Join(dump(c.Records), ",")+"]")
		}
		if !slices.Equal(got, want) {
			t.Fatalf("hook saw %q, want %q", got, want)
		}
		p.SetHook(nil)
		p.GetRecords(t.Context(), zone)
		if len(seen) != len(want) {
			t.Fatalf("after SetHook(nil) the hook saw %d calls, want %d", len(seen), len(want))
		}
	})
	t.Run("Err", func(t *testing.T) {
		p := newZone(t)
		p.SetHook(func(c Call) *Fault {
			if c.Method == MethodSetRecords {
				return &Fault{Err: hooked}
			}
			return nil
		})
		if _, err := p.SetRecords(t.Context(), zone, www); !errors.Is(err, hooked) {
			t.Fatalf("got %v, want the hook's error", err)
		}
		checkZone(t, p)
		if got := p.Calls(MethodSetRecords); got != 1 {
			t.Fatalf("got %d calls, want 1", got)
		}
		p.FailNext(MethodSetRecords, 1, nil)
		if _, err := p.SetRecords(t.Context(), zone, www); !errors.Is(err, ErrInjected) {
			t.Fatalf("with FailNext: got %v, want FailNext's error", err)
		}
	})
	t.Run("Partial", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			err  error
		}{{"without Err", nil}, {"with Err", hooked}} {
			t.Run(tc.name, func(t *testing.T) {
				p := newZone(t)
				p.SetHook(func(c Call) *Fault { return &Fault{Partial: 1, Err: tc.err} })
				_, err := p.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.1", time.Minute), a("api", "192.0.2.1", time.Minute)})
				if !errors.Is(err, ErrInjected) || tc.err != nil && !errors.Is(err, tc.err) {
					t.Fatalf("got %v, want an error wrapping ErrInjected and %v", err, tc.err)
				}
				checkZone(t, p, "www 60 A 192.0.2.1")
				if _, err := p.AppendRecords(t.Context(), zone, []libdns.Record{a("api", "192.0.2.1", time.Minute)}); !errors.Is(err, tc.err) {
					t.Fatalf("AppendRecords: got %v, want %v (Partial applies to SetRecords only)", err, tc.err)
				}
			})
		}
	})
	t.Run("Delay", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p := newZone(t)
			p.Delay(MethodGetRecords, time.Second)
			p.SetHook(func(c Call) *Fault { return &Fault{Delay: 2 * time.Second} })
			start := time.Now()
			if _, err := p.GetRecords(t.Context(), zone); err != nil {
				t.Fatal(err)
			}
			if got := time.Since(start); got != 3*time.Second {
				t.Fatalf("took %v, want 3s (both delays)", got)
			}
		})
	})
	t.Run("concurrent calls", func(t *testing.T) {
		p := newZone(t)
		var mu sync.Mutex
		n := 0
		p.SetHook(func(Call) *Fault {
			mu.Lock()
			defer mu.Unlock()
			n++
			return nil
		})
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() { p.GetRecords(t.Context(), zone) })
		}
		wg.Wait()
		if n != 20 {
			t.Fatalf("hook called %d times, want 20", n)
		}
	})
}

// A call faulted with IgnoreContext outlives its context, and then acts.
func TestIgnoreContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newZone(t, a("www", "192.0.2.1", time.Minute))
		p.SetHook(func(c Call) *Fault { return &Fault{Delay: time.Hour, IgnoreContext: true} })
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		_, err := p.SetRecords(ctx, zone, www)
		if err != nil {
			t.Fatalf("got %v, want no error (the call ignores its context)", err)
		}
		if got := time.Since(start); got != time.Hour {
			t.Fatalf("the call took %v, want its whole delay of 1h", got)
		}
		checkZone(t, p, "www 60 A 192.0.2.9")
	})
}
