package servertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BIND is a BIND 9 server that is primary for one zone, accepts RFC 2136
// updates signed with its TSIG key and allows zone transfers to it.
type BIND struct{ UpdateServer }

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
	b := &BIND{newUpdateServer(t, zone)}
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
		b.port(), strings.TrimSuffix(zone, "."), zonePath, b.KeyName, b.KeyName, integrity)
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
