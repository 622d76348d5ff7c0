package check

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// ICMP sends ICMP echo requests (ping) to the target and is healthy
// when at most MaxLost of Count go unanswered before the check's deadline.
//
// It uses an unprivileged datagram socket where the kernel allows one
// (Linux: the process's group is within the net.ipv4.ping_group_range
// sysctl) and a raw socket otherwise, which needs root or CAP_NET_RAW; when
// neither can be opened its error says so. The zero value sends 3 requests
// 50 ms apart and tolerates no loss. An ICMP is safe for concurrent
// use.
type ICMP struct {
	// Count is how many echo requests each check sends. Zero means 3.
	Count int
	// MaxLost is how many may go unanswered. Zero means none.
	MaxLost int
	// Interval between two requests. Zero means 50 ms.
	Interval time.Duration
}

// icmpSocket is one way to open an ICMP socket.
type icmpSocket struct {
	network, addr string
	raw           bool
}

var (
	icmpSockets4 = []icmpSocket{{"udp4", "0.0.0.0", false}, {"ip4:icmp", "0.0.0.0", true}}
	icmpSockets6 = []icmpSocket{{"udp6", "::", false}, {"ip6:ipv6-icmp", "::", true}}
)

// Validate reports a negative Count or MaxLost, a MaxLost that would make
// every check healthy (not below the count), and an Interval that is
// negative or, below 1 ms, surely a units mistake.
func (c *ICMP) Validate() error {
	p := problems{kind: "icmp"}
	count := c.Count
	switch {
	case count < 0:
		p.add("Count", "%d is negative", count)
	case count == 0:
		count = 3
	}
	switch {
	case c.MaxLost < 0:
		p.add("MaxLost", "%d is negative", c.MaxLost)
	case count > 0 && c.MaxLost >= count:
		p.add("MaxLost", "%d of %d requests may be lost: every check would pass", c.MaxLost, count)
	}
	switch {
	case c.Interval < 0:
		p.add("Interval", "negative duration %v", c.Interval)
	case c.Interval > 0 && c.Interval < minInterval:
		p.add("Interval", "%v is below %v: a units mistake?", c.Interval, minInterval)
	}
	return p.err()
}

// Check pings target and reports why it is not healthy.
func (c *ICMP) Check(ctx context.Context, target string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	ip, err := resolveIP(ctx, target)
	if err != nil {
		return fmt.Errorf("icmp %s: %w", target, err)
	}
	sockets, proto, echo, reply := icmpSockets4, 1, icmp.Type(ipv4.ICMPTypeEcho), icmp.Type(ipv4.ICMPTypeEchoReply)
	if ip.Is6() {
		sockets, proto, echo, reply = icmpSockets6, 58, ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply
	}
	conn, raw, err := openICMP(sockets)
	if err != nil {
		return fmt.Errorf("icmp %s: %w", target, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	count, interval := c.Count, c.Interval
	if count <= 0 {
		count = 3
	}
	if interval <= 0 {
		interval = 50 * time.Millisecond
	}
	var dst net.Addr = &net.UDPAddr{IP: ip.AsSlice()}
	if raw {
		dst = &net.IPAddr{IP: ip.AsSlice()}
	}
	token := make([]byte, 16) // tells our replies from other checks' on a raw socket
	rand.Read(token)
	id := int(token[0])<<8 | int(token[1])

	answered := map[int]bool{}
	buf := make([]byte, 1500)
	// await reads replies until every request sent so far is answered or
	// until is reached; other errors end the check.
	await := func(sent int, until time.Time) error {
		conn.SetReadDeadline(until)
		for len(answered) < sent {
			n, peer, err := conn.ReadFrom(buf)
			if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
				return nil
			}
			if err != nil {
				return ctxErr(ctx, unwrapOp(err))
			}
			m, err := icmp.ParseMessage(proto, buf[:n])
			if err != nil || m.Type != reply || !samePeer(peer, ip) {
				continue
			}
			if e, ok := m.Body.(*icmp.Echo); ok && bytes.Equal(e.Data, token) && (!raw || e.ID == id) && e.Seq >= 1 && e.Seq <= sent {
				answered[e.Seq] = true
			}
		}
		return nil
	}

	start := time.Now()
	last := start.Add(time.Duration(count)*interval + time.Second) // when ctx has no deadline
	if d, ok := ctx.Deadline(); ok {
		last = d
	}
	err = nil
	for seq := 1; seq <= count && err == nil; seq++ {
		msg := icmp.Message{Type: echo, Body: &icmp.Echo{ID: id, Seq: seq, Data: token}}
		wire, _ := msg.Marshal(nil)
		if _, werr := conn.WriteTo(wire, dst); werr != nil {
			return fmt.Errorf("icmp %s: sending: %w", target, ctxErr(ctx, unwrapOp(werr)))
		}
		until := time.Now().Add(interval)
		if seq == count {
			until = last
		}
		err = await(seq, until)
	}
	if lost := count - len(answered); lost > c.MaxLost {
		reason := ""
		if err != nil {
			reason = ": " + err.Error()
		}
		return fmt.Errorf("icmp %s: %d of %d echo requests lost after %v (at most %d may be)%s", target, lost, count, time.Since(start).Round(time.Millisecond), c.MaxLost, reason)
	}
	return nil
}

// openICMP opens the first socket of sockets that the system allows, and
// otherwise says what is missing.
func openICMP(sockets []icmpSocket) (*icmp.PacketConn, bool, error) {
	var errs []error
	for _, s := range sockets {
		conn, err := icmp.ListenPacket(s.network, s.addr)
		if err == nil {
			return conn, s.raw, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", s.network, err))
	}
	return nil, false, fmt.Errorf("no ICMP socket: unprivileged ping needs the process's group in the sysctl net.ipv4.ping_group_range, raw sockets need root or CAP_NET_RAW: %w", errors.Join(errs...))
}

// resolveIP returns target as an IP address, looking it up if it is a name.
func resolveIP(ctx context.Context, target string) (netip.Addr, error) {
	if ip, err := netip.ParseAddr(target); err == nil {
		return ip.Unmap(), nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", target)
	if err != nil {
		return netip.Addr{}, err
	}
	return ips[0].Unmap(), nil
}

// samePeer reports whether a reply came from ip.
func samePeer(peer net.Addr, ip netip.Addr) bool {
	var got net.IP
	switch p := peer.(type) {
	case *net.UDPAddr:
		got = p.IP
	case *net.IPAddr:
		got = p.IP
	}
	a, ok := netip.AddrFromSlice(got)
	return ok && a.Unmap() == ip
}
