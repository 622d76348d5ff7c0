package failover

import (
	"context"
	"errors"
	"strings"
	"testing"
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
