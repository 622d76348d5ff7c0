package grpccheck

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/dnsfailover/failover/internal/certexpiry"
	"github.com/dnsfailover/failover/internal/dnsname"
	"github.com/dnsfailover/failover/internal/reconnect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Check asks the target's gRPC health service whether Service is serving.
// It is healthy only when the answer is SERVING. Each check uses a new
// connection, closed before it returns. Port is required. A Check
// satisfies failover.Checker and is safe for concurrent use; it must not
// be copied once used.
type Check struct {
	// Port of the gRPC server (1–65535).
	Port int
	// Service is the name asked about; empty means the server as a whole.
	Service string
	// TLS, when set, makes the connection TLS; its ServerName defaults to
	// Host, or the target. Nil means plaintext.
	TLS *tls.Config
	// Host is sent as the :authority and is the TLS server name. Empty
	// means the target.
	Host string
	// Watching makes the check also a failover.Watcher: it keeps a
	// Health/Watch stream open to each endpoint and raises a suspicion
	// the moment the stream reports anything but SERVING or breaks. It
	// costs one connection per endpoint.
	Watching bool

	certs certexpiry.Seen
}

// Validate reports a missing or out-of-range Port and a Host that is not
// a host name or address (with an optional port).
func (c *Check) Validate() error {
	var errs []error
	switch {
	case c.Port == 0:
		errs = append(errs, errors.New("grpc health check: Port: required (1-65535)"))
	case c.Port < 0 || c.Port > 65535:
		errs = append(errs, fmt.Errorf("grpc health check: Port: %d is not 1-65535", c.Port))
	}
	if c.Host != "" {
		if err := dnsname.CheckHostPort(c.Host); err != nil {
			errs = append(errs, fmt.Errorf("grpc health check: Host: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Check asks target and reports why it is not healthy.
func (c *Check) Check(ctx context.Context, target string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	addr := net.JoinHostPort(target, strconv.Itoa(c.Port))
	what := fmt.Sprintf("grpc health %s service %q", addr, c.Service)
	conn, err := c.dial(addr, target)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer conn.Close()

	start := time.Now()
	var p peer.Peer
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: c.Service}, grpc.Peer(&p))
	if info, ok := p.AuthInfo.(credentials.TLSInfo); ok { // the handshake completed, whatever the answer
		c.certs.Record(target, info.State)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, rpcError(ctx, err, time.Since(start)))
	}
	if st := resp.GetStatus(); st != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("%s: %s", what, st)
	}
	return nil
}

// CertificateExpiry returns when the certificate target presented in the
// last completed TLS handshake of a check expires (the leaf's NotAfter),
// also when that check then failed, and false before any (or without
// TLS). A handshake that fails leaves the last value. The Manager reports
// it in its Status (see failover.Checker). Watch streams are not counted.
func (c *Check) CertificateExpiry(target string) (notAfter time.Time, ok bool) {
	return c.certs.Get(target)
}

// rpcError says why the health RPC failed, in fewer words than gRPC's
// status message. A failure because ctx ended wraps ctx.Err().
func rpcError(ctx context.Context, err error, took time.Duration) error {
	s := status.Convert(err)
	ms := took.Milliseconds()
	switch s.Code() {
	case codes.NotFound:
		return errors.New("service unknown (NotFound)")
	case codes.DeadlineExceeded, codes.Canceled:
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%w after %d ms", ctxErr, ms)
		}
		if s.Code() == codes.Canceled {
			return fmt.Errorf("canceled after %d ms: %s", ms, s.Message())
		}
		return fmt.Errorf("deadline exceeded after %d ms: %s", ms, s.Message())
	case codes.Unavailable:
		return fmt.Errorf("unavailable: %s", transportCause(s.Message()))
	case codes.Unimplemented:
		return fmt.Errorf("no health service (Unimplemented): %s", s.Message())
	}
	return fmt.Errorf("%s: %s", s.Code(), s.Message())
}

// transportCause strips the layers gRPC wraps around a connection failure:
//
//	connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:1: connect: connection refused"
//
// becomes "connection refused", and
//
//	connection error: desc = "transport: authentication handshake failed: tls: ..."
//
// becomes "authentication handshake failed: tls: ...".
func transportCause(msg string) string {
	if rest, ok := strings.CutPrefix(msg, `connection error: desc = "`); ok {
		msg = strings.TrimSuffix(rest, `"`)
	}
	msg = strings.TrimPrefix(msg, "transport: ")
	if rest, ok := strings.CutPrefix(msg, "Error while dialing: "); ok {
		msg = rest
		// "dial tcp ADDR: connect: connection refused" -> "connection refused"
		if strings.HasPrefix(msg, "dial ") {
			if i := strings.Index(msg, ": connect: "); i >= 0 {
				msg = msg[i+len(": connect: "):]
			}
		}
	}
	return msg
}

// dial returns a client connection to addr with the check's credentials.
func (c *Check) dial(addr, target string) (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if c.TLS != nil {
		cfg := c.TLS.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = c.Host
			if h, _, err := net.SplitHostPort(c.Host); err == nil {
				cfg.ServerName = h
			}
		}
		if cfg.ServerName == "" {
			cfg.ServerName = target
		}
		creds = credentials.NewTLS(cfg)
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds)}
	if c.Host != "" {
		opts = append(opts, grpc.WithAuthority(c.Host))
	}
	return grpc.NewClient("passthrough:///"+addr, opts...)
}

// Watch keeps a Health/Watch stream open to target when Watching is set,
// and notices when it reports anything but SERVING, or breaks after it was
// serving; it opens a new stream after 50 ms, waiting twice as long (up to
// 5 s) after each attempt in a row that never reached SERVING, until ctx
// ends. Without Watching it returns at once.
func (c *Check) Watch(ctx context.Context, target string, notice func(error)) {
	if !c.Watching || c.Validate() != nil {
		return
	}
	addr := net.JoinHostPort(target, strconv.Itoa(c.Port))
	what := fmt.Sprintf("grpc health watch %s service %q", addr, c.Service)
	serving := false // the last stream reported SERVING: its end is news
	reconnect.Loop(ctx, func() bool {
		up := false
		err := c.watchOnce(ctx, addr, target, func(st healthpb.HealthCheckResponse_ServingStatus) {
			switch {
			case st == healthpb.HealthCheckResponse_SERVING:
				serving, up = true, true
			case serving:
				serving = false
				notice(fmt.Errorf("%s: %s", what, st))
			}
		})
		if serving && ctx.Err() == nil {
			serving = false
			notice(fmt.Errorf("%s: stream broken: %v", what, err))
		}
		return up
	})
}

// watchOnce runs one Watch stream, reporting each status, until it ends.
func (c *Check) watchOnce(ctx context.Context, addr, target string, status func(healthpb.HealthCheckResponse_ServingStatus)) error {
	conn, err := c.dial(addr, target)
	if err != nil {
		return err
	}
	defer conn.Close()
	stream, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{Service: c.Service})
	if err != nil {
		return err
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return err
		}
		status(resp.GetStatus())
	}
}
