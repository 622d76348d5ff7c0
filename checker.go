package failover

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"time"
)

// Checker decides whether one endpoint is healthy.
//
// Check is called with the endpoint's value as target (an IP address or a
// host name), so one Checker serves every endpoint of a record. It returns
// nil when the endpoint is healthy, and otherwise an error that says why,
// precisely enough to explain a failover in an event. It must return by
// ctx's deadline (the Manager gives each check Policy.Timeout) and leak
// nothing. A Check that does not return by its deadline counts as a failed
// check at each interval that passes, gives back its slot among
// Config.MaxChecks, no other check of that endpoint starts until it
// returns, and Manager.Run waits for it at most Config.StopTimeout. It is
// called from many goroutines at once and must be safe for concurrent use.
// A Checker that panics is a bug in the caller and is not recovered.
//
// Four optional methods are found by type assertion:
//
//   - Validate() error: [New] calls it once for each record's Checker
//     (and for each check inside [All], [Any] and [AtLeast]) and reports
//     a non-nil error as a [ConfigError] on the record's Check field. It
//     says what the Checker's own documentation calls required or bounded
//     (a port, a scheme, a name to ask for) and must not touch the
//     network.
//   - Close() error: when [Manager.Run] returns, after every check and
//     watch it started has returned (or was abandoned past
//     Config.StopTimeout), it calls Close once for each
//     distinct Checker of its records that has one (by ==; a Checker
//     that cannot be compared, once per record), composites included,
//     and logs a non-nil error. Close releases what the Checker keeps
//     between checks (idle connections) and must leave it usable: a
//     Manager built from the same Checker after a reload may check with
//     it again.
//   - SameCheck(other any) bool: reports whether other (a Checker of the
//     same type) checks every target exactly as this one does, so that
//     [New] lets one probe serve the endpoints of both (see
//     Record.Check). It compares configuration, never state such as a
//     sync.Once or a client built on first use. Without it, Checkers are
//     the same only when they are one comparable value (one pointer).
//     The built-in checks in package check have it, and so do [All],
//     [Any] and [AtLeast] (equal n, and the same checks in the same
//     order).
//   - CertificateExpiry(target string) (notAfter time.Time, ok bool):
//     the NotAfter of the leaf certificate target presented in the last
//     TLS handshake with it that completed, whether or not the check
//     then passed (a bad status or an expiry window can still fail it);
//     ok is false before any. A handshake that fails (an expired or
//     untrusted certificate) leaves the last value, so an expiry that
//     passed shows as a time in the past. [Manager.Status] calls it for
//     every endpoint, without holding the Manager's lock, and reports it
//     as EndpointStatus.CertificateExpiry: it must be quick, must not
//     block and must be safe for concurrent use with Check. The checks
//     of package check that speak TLS (HTTP with https, TCP with TLS,
//     TLS) and grpccheck with TLS have it, and so do [All], [Any] and
//     [AtLeast] (the earliest of their checks').
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
// that says so, and [New] rejects it. The Checker returned by All, Any and
// AtLeast has a Validate method, which also validates the checks inside,
// a Close method, which closes those that have one, and a
// CertificateExpiry method, which reports the earliest expiry its checks
// report (see [Checker]).
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

// Validate reports an n that can never be met, a nil check, and what each
// check's own Validate reports, each with the check's position.
func (q *quorum) Validate() error {
	var errs []error
	if q.need < 1 || q.need > len(q.checks) {
		errs = append(errs, fmt.Errorf("AtLeast(%d) of %d checks can never be met", q.need, len(q.checks)))
	}
	for i, c := range q.checks {
		for _, err := range splitJoined(validateChecker(c)) {
			errs = append(errs, fmt.Errorf("check %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// SameCheck reports whether other is a composite of the same kind (the
// same n) of the same checks, in the same order.
func (q *quorum) SameCheck(other any) bool {
	o, ok := other.(*quorum)
	return ok && o.need == q.need && slices.EqualFunc(q.checks, o.checks, sameChecker)
}

// Close closes every check that has a Close method, and returns their
// errors, each with the check's position.
func (q *quorum) Close() error {
	var errs []error
	for i, c := range q.checks {
		if cl, ok := c.(io.Closer); ok {
			if err := cl.Close(); err != nil {
				errs = append(errs, fmt.Errorf("check %d: %w", i, err))
			}
		}
	}
	return errors.Join(errs...)
}

// CertificateExpiry returns the earliest certificate expiry that one of
// the checks reports for target, and false when none reports one.
func (q *quorum) CertificateExpiry(target string) (notAfter time.Time, ok bool) {
	for _, c := range q.checks {
		if t, found := certificateExpiry(c, target); found && (!ok || t.Before(notAfter)) {
			notAfter, ok = t, true
		}
	}
	return notAfter, ok
}

// certificateExpiry returns what c's CertificateExpiry method reports for
// target, and false when c has none (see Checker).
func certificateExpiry(c Checker, target string) (time.Time, bool) {
	if ce, ok := c.(interface {
		CertificateExpiry(target string) (time.Time, bool)
	}); ok {
		return ce.CertificateExpiry(target)
	}
	return time.Time{}, false
}

// validateChecker returns what is wrong with c: nil (also a nil pointer or
// func in the interface, which would panic at the first check), or what
// its Validate method reports.
func validateChecker(c Checker) error {
	if isNil(c) {
		if c == nil {
			return errors.New("no checker")
		}
		return fmt.Errorf("nil %T", c)
	}
	if v, ok := c.(interface{ Validate() error }); ok {
		return v.Validate()
	}
	return nil
}

// isNil reports whether v is nil or holds a nil pointer, func, map,
// slice, channel or interface.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Slice, reflect.Chan, reflect.Interface, reflect.UnsafePointer:
		return rv.IsNil()
	default:
		return false
	}
}

// closeCheckers calls Close on each distinct Checker of m's records that
// has one, once every check has returned, and logs the errors.
func (m *Manager) closeCheckers() {
	closed := map[Checker]bool{}
	for _, r := range m.records {
		c := r.spec.check
		if reflect.ValueOf(c).Comparable() {
			if closed[c] {
				continue
			}
			closed[c] = true
		}
		if cl, ok := c.(io.Closer); ok {
			if err := cl.Close(); err != nil {
				m.cfg.Logger.LogAttrs(context.Background(), slog.LevelWarn, "closing the checker failed",
					slog.String("record", r.spec.id.String()), slog.Any("err", err))
			}
		}
	}
}
