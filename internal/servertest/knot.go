package servertest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Knot is a Knot DNS server that is primary for one zone, accepts RFC 2136
// updates signed with its TSIG key and allows zone transfers to it.
type Knot struct{ UpdateServer }

// StartKnot starts knotd for zone, whose file holds an SOA, an NS and the
// given zone-file lines (such as "www 300 IN A 192.0.2.10"), and stops it
// when the test ends. Updates are kept in Knot's journal and survive a
// restart, as BIND's do.
func StartKnot(t testing.TB, zone string, lines ...string) *Knot {
	t.Helper()
	knotd := need(t, "knotd", "knot")
	dir := t.TempDir()
	k := &Knot{newUpdateServer(t, zone)}
	// knotd creates neither its database directory nor its run directory:
	// without the first, every update fails with SERVFAIL.
	db, run := filepath.Join(dir, "db"), filepath.Join(dir, "run")
	for _, d := range []string{db, run} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
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
`, k.port(), run, db, k.KeyName, k.KeyAlg, k.Key, k.KeyName, dir, zone)
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
