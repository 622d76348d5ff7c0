// Command failoverd runs the failover engine from a YAML file, for people
// who do not write Go.
//
//	failoverd check -c failover.yaml [-strict]  # validate; touches no DNS
//	failoverd check -online -c failover.yaml    # and read each zone; writes nothing
//	failoverd run -c failover.yaml [-dry-run]   # run until SIGINT or SIGTERM
//
// The file is decoded into the library's own types (failover.Config,
// Policy, the checks of package check, …), each field a key in snake_case.
// check without -strict reports a secret that is not available as a
// warning, so that CI can check the file without production's secrets.
//
// SIGHUP reloads the file: a file that fails validation is rejected and the
// running configuration stays; records whose configuration did not change
// keep their health state. SIGINT and SIGTERM stop it once in-flight
// writes have finished. See examples/failoverd.yaml for every setting.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/httpapi"
	"github.com/dnsfailover/failover/metrics"
	"github.com/dnsfailover/failover/notify"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program; it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "check" && args[0] != "run") {
		fmt.Fprintln(stderr, "usage: failoverd check|run -c FILE [-dry-run] [-strict] [-online]")
		return 2
	}
	flags := flag.NewFlagSet("failoverd "+args[0], flag.ContinueOnError)
	flags.SetOutput(stderr)
	file := flags.String("c", "failover.yaml", "configuration file")
	dryRun := flags.Bool("dry-run", false, "run everything but write nothing")
	strict := flags.Bool("strict", false, "check: a secret that is not available is an error, not a warning")
	onlineFlag := flags.Bool("online", false, "check: read every zone from every provider, with the real credentials, and report each managed record; writes nothing")
	if err := flags.Parse(args[1:]); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	checking := args[0] == "check"
	lc, err := load(ctx, *file, !checking || *strict || *onlineFlag)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if checking {
		for _, w := range lc.warnings {
			fmt.Fprintln(stderr, w)
		}
		fmt.Fprintf(stdout, "%s: ok: %d zones\n", *file, len(lc.Zones))
		if *onlineFlag && !online(ctx, lc, stdout) {
			return 1
		}
		return 0
	}
	log := newLogger(lc.Log, stderr)
	d := &daemon{file: *file, dryRun: *dryRun, log: log, metrics: metrics.New()}
	if err := d.serve(ctx, lc); err != nil {
		log.Error("failoverd stopped", "err", err)
		return 1
	}
	return 0
}

func newLogger(c logSettings, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.Level}
	switch c.Format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts))
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts))
	default:
		panic("log format " + string(c.Format) + " passed validation") // logFormat.UnmarshalText accepts text and json only
	}
}

// daemon runs one Manager at a time, replaced on SIGHUP.
type daemon struct {
	file    string
	dryRun  bool
	log     *slog.Logger
	metrics *metrics.Collector
	handler atomic.Pointer[http.Handler]
}

func (d *daemon) serve(ctx context.Context, lc *loaded) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	stopped, stop := context.WithCancel(ctx) // ends the status server however serve returns
	defer stop()
	if lc.Status.Listen != "" {
		srv, err := d.startHTTP(lc.Status, &wg)
		if err != nil {
			return err
		}
		wg.Go(func() {
			<-stopped.Done()
			shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(shut)
		})
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	var prev *failover.Manager
	var prevLC *loaded
	for {
		m, notifier, err := d.manager(lc)
		if err != nil {
			return err
		}
		if prev != nil { // a reload: records whose configuration did not change keep their health
			if err := m.CarryOver(prev, unchanged(prevLC, lc)); err != nil {
				d.log.Error("reload: health and decisions not carried over; every record starts afresh", "err", err)
			}
		}
		prev, prevLC = m, lc
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 2)
		go func() { done <- m.Run(runCtx) }()
		go func() { done <- notifier.Run(runCtx) }()
		d.log.Info("running", "file", d.file, "zones", len(lc.Zones), "dry_run", lc.DryRun || d.dryRun)

		reloaded := false
		for !reloaded {
			select {
			case <-ctx.Done():
			case <-hup:
				next, err := load(ctx, d.file, true)
				if err != nil {
					d.log.Error("reload rejected; the running configuration stays", "err", err)
					continue
				}
				lc, reloaded = next, true
				d.log.Info("reloading", "file", d.file)
			}
			if ctx.Err() != nil {
				break
			}
		}
		cancel()
		<-done
		<-done
		if !reloaded {
			d.log.Info("stopped")
			return nil
		}
	}
}

// manager builds a Manager for lc, wired to the logs, metrics, webhooks
// and the status handler.
func (d *daemon) manager(lc *loaded) (*failover.Manager, *notify.Notifier, error) {
	notifier, err := notify.New(lc.Webhooks...)
	if err != nil {
		return nil, nil, err
	}
	cfg := lc.Config
	cfg.Logger = d.log
	cfg.DryRun = cfg.DryRun || d.dryRun
	cfg.OnEvent = func(e failover.Event) {
		d.metrics.Observe(e)
		notifier.Observe(e)
	}
	m, err := failover.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	d.metrics.SetSource(m.Status)
	opts := lc.Status.Options
	opts.Logger = d.log.With("audit", true)
	h := httpapi.New(m, opts)
	d.handler.Store(&h)
	return m, notifier, nil
}

// startHTTP serves the status page and API of the current Manager, and
// /metrics, in a goroutine added to wg; Shutdown ends it.
func (d *daemon) startHTTP(c status, wg *sync.WaitGroup) (*http.Server, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(d.metrics)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := d.handler.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.Error(w, "starting", http.StatusServiceUnavailable)
	}))
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return nil, fmt.Errorf("status.listen: %w", err)
	}
	d.log.Info("status and metrics", "addr", ln.Addr().String())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("status server", "err", err)
		}
	})
	return srv, nil
}
