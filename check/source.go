package check

import (
	"net"
	"net/netip"
)

// localAddr is the local address a dialer binds for a check's Source:
// none (the system's choice) when source is zero. The port is left to the
// system.
func localAddr(source netip.Addr) net.Addr {
	if !source.IsValid() {
		return nil
	}
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(source, 0))
}

// source reports a Source that no connection could be made from.
func (p *problems) source(source netip.Addr) {
	if source.IsValid() && (source.IsUnspecified() || source.IsMulticast()) {
		p.add("Source", "%v is not an address of this host to connect from", source)
	}
}
