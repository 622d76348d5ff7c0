package failover_test

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/provider/memory"
	"github.com/libdns/libdns"
)

// This file is a randomised, model-based test of the whole Manager: a
// seeded driver flips check outcomes, raises watcher notices, injects
// provider faults, edits zones by hand, sets overrides, asks for
// failbacks and reloads the configuration, and after every step asserts
// the invariants below against what the Manager reports (events, Status)
// and what the providers hold. It uses only the public API.
//
// The invariants, checked after every step:
//   - only managed RRsets are written (every provider call is checked), the
//     seeded unmanaged records never change, a delete only for a record
//     whose policy is PublishNothing, no TTL below a declared floor;
//   - an RRset becomes empty only by a PublishNothing record's delete;
//   - with every endpoint known, a record publishes the healthy endpoints
//     (after overrides) of an eligible tier, or of the most preferred tier
//     with any when none has MinHealthy, capped by MaxAnswers; it is all
//     down exactly when no endpoint is healthy, and then publishes what
//     AllDown says; its TTL is TTL or FailoverTTL, TTL again StableAfter
//     after its last change, FailoverTTL while a published endpoint fails
//     (LowerTTLOnFailing); an override ends at its expiry;
//   - the most preferred eligible tier is active within FailbackDelay +
//     Interval of being eligible without a break (at once after Failback);
//   - every change a provider holds is reported by a record-written event
//     once its write returned; a call past the timeout is reported failed;
//   - events: times never go back, endpoint-up/down alternate and each
//     follows a check that passed/failed, suspicion-ended follows suspected
//     (lifted only by a check started after the notice), a record-decided
//     is a change (not what the record or DNS held at start-up), a
//     record-written never precedes the record-decided (or
//     record-adopted) of its values;
//   - checks start at once when Run starts; Run returns within the call
//     timeout after its context ends;
//   - faults stopped, every provider holds every decision within two
//     reconcile intervals, then is written only when a decision changes.
//
// A violation names the item of issue 11 it reproduces, when it is one;
// regression_test.go holds a small test for each defect the model found.

// Engine names used by the model, in one place.
const (
	evCallFailed    = failover.EventProviderCallFailed // a provider call failed
	evOverrideEnded = failover.EventOverrideEnded      // an override expired or was cleared
)

func setCallTimeout(c *failover.Config, d time.Duration) { c.ProviderTimeout = d }

// The model's fixed settings. A provider call that ignores its context
// hangs at most mHang, so that Run returns even on today's engine; faults
// stop, then providers have 2*mReconcile to converge.
const (
	mReconcile   = 2 * time.Minute
	mCallTimeout = 10 * time.Second
	mMaxBackoff  = 20 * time.Second
	mHang        = 45 * time.Second
	mChaos       = 12 * time.Minute
	mCycles      = 2
)

// chooser makes the model's choices: from the fuzzer's bytes while they
// last, then from a PRNG.
type chooser struct {
	data []byte
	rng  *rand.Rand
}

func seedChooser(seed uint64) *chooser { return &chooser{rng: rand.New(rand.NewPCG(seed, 0x5eed))} }

func bytesChooser(data []byte) *chooser {
	var seed [8]byte
	copy(seed[:], data)
	return &chooser{data: data[min(len(data), 8):], rng: rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:]), 0xf022))}
}

func (c *chooser) intn(n int) int {
	if n <= 1 {
		return 0
	}
	if len(c.data) > 0 {
		b := c.data[0]
		c.data = c.data[1:]
		return int(b) % n
	}
	return c.rng.IntN(n)
}

func (c *chooser) chance(pct int) bool { return c.intn(100) < pct }

func pick[T any](c *chooser, xs ...T) T { return xs[c.intn(len(xs))] }

// ---- the checker: outcomes per target, set by the driver ----

type checkMode int

const (
	modeUp    checkMode = iota // passes at once
	modeDown                   // fails at once, until changed (a sticky failure)
	modeFlap                   // fails every other call
	modeFlaky                  // fails one call in two, pseudo-randomly
	modeSlow                   // passes after 90% of its deadline
	modeStuck                  // blocks until its deadline, then fails
	modeHang                   // ignores its context: blocks mHang, then passes
)

var errModelDown = errors.New("model: endpoint down")

// checkCall is one call of the checker, as the checker saw it.
type checkCall struct {
	start, end, deadline time.Time
	done, failed         bool
}

// modelChecker is a Checker and a Watcher whose outcomes the driver sets.
type modelChecker struct {
	mu       sync.Mutex
	modes    map[string]checkMode
	n        map[string]int
	calls    map[string][]*checkCall
	watchers map[string]map[*int]func(error)
}

func newModelChecker() *modelChecker {
	return &modelChecker{modes: map[string]checkMode{}, n: map[string]int{}, calls: map[string][]*checkCall{}, watchers: map[string]map[*int]func(error){}}
}

func (c *modelChecker) Check(ctx context.Context, target string) error {
	c.mu.Lock()
	mode, n := c.modes[target], c.n[target]
	c.n[target]++
	call := &checkCall{start: time.Now()}
	call.deadline, _ = ctx.Deadline()
	c.calls[target] = append(c.calls[target], call)
	c.mu.Unlock()

	var err error
	switch mode {
	case modeDown:
		err = errModelDown
	case modeFlap:
		if n%2 == 1 {
			err = errModelDown
		}
	case modeFlaky:
		h := fnv.New32a()
		fmt.Fprintf(h, "%s/%d", target, n)
		if h.Sum32()%2 == 0 {
			err = errModelDown
		}
	case modeSlow:
		time.Sleep(time.Until(call.deadline) * 9 / 10)
	case modeStuck:
		<-ctx.Done()
		err = ctx.Err()
	case modeHang:
		time.Sleep(mHang) // ignores ctx
	}
	c.mu.Lock()
	call.end, call.done = time.Now(), true
	call.failed = err != nil || call.end.After(call.deadline)
	c.mu.Unlock()
	return err
}

func (c *modelChecker) Watch(ctx context.Context, target string, notice func(error)) {
	id := new(int)
	c.mu.Lock()
	if c.watchers[target] == nil {
		c.watchers[target] = map[*int]func(error){}
	}
	c.watchers[target][id] = notice
	c.mu.Unlock()
	<-ctx.Done()
	c.mu.Lock()
	delete(c.watchers[target], id)
	c.mu.Unlock()
}

func (c *modelChecker) setMode(target string, m checkMode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.modes[target] = m
}

func (c *modelChecker) mode(target string) checkMode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.modes[target]
}

// notify raises a notice with every Watch of target.
func (c *modelChecker) notify(target string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.watchers[target] {
		go f(errors.New("model: connection reset"))
	}
}

// evidence reports whether target had a failed (failed true) or passed
// check that the Manager may have counted between from and to: a failed
// or passed call that ended then, or a call still running past its
// deadline.
func (c *modelChecker) evidence(target string, failed bool, from, to time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, call := range c.calls[target] {
		if call.start.After(to) {
			continue
		}
		if call.done && call.failed == failed && !call.end.Before(from) && !call.end.After(to) {
			return true
		}
		if failed && call.deadline.Before(to) && (!call.done || call.end.After(call.deadline) && !call.end.Before(from)) {
			return true
		}
	}
	return false
}

// passedAfter reports whether target passed a check that started at or
// after from and ended by to.
func (c *modelChecker) passedAfter(target string, from, to time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, call := range c.calls[target] {
		if call.done && !call.failed && !call.start.Before(from) && !call.end.After(to) {
			return true
		}
	}
	return false
}

// firstCall returns when the first check of target started at or after
// from (zero: none).
func (c *modelChecker) firstCall(target string, from time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, call := range c.calls[target] {
		if !call.start.Before(from) {
			return call.start
		}
	}
	return time.Time{}
}

// hangsUntil returns when the last check that ignores its context ends.
func (c *modelChecker) hangsUntil() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var t time.Time
	for _, calls := range c.calls {
		for _, call := range calls {
			if !call.done && call.start.Add(mHang).After(t) {
				t = call.start.Add(mHang)
			}
		}
	}
	return t
}

// ---- the providers: memory providers with faults, logging every call ----

type rrKey struct{ name, typ string }

func (k rrKey) String() string { return k.name + " " + k.typ }

// held is what a provider holds for one RRset.
type held struct {
	values []string // sorted
	ttl    time.Duration
}

func (h held) same(o held) bool { return slices.Equal(h.values, o.values) && h.ttl == o.ttl }

// provFault is what a provider does to the Manager's calls.
type provFault struct {
	errPct, partialPct, delayPct, hangPct int    // percent of calls
	readFail                              bool   // every read fails
	poison                                string // a managed name whose writes the provider refuses
}

