package servertest

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/dnsfailover/failover/provider/rfc2136"
)

// UpdateServer is what BIND and Knot have in common: a primary server for
// one zone that accepts RFC 2136 updates signed with its TSIG key and
// allows zone transfers to it.
type UpdateServer struct {
	Addr    string // 127.0.0.1:PORT, UDP and TCP
	Zone    string // FQDN with trailing dot
	KeyName string
	KeyAlg  string
	Key     string // base64 secret
	proc    *process
}

// newUpdateServer returns the address and key of a server for zone, on a
// free port, with a fresh random secret.
func newUpdateServer(t testing.TB, zone string) UpdateServer {
	t.Helper()
	secret := make([]byte, 32)
	rand.Read(secret)
	return UpdateServer{
		Addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))),
		Zone:    zone,
		KeyName: "failover-test",
		KeyAlg:  "hmac-sha256",
		Key:     base64.StdEncoding.EncodeToString(secret),
	}
}

// port is the server's port, as text.
func (s *UpdateServer) port() string {
	_, port, _ := net.SplitHostPort(s.Addr)
	return port
}

// Start starts the server again after Stop, with the zone as it was, and
// waits until it answers.
func (s *UpdateServer) Start(t testing.TB) {
	t.Helper()
	s.proc.start(t)
	waitDNS(t, s.proc, s.Addr, s.Zone)
}

// Stop stops the server: with SIGTERM, or with SIGKILL when kill is set,
// as a crash would.
func (s *UpdateServer) Stop(kill bool) { s.proc.stop(kill) }

// Provider returns an RFC 2136 provider for the server.
func (s *UpdateServer) Provider() *rfc2136.Provider {
	return &rfc2136.Provider{KeyName: s.KeyName, KeyAlg: s.KeyAlg, Key: s.Key, Server: s.Addr}
}

// zoneFile is the text of a zone file for zone: an SOA, an NS with its
// address, and lines.
func zoneFile(zone string, lines []string) string {
	return fmt.Sprintf("$ORIGIN %s\n$TTL 300\n@ IN SOA ns1.%s hostmaster.%s 1 3600 600 86400 30\n@ IN NS ns1.%s\nns1 IN A 127.0.0.1\n%s\n",
		zone, zone, zone, zone, strings.Join(lines, "\n"))
}
