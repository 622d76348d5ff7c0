// Package authdns is a small authoritative DNS server for one zone that
// answers from any libdns.RecordGetter, reading the records on every query
// so that it always shows the current state. The demo serves the in-memory
// provider's zone with it, so that dig shows failover as it happens; tests
// use it to see what a real DNS client sees.
package authdns

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// Server answers for one zone on UDP and TCP on the same loopback port.
type Server struct {
	zone string
	src  libdns.RecordGetter
	addr string
	udp  *dns.Server
	tcp  *dns.Server
	wg   sync.WaitGroup
}

// Start listens on addr ("127.0.0.1:0" for a free port) with both UDP and
// TCP on the same port, starts answering for zone (an FQDN with its
// trailing dot) from src, and returns once both listeners are ready.
func Start(addr, zone string, src libdns.RecordGetter) (*Server, error) {
	if !strings.HasSuffix(zone, ".") {
		return nil, fmt.Errorf("authdns: zone %q must end with a dot", zone)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("authdns: address %q: %w", addr, err)
	}
	var pc net.PacketConn
	var ln net.Listener
	for range 10 { // with port 0, the free UDP port may be taken on TCP: try another
		pc, err = net.ListenPacket("udp", net.JoinHostPort(host, port))
		if err != nil {
			return nil, fmt.Errorf("authdns: listening on %s/udp: %w", addr, err)
		}
		udpPort := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
		ln, err = net.Listen("tcp", net.JoinHostPort(host, udpPort))
		if err == nil {
			break
		}
		pc.Close()
		if port != "0" {
			return nil, fmt.Errorf("authdns: listening on %s/tcp: %w", addr, err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("authdns: no port free on both UDP and TCP on %s: %w", host, err)
	}
	s := &Server{zone: dns.Fqdn(strings.ToLower(zone)), src: src, addr: ln.Addr().String()}
	s.udp = &dns.Server{PacketConn: pc, Handler: s}
	s.tcp = &dns.Server{Listener: ln, Handler: s}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		s.wg.Go(func() { _ = srv.ActivateAndServe() })
		<-started
	}
	return s, nil
}

// Addr returns the address the server answers on, "127.0.0.1:PORT", the
// same for UDP and TCP.
func (s *Server) Addr() string { return s.addr }

// Close stops both listeners and waits until the server has stopped.
func (s *Server) Close() error {
	err := errors.Join(s.udp.Shutdown(), s.tcp.Shutdown())
	s.wg.Wait()
	return err
}

// ServeDNS answers one query.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	resp := s.answer(req)
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = max(int(opt.UDPSize()), dns.MinMsgSize)
		}
		resp.Truncate(size)
	}
	_ = w.WriteMsg(resp)
}
