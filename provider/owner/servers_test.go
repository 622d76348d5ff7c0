package owner_test

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnsfailover/failover/internal/cloudflarefake"
	"github.com/dnsfailover/failover/internal/route53fake"
	"github.com/dnsfailover/failover/provider/cloudflare"
	"github.com/dnsfailover/failover/provider/route53"

	"github.com/dnsfailover/failover/provider/owner"
	"github.com/libdns/libdns"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/servertest"
)

// servers are the servers issue 14's test 7 runs on, and the fakes
// of the APIs that cannot run here: each returns a provider for a fresh
// zone, empty but for its SOA and NS records.
var servers = []struct {
	name  string
	start func(t *testing.T) failover.Provider
	// perRecord: one request per record written (Cloudflare, 1,200
	// requests per 5 minutes): no large writes.
	perRecord bool
}{
	{"BIND", func(t *testing.T) failover.Provider { return servertest.StartBIND(t, zone).Provider() }, false},
	{"PowerDNS", func(t *testing.T) failover.Provider { return servertest.StartPowerDNS(t, zone).Provider() }, false},
	{"Cloudflare fake", func(t *testing.T) failover.Provider {
		fake := cloudflarefake.Start("t0ken", zone)
		t.Cleanup(fake.Close)
		p, err := cloudflare.New("t0ken", cloudflare.Options{Endpoint: fake.URL})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}, true},
	{"Route 53 fake", func(t *testing.T) failover.Provider {
		fake := route53fake.Start(zone)
		t.Cleanup(fake.Close)
		empty := filepath.Join(t.TempDir(), "empty")
		if err := os.WriteFile(empty, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		for k, v := range map[string]string{"AWS_PROFILE": "", "AWS_REGION": "", "AWS_SESSION_TOKEN": "", "AWS_ENDPOINT_URL": "",
			"AWS_CONFIG_FILE": empty, "AWS_SHARED_CREDENTIALS_FILE": empty, "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL_ROUTE_53": fake.URL} {
			t.Setenv(k, v)
		}
		p, err := route53.New(t.Context(), route53.Options{AccessKeyID: "AKIDFAKE", SecretAccessKey: "secret-fake"})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}, false},
}

// quickly is the timing of the tests on real servers.
var quickly = failover.Config{ReconcileInterval: 300 * time.Millisecond, RetryBackoff: 50 * time.Millisecond, MaxRetryBackoff: 300 * time.Millisecond, ProviderTimeout: 5 * time.Second}

// waitFor polls cond every 20 ms until it holds, or fails after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	for deadline := time.Now().Add(limit); ; time.Sleep(20 * time.Millisecond) {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last: %s", what, limit, state)
		}
	}
}

// Issue 14, test 7, on real servers (and the API fakes): two deployments with different owner
// ids on one zone. The second never changes the first one's records, not
// even while the first fails over, and reports them quarantined; it
// writes the record no one else owns.
func TestTwoDeploymentsOneZone(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			p := srv.start(t)
			rrset := func(name, typ string) []string { return servertest.RRset(t, p, zone, name, typ) }
			values := func(name, typ string) []string { // without the TTL, which a floor may raise
				var vs []string
				for _, line := range rrset(name, typ) {
					_, v, _ := strings.Cut(line, " ")
					vs = append(vs, v)
				}
				return vs
			}
			var prodDown, stagingDown sync.Map
			prod := startDeployment(t, quickly, p, "prod", record("www", "A", 100*time.Millisecond, &prodDown, "192.0.2.10", "192.0.2.20"))
			waitFor(t, 10*time.Second, "prod publishes www", func() (bool, string) {
				got := values("www", "A")
				return slices.Equal(got, []string{"192.0.2.10"}), fmt.Sprint(got)
			})

			staging := startDeployment(t, quickly, p, "staging",
				record("www", "A", 100*time.Millisecond, &stagingDown, "198.51.100.10"),
				record("test", "A", 100*time.Millisecond, &stagingDown, "198.51.100.12"))
			waitFor(t, 10*time.Second, "staging reports www quarantined, writes test", func() (bool, string) {
				ps := staging.m.Status().Zones[0].Providers[0]
				q := ps.Quarantined
				ok := len(q) == 1 && q[0].Record == "www.example.test. A" && strings.Contains(q[0].Error, `owned by "prod", not by "staging"`) &&
					slices.Equal(values("test", "A"), []string{"198.51.100.12"})
				return ok, fmt.Sprintf("%+v", ps)
			})

			prodDown.Store("192.0.2.10", true) // prod fails over; staging still wants its own value
			waitFor(t, 10*time.Second, "prod fails over", func() (bool, string) {
				got := values("www", "A")
				return slices.Equal(got, []string{"192.0.2.20"}), fmt.Sprint(got)
			})
			time.Sleep(10 * quickly.ReconcileInterval) // staging reconciles and retries meanwhile
			if got := values("www", "A"); !slices.Equal(got, []string{"192.0.2.20"}) {
				t.Errorf("www holds %q after staging ran on, want prod's %q", got, "192.0.2.20")
			}
			for _, e := range staging.of(failover.EventRecordWritten) {
				if e.Record.Name == "www" {
					t.Errorf("staging reports www written: %+v", e)
				}
			}
			if got := prod.of(failover.EventDriftRepaired); len(got) != 0 {
				t.Errorf("prod repaired drift %d times, want 0: staging never wrote www", len(got))
			}
			owners := map[string][]string{
				"_failover-owner-a.www":  {"failover-owner=prod,type=A"},
				"_failover-owner-a.test": {"failover-owner=staging,type=A"},
			}
			for name, want := range owners {
				if got := values(name, "TXT"); !slices.Equal(got, want) {
					t.Errorf("%s TXT holds %q, want %q", name, got, want)
				}
			}
		})
	}
}

