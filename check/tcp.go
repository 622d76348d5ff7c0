package check

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/dnsfailover/failover/internal/certexpiry"
)

// DefaultMaxReplyBytes is how much of a reply TCP reads when
// MaxReplyBytes is zero.
const DefaultMaxReplyBytes = 4 << 10

// TCP connects to the target's Port and, optionally, sends bytes and
// expects a reply: a banner check such as SMTP's "220" or Redis' "+PONG".
// With TLS set it completes a verified handshake first. It is healthy when
// the connection (and the exchange) succeeds before the check's deadline.
// The zero value is not usable: Port is required. A TCP is safe for
// concurrent use; it must not be copied once used.
type TCP struct {
	// Port to connect to (1–65535).
	Port int
	// Send is written once connected, before reading the reply.
	Send string
	// Expect, when set, must appear in the reply.
	Expect string
	// ExpectMatches, when set, must match the reply.
	ExpectMatches *regexp.Regexp
	// MaxReplyBytes is how much of the reply is read while waiting for it
	// to meet Expect and ExpectMatches. Zero means DefaultMaxReplyBytes.
	MaxReplyBytes int
	// TLS, when set, makes the connection TLS, verified against Host.
	TLS *TLSOptions
	// Host is the TLS server name. Empty means the target.
	Host string
	// Source, when set, is the local address the check connects from (and
	// its watcher, when Watching). Zero means the system's choice.
	Source netip.Addr
	// Watching makes the check also a watcher: it holds one idle
	// connection to each endpoint and raises a suspicion the moment that
	// connection dies, for failover in milliseconds (see Watcher). It
	// costs one idle connection per endpoint.
	Watching bool

	certs certexpiry.Seen
}

// Watch holds an idle connection to target's Port when Watching is set,
// and notices when it dies; otherwise it returns at once.
func (c *TCP) Watch(ctx context.Context, target string, notice func(error)) {
	if c.Watching && c.Port > 0 {
		watchConn(ctx, c.Source, net.JoinHostPort(target, strconv.Itoa(c.Port)), notice)
	}
}

// Validate reports a missing or out-of-range Port, a negative
// MaxReplyBytes, an Expect longer than MaxReplyBytes (it could never be
// read whole), a Host that is not a host name or address or is set
// without TLS (it is only the TLS server name), TLS settings that no
// handshake could meet, and a Source that is unspecified or multicast.
func (c *TCP) Validate() error {
	p := problems{kind: "tcp"}
	p.port(c.Port, true)
	p.source(c.Source)
	limit := c.MaxReplyBytes
	switch {
	case limit < 0:
		p.add("MaxReplyBytes", "%d is negative", limit)
	case limit == 0:
		limit = DefaultMaxReplyBytes
	}
	if limit > 0 && len(c.Expect) > limit {
		p.add("Expect", "%d bytes, more than the %d bytes of the reply read (MaxReplyBytes)", len(c.Expect), limit)
	}
	p.host("Host", c.Host)
	if c.Host != "" && c.TLS == nil {
		p.add("Host", "set without TLS: it is the TLS server name, and the check connects to the target")
	}
	if c.TLS != nil {
		p.tls("TLS", c.TLS)
	}
	return p.err()
}

// Check connects to target and reports why it is not healthy.
func (c *TCP) Check(ctx context.Context, target string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	addr := net.JoinHostPort(target, strconv.Itoa(c.Port))
	start := time.Now()
	conn, err := dialTCP(ctx, c.Source, addr, c.TLS, c.Host, target, &c.certs)
	if err != nil {
		return fmt.Errorf("tcp %s: %w", addr, err)
	}
	defer conn.Close()
	if err := c.exchange(ctx, conn); err != nil {
		return fmt.Errorf("tcp %s: %w after %v", addr, err, time.Since(start).Round(time.Microsecond))
	}
	return nil
}

// exchange sends Send and reads until the reply meets the expectations.
func (c *TCP) exchange(ctx context.Context, conn net.Conn) error {
	if c.Send == "" && c.Expect == "" && c.ExpectMatches == nil {
		return nil
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	if c.Send != "" {
		if _, err := io.WriteString(conn, c.Send); err != nil {
			return fmt.Errorf("sending: %w", ctxErr(ctx, err))
		}
	}
	if c.Expect == "" && c.ExpectMatches == nil {
		return nil
	}
	limit := c.MaxReplyBytes
	if limit <= 0 {
		limit = DefaultMaxReplyBytes
	}
	var reply []byte
	buf := make([]byte, 512)
	for {
		n, err := conn.Read(buf[:min(len(buf), limit-len(reply))])
		reply = append(reply, buf[:n]...)
		if (c.Expect == "" || bytes.Contains(reply, []byte(c.Expect))) && (c.ExpectMatches == nil || c.ExpectMatches.Match(reply)) {
			return nil
		}
		switch {
		case len(reply) >= limit:
			return fmt.Errorf("reply %q (%d bytes read) does not meet %s", shorten(reply), len(reply), c.expectation())
		case errors.Is(err, io.EOF):
			return fmt.Errorf("connection closed; reply %q does not meet %s", shorten(reply), c.expectation())
		case err != nil:
			return fmt.Errorf("waiting for %s, got %q: %w", c.expectation(), shorten(reply), ctxErr(ctx, err))
		}
	}
}

func (c *TCP) expectation() string {
	switch {
	case c.Expect != "" && c.ExpectMatches != nil:
		return fmt.Sprintf("%q and /%s/", c.Expect, c.ExpectMatches)
	case c.Expect != "":
		return fmt.Sprintf("%q", c.Expect)
	}
	return fmt.Sprintf("/%s/", c.ExpectMatches)
}

// dialTCP connects to addr from source (zero: the system's choice) before
// ctx's deadline, with a verified TLS handshake when opts is set (server
// name: host, or target), whose certificate it records in seen.
func dialTCP(ctx context.Context, source netip.Addr, addr string, opts *TLSOptions, host, target string, seen *certexpiry.Seen) (net.Conn, error) {
	start := time.Now()
	d := net.Dialer{LocalAddr: localAddr(source)}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect: %w after %v", unwrapOp(err), time.Since(start).Round(time.Microsecond))
	}
	if opts == nil {
		return conn, nil
	}
	if host == "" {
		host = target
	}
	tconn := tls.Client(conn, opts.config(host))
	if err := tconn.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w after %v", host, err, time.Since(start).Round(time.Microsecond))
	}
	seen.Record(target, tconn.ConnectionState())
	if err := opts.checkExpiry(tconn.ConnectionState(), time.Now()); err != nil {
		tconn.Close()
		return nil, err
	}
	return tconn, nil
}

// unwrapOp drops the "dial tcp ADDR:" prefix of a net.OpError, whose
// address the caller's message already gives.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// ctxErr returns ctx's error when err comes from ctx ending: the
// connection's deadline is ctx's, so a timeout is ctx's deadline.
func ctxErr(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, os.ErrDeadlineExceeded):
		return context.DeadlineExceeded
	}
	return err
}

// shorten keeps a reply short enough for an error message.
func shorten(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}
