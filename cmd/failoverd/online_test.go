package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsfailover/failover/internal/route53fake"
	"github.com/dnsfailover/failover/internal/servertest"
	"github.com/miekg/dns"
)

// soaSerial asks addr for zone's SOA serial.
func soaSerial(t *testing.T, addr, zone string) uint32 {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeSOA)
	resp, _, err := (&dns.Client{Net: "tcp"}).Exchange(m, addr)
	if err != nil || len(resp.Answer) == 0 {
		t.Fatalf("SOA %s: %v %v", zone, resp, err)
	}
	return resp.Answer[0].(*dns.SOA).Serial
}

// `check -online` reads the zone from real BIND with the real key and
// reports each managed record as it is there, writing nothing.
func TestCheckOnline(t *testing.T) {
	bind := servertest.StartBIND(t, "example.test.", "www 60 IN A 127.0.0.2", "www 60 IN A 127.0.0.9", "mail 300 IN A 127.0.0.5")
	file := filepath.Join(t.TempDir(), "failover.yaml")
	os.WriteFile(file, []byte(fmt.Sprintf(`
zones:
  - name: example.test.
    providers:
      - {type: rfc2136, server: %q, key_name: %q, key_alg: %q, secret_env: FAILOVERD_TSIG}
    records:
      - {name: www, type: A, endpoints: [{value: 127.0.0.2}, {value: 127.0.0.3, priority: 1}], check: {type: tcp, port: 80}}
      - {name: api, type: A, endpoints: [{value: 127.0.0.4}], check: {type: tcp, port: 80}}
`, bind.Addr, bind.KeyName, bind.KeyAlg)), 0o600)
	serial := soaSerial(t, bind.Addr, "example.test.")

	t.Setenv("FAILOVERD_TSIG", bind.Key)
	var stdout, stderr strings.Builder
	if code := run([]string{"check", "-online", "-c", file}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{
		"example.test. providers[0] (rfc2136) www.example.test. A: exists, TTL 1m0s, values 127.0.0.2 127.0.0.9 (not endpoints: 127.0.0.9)\n",
		"example.test. providers[0] (rfc2136) api.example.test. A: absent\n",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("got:\n%s\nwant a line %q", stdout.String(), want)
		}
	}
	if got := soaSerial(t, bind.Addr, "example.test."); got != serial {
		t.Errorf("SOA serial %d after check -online, want %d: the zone was written", got, serial)
	}

	// A wrong key: the zone cannot be read, and the check fails.
	t.Setenv("FAILOVERD_TSIG", "d3Jvbmcga2V5IHdyb25nIGtleQ==")
	stdout.Reset()
	if code := run([]string{"check", "-online", "-c", file}, &stdout, &stderr); code != 1 || !strings.Contains(stdout.String(), "example.test. providers[0] (rfc2136): cannot read the zone") {
		t.Errorf("wrong key: exit %d, output %q; want 1 and the zone unreadable", code, stdout.String())
	}
}

// hosted_zone_id reaches the Route 53 provider: with it, the zone is not
// looked up by name.
func TestRoute53HostedZoneID(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	fake := route53fake.Start("example.test.")
	defer fake.Close()
	t.Setenv("AWS_ENDPOINT_URL_ROUTE_53", fake.URL)
	t.Setenv("FAILOVERD_AWS_KEY", "AKIDFAKE")
	t.Setenv("FAILOVERD_AWS_SECRET", "secret-fake")
	fake.Put(fake.ZoneID("example.test."), route53fake.RecordSet{Name: "www.example.test.", Type: "A", TTL: 60, Values: []string{"192.0.2.1"}})

	for _, tc := range []struct {
		extra   string
		lookups int
	}{
		{"", 1},
		{", hosted_zone_id: " + fake.ZoneID("example.test."), 0},
	} {
		file := filepath.Join(dir, "failover.yaml")
		os.WriteFile(file, []byte(`
zones:
  - name: example.test.
    providers:
      - {type: route53, access_key_id_env: FAILOVERD_AWS_KEY, secret_access_key_env: FAILOVERD_AWS_SECRET`+tc.extra+`}
    records:
      - {name: www, type: A, endpoints: [{value: 192.0.2.1}], check: {type: tcp, port: 80}}
`), 0o600)
		fake.ResetRequests()
		var stdout, stderr strings.Builder
		code := run([]string{"check", "-online", "-c", file}, &stdout, &stderr)
		if code != 0 || !strings.Contains(stdout.String(), "www.example.test. A: exists, TTL 1m0s, values 192.0.2.1") {
			t.Fatalf("%q: exit %d: %s%s", tc.extra, code, stdout.String(), stderr.String())
		}
		if got := fake.Requests("zones"); got != tc.lookups {
			t.Errorf("%q: %d hosted zone lookups, want %d", tc.extra, got, tc.lookups)
		}
	}
}
