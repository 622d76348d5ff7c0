package memory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/libdns/libdns"
)

// Method names one of the libdns methods of a [Provider], for counting calls
// and injecting faults.
type Method string

// The methods of a Provider that are counted and can be faulted.
const (
	MethodGetRecords    Method = "GetRecords"
	MethodSetRecords    Method = "SetRecords"
	MethodAppendRecords Method = "AppendRecords"
	MethodDeleteRecords Method = "DeleteRecords"
	MethodListZones     Method = "ListZones"
)

// ErrInjected is the error of an injected fault when no other error is
// given; errors of partial writes always wrap it.
var ErrInjected = errors.New("memory: injected fault")

// Call describes a call to a [Provider], as given to the hook set with
// [Provider.SetHook].
type Call struct {
	Method  Method
	Zone    string          // "" for ListZones
	Records []libdns.Record // the call's input records (a copy of the slice); nil for GetRecords and ListZones
}

// Fault changes what one call does; a hook returns it. The zero Fault
// changes nothing.
type Fault struct {
	// Err, if not nil, fails the call with Err, and the call changes
	// nothing (unless Partial is set).
	Err error
	// Delay, if positive, is waited before the call acts, on top of any
	// delay set with Provider.Delay. If the call's context ends during the
	// wait, the call returns the context's error and changes nothing
	// (unless IgnoreContext is set).
	Delay time.Duration
	// Partial, if positive, makes a SetRecords call apply only the first
	// Partial (name, type) RRsets of its input, in input order (all of them
	// if there are no more), and then fail with an error wrapping Err and
	// ErrInjected. Zero means not partial. Other methods ignore it.
	Partial int
	// IgnoreContext makes the call behave like one that ignores its
	// context: it waits out its whole delay even when its context ends
	// first, and then acts as if the context were still live. Inside a
	// testing/synctest bubble a long Delay with IgnoreContext is a call
	// that hangs until the bubble's clock reaches its end.
	IgnoreContext bool
}

// faults is the counting and fault state of a Provider, guarded by its
// mutex.
type faults struct {
	calls    map[Method]int
	failNext map[Method]failure
	delay    map[Method]time.Duration
	partial  int
	hook     func(Call) *Fault
}

// failure is a pending FailNext.
type failure struct {
	n   int
	err error
}

// Calls returns how many calls to m were made since the provider was
// created or ResetCalls was called, failed calls included (whatever failed
// them: a fault, a context, an unknown zone or invalid input). AddZone and
// Records are not counted.
func (p *Provider) Calls(m Method) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults.calls[m]
}

// ResetCalls sets the counts of all methods to zero. Faults are kept.
func (p *Provider) ResetCalls() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.faults.calls)
}

// FailNext makes the next n calls to m fail with err (ErrInjected if err is
// nil) and change nothing. Each of those calls is still counted, still
// calls the hook and still waits out its delay; err replaces any error the
// hook's Fault gives. FailNext replaces an earlier FailNext for m; n <= 0
// cancels it.
func (p *Provider) FailNext(m Method, n int, err error) {
	if err == nil {
		err = ErrInjected
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.faults.failNext == nil {
		p.faults.failNext = map[Method]failure{}
	}
	p.faults.failNext[m] = failure{max(n, 0), err}
}

// Delay makes every later call to m wait d before it acts, on top of any
// delay a hook's Fault gives. The wait honours the call's context: if the
// context ends first, the call returns the context's error and changes
// nothing. d <= 0 removes the delay. The wait uses a timer, so inside a
// testing/synctest bubble it takes no real time.
func (p *Provider) Delay(m Method, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.faults.delay == nil {
		p.faults.delay = map[Method]time.Duration{}
	}
	p.faults.delay[m] = max(d, 0)
}

// PartialNext makes the next SetRecords call apply only the first n (name,
// type) RRsets of its input, in input order (all of them if there are no
// more), and then return an error wrapping ErrInjected together with the
// records it set: a write that a provider without atomicity left half done.
// The next SetRecords call uses it up even if it fails otherwise (through
// FailNext, say, in which case it changes nothing). It overrides the Partial
// of a hook's Fault. n <= 0 cancels a pending PartialNext.
func (p *Provider) PartialNext(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults.partial = max(n, 0)
}

// SetHook sets h to be called at the start of every counted call, after the
// call is counted and without the provider's lock held (h may call the
// provider's methods); a non-nil Fault it returns changes what that call
// does. Chaos tests use it for random failures, partial writes and delays.
// h must be safe for concurrent use if the provider's methods are called
// concurrently. nil removes the hook.
func (p *Provider) SetHook(h func(Call) *Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults.hook = h
}

// call runs one call to m: it counts the call, asks the hook, applies the
// pending FailNext, PartialNext and Delay, waits out the delay, and then,
// unless the call fails, runs apply with the provider's lock held. apply is
// given the number of RRsets to apply for a partial SetRecords (0: all).
func (p *Provider) call(ctx context.Context, m Method, zone string, recs []libdns.Record, apply func(partial int) error) error {
	p.mu.Lock()
	if p.faults.calls == nil {
		p.faults.calls = map[Method]int{}
	}
	p.faults.calls[m]++
	hook := p.faults.hook
	p.mu.Unlock()

	var f Fault
	if hook != nil {
		if hf := hook(Call{Method: m, Zone: zone, Records: slices.Clone(recs)}); hf != nil {
			f = *hf
		}
	}

	p.mu.Lock()
	failed := false
	if fn := p.faults.failNext[m]; fn.n > 0 {
		fn.n--
		p.faults.failNext[m] = fn
		f.Err, failed = fn.err, true
	}
	if m == MethodSetRecords && p.faults.partial > 0 {
		f.Partial, p.faults.partial = p.faults.partial, 0
	}
	delay := p.faults.delay[m] + max(f.Delay, 0)
	p.mu.Unlock()

	if f.IgnoreContext {
		ctx = context.WithoutCancel(ctx)
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if m != MethodSetRecords || failed {
		f.Partial = 0
	}
	if f.Partial <= 0 && f.Err != nil {
		return f.Err
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if err := apply(max(f.Partial, 0)); err != nil {
		return err
	}
	if f.Partial > 0 {
		err := ErrInjected
		if f.Err != nil && !errors.Is(f.Err, ErrInjected) {
			err = fmt.Errorf("%w: %w", ErrInjected, f.Err)
		}
		return fmt.Errorf("memory: %s on zone %q applied at most its first %d RRsets: %w", m, zone, f.Partial, err)
	}
	return nil
}
