package conformance

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dnsfailover/failover/internal/cloudflarefake"
	"github.com/dnsfailover/failover/internal/route53fake"
	"github.com/dnsfailover/failover/internal/servertest"
	"github.com/dnsfailover/failover/provider/cloudflare"
	"github.com/dnsfailover/failover/provider/memory"
	"github.com/dnsfailover/failover/provider/route53"
	"github.com/libdns/libdns/libdnstest"
)

const zone = "example.test."

func TestMemory(t *testing.T) {
	p := &memory.Provider{}
	if err := p.AddZone(zone); err != nil {
		t.Fatal(err)
	}
	libdnstest.NewTestSuite(p, zone).RunTests(t)
}

func TestCloudflareOnFake(t *testing.T) {
	const token = "cf-conformance-token"
	fake := cloudflarefake.Start(token, zone)
	t.Cleanup(fake.Close)
	p, err := cloudflare.New(token, cloudflare.Options{Endpoint: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	suite := libdnstest.NewTestSuite(p, zone)
	suite.RunTests(t)
}

func TestRoute53OnFake(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	fake := route53fake.Start(zone)
	t.Cleanup(fake.Close)
	t.Setenv("AWS_ENDPOINT_URL_ROUTE_53", fake.URL)
	p, err := route53.New(t.Context(), route53.Options{AccessKeyID: "AKIDFAKE", SecretAccessKey: "secret-fake"})
	if err != nil {
		t.Fatal(err)
	}
	libdnstest.NewTestSuite(libdnstest.WrapNoZoneLister(p), zone).RunTests(t)
}

// BIND's default check-integrity refuses the suite's MX and NS data (their
// targets have no address records), so the test server turns it off.
func TestRFC2136OnBIND(t *testing.T) {
	b := servertest.StartBINDWith(t, servertest.BINDOptions{NoCheckIntegrity: true}, zone)
	libdnstest.NewTestSuite(libdnstest.WrapNoZoneLister(b.Provider()), zone).RunTests(t)
}

func TestRFC2136OnKnot(t *testing.T) {
	k := servertest.StartKnot(t, zone)
	libdnstest.NewTestSuite(libdnstest.WrapNoZoneLister(k.Provider()), zone).RunTests(t)
}

func TestPowerDNS(t *testing.T) {
	s := servertest.StartPowerDNS(t, zone)
	libdnstest.NewTestSuite(libdnstest.WrapNoZoneLister(s.Provider()), zone).RunTests(t)
}
