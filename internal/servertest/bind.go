package servertest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dnsfailover/failover/provider/rfc2136"
)

// BIND is a BIND 9 server that is primary for one zone, accepts RFC 2136
// updates signed with its TSIG key and allows zone transfers to it.
type BIND struct {
	Addr    string // 127.0.0.1:PORT, UDP and TCP
	Zone    string // FQDN with trailing dot
	KeyName string
	KeyAlg  string
	Key     string // base64 secret
	proc    *process
}

// BINDOptions adjust the server StartBINDWith starts. The zero value is
// BIND's defaults.
type BINDOptions struct {
	// NoCheckIntegrity turns off BIND's check-integrity for the zone, so
	// that it accepts an MX or NS whose target has no address record (as
	// libdnstest writes); by default BIND refuses such an update.
	NoCheckIntegrity bool
}

// StartBIND starts named for zone, whose file holds an SOA, an NS and the
// given zone-file lines (such as "www 300 IN A 192.0.2.10"), and stops it
// when the test ends.
func StartBIND(t testing.TB, zone string, lines ...string) *BIND {
	t.Helper()
	return StartBINDWith(t, BINDOptions{}, zone, lines...)
}

// StartBINDWith is StartBIND with opts.
func StartBINDWith(t testing.TB, opts BINDOptions, zone string, lines ...string) *BIND {
	t.Helper()
	named := need(t, "named", "bind9")
	dir := t.TempDir()
	b := &BIND{
		Addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))),
		Zone:    zone,
		KeyName: "failover-test",
		KeyAlg:  "hmac-sha256",
		Key:     newSecret(),
	}
	_, port, _ := net.SplitHostPort(b.Addr)
	zonePath := filepath.Join(dir, "zone.db")
	body := zoneFile(zone, lines)
	integrity := ""
	if opts.NoCheckIntegrity {
		integrity = "check-integrity no;"
	}
	conf := fmt.Sprintf(`key %q { algorithm %s; secret %q; };
options {
	directory %q;
	pid-file %q;
	session-keyfile %q;
	managed-keys-directory %q;
	listen-on port %s { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
	allow-query { any; };
};
controls { };
zone %q {
	type primary;
	file %q;
	update-policy { grant %s zonesub ANY; };
	allow-transfer { key %s; };
	%s
};
`, b.KeyName, b.KeyAlg, b.Key, dir, filepath.Join(dir, "named.pid"), filepath.Join(dir, "session.key"), dir,
		port, strings.TrimSuffix(zone, "."), zonePath, b.KeyName, b.KeyName, integrity)
	confFile := filepath.Join(dir, "named.conf")
	for file, data := range map[string]string{zonePath: body, confFile: conf} {
		if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b.proc = &process{name: named, args: []string{"-g", "-c", confFile}}
	b.Start(t)
	t.Cleanup(func() { b.Stop(false) })
	return b
}

// Start starts the server again after Stop, with the zone as it was, and
// waits until it answers.
func (b *BIND) Start(t testing.TB) {
	t.Helper()
	b.proc.start(t)
	waitDNS(t, b.proc, b.Addr, b.Zone)
}

// Stop stops the server: with SIGTERM, or with SIGKILL when kill is set,
// as a crash would.
func (b *BIND) Stop(kill bool) { b.proc.stop(kill) }

// Provider returns an RFC 2136 provider for the server.
func (b *BIND) Provider() *rfc2136.Provider {
	return &rfc2136.Provider{KeyName: b.KeyName, KeyAlg: b.KeyAlg, Key: b.Key, Server: b.Addr}
}
