package memory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/libdns/libdns"
)

// Method names a libdns method, for counting and faults.
type Method string

// The methods of a Provider.
const (
	MethodGetRecords    Method = "GetRecords"
	MethodSetRecords    Method = "SetRecords"
	MethodAppendRecords Method = "AppendRecords"
	MethodDeleteRecords Method = "DeleteRecords"
	MethodListZones     Method = "ListZones"
)

// ErrInjected is the error of an injected fault when none is given.
var ErrInjected = errors.New("memory: injected fault")

// Call describes one call, for a hook.
type Call struct {
	Method  Method
	Zone    string
	Records []libdns.Record // the input, a copy
}

// Fault changes what one call does.
type Fault struct {
	// Err fails the call without changing anything (unless Partial is set).
	Err error
	// Delay is waited before the call acts; a context ending meanwhile
	// fails the call with the context's error and changes nothing.
	Delay time.Duration
	// Partial, for SetRecords, applies only the first Partial (name, type)
	// RRsets of the input, in input order, then fails with Err (or
	// ErrInjected). Zero means not partial.
	Partial int
}

type failNext struct {
	n   int
	err error
}

// faults is the fault state of a Provider, guarded by its mutex.
type faults struct {
	calls    map[Method]int
	failNext map[Method]failNext
	delay    map[Method]time.Duration
	partial  int
	hook     func(Call) *Fault
}

// Calls returns how many calls to m were made, failed ones included.
func (p *Provider) Calls(m Method) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults.calls[m]
}

// ResetCalls sets every call count to zero.
func (p *Provider) ResetCalls() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.faults.calls)
}

// FailNext makes the next n calls to m fail with err (ErrInjected if nil)
// and change nothing. n <= 0 cancels a previous FailNext.
func (p *Provider) FailNext(m Method, n int, err error) {
	if err == nil {
		err = ErrInjected
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.faults.failNext == nil {
		p.faults.failNext = map[Method]failNext{}
	}
	p.faults.failNext[m] = failNext{max(n, 0), err}
}

// Delay makes every later call to m wait d before acting (zero removes the
// delay). The wait honours the call's context.
func (p *Provider) Delay(m Method, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.faults.delay == nil {
		p.faults.delay = map[Method]time.Duration{}
	}
	p.faults.delay[m] = d
}

// PartialNext makes the next SetRecords call apply only its first n (name,
// type) RRsets, in input order, and then return an error wrapping
// ErrInjected: a write that a provider without atomicity left half done.
// n <= 0 cancels a previous PartialNext.
func (p *Provider) PartialNext(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults.partial = max(n, 0)
}

// SetHook makes h be called at the start of every counted call, without the
// provider's lock held; a non-nil Fault changes what that call does. Chaos
// tests use it for random failures, partial writes and delays. nil removes
// the hook.
func (p *Provider) SetHook(h func(Call) *Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults.hook = h
}

// call counts a call to m, applies the faults that concern it, and runs
// apply under the provider's lock; apply is told how many RRsets to apply
// when the call is partial (0: all).
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
	if fn := p.faults.failNext[m]; f.Err == nil && fn.n > 0 {
		fn.n--
		p.faults.failNext[m] = fn
		f.Err = fn.err
	}
	if m == MethodSetRecords && f.Partial == 0 && p.faults.partial > 0 {
		f.Partial, p.faults.partial = p.faults.partial, 0
	}
	delay := p.faults.delay[m] + f.Delay
	p.mu.Unlock()

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
	if m != MethodSetRecords {
		f.Partial = 0
	}
	if f.Err != nil && f.Partial == 0 {
		return f.Err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := apply(f.Partial); err != nil {
		return err
	}
	if f.Partial > 0 {
		err := f.Err
		if err == nil {
			err = ErrInjected
		}
		return fmt.Errorf("memory: %s on zone %q applied only %d RRsets: %w", m, zone, f.Partial, err)
	}
	return nil
}
