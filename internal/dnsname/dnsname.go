// Package dnsname checks the DNS names and host names users write in a
// configuration: record and zone names, CNAME targets, the Host of a
// check. The errors quote the name (shortened) and say what is wrong.
package dnsname

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// MaxName is the longest name in presentation form without its trailing
// dot (RFC 1035's 255 octets on the wire), and MaxLabel the longest label.
const (
	MaxName  = 253
	MaxLabel = 63
)

// Check reports whether name, without its trailing dot, is a host name:
// 1 to MaxName characters, labels of 1 to MaxLabel letters, digits,
// hyphens and underscores, none starting or ending with a hyphen. With
// wildcard set, the first label may also be "*" (a wildcard record).
func Check(name string, wildcard bool) error {
	if name == "" {
		return fmt.Errorf("empty host name")
	}
	if len(name) > MaxName {
		return fmt.Errorf("%q is not a valid host name: %d characters, more than %d", Quote(name), len(name), MaxName)
	}
	for i, label := range strings.Split(name, ".") {
		if label == "" || len(label) > MaxLabel {
			return fmt.Errorf("%q is not a valid host name: label %q must have 1 to %d characters", Quote(name), Quote(label), MaxLabel)
		}
		if label == "*" && wildcard && i == 0 {
			continue
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("%q is not a valid host name: label %q starts or ends with a hyphen", Quote(name), label)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("%q is not a valid host name: %q is not allowed", Quote(name), c)
			}
		}
	}
	return nil
}

// CheckHost reports whether h is an IP address or a host name, with an
// optional trailing dot.
func CheckHost(h string) error {
	if _, err := netip.ParseAddr(h); err == nil {
		return nil
	}
	return Check(strings.TrimSuffix(h, "."), false)
}

// CheckHostPort reports whether h is a host with an optional port, as an
// HTTP Host header or a gRPC authority holds it: "www.example.com",
// "www.example.com:8443", "[2001:db8::1]:8443".
func CheckHostPort(h string) error {
	host := h
	if hp, port, err := net.SplitHostPort(h); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: port %q is not 1-65535", Quote(h), Quote(port))
		}
		host = hp
	} else if ip, err := netip.ParseAddr(h); err == nil && ip.Is6() {
		return fmt.Errorf("%q is an IPv6 address: write it in brackets, [%s]", h, h)
	} else if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		host = h[1 : len(h)-1]
		if ip, err := netip.ParseAddr(host); err != nil || !ip.Is6() {
			return fmt.Errorf("%q: brackets are for an IPv6 address", Quote(h))
		}
	}
	return CheckHost(host)
}

// Quote shortens s to at most 64 bytes for an error message, so that a
// huge input is not echoed back whole.
func Quote(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