// provCall is one call of the Manager to a provider.
type provCall struct {
	method     memory.Method
	start, end time.Time
	hang       time.Duration // ignores its context this long
	partial    bool
	keys       []rrKey
	done       bool
	failed     bool
}

type modelProvider struct {
	*memory.Provider
	name  string
	zone  *modelZone
	model *model
	floor time.Duration // declared (MinTTL)

	mu      sync.Mutex
	fault   provFault
	edited  map[rrKey]time.Time // last hand edit of each RRset
	rng     *rand.Rand
	planned *memory.Fault
	calls   []*provCall
}

// Name names the provider in events and Status.
func (p *modelProvider) Name() string { return p.name }

// bogus values are what hand edits write; the Manager never decides them.
var bogus = map[string]string{"A": "203.0.113.66", "AAAA": "2001:db8:bad::66", "CNAME": "bogus.example.org."}

func isBogus(recs []libdns.Record) bool {
	for _, r := range recs {
		rr := r.RR()
		if rr.Data == bogus[rr.Type] {
			return true
		}
	}
	return false
}

func (p *modelProvider) hook(c memory.Call) *memory.Fault {
	if isBogus(c.Records) {
		return nil // a hand edit
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.planned
	p.planned = nil
	return f
}

// begin logs a call, checks what it writes, and plans its fault.
func (p *modelProvider) begin(method memory.Method, recs []libdns.Record) *provCall {
	c := &provCall{method: method, start: time.Now()}
	for _, r := range recs {
		rr := r.RR()
		k := rrKey{strings.ToLower(rr.Name), rr.Type}
		if !slices.Contains(c.keys, k) {
			c.keys = append(c.keys, k)
		}
		p.model.checkWrite(p, method, k, rr)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, c)
	f := p.fault
	var planned memory.Fault
	switch {
	case method == memory.MethodGetRecords && f.readFail:
		planned.Err = errors.New("model: read refused (rate limited)")
	case method != memory.MethodGetRecords && f.poison != "" && slices.ContainsFunc(c.keys, func(k rrKey) bool { return k.name == f.poison }):
		planned.Err = fmt.Errorf("model: %s refused", f.poison)
	case p.rng.IntN(100) < f.errPct:
		planned.Err = errors.New("model: provider error")
	case method == memory.MethodSetRecords && p.rng.IntN(100) < f.partialPct:
		planned.Partial = 1 + p.rng.IntN(max(len(c.keys), 1))
		c.partial = true
	case p.rng.IntN(100) < f.delayPct:
		planned.Delay = time.Duration(1+p.rng.IntN(int(2*mCallTimeout/time.Second))) * time.Second
	case p.rng.IntN(100) < f.hangPct:
		c.hang = mCallTimeout + time.Duration(1+p.rng.IntN(int((mHang-mCallTimeout)/time.Second)))*time.Second
	}
	p.planned = &planned
	return c
}

func (p *modelProvider) end(c *provCall, err error) {
	p.mu.Lock()
	c.end, c.done, c.failed = time.Now(), true, err != nil
	p.mu.Unlock()
	if modelTrace != "" && strings.Contains(p.name, modelTrace) {
		p.model.t.Logf("%v %s %s %v from %v (hang %v, partial %v): %v", time.Since(p.model.t0), p.name, c.method, c.keys, c.start.Sub(p.model.t0), c.hang, c.partial, err)
	}
}

func (p *modelProvider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	c := p.begin(memory.MethodGetRecords, nil)
	time.Sleep(c.hang) // ignores ctx
	recs, err := p.Provider.GetRecords(ctx, zone)
	p.end(c, err)
	return recs, err
}

func (p *modelProvider) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	c := p.begin(memory.MethodSetRecords, recs)
	time.Sleep(c.hang)
	recs, err := p.Provider.SetRecords(ctx, zone, recs)
	p.end(c, err)
	return recs, err
}

func (p *modelProvider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	c := p.begin(memory.MethodDeleteRecords, recs)
	time.Sleep(c.hang)
	recs, err := p.Provider.DeleteRecords(ctx, zone, recs)
	p.end(c, err)
	return recs, err
}

func (p *modelProvider) setFault(f provFault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = f
}

// callsSince returns the calls that started at or after t.
func (p *modelProvider) callsSince(t time.Time) []provCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []provCall
	for _, c := range p.calls {
		if !c.start.Before(t) {
			out = append(out, *c)
		}
	}
	return out
}

// callsEndedSince returns the calls that ended at or after t, or are
// still running: those that may have changed the provider since t.
func (p *modelProvider) callsEndedSince(t time.Time) []provCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []provCall
	for _, c := range p.calls {
		if !c.done || !c.end.Before(t) {
			out = append(out, *c)
		}
	}
	return out
}

// editedSinceRead reports whether k was edited by hand after the last
// read that succeeded of the Manager running since runStart (a Manager
// does not know what the one it replaced read), or that Manager never
// read the zone (what it held at start is as unknown as a hand edit).
func (p *modelProvider) editedSinceRead(k rrKey, runStart time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	var read time.Time
	for _, c := range p.calls {
		if c.method == memory.MethodGetRecords && c.done && !c.failed && !c.start.Before(runStart) {
			read = latest(read, c.end)
		}
	}
	if read.IsZero() {
		return true // never read: what the zone held before is unknown too
	}
	at, ok := p.edited[k]
	return ok && !at.Before(read)
}

// inflight returns the calls still running.
func (p *modelProvider) inflight() []provCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []provCall
	for _, c := range p.calls {
		if !c.done {
			out = append(out, *c)
		}
	}
	return out
}

// effTTL is the TTL the provider stores for a write of ttl.
func (p *modelProvider) effTTL(ttl time.Duration) time.Duration {
	ttl = max(ttl, p.floor)
	if p.RoundTTL != nil {
		ttl = p.RoundTTL(ttl)
	}
	return ttl
}

// contents returns the managed RRsets p holds, and its other records.
func (p *modelProvider) contents() (map[rrKey]held, []libdns.RR) {
	out := map[rrKey]held{}
	var other []libdns.RR
	for _, r := range p.Records(p.zone.name) {
		rr := r.RR()
		k := rrKey{rr.Name, rr.Type}
		if !p.zone.manages(k) {
			other = append(other, rr)
			continue
		}
		h := out[k]
		h.values = append(h.values, rr.Data)
		h.ttl = rr.TTL
		slices.Sort(h.values)
		out[k] = h
	}
	return out, other
}

// ---- the configuration ----

type modelRecord struct {
	zone    *modelZone
	rec     failover.Record
	id      failover.RecordID
	key     rrKey
	nothing bool // its policy was PublishNothing in some configuration

	// since the current Run started
	carried    bool // CarryOver kept it
	changed    bool // its configuration changed at the last reload
	renumbered bool // its tiers were renumbered at the last reload
	decided    bool // a record-decided event
	since      map[int]time.Time

	hasDecision bool              // its decision (maybe carried) came from a record-decided event
	stale       bool              // its decision was carried from a Manager with another configuration of it
	oldTiers    bool              // its decision was carried from a Manager with other priorities
	touched     map[int]time.Time // tier → last event that may have changed its eligibility
	touchedAny  time.Time         // last such event of any tier
	eventful    map[string]bool   // endpoints with an endpoint-up or -down event in this Run
	firstDec    time.Time         // its first record-decided event in this Run
}

type modelZone struct {
	name  string
	provs []*modelProvider
	recs  []*modelRecord
	other []libdns.RR // unmanaged records, as seeded
}

func (z *modelZone) manages(k rrKey) bool {
	return slices.ContainsFunc(z.recs, func(r *modelRecord) bool { return r.key == k })
}

func (z *modelZone) record(k rrKey) *modelRecord {
	for _, r := range z.recs {
		if r.key == k {
			return r
		}
	}
	return nil
}