// Owner records at the apex, for wildcards, beside a CNAME and for a name
// written in upper case are accepted by real servers and read back as
// owned: another owner is refused on every one.
func TestOwnerNamesOnServers(t *testing.T) {
	recs := []libdns.Record{
		libdns.Address{Name: "@", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.1")},
		libdns.Address{Name: "*", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.2")},
		libdns.Address{Name: "*.eu", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.3")},
		libdns.Address{Name: "WWW", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.4")},
		libdns.Address{Name: "www", TTL: time.Minute, IP: netip.MustParseAddr("2001:db8::4")},
		libdns.CNAME{Name: "alias", TTL: time.Minute, Target: "target.example.net."},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			p := srv.start(t)
			if _, err := wrap(t, p, "prod").SetRecords(t.Context(), zone, recs); err != nil {
				t.Fatal(err)
			}
			for _, rec := range recs {
				_, err := wrap(t, p, "staging").SetRecords(t.Context(), zone, []libdns.Record{rec})
				var fe *owner.ForeignError
				if !errors.As(err, &fe) || fe.Other != "prod" {
					t.Errorf("staging writing %s %s: got %v, want refused as prod's", rec.RR().Name, rec.RR().Type, err)
				}
				if _, err := wrap(t, p, "prod").SetRecords(t.Context(), zone, []libdns.Record{rec}); err != nil {
					t.Errorf("prod writing %s %s again: %v", rec.RR().Name, rec.RR().Type, err)
				}
			}
			if got := servertest.RRset(t, p, zone, "*", "A"); !slices.Equal(got, []string{"60 192.0.2.2"}) {
				t.Errorf("* A holds %q, want the wildcard untouched by its owner record", got)
			}
		})
	}
}

// A write too large for one RFC 2136 message (3,000 RRsets and their 3,000
// owner records) claims every RRset, on real servers.
func TestLargeWriteClaimsEveryRRset(t *testing.T) {
	const n = 3000
	var recs []libdns.Record
	for i := range n {
		recs = append(recs, libdns.Address{Name: fmt.Sprintf("host%d", i), TTL: time.Minute, IP: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})})
	}
	for _, srv := range servers {
		if srv.perRecord {
			continue
		}
		t.Run(srv.name, func(t *testing.T) {
			p := srv.start(t)
			if _, err := wrap(t, p, "prod").SetRecords(t.Context(), zone, recs); err != nil {
				t.Fatal(err)
			}
			all, err := p.GetRecords(t.Context(), zone)
			if err != nil {
				t.Fatal(err)
			}
			owners := 0
			for _, r := range all {
				if rr := r.RR(); rr.Type == "TXT" && strings.HasPrefix(rr.Name, "_failover-owner-a.host") && rr.Data == "failover-owner=prod,type=A" {
					owners++
				}
			}
			if owners != n {
				t.Errorf("got %d owner records, want %d", owners, n)
			}
			_, err = wrap(t, p, "staging").SetRecords(t.Context(), zone, recs)
			if got := len(unjoinAll(err)); got != n {
				t.Errorf("staging rewriting them all: got %d refusals, want %d", got, n)
			}
		})
	}
}

// unjoinAll returns the errors err joins, or err alone.
func unjoinAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}
