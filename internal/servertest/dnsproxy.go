package servertest

import (
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// DNSProxy forwards DNS messages, over UDP and TCP, to one upstream server
// (a BIND, say) and counts the UPDATE messages (RFC 2136) each client
// sends, so that a test can assert which of several writers wrote, and
// when: "the old leader wrote nothing after resuming". Each client is
// given its own listening address by Listen; the messages are forwarded
// byte for byte, so TSIG signatures and zone transfers pass unchanged.
type DNSProxy struct {
	upstream string
	t        testing.TB

	mu      sync.Mutex
	updates map[string][]time.Time // by client, when each UPDATE arrived
	wg      sync.WaitGroup
	closers []io.Closer
}

// StartDNSProxy returns a proxy to upstream (host:port), closed when the
// test ends.
func StartDNSProxy(t testing.TB, upstream string) *DNSProxy {
	p := &DNSProxy{upstream: upstream, t: t, updates: map[string][]time.Time{}}
	t.Cleanup(p.close)
	return p
}

// Listen opens an address on 127.0.0.1 (one port, UDP and TCP) whose
// messages are counted as client's, and returns it as host:port.
func (p *DNSProxy) Listen(client string) string {
	p.t.Helper()
	port := freePort(p.t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		pc.Close()
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.closers = append(p.closers, pc, ln)
	p.mu.Unlock()
	p.wg.Go(func() { p.serveUDP(client, pc) })
	p.wg.Go(func() { p.serveTCP(client, ln) })
	return addr
}

// Updates returns how many UPDATE messages client has sent so far.
func (p *DNSProxy) Updates(client string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.updates[client])
}

// UpdatesSince returns how many UPDATE messages client sent at t or
// later.
func (p *DNSProxy) UpdatesSince(client string, t time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, at := range p.updates[client] {
		if !at.Before(t) {
			n++
		}
	}
	return n
}

// TotalUpdates returns how many UPDATE messages every client has sent.
func (p *DNSProxy) TotalUpdates() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, u := range p.updates {
		n += len(u)
	}
	return n
}

// observe counts msg if it is an UPDATE (opcode 5 in the header).
func (p *DNSProxy) observe(client string, msg []byte) {
	if len(msg) < 12 || (msg[2]>>3)&0xF != 5 || msg[2]&0x80 != 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.updates[client] = append(p.updates[client], time.Now())
}

// serveUDP forwards each datagram to the upstream from a socket of its
// own, and the reply back.
func (p *DNSProxy) serveUDP(client string, pc net.PacketConn) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		buf := make([]byte, 65535)
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		msg := buf[:n]
		p.observe(client, msg)
		wg.Go(func() {
			up, err := net.Dial("udp", p.upstream)
			if err != nil {
				return
			}
			defer up.Close()
			up.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := up.Write(msg); err != nil {
				return
			}
			reply := make([]byte, 65535)
			if n, err := up.Read(reply); err == nil {
				pc.WriteTo(reply[:n], from)
			}
		})
	}
}

// serveTCP forwards each connection to a connection of its own to the
// upstream: replies are copied as they come (a zone transfer is several
// messages), requests message by message, each counted.
func (p *DNSProxy) serveTCP(client string, ln net.Listener) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		wg.Go(func() {
			defer c.Close()
			up, err := net.Dial("tcp", p.upstream)
			if err != nil {
				return
			}
			defer up.Close()
			p.track(c, up)
			var copies sync.WaitGroup
			copies.Go(func() {
				io.Copy(c, up)
				c.Close()
			})
			for {
				var size [2]byte
				if _, err := io.ReadFull(c, size[:]); err != nil {
					break
				}
				msg := make([]byte, binary.BigEndian.Uint16(size[:]))
				if _, err := io.ReadFull(c, msg); err != nil {
					break
				}
				p.observe(client, msg)
				if _, err := up.Write(append(size[:], msg...)); err != nil {
					break
				}
			}
			up.Close()
			copies.Wait()
		})
	}
}

// track has close close conns too.
func (p *DNSProxy) track(conns ...io.Closer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closers = append(p.closers, conns...)
}

// close stops every listener and connection and waits for the forwarding
// to end.
func (p *DNSProxy) close() {
	p.mu.Lock()
	for _, c := range p.closers {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