var pools = map[string][]string{
	"A":     {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5", "192.0.2.6", "192.0.2.7"},
	"AAAA":  {"2001:db8::1", "2001:db8::2", "2001:db8::3", "2001:db8::4", "2001:db8::5"},
	"CNAME": {"a.example.net.", "b.example.net.", "c.example.net.", "d.example.net."},
}

var fallbacks = map[string]string{"A": "198.51.100.9", "AAAA": "2001:db8:ffff::9", "CNAME": "sorry.example.net."}

func libdnsRecord(name, typ, value string, ttl time.Duration) libdns.Record {
	if typ == "CNAME" {
		return libdns.CNAME{Name: name, TTL: ttl, Target: value}
	}
	return libdns.Address{Name: name, TTL: ttl, IP: netip.MustParseAddr(value)}
}

// newPolicy returns a random policy. Checks run without jitter (1 ns), so
// that a seed replays the same check times.
func newPolicy(c *chooser, typ string) failover.Policy {
	p := failover.Policy{
		Interval:          pick(c, 10*time.Second, 20*time.Second, 30*time.Second),
		Timeout:           5 * time.Second,
		Jitter:            time.Nanosecond,
		FailAfter:         1 + c.intn(3),
		RecoverAfter:      1 + c.intn(3),
		FailbackDelay:     pick(c, time.Nanosecond, 30*time.Second, 2*time.Minute),
		ManualFailback:    c.chance(15),
		MinHealthy:        1 + c.intn(2),
		TTL:               pick(c, time.Minute, 5*time.Minute),
		StableAfter:       pick(c, time.Minute, 4*time.Minute),
		LowerTTLOnFailing: c.chance(30),
	}
	p.FailoverTTL = pick(c, 10*time.Second, 30*time.Second, p.TTL)
	if typ != "CNAME" && c.chance(20) {
		p.MaxAnswers = 1 + c.intn(2)
	}
	p.AllDown = failover.AllDown(c.intn(4))
	if p.AllDown == failover.PublishFallback {
		p.Fallback = []string{fallbacks[typ]}
	}
	return p
}

// newEndpoints returns 1 to 4 endpoints in 1 to 3 tiers (a CNAME: one per
// tier).
func newEndpoints(c *chooser, typ string) []failover.Endpoint {
	pool := slices.Clone(pools[typ])
	n := 1 + c.intn(min(4, len(pool)))
	var eps []failover.Endpoint
	for i := range n {
		j := c.intn(len(pool))
		prio := c.intn(3)
		if typ == "CNAME" {
			prio = i
		}
		eps = append(eps, failover.Endpoint{Value: pool[j], Priority: prio})
		pool = slices.Delete(pool, j, j+1)
	}
	return eps
}

// ---- the model ----

type model struct {
	t     *testing.T
	t0    time.Time
	c     *chooser
	chk   *modelChecker
	zones []*modelZone

	mu         sync.Mutex // guards events, violations and the zones' records (read by provider calls)
	events     []failover.Event
	violations []string

	maxChecks int // Config.MaxChecks (0: the default, never saturated)

	mgr      *failover.Manager
	running  bool
	cancel   context.CancelFunc
	done     chan error
	runStart time.Time
	atStart  map[*modelProvider]map[rrKey]held // what the providers held when Run started
	firstOK  bool                              // the first checks after Run started were looked at

	// checked up to
	evSeen     int // by checkEvents
	evProv     int // by checkProviders
	lastCheck  time.Time
	snap       map[*modelProvider]map[rrKey]held
	unreported []change                          // changes found on providers, not yet reported
	handEdits  map[*modelProvider]map[rrKey]bool // since the last check

	// event bookkeeping
	lastHealth  map[string]failover.EventKind // record/endpoint → last up or down, this Run
	lastUp      map[string]time.Time
	lastDown    map[string]time.Time
	suspected   map[string]time.Time // open suspicions, this Run
	lastDec     map[failover.RecordID]failover.Event
	everDecided map[failover.RecordID]map[string]bool // values ever decided
	earlyWrite  map[failover.RecordID]map[string]bool // written before any decision of them
	lastTime    time.Time
	failedAt    map[string][]time.Time // provider → call-failed events
}

func vkey(values []string) string {
	v := slices.Clone(values)
	slices.Sort(v)
	return strings.Join(v, ",")
}

func sameValues(a, b []string) bool { return vkey(a) == vkey(b) }

func epKey(id failover.RecordID, v string) string { return id.String() + " " + v }

// adopting is staleItem's answer for a record whose zone is still being
// read at start-up: its decision waits for that read, by design, so no
// invariant on it is broken yet.
const adopting = -1

// why combines the items that may explain a violation: adopting wins,
// else the highest.
func why(items ...int) int {
	if slices.Contains(items, adopting) {
		return adopting
	}
	return slices.Max(items)
}

// violate records a broken invariant; item names the item of issue 11
// that it reproduces (0: none known).
func (m *model) violate(item int, format string, args ...any) {
	if item == adopting || slices.Contains(knownIssues, item) {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if item > 0 {
		msg = fmt.Sprintf("[issue 11 item %d] %s", item, msg)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.violations = append(m.violations, fmt.Sprintf("t=%v: %s", time.Since(m.t0), msg))
}

func newModel(t *testing.T, c *chooser) *model {
	m := &model{
		t: t, t0: time.Now(), c: c, chk: newModelChecker(),
		lastHealth: map[string]failover.EventKind{}, lastUp: map[string]time.Time{}, lastDown: map[string]time.Time{},
		suspected: map[string]time.Time{}, lastDec: map[failover.RecordID]failover.Event{},
		everDecided: map[failover.RecordID]map[string]bool{}, earlyWrite: map[failover.RecordID]map[string]bool{},
		failedAt: map[string][]time.Time{}, handEdits: map[*modelProvider]map[rrKey]bool{},
	}
	names := []string{"www", "api", "cdn", "@", "shop"}
	for zi := range 2 + c.intn(2) {
		z := &modelZone{name: fmt.Sprintf("z%d.test.", zi)}
		var seed []libdns.Record
		seed = append(seed,
			libdns.TXT{Name: "@", TTL: time.Hour, Text: "v=spf1 -all"},
			libdns.Address{Name: "mail", TTL: time.Hour, IP: netip.MustParseAddr("192.0.2.25")},
			libdns.MX{Name: "@", TTL: time.Hour, Preference: 10, Target: "mail." + z.name},
		)
		for _, name := range names[:2+c.intn(len(names)-1)] {
			typ := pick(c, "A", "A", "A", "AAAA", "CNAME")
			if name == "@" && typ == "CNAME" {
				typ = "A"
			}
			r := &modelRecord{zone: z, key: rrKey{name, typ}}
			r.rec = failover.Record{Name: name, Type: typ, Endpoints: newEndpoints(c, typ), Check: m.chk, Policy: newPolicy(c, typ)}
			r.id = failover.RecordID{Zone: z.name, Name: name, Type: typ}
			r.nothing = r.rec.Policy.AllDown == failover.PublishNothing
			z.recs = append(z.recs, r)
			seed = append(seed, libdns.TXT{Name: name, TTL: time.Hour, Text: "not managed"})
		}
		z.other = rrs(seed)
		// Some records are in DNS already: their primary, or something else.
		var managed []libdns.Record
		for _, r := range z.recs {
			switch c.intn(3) {
			case 0:
				managed = append(managed, libdnsRecord(r.key.name, r.key.typ, r.rec.Endpoints[0].Value, r.rec.Policy.TTL))
			case 1:
				managed = append(managed, libdnsRecord(r.key.name, r.key.typ, bogus[r.key.typ], r.rec.Policy.FailoverTTL))
			}
		}
		for pi := range 2 {
			p := &modelProvider{Provider: &memory.Provider{}, name: fmt.Sprintf("z%d-%c", zi, 'a'+pi), zone: z, model: m,
				rng: rand.New(rand.NewPCG(uint64(c.intn(1<<30)), uint64(zi*2+pi)))}
			switch c.intn(5) {
			case 0:
				p.floor = time.Minute
				p.MinimumTTL = time.Minute
			case 1:
				p.RoundTTL = func(ttl time.Duration) time.Duration { return (ttl + time.Minute - 1).Truncate(time.Minute) } // up to whole minutes, silently
			}
			p.SetHook(p.hook)
			recs := slices.Concat(seed, managed)
			if pi == 1 && c.chance(30) {
				recs = seed // the second provider lacks what the first holds
			}
			if err := p.AddZone(z.name, recs...); err != nil {
				t.Fatal(err)
			}
			z.provs = append(z.provs, p)
		}
		m.zones = append(m.zones, z)
	}
	for _, target := range m.targets() {
		m.chk.setMode(target, pick(c, modeUp, modeUp, modeUp, modeDown))
	}
	if c.chance(30) { // saturated checks must not be judged by their wait
		m.maxChecks = 2
	}
	return m
}

func rrs(recs []libdns.Record) []libdns.RR {
	var out []libdns.RR
	for _, r := range recs {
		rr := r.RR()
		out = append(out, rr)
	}
	sortRRs(out)
	return out
}

func sortRRs(rrs []libdns.RR) {
	slices.SortFunc(rrs, func(a, b libdns.RR) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Type, b.Type), strings.Compare(a.Data, b.Data))
	})
}

