package route53

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/failover/internal/route53fake"
	"github.com/dnsfailover/failover/provider/providertest"
	"github.com/libdns/libdns"
)

const zone = "example.com."

// isolate keeps the test away from the machine's AWS files and variables.
func isolate(t testing.TB) {
	t.Helper()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ROUTE_53"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func setup(t testing.TB, opts Options) (*Provider, *route53fake.Server) {
	t.Helper()
	isolate(t)
	fake := route53fake.Start(zone)
	t.Cleanup(fake.Close)
	t.Setenv("AWS_ENDPOINT_URL_ROUTE_53", fake.URL)
	opts.AccessKeyID, opts.SecretAccessKey = "AKIDFAKE", "secret-fake"
	p, err := New(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return p, fake
}

func a(name, ip string, ttl time.Duration) libdns.Record {
	return libdns.Address{Name: name, TTL: ttl, IP: netip.MustParseAddr(ip)}
}

func TestContract(t *testing.T) {
	p, _ := setup(t, Options{})
	providertest.Run(t, zone, p)
}

func TestBadConfigurationIsAnErrorNotAnExit(t *testing.T) {
	isolate(t)
	if _, err := New(t.Context(), Options{Profile: "does-not-exist"}); err == nil || !strings.Contains(err.Error(), "does-not-exist") {
		t.Fatalf("missing profile: got %v, want an error naming it", err)
	}
	if _, err := New(t.Context(), Options{AccessKeyID: "AKID"}); err == nil {
		t.Fatal("access key without secret: got nil error")
	}
	if _, err := New(t.Context(), Options{HostedZoneIDs: map[string]string{"example.com": "Z1"}}); err == nil {
		t.Fatal("zone without trailing dot: got nil error")
	}
	if _, err := New(t.Context(), Options{HostedZoneIDs: map[string]string{"Example.com.": "Z1", "example.com.": "Z2"}}); err == nil || !strings.Contains(err.Error(), "two IDs") {
		t.Fatalf("one zone given two IDs in two spellings: got %v, want an error naming both", err)
	}
}

// Zone names ignore case: with the ID given for "Example.com." (as a YAML
// file may spell it) and the zone used as "example.com.", the private
// zone's ID is used. Matched by exact spelling, it would be ignored and
// the writes would go to the PUBLIC zone of that name, the very mistake
// HostedZoneIDs is there to prevent.
func TestHostedZoneIDsMatchTheZoneWhateverItsCase(t *testing.T) {
	for _, spelling := range []string{"Example.com.", "EXAMPLE.COM."} {
		t.Run(spelling, func(t *testing.T) {
			p, fake := setup(t, Options{})
			private := fake.AddPrivateZone(zone)
			p.opts.HostedZoneIDs = map[string]string{spelling: private}
			if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{a("db", "10.0.0.5", time.Minute)}); err != nil {
				t.Fatal(err)
			}
			if got := fake.Sets(fake.ZoneID(zone)); len(got) != 0 {
				t.Fatalf("public zone: got %q, want nothing (HostedZoneIDs names the private zone)", got)
			}
			if got, want := fake.Sets(private), []string{"db.example.com. A 60 10.0.0.5"}; !slices.Equal(got, want) {
				t.Fatalf("private zone: got %q, want %q", got, want)
			}
		})
	}
}

func TestZoneLookedUpOnce(t *testing.T) {
	p, fake := setup(t, Options{})
	for range 3 {
		if _, err := p.GetRecords(t.Context(), zone); err != nil {
			t.Fatal(err)
		}
	}
	if n := fake.Requests("zones"); n != 1 {
		t.Fatalf("got %d zone lookups, want 1", n)
	}
	given, fake2 := setup(t, Options{})
	given.opts.HostedZoneIDs = map[string]string{zone: fake2.ZoneID(zone)}
	if _, err := given.GetRecords(t.Context(), zone); err != nil {
		t.Fatal(err)
	}
	if n := fake2.Requests("zones"); n != 0 {
		t.Fatalf("with the ID given: got %d lookups, want 0", n)
	}
	if _, err := p.GetRecords(t.Context(), "nope.example."); err == nil || !strings.Contains(err.Error(), "no hosted zone named nope.example.") {
		t.Fatalf("unknown zone: got %v", err)
	}
}

func TestOneChangePerRRset(t *testing.T) {
	p, fake := setup(t, Options{})
	ctx := t.Context()
	if _, err := p.SetRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.1", time.Minute), a("www", "192.0.2.2", time.Minute)}); err != nil {
		t.Fatal(err)
	}
	fake.ResetRequests()
	if _, err := p.SetRecords(ctx, zone, []libdns.Record{a("www", "192.0.2.3", 30*time.Second)}); err != nil {
		t.Fatal(err)
	}
	if got, want := fake.Sets(fake.ZoneID(zone)), []string{"www.example.com. A 30 192.0.2.3"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if n := fake.Requests(""); n != 1 {
		t.Fatalf("one failover cost %d requests, want 1 (one UPSERT)", n)
	}
}

func TestPaging(t *testing.T) {
	p, fake := setup(t, Options{})
	fake.SetPageSize(3)
	for i := range 10 {
		fake.Put(fake.ZoneID(zone), route53fake.RecordSet{Name: fmt.Sprintf("host%d.%s", i, zone), Type: "A", TTL: 300, Values: []string{fmt.Sprintf("192.0.2.%d", i+1)}})
	}
	recs, err := p.GetRecords(t.Context(), zone)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.RR().Type == "A" {
			n++
		}
	}
	if n != 10 {
		t.Fatalf("got %d A records over pages of 3, want 10", n)
	}
}

func TestWaitForSync(t *testing.T) {
	p, fake := setup(t, Options{WaitForSync: true, MaxWait: 10 * time.Second})
	if _, err := p.SetRecords(t.Context(), zone, []libdns.Record{a("www", "192.0.2.1", time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if n := fake.Requests("getchange"); n < 1 {
		t.Fatalf("got %d GetChange requests, want the change waited for", n)
	}
}

func TestCredentialsNeverShown(t *testing.T) {
	p, _ := setup(t, Options{})
	for _, s := range []string{fmt.Sprint(p), fmt.Sprintf("%+v", p), fmt.Sprintf("%#v", p)} {
		if strings.Contains(s, "secret-fake") {
			t.Fatalf("fmt shows the secret: %s", s)
		}
	}
}
