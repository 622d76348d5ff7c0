// Package grpccheck checks endpoints with the standard gRPC health
// protocol (grpc.health.v1.Health/Check). It is a package of its own so
// that importing the failover package does not compile gRPC.
package grpccheck

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// Check asks the target's gRPC health service whether Service is serving.
// It is healthy only when the answer is SERVING. Each check uses a new
// connection, closed before it returns. Port is required. A Check
// satisfies failover.Checker and is safe for concurrent use.
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
}

// Check asks target and reports why it is not healthy.
func (c *Check) Check(ctx context.Context, target string) error {
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("grpc health check: Port %d is not 1-65535", c.Port)
	}
	addr := net.JoinHostPort(target, strconv.Itoa(c.Port))
	what := fmt.Sprintf("grpc health %s service %q", addr, c.Service)
	conn, err := c.dial(addr, target)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer conn.Close()

	start := time.Now()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: c.Service}, grpc.WaitForReady(false))
	if err != nil {
		s := status.Convert(err)
		switch s.Code() {
		case codes.NotFound:
			return fmt.Errorf("%s: service unknown to the server (NotFound)", what)
		case codes.DeadlineExceeded, codes.Canceled:
			return fmt.Errorf("%s: %s after %v: %w", what, s.Code(), time.Since(start).Round(time.Millisecond), ctx.Err())
		}
		return fmt.Errorf("%s: %s: %s", what, s.Code(), s.Message())
	}
	if st := resp.GetStatus(); st != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("%s: %s", what, st)
	}
	return nil
}

// dial returns a client connection to addr with the check's credentials.
func (c *Check) dial(addr, target string) (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if c.TLS != nil {
		cfg := c.TLS.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = c.Host
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
// serving; it reconnects with backoff until ctx ends. Without Watching it
// returns at once.
func (c *Check) Watch(ctx context.Context, target string, notice func(error)) {
	if !c.Watching || c.Port < 1 || c.Port > 65535 {
		return
	}
	addr := net.JoinHostPort(target, strconv.Itoa(c.Port))
	what := fmt.Sprintf("grpc health watch %s service %q", addr, c.Service)
	const minBackoff, maxBackoff = 50 * time.Millisecond, 5 * time.Second
	backoff, serving := minBackoff, false
	for ctx.Err() == nil {
		err := c.watchOnce(ctx, addr, target, func(st healthpb.HealthCheckResponse_ServingStatus) {
			switch {
			case st == healthpb.HealthCheckResponse_SERVING:
				serving, backoff = true, minBackoff
			case serving:
				serving = false
				notice(fmt.Errorf("%s: %s", what, st))
			}
		})
		if ctx.Err() != nil {
			return
		}
		if serving {
			serving = false
			notice(fmt.Errorf("%s: stream broken: %v", what, err))
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
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
