package failover_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/check"
	"github.com/dnsfailover/failover/internal/authdns"
	"github.com/dnsfailover/failover/internal/servertest"
	"github.com/dnsfailover/failover/provider/memory"
	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// backends are HTTP servers on 127.0.0.2 and 127.0.0.3 sharing one port,
// as A records carry addresses and not ports; each can be stopped and
// started like a server process.
type backends struct {
	port int
	srvs map[string]*http.Server
}

func startBackends(t testing.TB) *backends {
	t.Helper()
	for range 20 {
		probe, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			t.Fatal(err)
		}
		b := &backends{port: probe.Addr().(*net.TCPAddr).Port, srvs: map[string]*http.Server{}}
		probe.Close()
		if b.start("127.0.0.2") == nil && b.start("127.0.0.3") == nil {
			t.Cleanup(func() {
				for ip := range b.srvs {
					b.stop(ip)
				}
			})
			return b
		}
		for ip := range b.srvs {
			b.stop(ip)
		}
	}
	t.Fatal("no port free on 127.0.0.2 and 127.0.0.3")
	return nil
}

func (b *backends) start(ip string) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(b.port)))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})}
	go srv.Serve(ln)
	b.srvs[ip] = srv
	return nil
}

func (b *backends) stop(ip string) {
	b.srvs[ip].Close()
	delete(b.srvs, ip)
}

// answer asks server for name A directly, as a resolver would, and returns
// the addresses and the TTL.
func answer(server, name string) ([]string, uint32, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	resp, _, err := (&dns.Client{Net: "tcp", Timeout: time.Second}).Exchange(m, server)
	if err != nil {
		return nil, 0, err
	}
	var ips []string
	var ttl uint32
	for _, rr := range resp.Answer {
		if a, ok := rr.(*dns.A); ok {
			ips, ttl = append(ips, a.A.String()), a.Hdr.Ttl
		}
	}
	slices.Sort(ips)
	return ips, ttl, nil
}

