// Command demo shows DNS failover end to end on one machine, with nothing
// to install: three HTTP backends on loopback addresses, an in-memory DNS
// provider, an authoritative DNS server answering from it, and a Manager
// that moves www.example.test between the backends as they fail and
// recover.
//
//	go run ./examples/demo            # runs the scenario and exits 0
//	go run ./examples/demo -keep      # then keeps serving until Ctrl-C
//	go run ./examples/demo -port 5300 # answers DNS on 127.0.0.1:5300
//
// While it runs, `dig @127.0.0.1 -p PORT www.example.test A` shows the
// answer change.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/check"
	"github.com/dnsfailover/failover/internal/authdns"
	"github.com/dnsfailover/failover/provider/memory"
	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

const zone = "example.test."

func main() {
	port := flag.Int("port", 0, "UDP and TCP port of the DNS server on 127.0.0.1 (0: a free port)")
	keep := flag.Bool("keep", false, "keep running after the scenario, until interrupted")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *port, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// backend is an HTTP server on one loopback address that can be stopped
// and started again, as a real server process would be.
type backend struct {
	addr string // ip:port
	mu   sync.Mutex
	srv  *http.Server
}

func (b *backend) start() error {
	ln, err := net.Listen("tcp", b.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})}
	go srv.Serve(ln)
	b.mu.Lock()
	b.srv = srv
	b.mu.Unlock()
	return nil
}

func (b *backend) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.srv.Close() // refuses new connections at once, like a dead process
}

// startBackends listens on 127.0.0.2, .3 and .4 with one shared free port:
// A records carry addresses, not ports, so every backend uses the same one.
func startBackends() ([]*backend, int, error) {
	var lastErr error
	for range 20 {
		probe, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			return nil, 0, fmt.Errorf("listening on 127.0.0.2 (Linux routes all of 127.0.0.0/8 to loopback): %w", err)
		}
		port := probe.Addr().(*net.TCPAddr).Port
		probe.Close()
		var bs []*backend
		for _, ip := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
			b := &backend{addr: net.JoinHostPort(ip, strconv.Itoa(port))}
			if lastErr = b.start(); lastErr != nil {
				break
			}
			bs = append(bs, b)
		}
		if lastErr == nil {
			return bs, port, nil
		}
		for _, b := range bs {
			b.stop()
		}
	}
	return nil, 0, lastErr
}

