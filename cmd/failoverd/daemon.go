package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/httpapi"
	"github.com/dnsfailover/failover/metrics"
	"github.com/dnsfailover/failover/notify"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// daemon runs one Manager at a time, replaced on SIGHUP.
type daemon struct {
	file    string
	dryRun  bool // -dry-run
	stderr  io.Writer
	log     *slog.Logger
	build   buildInfo
	metrics *metrics.Collector

	onReload func(ok bool) // sets failover_config_last_reload_success and its timestamp
	registry *prometheus.Registry
	api      sync.Mutex // guards handler
	handler  http.Handler
	server   *statusServer
	restored restorations
	lock     *stateLock // of the state file written, nil when none
}

func newDaemon(file string, dryRun bool, stderr io.Writer, lc *loaded) *daemon {
	d := &daemon{file: file, dryRun: dryRun, stderr: stderr, log: newLogger(lc.Log, stderr), build: readBuildInfo(), metrics: metrics.New()}
	d.registry = prometheus.NewRegistry()
	reloadOK := prometheus.NewGauge(prometheus.GaugeOpts{Name: "failover_config_last_reload_success", Help: "1 when the last reload of the configuration file was taken, 0 when it was rejected or only partly applied."})
	reloadAt := prometheus.NewGauge(prometheus.GaugeOpts{Name: "failover_config_last_reload_success_timestamp_seconds", Help: "When the configuration file was last loaded successfully (at start or on SIGHUP)."})
	reloadOK.Set(1)
	reloadAt.SetToCurrentTime()
	d.onReload = func(ok bool) {
		reloadOK.Set(boolGauge(ok))
		if ok {
			reloadAt.SetToCurrentTime()
		}
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{Name: "failover_build_info", Help: "failoverd's version, VCS revision and Go version; always 1.",
		ConstLabels: prometheus.Labels{"version": d.build.version, "revision": d.build.revision, "goversion": d.build.goVer}})
	build.Set(1)
	d.registry.MustRegister(d.metrics, reloadOK, reloadAt, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(d.registry, promhttp.HandlerOpts{}))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.api.Lock()
		h := d.handler
		d.api.Unlock()
		if h == nil {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "starting or reloading: try again in a second", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	d.server = &statusServer{handler: mux, log: d.log}
	return d
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// setAPI routes the status API to h; nil answers 503 (between two
// Managers, so that no operator action is lost in a reload).
func (d *daemon) setAPI(h http.Handler) {
	d.api.Lock()
	defer d.api.Unlock()
	d.handler = h
}

// serve runs lc until ctx ends, reloading the file on SIGHUP.
func (d *daemon) serve(ctx context.Context, lc *loaded) error {
	d.log.Info("starting failoverd", "version", d.build.version, "revision", d.build.revision, "go", d.build.goVer,
		"file", d.file, "dry_run", lc.DryRun || d.dryRun, "dry_run_flag", d.dryRun, "state_file", lc.StateFile, "pid", os.Getpid())
	saved, err := readState(lc.StateFile)
	if err != nil {
		return err
	}
	if err := d.relock(d.persistPath(lc)); err != nil {
		return err
	}
	defer func() { d.lock.release() }()
	if err := d.server.apply(lc.Status); err != nil {
		return err
	}
	defer d.server.stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	// One Notifier for the daemon's life, replaced only when the webhooks
	// change: a reload neither discards its queue and retries nor notifies
	// again a provider failure it notified.
	notifier, stopNotifier, err := d.startNotifier(ctx, lc.Webhooks, nil)
	if err != nil {
		return err
	}
	defer func() { stopNotifier() }()
	// One membership of the cluster for the daemon's life, like the
	// Notifier: a reload keeps the lease, the leadership and the verdicts.
	cluster, err := d.startCluster(ctx, d.clusterOf(lc))
	if err != nil {
		return err
	}
	if lc.Cluster != nil && cluster == nil {
		d.log.Warn("dry run: not joining the cluster (a dry-run leader would keep the others from writing); deciding alone from this instance's checks")
	}
	var clusterFailed <-chan error
	if cluster != nil {
		defer cluster.stop()
		clusterFailed = cluster.failed
	}
	var prev *failover.Manager
	var prevLC *loaded
	for {
		m, saver, err := d.manager(lc, notifier, cluster)
		if err != nil {
			return err
		}
		if prev != nil { // a reload: records whose configuration did not change keep their health
			if err := m.CarryOver(prev, unchanged(prevLC, lc)); err != nil {
				d.log.Error("reload: health and decisions not carried over; every record starts afresh", "err", err)
			}
		}
		if cluster == nil { // with a cluster, operator state is in etcd
			d.restore(m, notifier, saver, saved, lc)
		}
		prev, prevLC = m, lc

		runCtx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() { m.Run(runCtx) })
		wg.Go(func() { saver.run(runCtx) })
		d.setAPI(persisted(d.statusAPI(m, lc), saver))
		d.log.Info("running", "file", d.file, "zones", len(lc.Zones), "dry_run", lc.DryRun || d.dryRun)

		var next *loaded
		var failed error
		for next == nil && failed == nil && ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-hup:
				next = d.reload(ctx, lc)
			case failed = <-clusterFailed:
			}
		}
		d.setAPI(nil)
		cancel()
		wg.Wait()
		if failed != nil {
			return fmt.Errorf("cluster: %w", failed)
		}
		saved = captureState(m.Status())
		if err := saver.save(); err != nil {
			d.log.Error("operator state not saved", "err", err)
		}
		if next == nil {
			d.unwritten(m.Status(), lc.DryRun || d.dryRun)
			d.log.Info("stopped")
			return nil
		}
		d.reloaded(lc, next)
		if cluster != nil {
			cluster.withdraw(m.Status(), unchanged(lc, next))
		}
		if !reflect.DeepEqual(lc.Webhooks, next.Webhooks) {
			n, stop, err := d.startNotifier(ctx, next.Webhooks, notifier)
			if err != nil {
				return err
			}
			stopNotifier() // what it had not delivered is counted as dropped
			notifier, stopNotifier = n, stop
		}
		lc = next
	}
}

