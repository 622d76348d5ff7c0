package servertest

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dnsfailover/failover/provider/rfc2136"
)

// Knot is a Knot DNS server that is primary for one zone, accepts RFC 2136
// updates signed with its TSIG key and allows zone transfers to it.
type Knot struct {
	Addr    string // 127.0.0.1:PORT, UDP and TCP
	Zone    string // FQDN with trailing dot
	KeyName string
	KeyAlg  string
	Key     string // base64 secret
	proc    *process
}

// StartKnot starts knotd for zone, whose file holds an SOA, an NS and the
// given zone-file lines (such as "www 300 IN A 192.0.2.10"), and stops it
// when the test ends. Updates are kept in Knot's journal and survive a
// restart, as BIND's do.
func StartKnot(t testing.TB, zone string, lines ...string) *Knot {
	t.Helper()
	knotd := need(t, "knotd", "knot")
	dir := t.TempDir()
	k := &Knot{
		Addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))),
		Zone:    zone,
		KeyName: "failover-test",
		KeyAlg:  "hmac-sha256",
		Key:     newSecret(),
	}
	// knotd creates neither its database directory nor its run directory:
	// without the first, every update fails with SERVFAIL.
	db, run := filepath.Join(dir, "db"), filepath.Join(dir, "run")
	for _, d := range []string{db, run} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, port, _ := net.SplitHostPort(k.Addr)
	conf := fmt.Sprintf(`server:
    listen: 127.0.0.1@%s
    rundir: %q
log:
  - target: stderr
    any: warning
database:
    storage: %q
key:
  - id: %s
    algorithm: %s
    secret: %s
acl:
  - id: update-and-transfer
    key: %s
    action: [update, transfer]
template:
  - id: default
    storage: %q
    file: "%%s.zone"
    zonefile-sync: -1
    journal-content: changes
zone:
  - domain: %s
    acl: update-and-transfer
`, port, run, db, k.KeyName, k.KeyAlg, k.Key, k.KeyName, dir, zone)
	files := map[string]string{
		filepath.Join(dir, "knot.conf"): conf,
		filepath.Join(dir, zone+"zone"): zoneFile(zone, lines),
	}
	for file, data := range files {
		if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	k.proc = &process{name: knotd, args: []string{"-c", filepath.Join(dir, "knot.conf")}}
	k.Start(t)
	t.Cleanup(func() { k.Stop(false) })
	return k
}

// Start starts the server again after Stop, with the zone as it was, and
// waits until it answers.
func (k *Knot) Start(t testing.TB) {
	t.Helper()
	k.proc.start(t)
	waitDNS(t, k.proc, k.Addr, k.Zone)
}

// Stop stops the server: with SIGTERM, or with SIGKILL when kill is set,
// as a crash would.
func (k *Knot) Stop(kill bool) { k.proc.stop(kill) }

// Provider returns an RFC 2136 provider for the server.
func (k *Knot) Provider() *rfc2136.Provider {
	return &rfc2136.Provider{KeyName: k.KeyName, KeyAlg: k.KeyAlg, Key: k.Key, Server: k.Addr}
}

// zoneFile is the text of a zone file for zone: an SOA, an NS with its
// address, and lines.
func zoneFile(zone string, lines []string) string {
	return fmt.Sprintf("$ORIGIN %s\n$TTL 300\n@ IN SOA ns1.%s hostmaster.%s 1 3600 600 86400 30\n@ IN NS ns1.%s\nns1 IN A 127.0.0.1\n%s\n",
		zone, zone, zone, zone, strings.Join(lines, "\n"))
}

// newSecret returns a random 256-bit TSIG secret, base64.
func newSecret() string {
	secret := make([]byte, 32)
	rand.Read(secret)
	return base64.StdEncoding.EncodeToString(secret)
}
