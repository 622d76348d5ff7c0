package check

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/dnsfailover/failover/internal/certexpiry"
)

// TLS completes a TLS handshake with the target and verifies the
// certificate chain, the name, the TLS version and the expiry window, for
// endpoints that are not HTTP (SMTPS, IMAPS, LDAPS, custom protocols). The
// zero value checks port 443 against the target's name. A TLS is safe
// for concurrent use; it must not be copied once used.
type TLS struct {
	// Port to connect to. Zero means 443.
	Port int
	// Host is the server name sent and verified. Empty means the target.
	Host string
	// TLS holds the roots, client certificate, minimum version and expiry
	// window.
	TLS TLSOptions
	// Source, when set, is the local address the check connects from.
	// Zero means the system's choice.
	Source netip.Addr

	certs certexpiry.Seen
}

// Validate reports a Port outside 1–65535, a Host that is not a host
// name or address, TLS settings that no handshake could meet, and a
// Source that is unspecified or multicast.
func (c *TLS) Validate() error {
	p := problems{kind: "tls"}
	p.port(c.Port, false)
	p.source(c.Source)
	p.host("Host", c.Host)
	p.tls("TLS", &c.TLS)
	return p.err()
}

// Check shakes hands with target and reports why it is not healthy.
func (c *TLS) Check(ctx context.Context, target string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	port := c.Port
	if port == 0 {
		port = 443
	}
	addr := net.JoinHostPort(target, strconv.Itoa(port))
	conn, err := dialTCP(ctx, c.Source, addr, &c.TLS, c.Host, target, &c.certs)
	if err != nil {
		return fmt.Errorf("tls %s: %w", addr, err)
	}
	return conn.Close()
}
