// Package failover keeps DNS names pointed at healthy servers.
//
// A [Manager] checks the endpoints behind each managed record with a
// [Checker], turns the results into a decision with a [Policy] (failure and
// recovery thresholds, priority tiers, failback delay, what to do when
// everything is down, TTL management), and writes that decision through
// libdns providers: Cloudflare, Route 53, RFC 2136 servers such as BIND,
// PowerDNS, or any other. Only the (name, type) pairs in the configuration
// are ever written, each zone is written with one batched call per provider,
// failed writes are retried and read back, and drift is repaired.
//
// The whole flow:
//
//	m, err := failover.New(failover.Config{
//		Zones: []failover.Zone{{
//			Name:      "example.com.",
//			Providers: []failover.Provider{provider},
//			Records: []failover.Record{{
//				Name: "www", Type: "A",
//				Endpoints: []failover.Endpoint{
//					{Value: "192.0.2.10", Priority: 0}, // preferred
//					{Value: "192.0.2.11", Priority: 0}, // published together with .10
//					{Value: "198.51.100.7", Priority: 1}, // used when priority 0 is down
//				},
//				Check:  &check.HTTP{Path: "/healthz", Host: "www.example.com"},
//				Policy: failover.Policy{Interval: 5 * time.Second},
//			}},
//		}},
//		OnEvent: func(e failover.Event) { log.Println(e) },
//	})
//	if err != nil {
//		log.Fatal(err) // every problem in the configuration, each naming its zone, record and field
//	}
//	err = m.Run(ctx) // blocks until ctx is done
//
// Health of an endpoint: FailAfter consecutive failed checks mark it down,
// RecoverAfter consecutive successes mark it up, and while it is between
// the two it is checked every FastInterval instead of every Interval.
//
// What a record publishes: the healthy endpoints of the most preferred tier
// (lowest Priority) that has at least MinHealthy of them. Failover to a less
// preferred tier is immediate; failback waits until the preferred tier has
// been healthy for FailbackDelay (or for [Manager.Failback]). While a record
// is unstable it is published with FailoverTTL instead of TTL.
//
// At start-up the Manager reads every zone and adopts what it holds: a
// restart writes nothing unless the checks call for a change.
//
// This package is the engine alone. The built-in checks (HTTP, TCP, TLS,
// DNS, ICMP, exec) are in package check and the gRPC health check in
// check/grpccheck; the status page and operator API in httpapi; provider
// wrappers in provider/; a Prometheus collector in metrics and webhooks in
// notify.
package failover

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrStarted means the Manager has already been started: Run returns it
// when Run was called before (whether or not that Run has returned), and
// CarryOver returns it when Run was called before it.
var ErrStarted = errors.New("failover: the Manager has already been started")

// ErrAbandoned is wrapped by the error Run returns when it gave up
// waiting, past Config.StopTimeout, for checks or watches that ignore
// their context or for an OnEvent that does not return. The error names
// what was left running; those goroutines end when the calls return.
var ErrAbandoned = errors.New("failover: Run returned before everything it started had stopped")

// Manager runs checks, decides what each record publishes and writes it to
// the providers. Create one with [New]; it is safe for concurrent use.
type Manager struct {
	cfg     Config
	zones   []*zoneRun
	records []*recordRun
	probes  []*probeRun
	byID    map[RecordID]*recordRun
	events  *eventQueue
	slots   *checkSlots
	results chan checkResult
	notices chan notice
	wake    chan struct{} // capacity 1: an operator call is waiting in poked
	started atomic.Bool
	cl      *clusterRun // nil without a Cluster

	// jitter returns a random duration in [0, max); tests replace it.
	jitter func(max time.Duration) time.Duration
	// onCheckStart, when set (by benchmarks), is told how late each check
	// started after it was due. It is called from many goroutines.
	onCheckStart func(lag time.Duration)

	// mu guards what Status, the operator methods and the zone syncs share
	// with the loop: the status fields of records, endpoints and zone syncs,
	// overrides, failback requests, poked and each zone's desired RRsets.
	// The loop is the only goroutine that changes record and endpoint
	// state, and does so under mu.
	mu    sync.Mutex
	poked []*recordRun
}

