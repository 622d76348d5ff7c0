package failover

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func fixed(err error) Checker {
	return CheckerFunc(func(context.Context, string) error { return err })
}

// blocker fails only when its context is cancelled, so a composite that
// does not cancel the checks it no longer needs would hang.
var blocker = CheckerFunc(func(ctx context.Context, _ string) error {
	<-ctx.Done()
	return ctx.Err()
})

func TestComposites(t *testing.T) {
	ok, bad := fixed(nil), fixed(errors.New("refused"))
	for _, tc := range []struct {
		name    string
		check   Checker
		healthy bool
		errHas  string
	}{
		{"All healthy", All(ok, ok), true, ""},
		{"All with one failing", All(ok, bad, blocker), false, "refused"},
		{"Any with one healthy", Any(bad, ok, blocker), true, ""},
		{"Any with none healthy", Any(bad, bad), false, "2 of 2 checks failed"},
		{"AtLeast 2 of 3", AtLeast(2, ok, bad, ok), true, ""},
		{"AtLeast 2 with 1", AtLeast(2, ok, bad, bad), false, "2 must pass"},
		{"AtLeast impossible", AtLeast(3, ok, ok), false, "can never be met"},
		{"All of nothing", All(), false, "can never be met"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check.Check(t.Context(), "192.0.2.1")
			if (err == nil) != tc.healthy {
				t.Fatalf("got %v, want healthy=%v", err, tc.healthy)
			}
			if err != nil && !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("got %q, want it to mention %q", err, tc.errHas)
			}
		})
	}
}

func TestCheckerFuncGetsTarget(t *testing.T) {
	var got string
	_ = CheckerFunc(func(_ context.Context, target string) error { got = target; return nil }).Check(t.Context(), "2001:db8::1")
	if got != "2001:db8::1" {
		t.Fatalf("got target %q, want %q", got, "2001:db8::1")
	}
}

// closer is a Checker with a Close that counts its calls and notes how many
// checks were still running then. Its checks wait for their context.
type closer struct {
	mu       sync.Mutex
	checks   int // started
	running  int
	closes   int
	runAtEnd int // checks running when Close was last called
	err      error
}

func (c *closer) Check(ctx context.Context, _ string) error {
	c.mu.Lock()
	c.checks++
	c.running++
	c.mu.Unlock()
	<-ctx.Done()
	c.mu.Lock()
	c.running--
	c.mu.Unlock()
	return ctx.Err()
}

func (c *closer) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closes++
	c.runAtEnd = c.running
	return c.err
}

func (c *closer) counts() (checks, closes, runAtEnd int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.checks, c.closes, c.runAtEnd
}

// When Run returns, every checker that has a Close has been closed once,
// after all its checks returned, including checkers inside composites and
// checkers shared by several records; a failing Close is logged.
func TestRunClosesCheckers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		shared, inner, failing := &closer{}, &closer{}, &closer{err: errors.New("close refused")}
		var log strings.Builder
		t.Cleanup(func() { // registered first, so it runs after run's cleanup has stopped Run
			for _, tc := range []struct {
				name string
				c    *closer
			}{{"shared", shared}, {"inside All", inner}, {"failing", failing}} {
				checks, closes, runAtEnd := tc.c.counts()
				if checks == 0 || closes != 1 || runAtEnd != 0 {
					t.Errorf("%s: got %d checks, %d closes, %d checks running at Close; want some checks, 1 close, 0 running", tc.name, checks, closes, runAtEnd)
				}
			}
			for _, want := range []string{"level=WARN", `record="d.example.test. A"`, "close refused"} {
				if !strings.Contains(log.String(), want) {
					t.Errorf("got log %q, want it to mention %q", log.String(), want)
				}
			}
		})
		rec := func(name string, c Checker) Record {
			return Record{Name: name, Type: "A", Endpoints: []Endpoint{{Value: "192.0.2.1"}}, Check: c, Policy: Policy{Interval: time.Second}}
		}
		cfg := oneZone(memZone(t), rec("a", shared), rec("b", shared), rec("c", All(inner, fixed(nil))), rec("d", failing), rec("e", fixed(nil)))
		cfg.Logger = slog.New(slog.NewTextHandler(&log, nil))
		run(t, cfg)
		time.Sleep(500 * time.Millisecond) // the first checks are running
		synctest.Wait()
	})
}

// Close of a composite closes every check inside it that has a Close and
// joins their errors.
func TestCompositeClose(t *testing.T) {
	a, b := &closer{}, &closer{err: errors.New("b refused")}
	c := AtLeast(1, a, fixed(nil), Any(b))
	err := c.(io.Closer).Close()
	if err == nil || !strings.Contains(err.Error(), "check 2: check 0: b refused") {
		t.Errorf("got %v, want b's error with its position", err)
	}
	for name, cl := range map[string]*closer{"a": a, "b": b} {
		if _, closes, _ := cl.counts(); closes != 1 {
			t.Errorf("%s: got %d closes, want 1", name, closes)
		}
	}
}

// certs is a Checker that reports a fixed certificate expiry per target.
type certs map[string]time.Time

func (certs) Check(context.Context, string) error { return nil }

func (c certs) CertificateExpiry(target string) (time.Time, bool) {
	t, ok := c[target]
	return t, ok
}

// A composite reports the earliest certificate expiry among its checks,
// for the target asked about, and none when no check has one.
func TestCompositeCertificateExpiry(t *testing.T) {
	early := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	late := early.AddDate(0, 6, 0)
	a := certs{"192.0.2.1": late, "192.0.2.2": late}
	b := certs{"192.0.2.1": early}
	for _, tc := range []struct {
		name   string
		check  Checker
		target string
		want   time.Time
	}{
		{"All: the earlier", All(a, b), "192.0.2.1", early},
		{"order does not matter", Any(b, a), "192.0.2.1", early},
		{"only one check has the target", AtLeast(1, b, a), "192.0.2.2", late},
		{"beside a check without the method", All(fixed(nil), a), "192.0.2.2", late},
		{"nested", Any(fixed(nil), All(a, Any(b))), "192.0.2.1", early},
		{"no check has the target", All(a, b), "192.0.2.3", time.Time{}},
		{"no check has the method", All(fixed(nil)), "192.0.2.1", time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := certificateExpiry(tc.check, tc.target)
			if !got.Equal(tc.want) || ok != !tc.want.IsZero() {
				t.Errorf("got %v, %v; want %v, %v", got, ok, tc.want, !tc.want.IsZero())
			}
		})
	}
}