func run(ctx context.Context, dnsPort int, keep bool) error {
	begin := time.Now()
	say := func(format string, args ...any) {
		fmt.Printf("%6.2fs  %s\n", time.Since(begin).Seconds(), fmt.Sprintf(format, args...))
	}

	backends, port, err := startBackends()
	if err != nil {
		return err
	}
	defer func() {
		for _, b := range backends {
			b.stop()
		}
	}()

	// The zone starts with www on the primaries and records we do not manage.
	provider := &memory.Provider{}
	if err := provider.AddZone(zone,
		libdns.Address{Name: "www", TTL: time.Minute, IP: netip.MustParseAddr("127.0.0.2")},
		libdns.Address{Name: "www", TTL: time.Minute, IP: netip.MustParseAddr("127.0.0.3")},
		libdns.TXT{Name: "www", TTL: time.Hour, Text: "not managed: left alone"},
		libdns.Address{Name: "mail", TTL: time.Hour, IP: netip.MustParseAddr("192.0.2.25")},
	); err != nil {
		return err
	}
	server, err := authdns.Start(net.JoinHostPort("127.0.0.1", strconv.Itoa(dnsPort)), zone, provider)
	if err != nil {
		return err
	}
	defer server.Close()
	_, dnsPortStr, _ := net.SplitHostPort(server.Addr())
	dig := fmt.Sprintf("dig @127.0.0.1 -p %s www.example.test A", dnsPortStr)

	events := make(chan failover.Event, 100)
	policy := failover.Policy{
		Interval:      time.Second,
		Timeout:       500 * time.Millisecond,
		FastInterval:  250 * time.Millisecond,
		FailAfter:     2,
		RecoverAfter:  2,
		FailbackDelay: 5 * time.Second,
		TTL:           60 * time.Second,
		FailoverTTL:   5 * time.Second,
		StableAfter:   30 * time.Second,
	}
	m, err := failover.New(failover.Config{
		Zones: []failover.Zone{{
			Name:      zone,
			Providers: []failover.Provider{provider},
			Records: []failover.Record{{
				Name: "www", Type: "A",
				Endpoints: []failover.Endpoint{
					{Value: "127.0.0.2", Priority: 0},
					{Value: "127.0.0.3", Priority: 0},
					{Value: "127.0.0.4", Priority: 1},
				},
				Check:  &check.HTTP{Port: port, Path: "/healthz", Host: "www.example.test"},
				Policy: policy,
			}},
		}},
		OnEvent: func(e failover.Event) { events <- e },
	})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(runCtx) }()
	defer func() { cancel(); <-done }()

	fmt.Printf("DNS server for %s on %s; in another terminal:\n  %s\n", zone, server.Addr(), dig)
	fmt.Printf("backends: 127.0.0.2 and 127.0.0.3 (priority 0), 127.0.0.4 (priority 1), all on port %d\n", port)
	fmt.Printf("policy: check every %v, down after %d failures re-checked every %v, failback after %v\n\n",
		policy.Interval, policy.FailAfter, policy.FastInterval, policy.FailbackDelay)
	say("DNS answers: %s", answer(server.Addr()))

	// wait prints events until one satisfies done, and returns it.
	wait := func(what string, limit time.Duration, done func(failover.Event) bool) (failover.Event, error) {
		deadline := time.After(limit)
		for {
			select {
			case e := <-events:
				say("%s", describe(e))
				if e.Kind == failover.EventRecordWritten {
					say("  DNS answers: %s", answer(server.Addr()))
				}
				if done(e) {
					return e, nil
				}
			case <-deadline:
				return failover.Event{}, fmt.Errorf("%s did not happen within %v", what, limit)
			case <-ctx.Done():
				return failover.Event{}, ctx.Err()
			}
		}
	}
	written := func(want ...string) func(failover.Event) bool {
		return func(e failover.Event) bool {
			return e.Kind == failover.EventRecordWritten && slices.Equal(e.Values, want)
		}
	}

	if _, err := wait("first decision", 10*time.Second, func(e failover.Event) bool {
		return e.Kind == failover.EventRecordDecided || e.Kind == failover.EventRecordAdopted
	}); err != nil {
		return err
	}
	say("steady: www on both primaries, adopted from the zone without a write (SetRecords calls: %d)", provider.Calls(memory.MethodSetRecords))

	fmt.Println()
	say("stopping backend 127.0.0.2")
	t0 := time.Now()
	backends[0].stop()
	if _, err := wait("127.0.0.2 removed", 10*time.Second, written("127.0.0.3")); err != nil {
		return err
	}
	say("127.0.0.2 out of DNS %.2fs after it stopped", time.Since(t0).Seconds())

	fmt.Println()
	say("stopping backend 127.0.0.3: no healthy primary left")
	t0 = time.Now()
	backends[1].stop()
	if _, err := wait("failover", 10*time.Second, written("127.0.0.4")); err != nil {
		return err
	}
	failoverTook := time.Since(t0)
	say("FAILOVER to the backup %.2fs after the last primary stopped (detection bound: interval %v + jitter %v + %d × %v re-check)",
		failoverTook.Seconds(), policy.Interval, policy.Interval/10, policy.FailAfter-1, policy.FastInterval)

	fmt.Println()
	say("starting both primaries again")
	t0 = time.Now()
	for _, b := range backends[:2] {
		if err := b.start(); err != nil {
			return err
		}
	}
	if _, err := wait("failback", 20*time.Second, written("127.0.0.2", "127.0.0.3")); err != nil {
		return err
	}
	say("FAILBACK %.2fs after the primaries came back (recovery + %v failback delay)", time.Since(t0).Seconds(), policy.FailbackDelay)
	fmt.Printf("\nfailover took %.2fs; %d SetRecords calls in all; the unmanaged records are untouched:\n",
		failoverTook.Seconds(), provider.Calls(memory.MethodSetRecords))
	for _, r := range provider.Records(zone) {
		rr := r.RR()
		fmt.Printf("  %-5s %-5s %-6v %s\n", rr.Name, rr.Type, rr.TTL, rr.Data)
	}

	if keep {
		fmt.Printf("\nstill running; try: %s   (Ctrl-C to stop)\n", dig)
		for {
			select {
			case e := <-events:
				say("%s", describe(e))
			case <-ctx.Done():
				return nil
			}
		}
	}
	return nil
}

// describe formats an event for the terminal.
func describe(e failover.Event) string {
	switch e.Kind {
	case failover.EventEndpointUp:
		return fmt.Sprintf("endpoint %s up", e.Endpoint)
	case failover.EventEndpointDown:
		return fmt.Sprintf("endpoint %s DOWN: %v", e.Endpoint, e.Err)
	case failover.EventRecordDecided:
		return fmt.Sprintf("decided %s -> %s TTL %v (%s)", e.Record, strings.Join(e.Values, ", "), e.TTL, e.Reason)
	case failover.EventRecordAdopted:
		return fmt.Sprintf("decided %s -> %s TTL %v, as the zone holds: nothing to write", e.Record, strings.Join(e.Values, ", "), e.TTL)
	case failover.EventRecordWritten:
		return fmt.Sprintf("written to %s in %v", e.Provider, e.CallDuration.Round(time.Microsecond))
	}
	return e.String()
}

// answer asks the DNS server for www.example.test A, as dig would.
func answer(addr string) string {
	msg := new(dns.Msg)
	msg.SetQuestion("www.example.test.", dns.TypeA)
	resp, _, err := new(dns.Client).Exchange(msg, addr)
	if err != nil {
		return "error: " + err.Error()
	}
	var out []string
	for _, rr := range resp.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, fmt.Sprintf("%s (TTL %d)", a.A, a.Hdr.Ttl))
		}
	}
	if len(out) == 0 {
		return dns.RcodeToString[resp.Rcode] + ", no address"
	}
	return strings.Join(out, ", ")
}