// zoneRun is one zone while the Manager runs.
type zoneRun struct {
	spec    *zoneSpec
	records []*recordRun
	syncs   []*zoneSync
	desired map[rrKey]rrset // guarded by Manager.mu
	adopted atomic.Bool     // the zone was read at start-up: the loop may decide its records
}

// recordRun is one record while the Manager runs.
type recordRun struct {
	spec *recordSpec
	zone *zoneRun
	eps  []*endpointRun
	dec  decision // written by the loop under Manager.mu
	task task     // when to decide again

	failbackRequested bool      // guarded by Manager.mu
	carried           bool      // the decision came from CarryOver: start-up does not adopt DNS
	stored            *decision // the decision state the Cluster's previous leader stored, mapped: seeds the adoption (loop, under Manager.mu)
	saved             []byte    // the decisionKey last stored in the Cluster (loop only)
	formerly          []string  // what the record published under the Manager carried from (read-only once Run starts)

	cancelPropagation context.CancelFunc // ends the propagation check of the last decision (loop only)
}

// endpointRun is one endpoint of one record while the Manager runs. Its
// checks and health are its probe's, which it may share with endpoints of
// other records.
type endpointRun struct {
	rec   *recordRun
	ep    Endpoint
	probe *probeRun

	// guarded by Manager.mu
	override      Override
	overrideUntil time.Time

	// written by the loop under Manager.mu, with a Cluster
	votes         []Vote      // every live instance's verdict, as last read
	clusterHealth Health      // the Quorum of votes, the isolated instances' left out
	judged        []judgement // how votes count for isolation (loop only)
}

// New validates cfg and returns a Manager ready to Run. It starts nothing
// and touches no provider. When cfg is invalid it returns every problem at
// once, joined with errors.Join, each a *[ConfigError] naming the zone,
// record, endpoint and field.
func New(cfg Config) (*Manager, error) {
	zones, err := validate(cfg)
	if err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	cfg.Zones = nil // the validated copy in m.zones is what runs
	m := &Manager{
		cfg:     cfg,
		byID:    map[RecordID]*recordRun{},
		events:  newEventQueue(cfg.EventBuffer),
		slots:   newCheckSlots(cfg.MaxChecks),
		results: make(chan checkResult),
		notices: make(chan notice),
		wake:    make(chan struct{}, 1),
		jitter: func(max time.Duration) time.Duration {
			if max <= 0 {
				return 0
			}
			return rand.N(max)
		},
	}
	probes := map[probeKey][]*probeRun{}
	for _, zs := range zones {
		z := &zoneRun{spec: zs, desired: map[rrKey]rrset{}}
		for _, rs := range zs.records {
			r := &recordRun{spec: rs, zone: z}
			r.task = task{index: -1, rec: r}
			for _, e := range rs.endpoints {
				ep := &endpointRun{rec: r, ep: e, probe: probeFor(probes, rs, e.Value)}
				if len(ep.probe.eps) == 0 {
					m.probes = append(m.probes, ep.probe)
				}
				ep.probe.eps = append(ep.probe.eps, ep)
				r.eps = append(r.eps, ep)
			}
			z.records = append(z.records, r)
			m.records = append(m.records, r)
			m.byID[rs.id] = r
		}
		for _, p := range zs.providers {
			z.syncs = append(z.syncs, newZoneSync(m, z, p))
		}
		m.zones = append(m.zones, z)
	}
	if cfg.Cluster != nil {
		m.cl = newClusterRun(cfg.Cluster, cfg.Quorum, m.records)
		for _, z := range m.zones {
			z.adopted.Store(true) // a follower decides for its Status alone, from nothing read
		}
	}
	return m, nil
}

