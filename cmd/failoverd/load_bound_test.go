package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// loadScalesLinearly loads a file of an eighth of the size limit, then one
// of the whole limit (source.go: "one of 2 MiB ... loads within a second
// even when it is all mistakes"), and fails when the large one takes more
// than 24 times as long as the small one: linear work takes about 8 times
// as long, quadratic work 64 times. The ratio, not a duration, is
// asserted, so the test holds on a slow or busy machine and under the
// race detector; each file is timed at its best of three runs, so that a
// burst of another process's work does not count. A large run that
// exceeds its bound is abandoned, not awaited (the quadratic code took
// minutes).
func loadScalesLinearly(t *testing.T, file func(limit int) string) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	small, large := file(maxConfigBytes/8), file(maxConfigBytes)
	if len(large) > maxConfigBytes {
		t.Fatalf("test file is %d bytes, over the %d limit", len(large), maxConfigBytes)
	}
	load := func(text string) <-chan time.Duration {
		done := make(chan time.Duration, 1)
		go func() {
			start := time.Now()
			parse(context.Background(), "f.yaml", []byte(text), true)
			done <- time.Since(start)
		}()
		return done
	}
	best := time.Duration(1<<63 - 1)
	for range 3 {
		best = min(best, <-load(small))
	}
	bound := 24 * best
	for range 3 {
		select {
		case took := <-load(large):
			if took <= bound {
				t.Logf("%d bytes: %v; %d bytes: %v", len(small), best, len(large), took)
				return
			}
		case <-time.After(bound):
		}
	}
	t.Fatalf("%d bytes load in %v, but %d bytes take more than %v (24 times as long): the work is not linear", len(small), best, len(large), bound)
}

// Named checks were each placed by scanning every position recorded so
// far: a file of many was quadratic (2 MiB of them: about 7 minutes).
func TestManyNamedChecksLoadWithinBound(t *testing.T) {
	loadScalesLinearly(t, func(limit int) string {
		var b strings.Builder
		b.WriteString("checks:\n")
		for i := 0; b.Len() < limit-4096; i++ {
			fmt.Fprintf(&b, "  c%d: {type: tcp, port: 80}\n", i)
		}
		b.WriteString(strings.Replace(attackBase, "check: {type: tcp, port: 80}", "check: c1", 1))
		return b.String()
	})
}

// Library errors were each placed by scanning every record: a file of
// many records that all break one rule was quadratic (2 MiB: about 30 s).
func TestManyLibraryErrorsLoadWithinBound(t *testing.T) {
	loadScalesLinearly(t, func(limit int) string {
		var b strings.Builder
		b.WriteString(strings.SplitAfter(attackBase, "records:\n")[0])
		for i := 0; b.Len() < limit-100; i++ {
			fmt.Fprintf(&b, "      - {name: r%d, type: A, endpoints: [{value: 0.0.0.0}], check: {type: tcp, port: 80}}\n", i)
		}
		return b.String()
	})
}