// eventually polls cond every 20 ms until it holds, or fails after limit.
func eventually(t *testing.T, limit time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last: %s", what, limit, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serves waits until server answers want for www with ttl (0: any).
func serves(t *testing.T, server string, limit time.Duration, ttl uint32, want ...string) {
	t.Helper()
	eventually(t, limit, fmt.Sprintf("%s answers %v", server, want), func() (bool, string) {
		got, gotTTL, err := answer(server, "www.example.test.")
		return err == nil && slices.Equal(got, want) && (ttl == 0 || gotTTL == ttl), fmt.Sprintf("%v TTL %d err %v", got, gotTTL, err)
	})
}

func fastConfig(b *backends, providers ...failover.Provider) failover.Config {
	return failover.Config{
		Zones: []failover.Zone{{
			Name:      "example.test.",
			Providers: providers,
			Records: []failover.Record{{
				Name: "www", Type: "A",
				Endpoints: []failover.Endpoint{{Value: "127.0.0.2"}, {Value: "127.0.0.3", Priority: 1}},
				Check:     &check.HTTP{Port: b.port, Host: "www.example.test"},
				Policy: failover.Policy{
					Interval: 200 * time.Millisecond, FastInterval: 50 * time.Millisecond, FailAfter: 2, RecoverAfter: 2,
					FailbackDelay: time.Second, TTL: 60 * time.Second, FailoverTTL: 10 * time.Second,
				},
			}},
		}},
		ReconcileInterval: 500 * time.Millisecond,
		RetryBackoff:      100 * time.Millisecond,
		MaxRetryBackoff:   500 * time.Millisecond,
		ProviderTimeout:   5 * time.Second,
	}
}

func runManager(t *testing.T, cfg failover.Config) *failover.Manager {
	t.Helper()
	m, err := failover.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return m
}

func TestEndToEndBIND(t *testing.T) {
	bind := servertest.StartBIND(t, "example.test.", "www 60 IN A 127.0.0.2", "www 300 IN TXT \"not managed\"", "mail 300 IN A 192.0.2.25")
	b := startBackends(t)
	runManager(t, fastConfig(b, bind.Provider()))
	serves(t, bind.Addr, 5*time.Second, 60, "127.0.0.2")

	b.stop("127.0.0.2")
	serves(t, bind.Addr, 5*time.Second, 10, "127.0.0.3") // the backup, with the failover TTL

	// The server crashes; the primary comes back meanwhile.
	bind.Stop(true)
	if err := b.start("127.0.0.2"); err != nil {
		t.Fatal(err)
	}
	bind.Start(t)
	serves(t, bind.Addr, 10*time.Second, 10, "127.0.0.2")

	// Someone edits the record behind the Manager's back.
	edit := []libdns.Record{libdns.Address{Name: "www", TTL: time.Hour, IP: netip.MustParseAddr("203.0.113.9")}}
	if _, err := bind.Provider().SetRecords(t.Context(), "example.test.", edit); err != nil {
		t.Fatal(err)
	}
	serves(t, bind.Addr, 5*time.Second, 10, "127.0.0.2")

	if got, _, err := answer(bind.Addr, "mail.example.test."); err != nil || !slices.Equal(got, []string{"192.0.2.25"}) {
		t.Fatalf("unmanaged record: got %v, %v", got, err)
	}
}

func TestEndToEndPowerDNS(t *testing.T) {
	pdns := servertest.StartPowerDNS(t, "example.test.")
	b := startBackends(t)
	runManager(t, fastConfig(b, pdns.Provider()))
	serves(t, pdns.Addr, 5*time.Second, 60, "127.0.0.2")
	b.stop("127.0.0.2")
	serves(t, pdns.Addr, 5*time.Second, 10, "127.0.0.3")
	if err := b.start("127.0.0.2"); err != nil {
		t.Fatal(err)
	}
	serves(t, pdns.Addr, 5*time.Second, 10, "127.0.0.2")
}

func TestEndToEndKnot(t *testing.T) {
	knot := servertest.StartKnot(t, "example.test.", "www 60 IN A 127.0.0.2", "mail 300 IN A 192.0.2.25")
	b := startBackends(t)
	runManager(t, fastConfig(b, knot.Provider()))
	serves(t, knot.Addr, 5*time.Second, 60, "127.0.0.2")
	b.stop("127.0.0.2")
	serves(t, knot.Addr, 5*time.Second, 10, "127.0.0.3")
	knot.Stop(true) // a crash; the primary comes back meanwhile
	if err := b.start("127.0.0.2"); err != nil {
		t.Fatal(err)
	}
	knot.Start(t)
	serves(t, knot.Addr, 10*time.Second, 10, "127.0.0.2")
	if got, _, err := answer(knot.Addr, "mail.example.test."); err != nil || !slices.Equal(got, []string{"192.0.2.25"}) {
		t.Fatalf("unmanaged record: got %v, %v", got, err)
	}
}

// One zone served by BIND and PowerDNS at once: with PowerDNS down during a
// failover, BIND is updated at once, Status shows PowerDNS behind, and
// PowerDNS catches up when it returns.
func TestEndToEndTwoProvidersOneDown(t *testing.T) {
	bind := servertest.StartBIND(t, "example.test.", "www 60 IN A 127.0.0.2")
	pdns := servertest.StartPowerDNS(t, "example.test.")
	b := startBackends(t)
	m := runManager(t, fastConfig(b, bind.Provider(), pdns.Provider()))
	serves(t, bind.Addr, 5*time.Second, 60, "127.0.0.2")
	serves(t, pdns.Addr, 5*time.Second, 60, "127.0.0.2")

	pdns.Stop(false)
	b.stop("127.0.0.2")
	serves(t, bind.Addr, 5*time.Second, 10, "127.0.0.3")
	eventually(t, 5*time.Second, "Status shows PowerDNS behind", func() (bool, string) {
		ps := m.Status().Zones[0].Providers
		return ps[0].InSync && !ps[1].InSync && ps[1].LastError != "", fmt.Sprintf("%+v", ps)
	})

	pdns.Start(t)
	serves(t, pdns.Addr, 10*time.Second, 10, "127.0.0.3")
	eventually(t, 5*time.Second, "both in sync", func() (bool, string) {
		ps := m.Status().Zones[0].Providers
		return ps[0].InSync && ps[1].InSync, fmt.Sprintf("%+v", ps)
	})
}

// After a failover the Manager asks the zone's authoritative servers
// directly: BIND answers the new value, and a secondary that never got it
// is reported as slow.
func TestEndToEndPropagation(t *testing.T) {
	bind := servertest.StartBIND(t, "example.test.", "www 60 IN A 127.0.0.2")
	stale := &memory.Provider{} // a secondary stuck on the old answer
	if err := stale.AddZone("example.test.", libdns.Address{Name: "www", TTL: time.Minute, IP: netip.MustParseAddr("127.0.0.2")}); err != nil {
		t.Fatal(err)
	}
	secondary, err := authdns.Start("127.0.0.1:0", "example.test.", stale)
	if err != nil {
		t.Fatal(err)
	}
	defer secondary.Close()

	b := startBackends(t)
	cfg := fastConfig(b, bind.Provider())
	cfg.Zones[0].Nameservers = []string{bind.Addr, secondary.Addr()}
	cfg.PropagationTimeout, cfg.PropagationInterval = time.Second, 20*time.Millisecond
	events := make(chan failover.Event, 100)
	cfg.OnEvent = func(e failover.Event) {
		if e.Kind == failover.EventPropagated || e.Kind == failover.EventPropagationSlow {
			events <- e
		}
	}
	runManager(t, cfg)
	serves(t, bind.Addr, 5*time.Second, 60, "127.0.0.2")
	b.stop("127.0.0.2")

	var propagated, slow bool
	for !propagated || !slow {
		select {
		case e := <-events:
			if !slices.Equal(e.Values, []string{"127.0.0.3"}) {
				continue // the first decision's checks
			}
			switch {
			case e.Kind == failover.EventPropagated && e.Nameserver == bind.Addr:
				propagated = e.Elapsed > 0
			case e.Kind == failover.EventPropagationSlow && e.Nameserver == secondary.Addr():
				slow = slices.Equal(e.Previous, []string{"127.0.0.2"})
			default:
				t.Fatalf("unexpected %v", e)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("propagated from BIND: %v, slow from the stale secondary: %v; want both", propagated, slow)
		}
	}
}

// Item 8 on a real server: PowerDNS refuses a CNAME beside other data
// (422). The record is quarantined with PowerDNS's own error, and the
// other record of the zone is still written, now and after a failover.
func TestEndToEndPowerDNSRejectedRRsetQuarantined(t *testing.T) {
	pdns := servertest.StartPowerDNS(t, "example.test.")
	prov := pdns.Provider()
	if _, err := prov.SetRecords(t.Context(), "example.test.", []libdns.Record{libdns.TXT{Name: "alias", TTL: time.Minute, Text: "in the way"}}); err != nil {
		t.Fatal(err)
	}
	var primaryDown atomic.Bool
	check := failover.CheckerFunc(func(_ context.Context, target string) error {
		if target == "127.0.0.2" && primaryDown.Load() {
			return errors.New("down")
		}
		return nil
	})
	pol := failover.Policy{Interval: 100 * time.Millisecond, FailAfter: 1, RecoverAfter: 1, FailbackDelay: time.Minute, TTL: 60 * time.Second, FailoverTTL: 10 * time.Second}
	cfg := failover.Config{
		Zones: []failover.Zone{{Name: "example.test.", Providers: []failover.Provider{prov}, Records: []failover.Record{
			{Name: "www", Type: "A", Endpoints: []failover.Endpoint{{Value: "127.0.0.2"}, {Value: "127.0.0.3", Priority: 1}}, Check: check, Policy: pol},
			{Name: "alias", Type: "CNAME", Endpoints: []failover.Endpoint{{Value: "target.example.net."}}, Check: check, Policy: pol},
		}}},
		ReconcileInterval: time.Second, RetryBackoff: 50 * time.Millisecond, MaxRetryBackoff: 200 * time.Millisecond, ProviderTimeout: 5 * time.Second,
	}
	m := runManager(t, cfg)
	serves(t, pdns.Addr, 5*time.Second, 60, "127.0.0.2")
	primaryDown.Store(true)
	serves(t, pdns.Addr, 5*time.Second, 10, "127.0.0.3")
	eventually(t, 5*time.Second, "alias quarantined", func() (bool, string) {
		ps := m.Status().Zones[0].Providers[0]
		q := ps.Quarantined
		return len(q) == 1 && q[0].Record == "alias.example.test. CNAME" && strings.Contains(q[0].Error, "422") &&
			slices.Equal(ps.Pending, []string{"alias.example.test. CNAME"}), fmt.Sprintf("%+v", ps)
	})
}

// Item 10 on real servers: with every endpoint down under PublishNothing,
// the RRset is deleted (TTL 0 matches the TTL the server holds), the
// delete removes what was asked and is not reported failed.
func TestEndToEndPublishNothingDeletes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) (failover.Provider, string)
	}{
		{"BIND", func(t *testing.T) (failover.Provider, string) {
			bind := servertest.StartBIND(t, "example.test.", "www 60 IN A 127.0.0.2")
			return bind.Provider(), bind.Addr
		}},
		{"PowerDNS", func(t *testing.T) (failover.Provider, string) {
			pdns := servertest.StartPowerDNS(t, "example.test.")
			return pdns.Provider(), pdns.Addr
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prov, addr := tc.start(t)
			b := startBackends(t)
			cfg := fastConfig(b, prov)
			cfg.Zones[0].Records[0].Policy.AllDown = failover.PublishNothing
			var mu sync.Mutex
			var failed []failover.Event
			cfg.OnEvent = func(e failover.Event) {
				if e.Kind == failover.EventProviderCallFailed {
					mu.Lock()
					failed = append(failed, e)
					mu.Unlock()
				}
			}
			runManager(t, cfg)
			serves(t, addr, 5*time.Second, 60, "127.0.0.2")
			b.stop("127.0.0.2")
			serves(t, addr, 5*time.Second, 10, "127.0.0.3")
			b.stop("127.0.0.3")
			serves(t, addr, 5*time.Second, 0)
			mu.Lock()
			defer mu.Unlock()
			if len(failed) > 0 {
				t.Fatalf("got failed calls %v, want none", failed)
			}
		})
	}
}