// startNotifier runs a Notifier for hooks, knowing the providers prev
// (if not nil) knows to be failing, until the returned stop is called:
// not with ctx, so that it takes the events of a Manager's stop.
func (d *daemon) startNotifier(ctx context.Context, hooks []notify.Webhook, prev *notify.Notifier) (*notify.Notifier, func(), error) {
	n, err := notify.New(hooks...)
	if err != nil {
		return nil, nil, err
	}
	if prev != nil {
		n.CarryFailures(prev)
	}
	log := d.log
	n.OnFailure(func(f notify.Failure) {
		switch {
		case f.Dropped && f.Err != nil:
			log.Warn("notification dropped: failoverd stopped or the webhooks changed before it was delivered", "webhook", f.Webhook, "kind", f.Kind)
			d.metrics.NotificationDropped(f.Webhook, f.Kind)
		case f.Dropped:
			log.Warn("notification dropped: the queue is full", "webhook", f.Webhook, "kind", f.Kind)
			d.metrics.NotificationDropped(f.Webhook, f.Kind)
		default:
			log.Warn("notification failed after every retry", "webhook", f.Webhook, "kind", f.Kind, "err", f.Err)
			d.metrics.NotificationFailed(f.Webhook, f.Kind)
		}
	})
	nctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.Run(nctx)
	}()
	return n, func() { cancel(); <-done }, nil
}

// reload reads the file again; it returns nil when the file is rejected.
func (d *daemon) reload(ctx context.Context, lc *loaded) *loaded {
	next, err := load(ctx, d.file, true)
	if err != nil {
		d.log.Error("reload rejected; the running configuration stays", "err", err)
		d.onReload(false)
		return nil
	}
	if !d.clusterOf(lc).sameConnection(d.clusterOf(next)) {
		d.log.Error("reload rejected; the running configuration stays", "err", "cluster: only quorum can change in a reload (and a dry run does not join); restart failoverd to change the rest")
		d.onReload(false)
		return nil
	}
	if err := d.relock(d.persistPath(next)); err != nil {
		d.log.Error("reload rejected; the running configuration stays", "err", err)
		d.onReload(false)
		return nil
	}
	d.log.Info("reloading", "file", d.file)
	return next
}

// reloaded applies the daemon's own settings of next and says what
// changed. The Manager is replaced by serve.
func (d *daemon) reloaded(prev, next *loaded) {
	ok := true
	if next.Log != prev.Log {
		d.log = newLogger(next.Log, d.stderr)
		d.server.log = d.log
		d.log.Info("log settings applied", "format", next.Log.Format, "level", next.Log.Level)
	}
	if err := d.server.apply(next.Status); err != nil {
		d.log.Error("reload: the status listener stays as it was", "err", err)
		ok = false
	}
	d.onReload(ok)
	var kept int
	var changed, added, removed []string
	for k, fp := range next.records {
		old, had := prev.records[k]
		switch {
		case !had:
			added = append(added, k.String())
		case old != fp:
			changed = append(changed, k.String())
		default:
			kept++
		}
	}
	for k := range prev.records {
		if _, ok := next.records[k]; !ok {
			removed = append(removed, k.String())
		}
	}
	d.log.Info("reloaded: records whose configuration changed start afresh; the others keep their health and decision",
		"kept", kept, "changed", names(changed), "added", names(added), "removed", names(removed))
}