func (m *model) config() failover.Config {
	cfg := failover.Config{
		ReconcileInterval: mReconcile,
		RetryBackoff:      time.Second,
		MaxRetryBackoff:   mMaxBackoff,
		OnEvent: func(e failover.Event) {
			m.mu.Lock()
			m.events = append(m.events, e)
			m.mu.Unlock()
		},
	}
	setCallTimeout(&cfg, mCallTimeout)
	cfg.MaxChecks = m.maxChecks
	for _, z := range m.zones {
		zone := failover.Zone{Name: z.name}
		for _, p := range z.provs {
			zone.Providers = append(zone.Providers, p)
		}
		for _, r := range z.recs {
			zone.Records = append(zone.Records, r.rec)
		}
		cfg.Zones = append(cfg.Zones, zone)
	}
	return cfg
}

// targets returns every endpoint value in the configuration.
func (m *model) targets() []string {
	var out []string
	for _, z := range m.zones {
		for _, r := range z.recs {
			for _, e := range r.rec.Endpoints {
				if !slices.Contains(out, e.Value) {
					out = append(out, e.Value)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

func (m *model) records() []*modelRecord {
	var out []*modelRecord
	for _, z := range m.zones {
		out = append(out, z.recs...)
	}
	return out
}

func (m *model) providers() []*modelProvider {
	var out []*modelProvider
	for _, z := range m.zones {
		out = append(out, z.provs...)
	}
	return out
}

func (m *model) snapshot() map[*modelProvider]map[rrKey]held {
	out := map[*modelProvider]map[rrKey]held{}
	for _, p := range m.providers() {
		out[p], _ = p.contents()
	}
	return out
}

// start runs mgr.
func (m *model) start(mgr *failover.Manager) {
	m.mgr = mgr
	m.atStart = m.snapshot()
	m.runStart, m.firstOK = time.Now(), false
	clear(m.lastHealth)
	clear(m.suspected)
	for _, r := range m.records() {
		r.decided, r.since, r.eventful = false, nil, map[string]bool{}
		if !r.carried {
			r.hasDecision = false
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel, m.done, m.running = cancel, make(chan error, 1), true
	go func() { m.done <- mgr.Run(ctx) }()
}

// stop cancels Run and asserts that it returns promptly: a write in
// flight may take the call timeout, nothing else may hold it up.
func (m *model) stop(why string) {
	bound := mCallTimeout + mCallTimeout/10 // a call is abandoned a tenth of its timeout after it
	var provHang time.Time
	for _, p := range m.providers() {
		for _, c := range p.inflight() {
			provHang = latest(provHang, c.start.Add(c.hang))
		}
	}
	checkHang := m.chk.hangsUntil()
	m.cancel()
	start := time.Now()
	for {
		select {
		case err := <-m.done:
			m.running = false
			// Run abandons checks that ignore their context past its
			// StopTimeout, and says so.
			if err != nil && !(errors.Is(err, failover.ErrAbandoned) && checkHang.After(start)) {
				m.violate(0, "%s: Run returned %v, want nil", why, err)
			}
			if took := time.Since(start); took > bound {
				// Run waits for a provider call (item 12) or a check (item
				// 18) that ignores its context.
				item := 0
				switch end := start.Add(took); {
				case !end.After(provHang.Add(time.Second)):
					item = 12
				case !end.After(checkHang.Add(time.Second)):
					item = 18
				}
				m.violate(item, "%s: Run returned %v after its context ended, want within %v", why, took, bound)
			}
			synctest.Wait()
			return
		case <-time.After(100 * time.Millisecond): // waited on, not polled: took is exact
		}
	}
}

// run is the whole scenario of one seed.
func (m *model) run() {
	mgr, err := failover.New(m.config())
	if err != nil {
		m.t.Fatalf("New: %v", err)
	}
	m.lastCheck = time.Now()
	m.snap = m.snapshot()
	m.start(mgr)
	for range mCycles {
		for end := time.Now().Add(mChaos); time.Now().Before(end); {
			m.act()
			m.advance(time.Duration(1+m.c.intn(20)) * time.Second)
			if m.failed() {
				return
			}
		}
		m.calm()
		if m.failed() {
			return
		}
	}
	m.stop("end")
	m.check()
	m.failed()
}

// failed reports the violations so far and whether there were any.
func (m *model) failed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, v := range m.violations {
		if i == 10 {
			m.t.Errorf("… and %d more", len(m.violations)-i)
			break
		}
		m.t.Error(v)
	}
	return len(m.violations) > 0
}

func (m *model) advance(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
	m.check()
}

// act makes one random change.
func (m *model) act() {
	c := m.c
	switch c.intn(16) {
	case 0, 1, 2, 3:
		target := pick(c, m.targets()...)
		m.chk.setMode(target, pick(c, modeUp, modeUp, modeDown, modeDown, modeFlap, modeFlaky, modeSlow, modeStuck, modeHang))
	case 4:
		m.chk.notify(pick(c, m.targets()...))
	case 5, 6:
		p := pick(c, m.providers()...)
		var f provFault
		switch c.intn(7) {
		case 0:
		case 1:
			f.errPct = 30 + c.intn(70)
		case 2:
			f.partialPct = 50
		case 3:
			f.delayPct = 50
		case 4:
			f.hangPct = 30
		case 5:
			f.readFail = true
		case 6:
			f.poison = pick(c, p.zone.recs...).key.name
		}
		p.setFault(f)
	case 7, 8:
		r := pick(c, m.records()...)
		ep := pick(c, r.rec.Endpoints...)
		o := pick(c, failover.ForceDown, failover.ForceDown, failover.ForceUp, failover.NoOverride)
		d := pick(c, 0, time.Minute, 5*time.Minute)
		if err := m.mgr.SetOverride(r.id, ep.Value, o, d); err != nil {
			m.t.Fatalf("SetOverride: %v", err)
		}
	case 9:
		m.failback(pick(c, m.records()...))
	case 10:
		p := pick(c, m.providers()...)
		r := pick(c, p.zone.recs...)
		if _, err := p.Provider.SetRecords(context.Background(), p.zone.name, []libdns.Record{libdnsRecord(r.key.name, r.key.typ, bogus[r.key.typ], time.Hour)}); err != nil {
			m.t.Fatalf("hand edit: %v", err)
		}
		if m.handEdits[p] == nil {
			m.handEdits[p] = map[rrKey]bool{}
		}
		m.handEdits[p][r.key] = true
		p.mu.Lock()
		if p.edited == nil {
			p.edited = map[rrKey]time.Time{}
		}
		p.edited[r.key] = time.Now()
		p.mu.Unlock()
	case 11:
		if c.chance(25) {
			m.reload()
		}
	}
}

// failback asks for a failback, and checks that a record whose most
// preferred eligible tier is not the active one moves to it at once.
func (m *model) failback(r *modelRecord) {
	// The request is taken at the next decision, which cannot be made
	// while an endpoint is unknown: Failback's doc says it is dropped then.
	before, _ := m.status(r)
	_, knownBefore := eligibleTiers(r.rec, before)
	if err := m.mgr.Failback(r.id); err != nil {
		m.t.Fatalf("Failback: %v", err)
	}
	synctest.Wait()
	m.check()
	st, ok := m.status(r)
	if !ok {
		return
	}
	tiers, known := eligibleTiers(r.rec, st)
	if knownBefore && known && len(tiers) > 0 && (!st.Decided || st.AllDown || st.Priority != tiers[0]) {
		m.violate(m.staleItem(r, st), "%s: after Failback with priority %d eligible, it publishes %v (decided %v, priority %d, all down %v), want priority %d", r.id, tiers[0], st.Published, st.Decided, st.Priority, st.AllDown, tiers[0])
	}
}

// staleItem returns the item of issue 11 that explains a record's
// decision not matching its health, configuration or time (0: none): the
// loop not started while a start-up read runs (item 14), an endpoint not
// known yet, which freezes the record (item 3), a decision carried from a Manager with other priorities (item 2), a
// carried decision not made again (item 1), or a record whose endpoints
// became known through a probe carried for another record, with nothing
// to make it decide (item 1: decide every record once at start).
func (m *model) staleItem(r *modelRecord, st failover.RecordStatus) int {
	switch {
	case !m.adoptedBy().Before(time.Now()):
		return adopting // a zone is decided only once its start-up read is done (item 14's design)
	case slices.ContainsFunc(st.Endpoints, func(e failover.EndpointStatus) bool { return effective(e) == failover.HealthUnknown }):
		return 3 // the record waits for an endpoint that is not known yet
	case r.oldTiers:
		return 2
	case r.stale, r.carried && !r.decided:
		return 1
	case !st.Decided && slices.ContainsFunc(st.Endpoints, func(e failover.EndpointStatus) bool {
		return e.Health != failover.HealthUnknown && !r.eventful[e.Value]
	}):
		return 1
	}
	return 0
}

// reload replaces the Manager with one built from a changed configuration,
// carrying over some records.
func (m *model) reload() {
	c := m.c
	m.stop("reload")
	m.check()
	old := m.mgr
	carryChanged := map[failover.RecordID]bool{}
	m.mu.Lock()
	for _, r := range m.records() {
		r.changed, r.renumbered = false, false
		if !c.chance(40) {
			continue
		}
		r.changed = true
		carryChanged[r.id] = c.chance(50)
		rec := r.rec
		rec.Endpoints = slices.Clone(rec.Endpoints)
		if c.chance(50) { // renumber the tiers: 0, 1, 2 become 10, 20, 30
			for i := range rec.Endpoints {
				rec.Endpoints[i].Priority = rec.Endpoints[i].Priority*10 + 10
			}
			r.renumbered = true
		} else {
			rec.Policy = newPolicy(c, rec.Type)
		}
		r.rec = rec
		r.nothing = r.nothing || rec.Policy.AllDown == failover.PublishNothing
	}
	m.mu.Unlock()
	mgr, err := failover.New(m.config())
	if err != nil {
		m.t.Fatalf("New after reload: %v", err)
	}
	if modelTrace != "" {
		m.t.Logf("%v reload", time.Since(m.t0))
		for _, r := range m.records() {
			m.t.Logf("  %s changed %v renumbered %v carried %v: %+v", r.id, r.changed, r.renumbered, !r.changed || carryChanged[r.id], r.rec)
		}
	}
	keep := func(id failover.RecordID) bool {
		for _, r := range m.records() {
			if r.id == id {
				return !r.changed || carryChanged[id]
			}
		}
		return false
	}
	if err := mgr.CarryOver(old, keep); err != nil {
		m.t.Fatalf("CarryOver: %v", err)
	}
	for _, r := range m.records() {
		r.carried = keep(r.id)
		r.stale = r.carried && (r.stale || r.changed)
		r.oldTiers = r.carried && (r.oldTiers || r.renumbered)
	}
	m.start(mgr)
}

// calm stops every fault, lets the providers converge, checks that they
// hold every decision within two reconcile intervals, and that they then
// stay so without writing while no decision changes.
func (m *model) calm() {
	for _, p := range m.providers() {
		p.mu.Lock()
		// A provider refusing one RRset, or failing its reads, keeps doing
		// so: neither may hold back the other writes.
		p.fault = provFault{poison: p.fault.poison, readFail: p.fault.readFail}
		p.mu.Unlock()
	}
	for _, target := range m.targets() {
		switch m.chk.mode(target) {
		case modeUp, modeDown, modeSlow:
		default:
			m.chk.setMode(target, pick(m.c, modeUp, modeDown))
		}
	}
	for end := time.Now().Add(2 * mReconcile); time.Now().Before(end); {
		m.advance(10 * time.Second)
	}
	m.converged()
	quiet := time.Now()
	for end := quiet.Add(mReconcile + time.Second); time.Now().Before(end); {
		m.advance(10 * time.Second)
	}
	m.quiet(quiet)
}

// zoneFloor is the highest TTL floor of zone zi's providers, declared or
// learned: Status reports TTLs raised to it.
func (m *model) zoneFloor(st failover.Status, zi int) time.Duration {
	var floor time.Duration
	for pi, p := range m.zones[zi].provs {
		floor = max(floor, p.floor, st.Zones[zi].Providers[pi].LearnedMinTTL)
	}
	return floor
}

// converged checks that every provider holds every decision.
func (m *model) converged() {
	st := m.mgr.Status()
	for zi, z := range m.zones {
		floor := m.zoneFloor(st, zi)
		for pi, p := range z.provs {
			poison := p.fault.poison
			hold, _ := p.contents()
			for ri, r := range z.recs {
				rs := st.Zones[zi].Records[ri]
				if !rs.Decided || r.key.name == poison {
					continue
				}
				got, want := hold[r.key], held{values: slices.Sorted(slices.Values(rs.Published)), ttl: p.effTTL(rs.TTL)}
				if len(want.values) == 0 {
					// A delete must name the records it removes: a hand edit
					// made since the last read that succeeded (by this
					// Manager: a reload starts afresh) cannot be undone
					// while reads fail (libdns's empty-value wildcard
					// is not reliable, PROVIDERS.md).
					if len(got.values) > 0 && !(p.fault.readFail && p.editedSinceRead(r.key, m.runStart)) {
						item := 0
						if p.RoundTTL != nil {
							item = 10 // the delete names the TTL asked, not the one held
						}
						m.violate(item, "%s on %s: holds %v after the faults stopped, want the RRset deleted (all down: nothing)", r.id, p.name, got.values)
					}
					continue
				}
				// Status gives the TTL raised to the zone's highest floor: a
				// provider without that floor holds the TTL decided, which
				// the same floor raises to Status's.
				underFloor := floor > 0 && slices.Equal(got.values, want.values) && got.ttl < floor && rs.TTL == floor
				if !got.same(want) && !underFloor {
					item := 0
					switch {
					case poison != "":
						item = 8
					case p.fault.readFail:
						item = 13
					}
					m.violate(item, "%s on %s: holds %v TTL %v two reconcile intervals after the faults stopped, want %v TTL %v", r.id, p.name, got.values, got.ttl, want.values, want.ttl)
				}
			}
			if ps := st.Zones[zi].Providers[pi]; poison == "" && !p.fault.readFail && (!ps.InSync || len(ps.Pending) > 0) {
				m.violate(0, "%s: not in sync two reconcile intervals after the faults stopped: %+v", p.name, ps)
			}
		}
	}
}

// quiet checks that, since from, a provider was written only for a record
// whose decision changed.
func (m *model) quiet(from time.Time) {
	m.mu.Lock()
	decided := map[failover.RecordID]bool{}
	repaired := 0
	for _, e := range m.events {
		if e.Time.Before(from) {
			continue
		}
		switch e.Kind {
		case failover.EventRecordDecided:
			decided[e.Record] = true
		case failover.EventDriftRepaired:
			repaired++
		}
	}
	m.mu.Unlock()
	for _, p := range m.providers() {
		if p.fault.poison != "" || p.fault.readFail {
			continue
		}
		for _, c := range p.callsSince(from) {
			if c.method == memory.MethodGetRecords {
				continue
			}
			need := false
			for _, k := range c.keys {
				if r := p.zone.record(k); r != nil && !decided[r.id] {
					need = true
				}
			}
			if need {
				item := 0
				if p.RoundTTL != nil {
					item = 9 // the provider rounds TTLs: written again at every reconcile
				}
				m.violate(item, "%s: %s of %v at %v, after convergence, though no decision of theirs changed (%d drift repairs)", p.name, c.method, c.keys, c.start.Sub(from), repaired)
				break
			}
		}
	}
}

func (m *model) status(r *modelRecord) (failover.RecordStatus, bool) {
	st := m.mgr.Status()
	for _, z := range st.Zones {
		if z.Name != r.zone.name {
			continue
		}
		for _, rs := range z.Records {
			if rs.Name == r.key.name && rs.Type == r.key.typ {
				return rs, true
			}
		}
	}
	return failover.RecordStatus{}, false
}

// effective returns an endpoint's health as decisions see it.
func effective(e failover.EndpointStatus) failover.Health {
	switch e.Override {
	case failover.ForceUp:
		return failover.HealthUp
	case failover.ForceDown:
		return failover.HealthDown
	}
	return e.Health
}

// eligibleTiers returns the tiers that have enough healthy endpoints,
// most preferred first, and whether every endpoint's health is known.
func eligibleTiers(rec failover.Record, st failover.RecordStatus) ([]int, bool) {
	size, up := map[int]int{}, map[int]int{}
	known := true
	for _, e := range st.Endpoints {
		size[e.Priority]++
		switch effective(e) {
		case failover.HealthUp:
			up[e.Priority]++
		case failover.HealthUnknown:
			known = false
		}
	}
	need := max(rec.Policy.MinHealthy, 1)
	var out []int
	for t, n := range size {
		if up[t] >= min(need, n) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, known
}

// check asserts every invariant at this step.
func (m *model) check() {
	m.checkEvents()
	m.checkProviders()
	if m.running { // a stopped Manager decides nothing: its Status is as it stopped
		m.checkStatus()
	}
	m.lastCheck = time.Now()
}

// checkWrite is called for every record a provider call of the Manager
// names.
func (m *model) checkWrite(p *modelProvider, method memory.Method, k rrKey, rr libdns.RR) {
	m.mu.Lock()
	r := p.zone.record(k)
	nothing := r != nil && r.nothing
	m.mu.Unlock()
	switch {
	case r == nil:
		m.violate(0, "%s %s names %s, which is not managed", p.name, method, k)
	case method == memory.MethodDeleteRecords && !nothing:
		m.violate(0, "%s: DeleteRecords of %s, whose policy never was to publish nothing", p.name, k)
	case method == memory.MethodSetRecords && rr.TTL < p.floor:
		m.violate(0, "%s: SetRecords of %s with TTL %v, below the provider's declared floor %v", p.name, k, rr.TTL, p.floor)
	}
}

// checkProviders asserts what the providers hold: records outside the
// configuration never change, a managed RRset becomes empty only by a
// delete of a record whose policy is to publish nothing, and every change
// the Manager made is reported by a record-written event once its write
// has returned.
func (m *model) checkProviders() {
	m.mu.Lock()
	seen := len(m.events)
	m.mu.Unlock()
	now := m.snapshot()
	for _, p := range m.providers() {
		hold, other := p.contents()
		sortRRs(other)
		if !slices.Equal(other, p.zone.other) {
			m.violate(0, "%s: records outside the configuration changed: got %v, want %v", p.name, other, p.zone.other)
		}
		for _, r := range p.zone.recs {
			before, after := m.snap[p][r.key], hold[r.key]
			if before.same(after) || m.handEdits[p][r.key] {
				continue
			}
			if len(after.values) == 0 && !r.nothing {
				m.violate(0, "%s: %s went from %v to empty, but its policy never was to publish nothing", p.name, r.id, before.values)
			}
			m.unreported = append(m.unreported, change{p: p, r: r, before: before, after: after, events: m.evProv, calls: m.lastCheck})
		}
		for _, c := range p.inflight() {
			if time.Since(c.start) > mCallTimeout+time.Second && !slices.ContainsFunc(m.failedAt[p.name], func(t time.Time) bool { return !t.Before(c.start) }) {
				m.violate(12, "%s: %s running for %v, past the call timeout %v, and no call-failed event", p.name, c.method, time.Since(c.start), mCallTimeout)
			}
		}
	}
	m.snap = now
	clear(m.handEdits)
	m.evProv = seen
	m.checkReported()
}

// change is a change of a managed RRset found on a provider.
type change struct {
	p             *modelProvider
	r             *modelRecord
	before, after held
	events        int       // index of the first event that may report it
	calls         time.Time // calls that ended since then may have made it
}

// checkReported asserts that every change found on a provider has been
// reported by a record-written event, once no write to that provider is
// running.
func (m *model) checkReported() {
	m.mu.Lock()
	events := slices.Clone(m.events)
	m.mu.Unlock()
	var left []change
	for _, c := range m.unreported {
		if slices.ContainsFunc(events[c.events:], func(e failover.Event) bool {
			return e.Kind == failover.EventRecordWritten && e.Record == c.r.id && e.Provider == c.p.name && vkey(e.Values) == vkey(c.after.values)
		}) {
			continue
		}
		if slices.ContainsFunc(c.p.inflight(), func(pc provCall) bool { return pc.method != memory.MethodGetRecords }) {
			left = append(left, c) // its write has not returned yet
			continue
		}
		item := 0
		calls := c.p.callsEndedSince(c.calls)
		// Applied by a write that failed part way (a partial SetRecords,
		// or SetRecords then a failed DeleteRecords): the engine reports
		// it after its next read of the zone. That is a read after the
		// first failed call from the last call that carried the RRset
		// on, not after the first failed call of all: a read between two
		// failed writes cannot see what the second one applied.
		last := -1
		for j, pc := range calls {
			if pc.method != memory.MethodGetRecords && slices.Contains(pc.keys, c.r.key) {
				last = j
			}
		}
		// Applied by a failed write, then replaced by a write that
		// succeeded before any read could see it: what the failed write
		// applied cannot be known, and the later write's event reports
		// what the provider holds.
		if last >= 0 && calls[last].done && !calls[last].failed && !calls[last].partial {
			isFailedWrite := func(pc provCall) bool {
				return pc.method != memory.MethodGetRecords && slices.Contains(pc.keys, c.r.key) && (pc.partial || pc.failed)
			}
			f := last - 1
			for f >= 0 && !isFailedWrite(calls[f]) {
				f--
			}
			if f >= 0 && !slices.ContainsFunc(calls[f:last], func(pc provCall) bool {
				return pc.method == memory.MethodGetRecords && pc.done && !pc.failed
			}) {
				continue
			}
		}
		i := -1
		if last >= 0 {
			if k := slices.IndexFunc(calls[last:], func(pc provCall) bool { return pc.method != memory.MethodGetRecords && (pc.partial || pc.failed) }); k >= 0 {
				i = last + k
			}
		}
		if i >= 0 {
			if !slices.ContainsFunc(calls[i:], func(pc provCall) bool { return pc.method == memory.MethodGetRecords && pc.done && !pc.failed }) {
				left = append(left, c)
				continue
			}
			item = 11
		}
		m.violate(item, "%s: %s changed from %v TTL %v to %v TTL %v with no record-written event", c.p.name, c.r.id, c.before.values, c.before.ttl, c.after.values, c.after.ttl)
	}
	m.unreported = left
}

// checkEvents asserts the order and content of the events since the last
// check.
func (m *model) checkEvents() {
	m.mu.Lock()
	evs := slices.Clone(m.events[m.evSeen:])
	m.evSeen = len(m.events)
	m.mu.Unlock()
	for _, e := range evs {
		if modelTrace != "" && strings.Contains(e.String(), modelTrace) {
			m.t.Logf("%v %v", e.Time.Sub(m.t0), e)
		}
		if e.Time.Before(m.lastTime) {
			m.violate(0, "%v event at %v delivered after one at %v", e.Kind, e.Time.Sub(m.t0), m.lastTime.Sub(m.t0))
		}
		m.lastTime = e.Time
		r := m.record(e.Record)
		k := epKey(e.Record, e.Endpoint)
		switch e.Kind {
		case failover.EventEndpointUp, failover.EventEndpointDown:
			if m.lastHealth[k] == e.Kind {
				m.violate(0, "%s endpoint %s: two %v events in a row", e.Record, e.Endpoint, e.Kind)
			}
			m.lastHealth[k] = e.Kind
			if e.Kind == failover.EventEndpointDown {
				if !m.chk.evidence(e.Endpoint, true, m.lastUp[k], e.Time) {
					item := 0
					if m.maxChecks > 0 {
						item = 4 // the wait for a turn counted as check time
					}
					m.violate(item, "%s endpoint %s down at %v (%v) without a failed check since it was last up", e.Record, e.Endpoint, e.Time.Sub(m.t0), e.Err)
				}
				m.lastDown[k] = e.Time
			} else {
				if !m.chk.evidence(e.Endpoint, false, m.lastDown[k], e.Time) {
					m.violate(0, "%s endpoint %s up at %v without a passed check since it was last down", e.Record, e.Endpoint, e.Time.Sub(m.t0))
				}
				m.lastUp[k] = e.Time
			}
			m.touch(r, e)
			if r != nil {
				r.eventful[e.Endpoint] = true
			}
		case failover.EventOverrideSet, evOverrideEnded:
			m.touch(r, e)
		case failover.EventSuspected:
			if _, open := m.suspected[k]; open {
				m.violate(0, "%s endpoint %s: suspected twice without an end", e.Record, e.Endpoint)
			}
			m.suspected[k] = e.Time
		case failover.EventSuspicionEnded:
			at, open := m.suspected[k]
			switch {
			case !open:
				m.violate(0, "%s endpoint %s: suspicion-ended without suspected", e.Record, e.Endpoint)
			case e.Err == nil && !m.chk.passedAfter(e.Endpoint, at, e.Time):
				m.violate(5, "%s endpoint %s: suspicion raised at %v lifted at %v without a check started after the notice", e.Record, e.Endpoint, at.Sub(m.t0), e.Time.Sub(m.t0))
			}
			delete(m.suspected, k)
		case failover.EventRecordDecided:
			m.decided(r, e)
		case failover.EventRecordAdopted:
			m.adopted(r, e)
		case failover.EventRecordWritten:
			if len(e.Values) == 0 && (r == nil || !r.nothing) {
				m.violate(0, "%s: record-written with no values on %s, but its policy never was to publish nothing", e.Record, e.Provider)
			}
			vk := vkey(e.Values)
			if !m.everDecided[e.Record][vk] {
				if m.earlyWrite[e.Record] == nil {
					m.earlyWrite[e.Record] = map[string]bool{}
				}
				m.earlyWrite[e.Record][vk+"@"+e.Time.String()] = true
			}
		case evCallFailed:
			m.failedAt[e.Provider] = append(m.failedAt[e.Provider], e.Time)
		}
	}
}

func (m *model) record(id failover.RecordID) *modelRecord {
	for _, r := range m.records() {
		if r.id == id {
			return r
		}
	}
	return nil
}

// touch notes an event that may have changed which tiers of r are
// eligible.
func (m *model) touch(r *modelRecord, e failover.Event) {
	if r == nil {
		return
	}
	if r.touched == nil {
		r.touched = map[int]time.Time{}
	}
	for _, ep := range r.rec.Endpoints {
		if ep.Value == e.Endpoint {
			r.touched[ep.Priority] = e.Time
		}
	}
	r.touchedAny = e.Time
}

// decided checks a record-decided event: it reports a change (not what
// the record published already, nor what DNS held when Run started), and
// no write of its values came before it.
func (m *model) decided(r *modelRecord, e failover.Event) {
	if r == nil {
		m.violate(0, "record-decided for %s, which is not configured", e.Record)
		return
	}
	vk := vkey(e.Values)
	prev, hasPrev := m.lastDec[e.Record]
	same := hasPrev && vkey(prev.Values) == vk && prev.TTL == e.TTL
	switch {
	case r.decided || r.carried && r.hasDecision:
		if same {
			item := 0
			if !r.decided {
				item = 17 // the first decision of a carried record
			}
			m.violate(item, "%s: record-decided %v TTL %v at %v, the same as its decision before: nothing changed", e.Record, e.Values, e.TTL, e.Time.Sub(m.t0))
		}
	case m.heldAtStart(r, e.Values, e.TTL):
		m.violate(17, "%s: record-decided %v TTL %v at %v, which every provider held when Run started: nothing changed", e.Record, e.Values, e.TTL, e.Time.Sub(m.t0))
	}
	if !r.decided && hasPrev && !sameValues(e.Previous, prev.Values) && (r.carried && r.hasDecision) {
		m.violate(0, "%s: record-decided with Previous %v, want the carried decision %v", e.Record, e.Previous, prev.Values)
	}
	if r.decided && !sameValues(e.Previous, prev.Values) {
		m.violate(0, "%s: record-decided with Previous %v, want its last decision %v", e.Record, e.Previous, prev.Values)
	}
	if m.earlyWrite[e.Record][vk+"@"+e.Time.String()] {
		m.violate(16, "%s: record-written of %v came before its record-decided (at %v)", e.Record, e.Values, e.Time.Sub(m.t0))
	}
	delete(m.earlyWrite, e.Record)
	m.lastDec[e.Record] = e
	if m.everDecided[e.Record] == nil {
		m.everDecided[e.Record] = map[string]bool{}
	}
	m.everDecided[e.Record][vk] = true
	if !r.decided {
		r.firstDec = e.Time
	}
	r.decided, r.hasDecision, r.stale = true, true, false
}

// adopted notes a record-adopted event: the record's first decision,
// what DNS held. Its values may be written (to repair drift, or to a
// provider that lacks them) with no record-decided before, and a later
// record-decided is a change from it, not from what DNS held at start.
func (m *model) adopted(r *modelRecord, e failover.Event) {
	if r == nil {
		m.violate(0, "record-adopted for %s, which is not configured", e.Record)
		return
	}
	if m.everDecided[e.Record] == nil {
		m.everDecided[e.Record] = map[string]bool{}
	}
	m.everDecided[e.Record][vkey(e.Values)] = true
	delete(m.earlyWrite, e.Record)
	m.lastDec[e.Record] = e
	if !r.decided {
		r.firstDec = e.Time
	}
	r.decided, r.hasDecision, r.stale = true, true, false
}

// heldAtStart reports whether every provider of r's zone held values with
// TTL (as that provider stores it) when Run started, so that a decision
// of them changes nothing. With a provider that rounds TTLs silently it
// cannot tell: the Manager cannot know what it holds.
func (m *model) heldAtStart(r *modelRecord, values []string, ttl time.Duration) bool {
	// The Manager knows what DNS holds only from a read at start-up: if
	// none succeeded, its first decision is news to it.
	readOK := slices.ContainsFunc(r.zone.provs, func(p *modelProvider) bool {
		calls := p.callsSince(m.runStart)
		i := slices.IndexFunc(calls, func(c provCall) bool { return c.method == memory.MethodGetRecords })
		return i >= 0 && calls[i].done && !calls[i].failed
	})
	if !readOK {
		return false
	}
	for _, p := range r.zone.provs {
		// A hand edit between Run's start and the provider's first read
		// is what the Manager found there, not what atStart holds.
		p.mu.Lock()
		edited := p.edited[r.key]
		p.mu.Unlock()
		calls := p.callsSince(m.runStart)
		if i := slices.IndexFunc(calls, func(c provCall) bool { return c.method == memory.MethodGetRecords }); !edited.Before(m.runStart) && (i < 0 || !calls[i].done || !edited.After(calls[i].end)) {
			return false
		}
		h := m.atStart[p][r.key]
		if vkey(h.values) != vkey(values) || len(values) > 0 && (p.RoundTTL != nil || h.ttl != p.effTTL(ttl)) {
			return false
		}
	}
	return true
}

// checkStatus asserts what Status says of every record.
func (m *model) checkStatus() {
	st := m.mgr.Status()
	now := time.Now()
	if !m.firstOK && now.Sub(m.runStart) >= 2*time.Second {
		m.firstOK = true
		for _, target := range m.targets() {
			if first := m.chk.firstCall(target, m.runStart); m.maxChecks == 0 && (first.IsZero() || first.Sub(m.runStart) > time.Second) {
				m.violate(14, "the first check of %s after Run started did not start at once (%v)", target, first.Sub(m.runStart))
			}
		}
	}
	adopted := m.adoptedBy()
	for zi, z := range m.zones {
		floor := m.zoneFloor(st, zi)
		for ri, r := range z.recs {
			rs := st.Zones[zi].Records[ri]
			pol := r.rec.Policy
			pol.TTL, pol.FailoverTTL = max(pol.TTL, floor), max(pol.FailoverTTL, floor)
			tiers, allKnown := eligibleTiers(r.rec, rs)
			m.trackSince(r, tiers, allKnown)

			// A carried record keeps its old decision, and its timers are
			// not armed, until something makes it decide again (item 1);
			// with renumbered tiers it is judged against the old ones
			// (item 2).
			timers, item := 0, 0
			if r.carried && !r.decided {
				timers = 1
			}
			if r.stale {
				item = 1
			}
			if r.oldTiers {
				timers, item = 2, 2
			}
			for _, e := range rs.Endpoints {
				if e.Override != failover.NoOverride && !e.OverrideUntil.IsZero() && now.After(e.OverrideUntil) {
					m.violate(why(timers, m.staleItem(r, rs)), "%s endpoint %s: override %v until %v still in force %v later", r.id, e.Value, e.Override, e.OverrideUntil.Sub(m.t0), now.Sub(e.OverrideUntil))
				}
				if bound := time.Duration(2*(pol.FailAfter+pol.RecoverAfter))*pol.Interval + pol.Timeout; e.Health == failover.HealthUnknown && now.Sub(m.runStart) > bound {
					m.violate(3, "%s endpoint %s: health unknown %v after Run started (more than %v)", r.id, e.Value, now.Sub(m.runStart), bound)
				}
			}
			// A carried record is judged against health that CarryOver
			// may have taken from another record's probe: until it decides
			// again, a mismatch is item 1's (decide every record at start).
			m.checkPublished(r, rs, tiers, allKnown, why(item, m.staleItem(r, rs)))
			if !rs.Decided {
				continue
			}
			// A decision carried from another configuration of the record
			// keeps that configuration's TTL until the record can decide
			// again: once its zone's start-up read is done (a zone is
			// decided only after it, item 14's design) and every endpoint
			// is known (bounded by item 3's invariant). Its TTL is judged
			// against its policy from then on.
			if !r.stale || allKnown && adopted.Before(now) {
				m.checkTTL(r, rs, pol, adopted, now, timers, item)
			}
			if allKnown && len(tiers) > 0 && !pol.ManualFailback {
				b := tiers[0]
				if since, ok := r.since[b]; ok && now.Sub(since) >= pol.FailbackDelay+pol.Interval && (rs.AllDown || rs.Priority != b) {
					if r.carried && since.Before(r.firstDec) {
						timers = max(timers, 1) // the carried record's FailbackDelay counts from its first decision
					}
					m.violate(max(timers, item), "%s: priority %d eligible for %v (FailbackDelay %v), but it publishes %v (priority %d, all down %v)", r.id, b, now.Sub(since), pol.FailbackDelay, rs.Published, rs.Priority, rs.AllDown)
				}
			}
		}
	}
}

// checkTTL asserts a decided record's TTL: TTL or FailoverTTL (raised to
// the zone's floor in pol), TTL again StableAfter after its last change,
// FailoverTTL while a published endpoint fails (LowerTTLOnFailing).
func (m *model) checkTTL(r *modelRecord, rs failover.RecordStatus, pol failover.Policy, adopted, now time.Time, timers, item int) {
	if rs.TTL != pol.TTL && rs.TTL != pol.FailoverTTL {
		m.violate(item, "%s: TTL %v is neither its TTL %v nor its FailoverTTL %v", r.id, rs.TTL, pol.TTL, pol.FailoverTTL)
	}
	// Unstable since its last change, or since it adopted a
	// lowered TTL from DNS (after the first reads).
	if since := latest(rs.ChangedAt, adopted); !pol.LowerTTLOnFailing && now.After(since.Add(pol.StableAfter+time.Second)) && rs.TTL != pol.TTL {
		m.violate(why(timers, item, m.staleItem(r, rs)), "%s: TTL %v %v after its last change, want TTL %v after StableAfter %v", r.id, rs.TTL, now.Sub(since), pol.TTL, pol.StableAfter)
	}
	// While a zone's start-up read runs, its records are not decided
	// (item 14's design): a failing check cannot lower the TTL yet.
	if pol.LowerTTLOnFailing && !rs.AllDown && rs.TTL != pol.FailoverTTL && adopted.Before(now) {
		for _, e := range rs.Endpoints {
			if e.Published && e.Override == failover.NoOverride && e.Health == failover.HealthUp && e.ConsecutiveFailures > 0 {
				it := item
				if m.sharesProbe(r, e.Value) {
					it = max(it, 7)
				}
				m.violate(it, "%s: published endpoint %s failing (%d failures) but TTL %v, want FailoverTTL %v (LowerTTLOnFailing)", r.id, e.Value, e.ConsecutiveFailures, rs.TTL, pol.FailoverTTL)
			}
		}
	}
}

// adoptedBy returns a time by which the Manager has adopted what DNS
// holds: when the first read of every provider since Run started ended
// (now, if one has not).
func (m *model) adoptedBy() time.Time {
	t := m.runStart
	for _, p := range m.providers() {
		i := slices.IndexFunc(p.callsSince(m.runStart), func(c provCall) bool { return c.method == memory.MethodGetRecords })
		if i < 0 || !p.callsSince(m.runStart)[i].done {
			return time.Now()
		}
		t = latest(t, p.callsSince(m.runStart)[i].end)
	}
	return t
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// sharesProbe reports whether another record checks value the same way
// as r, so that the two share one probe.
func (m *model) sharesProbe(r *modelRecord, value string) bool {
	p := r.rec.Policy
	for _, o := range m.records() {
		q := o.rec.Policy
		if o != r && q.Interval == p.Interval && q.FailAfter == p.FailAfter && q.RecoverAfter == p.RecoverAfter &&
			slices.ContainsFunc(o.rec.Endpoints, func(e failover.Endpoint) bool { return e.Value == value }) {
			return true
		}
	}
	return false
}

// trackSince keeps, for each eligible tier of r, a time since which it has
// surely been eligible without a break (and every endpoint known): never
// earlier than the Manager can know it.
func (m *model) trackSince(r *modelRecord, tiers []int, allKnown bool) {
	fresh := r.touchedAny.After(m.lastCheck) || r.touchedAny.Equal(m.lastCheck) && !r.touchedAny.IsZero()
	if !allKnown {
		r.since = nil
	} else {
		if r.since == nil {
			r.since = map[int]time.Time{}
		}
		for t := range r.since {
			if !slices.Contains(tiers, t) {
				delete(r.since, t)
			}
		}
		for _, t := range tiers {
			_, ok := r.since[t]
			switch {
			case !ok && fresh:
				r.since[t] = r.touchedAny
			case !ok:
				r.since[t] = time.Now()
			case r.touched[t].After(m.lastCheck) || r.touched[t].Equal(m.lastCheck):
				r.since[t] = r.touched[t]
			}
		}
	}
	clear(r.touched)
	r.touchedAny = time.Time{}
}

// adopting reports whether the running Manager has not yet had an answer
// to its first read of z from every provider (neither a read nor a
// failure in its Status): the zone's adoption is not over.
func (m *model) adopting(z *modelZone) bool {
	for _, zs := range m.mgr.Status().Zones {
		if zs.Name == z.name {
			return slices.ContainsFunc(zs.Providers, func(ps failover.ProviderStatus) bool { return ps.LastRead.IsZero() && ps.Failures == 0 })
		}
	}
	return false
}

// checkPublished asserts that a record publishes the healthy endpoints of
// an eligible tier (the most preferred with any healthy endpoint when no
// tier has MinHealthy), or, when all are down, what its AllDown says.
func (m *model) checkPublished(r *modelRecord, rs failover.RecordStatus, tiers []int, allKnown bool, item int) {
	if !allKnown {
		return
	}
	pol := r.rec.Policy
	cap := pol.MaxAnswers
	if r.key.typ == "CNAME" {
		cap = 1
	}
	capped := func(n int) int {
		if cap > 0 {
			return min(n, cap)
		}
		return n
	}
	up := map[int][]string{}
	var all []string
	degraded := -1
	for _, e := range rs.Endpoints {
		all = append(all, e.Value)
		if effective(e) == failover.HealthUp {
			up[e.Priority] = append(up[e.Priority], e.Value)
			if degraded < 0 || e.Priority < degraded {
				degraded = e.Priority
			}
		}
	}
	subset := func(vs, of []string) bool {
		return !slices.ContainsFunc(vs, func(v string) bool { return !slices.Contains(of, v) })
	}
	switch {
	case m.adopting(r.zone):
		// A zone is decided after its adoption read (item 14): one still
		// in flight, on any of its providers, holds its records back (a
		// carried record keeps its decision until then).
	case !rs.Decided:
		if degraded >= 0 {
			// An endpoint whose probe another record shares, and carried
			// over, is known without an event of its own: nothing makes
			// the record decide (item 1: decide every record once at
			// start).
			if slices.ContainsFunc(rs.Endpoints, func(e failover.EndpointStatus) bool {
				return e.Health != failover.HealthUnknown && !r.eventful[e.Value]
			}) {
				item = why(item, 1) // not max: a zone still adopting waits, by design
			}
			m.violate(item, "%s: not decided though every endpoint is known and %v are up", r.id, up)
		}
	case rs.AllDown != (degraded < 0):
		m.violate(item, "%s: all down %v, but the healthy endpoints are %v", r.id, rs.AllDown, up)
	case !rs.AllDown:
		t := rs.Priority
		if !slices.Contains(tiers, t) && !(len(tiers) == 0 && t == degraded) {
			m.violate(item, "%s: active priority %d is not eligible (eligible: %v; healthy: %v)", r.id, t, tiers, up)
		}
		if len(rs.Published) != capped(len(up[t])) || !subset(rs.Published, up[t]) {
			m.violate(item, "%s: publishes %v, want %d of the healthy endpoints %v of priority %d", r.id, rs.Published, capped(len(up[t])), up[t], t)
		}
	case pol.AllDown == failover.PublishAll:
		if len(rs.Published) != capped(len(all)) || !subset(rs.Published, all) {
			m.violate(item, "%s: all down (all) publishes %v, want %d of %v", r.id, rs.Published, capped(len(all)), all)
		}
	case pol.AllDown == failover.PublishFallback:
		if len(rs.Published) != capped(len(pol.Fallback)) || !subset(rs.Published, pol.Fallback) {
			m.violate(item, "%s: all down (fallback) publishes %v, want %v", r.id, rs.Published, pol.Fallback)
		}
	case pol.AllDown == failover.PublishNothing:
		if len(rs.Published) > 0 {
			m.violate(item, "%s: all down (nothing) publishes %v, want nothing", r.id, rs.Published)
		}
	}
}

// modelTrace, when set (MODEL_TRACE=text), logs every event whose String
// holds it, to reduce a violation to a regression test.
var modelTrace = os.Getenv("MODEL_TRACE")

// modelSeeds is how many seeds make test runs.
const modelSeeds = 16

func TestManagerModel(t *testing.T) {
	for seed := range uint64(modelSeeds) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { runModel(t, seedChooser(seed)) })
		})
	}
}

func FuzzManagerModel(f *testing.F) {
	for seed := range uint64(4) {
		f.Add(binary.LittleEndian.AppendUint64(nil, seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		synctest.Test(t, func(t *testing.T) { runModel(t, bytesChooser(data)) })
	})
}

func runModel(t *testing.T, c *chooser) {
	m := newModel(t, c)
	// Checks and provider calls that ignore their context are abandoned by
	// Run: they end on their own before the bubble does (cleanups run in
	// reverse order, this one last).
	t.Cleanup(func() { time.Sleep(mHang + time.Second) })
	t.Cleanup(func() {
		if m.running {
			m.cancel()
			<-m.done
		}
	})
	m.run()
}
