package failover

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Checker decides whether one endpoint is healthy.
//
// Check is called with the endpoint's value as target (an IP address or a
// host name), so one Checker serves every endpoint of a record. It returns
// nil when the endpoint is healthy, and otherwise an error that says why,
// precisely enough to explain a failover in an event. It must return by
// ctx's deadline (the Manager gives each check Policy.Timeout) and leak
// nothing. A Check that does not return by its deadline counts as a failed
// check at each interval that passes, no other check of that endpoint
// starts until it returns, and Manager.Run waits for it to return. It is called from many goroutines at once and must be safe for
// concurrent use. A Checker that panics is a bug in the caller and is not
// recovered.
type Checker interface {
	Check(ctx context.Context, target string) error
}

// CheckerFunc adapts a function to a [Checker].
type CheckerFunc func(ctx context.Context, target string) error

// Check calls f(ctx, target).
func (f CheckerFunc) Check(ctx context.Context, target string) error { return f(ctx, target) }

// All returns a Checker that is healthy when every one of checks is. The
// checks run concurrently; the first failure cancels the others.
func All(checks ...Checker) Checker { return AtLeast(len(checks), checks...) }

// Any returns a Checker that is healthy when at least one of checks is.
// The checks run concurrently; the first success cancels the others.
func Any(checks ...Checker) Checker { return AtLeast(1, checks...) }

// AtLeast returns a Checker that is healthy when at least n of checks are.
// The checks run concurrently, and the remaining ones are cancelled as soon
// as the outcome is known. When it fails, its error lists every check that
// failed. With n < 1 or more than len(checks) it always fails with an error
// that says so.
func AtLeast(n int, checks ...Checker) Checker {
	return &quorum{need: n, checks: checks}
}

type quorum struct {
	need   int
	checks []Checker
}

func (q *quorum) Check(ctx context.Context, target string) error {
	if q.need < 1 || q.need > len(q.checks) {
		return fmt.Errorf("failover: AtLeast(%d) of %d checks can never be met", q.need, len(q.checks))
	}
	ctx, cancel := context.WithCancel(ctx)

	type result struct {
		i   int
		err error
	}
	results := make(chan result, len(q.checks))
	var wg sync.WaitGroup
	for i, c := range q.checks {
		wg.Go(func() { results <- result{i, c.Check(ctx, target)} })
	}
	defer func() {
		cancel() // the outcome is known: stop the checks still running
		wg.Wait()
	}()

	ok := 0
	failed := make([]error, len(q.checks)) // by position, so the message is stable
	nfailed := 0
	for range q.checks {
		r := <-results
		if r.err == nil {
			ok++
		} else {
			failed[r.i] = fmt.Errorf("check %d: %w", r.i, r.err)
			nfailed++
		}
		switch {
		case ok >= q.need:
			return nil
		case len(q.checks)-nfailed < q.need:
			return fmt.Errorf("%d of %d checks failed, %d must pass: %w", nfailed, len(q.checks), q.need, errors.Join(failed...))
		}
	}
	return nil // not reached: one of the cases above is met by the last result
}
