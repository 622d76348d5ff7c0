// Package authdns is a small authoritative DNS server for one zone that
// answers from any libdns.RecordGetter, reading the records on every query
// so that it always shows the current state. The demo serves the in-memory
// provider's zone with it, so that dig shows failover as it happens; tests
// use it to see what a real DNS client sees.
//
// It answers like an authoritative server: AA set, the whole RRset for a
// name and type, CNAME chains followed inside the zone, NODATA and NXDOMAIN
// with the zone's SOA (or a synthesized one) in the authority section,
// REFUSED for names outside the zone, SERVFAIL when the records cannot be
// read, and TC over UDP when an answer does not fit the client's buffer.
// It has no wildcards, delegations, DNSSEC or zone transfers.
package authdns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// portAttempts bounds how many free UDP ports Start tries when the port
// is 0 and the same port is taken on TCP.
const portAttempts = 10

// Server answers for one zone on UDP and TCP on the same loopback port.
type Server struct {
	zone  string // as given to Start, passed to GetRecords
	apex  string // zone in lower case, for comparisons
	src   libdns.RecordGetter
	addr  string
	udp   *dns.Server
	tcp   *dns.Server
	wg    sync.WaitGroup
	ctx   context.Context // cancelled by Close, ending lookups in flight
	stop  context.CancelFunc
	close sync.Once
	err   error // of the first Close
}

// Start listens on addr (for example "127.0.0.1:0" for a free port, or
// "127.0.0.1:5353") on both UDP and TCP, on the same port, starts answering
// for zone (an FQDN with its trailing dot) from src, and returns once both
// listeners are ready. Errors name the address.
func Start(addr, zone string, src libdns.RecordGetter) (*Server, error) {
	if _, ok := dns.IsDomainName(zone); !ok || !strings.HasSuffix(zone, ".") {
		return nil, fmt.Errorf("authdns: serving on %s: zone %q is not a fully qualified name with a trailing dot", addr, zone)
	}
	if src == nil {
		return nil, fmt.Errorf("authdns: serving on %s: no RecordGetter", addr)
	}
	pc, ln, err := listen(addr)
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{
		zone: zone, apex: strings.ToLower(zone), src: src, addr: ln.Addr().String(),
		ctx: ctx, stop: stop,
	}
	s.udp = &dns.Server{PacketConn: pc, Handler: s}
	s.tcp = &dns.Server{Listener: ln, Handler: s}
	if err := s.serve(s.udp); err != nil {
		stop()
		pc.Close()
		ln.Close()
		s.wg.Wait()
		return nil, fmt.Errorf("authdns: serving on %s/udp: %w", s.addr, err)
	}
	if err := s.serve(s.tcp); err != nil {
		stop()
		_ = s.udp.Shutdown()
		ln.Close()
		s.wg.Wait()
		return nil, fmt.Errorf("authdns: serving on %s/tcp: %w", s.addr, err)
	}
	return s, nil
}

// listen opens a UDP socket and a TCP listener on the same port of addr.
// With port 0 it takes a free UDP port and binds TCP to it, trying another
// port when that one is taken on TCP.
func listen(addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("authdns: address %q: %w", addr, err)
	}
	for range portAttempts {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("authdns: listening on %s/udp: %w", addr, err)
		}
		udpPort := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
		ln, err := net.Listen("tcp", net.JoinHostPort(host, udpPort))
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		if port != "0" {
			return nil, nil, fmt.Errorf("authdns: listening on %s/tcp: %w", addr, err)
		}
	}
	return nil, nil, fmt.Errorf("authdns: listening on %s: no free port on both UDP and TCP after %d attempts", addr, portAttempts)
}

// serve starts srv in a goroutine and returns once it is listening, or
// with its error if it stopped before.
func (s *Server) serve(srv *dns.Server) error {
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	failed := make(chan error, 1)
	s.wg.Go(func() {
		if err := srv.ActivateAndServe(); err != nil {
			failed <- err
		}
	})
	select {
	case <-started:
		return nil
	case err := <-failed:
		return err
	}
}

// Addr returns the address the server answers on, "127.0.0.1:PORT", the
// same for UDP and TCP.
func (s *Server) Addr() string { return s.addr }

// Close stops both listeners, ends lookups in flight and waits until the
// serving goroutines have returned. Later calls return the first result.
func (s *Server) Close() error {
	s.close.Do(func() {
		s.stop()
		s.err = errors.Join(s.udp.Shutdown(), s.tcp.Shutdown())
		s.wg.Wait()
	})
	return s.err
}

// ServeDNS answers one query; it implements dns.Handler. Over UDP the
// answer is truncated, with TC set, to the client's EDNS0 buffer size
// (512 bytes without EDNS0), so that the client retries over TCP.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	resp := s.answer(s.ctx, req)
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = max(int(opt.UDPSize()), dns.MinMsgSize)
		}
		resp.Truncate(size)
	}
	_ = w.WriteMsg(resp)
}