// String is the record as logs name it: "www.example.com. A".
func (k recordKey) String() string {
	if k.name == "@" {
		return k.zone + " " + k.typ
	}
	return k.name + "." + k.zone + " " + k.typ
}

// names lists at most 20 names, sorted, for a log line.
func names(s []string) string {
	slices.Sort(s)
	if len(s) > 20 {
		return strings.Join(s[:20], ", ") + fmt.Sprintf(" and %d more", len(s)-20)
	}
	return strings.Join(s, ", ")
}

// unwritten says, at shutdown, which decisions a provider does not hold.
func (d *daemon) unwritten(st failover.Status, dryRun bool) {
	if dryRun {
		return
	}
	for _, z := range st.Zones {
		for _, p := range z.Providers {
			if len(p.Pending) > 0 {
				d.log.Warn("stopped with decisions not written: the provider still holds the old values", "zone", z.Name,
					"provider", p.Name, "records", names(slices.Clone(p.Pending)), "last_error", p.LastError)
			}
		}
	}
}

// manager builds a Manager for lc, wired to the logs, metrics, the
// daemon's notifier and the state file.
func (d *daemon) manager(lc *loaded, notifier *notify.Notifier, cluster *daemonCluster) (*failover.Manager, *stateSaver, error) {
	log := d.log
	cfg := lc.Config
	cfg.Logger = log
	cfg.Cluster = nil // validation's stand-in
	if cluster != nil {
		cfg.Cluster = cluster.lend()
	}
	cfg.DryRun = cfg.DryRun || d.dryRun
	saver := &stateSaver{path: d.persistPath(lc), log: log, kicks: make(chan struct{}, 1)}
	cfg.OnEvent = func(e failover.Event) {
		d.metrics.Observe(e)
		if e.Kind == failover.EventOverrideSet || e.Kind == failover.EventOverrideEnded {
			saver.kick()
		}
		if d.restored.take(e) {
			log.Info("override restored", "record", e.Record.String(), "endpoint", e.Endpoint, "override", e.Override.String(), "until", e.OverrideUntil)
			return
		}
		notifier.Observe(e)
	}
	m, err := failover.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	saver.m = m
	d.metrics.SetSource(m.Status)
	notifier.SetSource(m.Status)
	return m, saver, nil
}

// statusAPI is the status API of m.
func (d *daemon) statusAPI(m *failover.Manager, lc *loaded) http.Handler {
	opts := lc.Status.Options
	opts.Logger = d.log.With("audit", true)
	return httpapi.New(m, opts)
}

// restore applies the operator state saved before a restart or a reload
// to m, and tells of each override that ended meanwhile or can no longer
// apply, in the log and to the webhooks.
func (d *daemon) restore(m *failover.Manager, n *notify.Notifier, saver *stateSaver, s operatorState, lc *loaded) {
	set, ended, problems := restoreState(m, s, time.Now())
	d.restored.reset(set)
	for _, e := range ended {
		e.DryRun = lc.DryRun || d.dryRun
		d.log.Warn("override ended", "record", e.Record.String(), "endpoint", e.Endpoint, "override", e.Override.String(), "until", e.OverrideUntil, "reason", e.Reason)
		n.Observe(e)
	}
	for _, err := range problems {
		d.log.Warn("operator state", "err", err)
	}
	if err := saver.save(); err != nil {
		d.log.Error("operator state not saved", "err", err)
	}
}

// persistPath is the state file that lc's Manager writes: none in a dry
// run, which reads the state file but writes nothing.
func (d *daemon) persistPath(lc *loaded) string {
	if lc.DryRun || d.dryRun {
		return ""
	}
	return lc.StateFile
}

// relock holds the lock of the state file path (none for ""), taking it
// before releasing the one held, if another.
func (d *daemon) relock(path string) error {
	if d.lock != nil && d.lock.path == path {
		return nil
	}
	var next *stateLock
	if path != "" {
		var err error
		if next, err = lockState(path); err != nil {
			return err
		}
	}
	d.lock.release()
	d.lock = next
	return nil
}

// stateSaver writes the state file when an override is set or ends.
type stateSaver struct {
	path  string // empty: no state file
	m     *failover.Manager
	log   *slog.Logger
	kicks chan struct{} // capacity 1
	mu    sync.Mutex    // orders the writes, so that the last holds the latest state
}

// save writes m's operator state to the state file now; no state file is
// no error.
func (s *stateSaver) save() error {
	if s.path == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return writeState(s.path, captureState(s.m.Status()))
}

// kick asks run to write the state file; it never blocks.
func (s *stateSaver) kick() {
	select {
	case s.kicks <- struct{}{}:
	default:
	}
}

// run writes the state file on each kick until ctx ends.
func (s *stateSaver) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kicks:
			if err := s.save(); err != nil {
				s.log.Error("operator state not saved", "err", err)
			}
		}
	}
}