// Run checks endpoints and writes decisions until ctx is done. Checks
// start at once; each zone is read first and adopts what it holds, and its
// records are decided and written only after that read (a slow zone
// delays no other). Once ctx is done, checks are cancelled, a write in
// flight is allowed to finish (bounded by ProviderTimeout), and the events
// queued are delivered; Run then returns nil. Only provider calls
// abandoned for ignoring their context (see ErrCallAbandoned) may still be
// running. It waits at most StopTimeout for checks and watches that ignore
// their context, and at most StopTimeout (once the writes are done) for
// OnEvent to take the events left: past either, it returns an error
// wrapping ErrAbandoned that names what it left running, and logs it, so
// that a reload never hangs. Run may be called once; a second call returns
// ErrStarted.
//
// Before it returns, Run closes the Checkers that have a Close method (see
// [Checker]).
//
// With a Cluster, Run first starts the Cluster's Run in a goroutine of its
// own, and stops it once the writes in flight have finished (waiting at
// most StopTimeout for it, as for the checks); when the Cluster's Run
// fails (returns an error before Run's context ended), Run stops and
// returns that error, wrapped.
func (m *Manager) Run(ctx context.Context) error {
	if !m.started.CompareAndSwap(false, true) {
		return ErrStarted
	}
	delivered := make(chan struct{})
	go func() {
		defer close(delivered)
		m.events.deliver(m.deliver, m.warnDropped)
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cluster := m.startCluster(cancel)
	var syncs, tasks sync.WaitGroup
	for _, z := range m.zones {
		syncs.Go(func() { m.runZone(ctx, z) })
	}
	m.loop(ctx, &tasks)

	var left []string
	stopped := time.Now()
	if !waitAtMost(&tasks, m.cfg.StopTimeout) {
		left = m.stillRunning()
	}
	m.closeCheckers()
	syncs.Wait()
	stillRunning, clusterErr := cluster.stop(m.cfg.StopTimeout) // after the writes: they finish under the leadership
	if stillRunning {
		left = append(left, "the Cluster's Run (it did not return)")
	}
	m.events.close()
	select {
	case <-delivered:
	case <-time.After(m.cfg.StopTimeout):
		left = append(left, fmt.Sprintf("%d events not delivered (OnEvent did not return)", m.events.abandon()))
	}
	if len(left) == 0 {
		return clusterErr
	}
	err := fmt.Errorf("%w: %v after its context ended: %s", ErrAbandoned, time.Since(stopped).Round(time.Millisecond), strings.Join(left, "; "))
	m.cfg.Logger.LogAttrs(context.Background(), slog.LevelError, "stopped without waiting for everything", slog.Any("err", err))
	return errors.Join(clusterErr, err)
}

// waitAtMost waits for wg, at most d; it reports whether wg was done.
func waitAtMost(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }() // left behind when abandoned: it ends with the last goroutine of wg
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// stillRunning names the checks and watches still running, for Run's
// error when it abandons them.
func (m *Manager) stillRunning() []string {
	var checks, watches []string
	m.mu.Lock()
	for _, pr := range m.probes {
		name := pr.eps[0].rec.spec.id.String() + " " + pr.target
		if pr.running.Load() {
			checks = append(checks, name)
		}
		if pr.watching {
			watches = append(watches, name)
		}
	}
	m.mu.Unlock()
	var left []string
	for _, l := range []struct {
		what  string
		names []string
	}{{"check", checks}, {"watch", watches}} {
		if n := len(l.names); n > 0 {
			left = append(left, fmt.Sprintf("%d %s still running (%s)", n, plural(l.what, n), strings.Join(l.names, ", ")))
		}
	}
	if len(left) == 0 {
		left = append(left, "a propagation check still running")
	}
	return left
}

// plural returns word, with an s unless n is 1.
func plural(word string, n int) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// emit queues events for delivery, stamping the dry-run mark and, on
// events about a record, its zone.
func (m *Manager) emit(events ...Event) {
	for i := range events {
		events[i].DryRun = m.cfg.DryRun
		if events[i].Zone == "" {
			events[i].Zone = events[i].Record.Zone
		}
	}
	m.events.push(events...)
}

// warnDropped logs that n events were dropped, the event queue being
// full.
func (m *Manager) warnDropped(n uint64) {
	m.cfg.Logger.LogAttrs(context.Background(), slog.LevelWarn, "events dropped: OnEvent does not keep up",
		slog.Uint64("dropped", n), slog.Int("buffer", m.cfg.EventBuffer))
}

// deliver logs e and hands it to OnEvent.
func (m *Manager) deliver(e Event) {
	level := slogLevel(e.Kind)
	m.cfg.Logger.LogAttrs(context.Background(), level, e.Kind.String(), e.attrs()...)
	if m.cfg.OnEvent != nil {
		m.cfg.OnEvent(e)
	}
}
