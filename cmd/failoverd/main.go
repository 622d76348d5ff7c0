// Command failoverd runs the failover engine from a YAML file, for people
// who do not write Go.
//
//	failoverd check -c failover.yaml            # validate; touches no DNS
//	failoverd run -c failover.yaml [-dry-run]   # run until SIGINT or SIGTERM
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
	"reflect"
	"strings"
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
		fmt.Fprintln(stderr, "usage: failoverd check|run -c FILE [-dry-run]")
		return 2
	}
	flags := flag.NewFlagSet("failoverd "+args[0], flag.ContinueOnError)
	flags.SetOutput(stderr)
	file := flags.String("c", "failover.yaml", "configuration file")
	dryRun := flags.Bool("dry-run", false, "run everything but write nothing")
	if err := flags.Parse(args[1:]); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fc, cfg, err := load(ctx, *file)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if args[0] == "check" {
		fmt.Fprintf(stdout, "%s: ok: %d zones\n", *file, len(cfg.Zones))
		return 0
	}
	log := newLogger(fc.Log, stderr)
	d := &daemon{file: *file, dryRun: *dryRun, log: log, metrics: metrics.New()}
	if err := d.serve(ctx, fc, cfg); err != nil {
		log.Error("failoverd stopped", "err", err)
		return 1
	}
	return 0
}

// load reads, builds and validates the configuration file.
func load(ctx context.Context, file string) (*fileConfig, failover.Config, error) {
	fc, pos, err := loadConfig(file)
	if err != nil {
		return nil, failover.Config{}, err
	}
	cfg, err := build(ctx, file, fc, pos)
	if err != nil {
		return nil, cfg, err
	}
	if err := validate(file, fc, pos, cfg); err != nil {
		return nil, cfg, err
	}
	return fc, cfg, nil
}

func newLogger(c logConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(c.Level)) // "" and unknown levels mean info
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(c.Format, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// daemon runs one Manager at a time, replaced on SIGHUP.
type daemon struct {
	file    string
	dryRun  bool
	log     *slog.Logger
	metrics *metrics.Collector
	handler atomic.Pointer[http.Handler]
}

func (d *daemon) serve(ctx context.Context, fc *fileConfig, cfg failover.Config) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	stopped, stop := context.WithCancel(ctx) // ends the status server however serve returns
	defer stop()
	if fc.Status.Listen != "" {
		srv, err := d.startHTTP(fc.Status, &wg)
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
	var prevFC *fileConfig
	for {
		m, notifier, err := d.manager(fc, cfg)
		if err != nil {
			return err
		}
		if prev != nil { // a reload: records whose configuration did not change keep their health
			m.CarryOver(prev, unchanged(prevFC, fc))
		}
		prev, prevFC = m, fc
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 2)
		go func() { done <- m.Run(runCtx) }()
		go func() { done <- notifier.Run(runCtx) }()
		d.log.Info("running", "file", d.file, "zones", len(cfg.Zones), "dry_run", cfg.DryRun)

		reloaded := false
		for !reloaded {
			select {
			case <-ctx.Done():
			case <-hup:
				nfc, ncfg, err := load(ctx, d.file)
				if err != nil {
					d.log.Error("reload rejected; the running configuration stays", "err", err)
					continue
				}
				fc, cfg, reloaded = nfc, ncfg, true
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

// unchanged reports, for a record, whether its zone's providers and its own
// configuration are the same in both files.
func unchanged(before, after *fileConfig) func(failover.RecordID) bool {
	type key struct{ zone, name, typ string }
	index := func(fc *fileConfig) map[key][2]any {
		out := map[key][2]any{}
		for _, z := range fc.Zones {
			for _, r := range z.Records {
				out[key{strings.ToLower(z.Name), strings.ToLower(r.Name), strings.ToUpper(r.Type)}] = [2]any{z.Providers, r}
			}
		}
		return out
	}
	b, a := index(before), index(after)
	return func(id failover.RecordID) bool {
		k := key{strings.ToLower(id.Zone), strings.ToLower(id.Name), strings.ToUpper(id.Type)}
		old, ok := b[k]
		return ok && reflect.DeepEqual(old, a[k])
	}
}

// manager builds a Manager for cfg, wired to the logs, metrics, webhooks
// and the status handler.
func (d *daemon) manager(fc *fileConfig, cfg failover.Config) (*failover.Manager, *notify.Notifier, error) {
	var hooks []notify.Webhook
	for _, w := range fc.Webhooks {
		h := notify.Webhook{URL: w.URL}
		if w.Format != "" {
			if err := h.Format.UnmarshalText([]byte(w.Format)); err != nil {
				return nil, nil, err
			}
		}
		hooks = append(hooks, h)
	}
	notifier, err := notify.New(hooks...)
	if err != nil {
		return nil, nil, err
	}
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
	token := os.Getenv(fc.Status.TokenEnv)
	if fc.Status.TokenFile != "" {
		if data, err := os.ReadFile(fc.Status.TokenFile); err == nil {
			token = strings.TrimSpace(string(data))
		}
	}
	h := httpapi.New(m, httpapi.Options{Token: token})
	d.handler.Store(&h)
	return m, notifier, nil
}

// startHTTP serves the status page and API of the current Manager, and
// /metrics, in a goroutine added to wg; Shutdown ends it.
func (d *daemon) startHTTP(c statusConfig, wg *sync.WaitGroup) (*http.Server, error) {
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
