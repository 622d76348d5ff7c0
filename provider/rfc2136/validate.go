package rfc2136

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"

	"github.com/dnsfailover/failover/internal/dnsname"
	"github.com/miekg/dns"
)

// FieldError is one field of a Provider that no server could accept, as
// Validate reports it. Field is the Provider's field name ("Server",
// "KeyName", "KeyAlg", "Key", "MaxMessageSize"), so that a caller that
// read the Provider from a file can say where the mistake is.
type FieldError struct {
	Field string
	Msg   string
}

// Error is "rfc2136: FIELD: message".
func (e *FieldError) Error() string { return "rfc2136: " + e.Field + ": " + e.Msg }

// keyAlgs are the TSIG algorithms the signing code supports, as KeyAlg may
// name them (any case, with or without the trailing dot).
var keyAlgs = []string{dns.HmacSHA256, dns.HmacSHA512, dns.HmacSHA384, dns.HmacSHA224, dns.HmacSHA1}

// minMessageSize is the smallest MaxMessageSize accepted: every DNS server
// handles a message of 512 bytes, and a smaller bound leaves little room
// beside the header and the TSIG record.
const minMessageSize = 512

// Validate reports, as one *FieldError per field joined with
// errors.Join, each field with which every read and write would fail: a
// Server that is not host:port (a port is required: the provider does not
// assume 53), an empty KeyName or one that is not a domain name, a KeyAlg
// that is not one of hmac-sha256, hmac-sha512, hmac-sha384, hmac-sha224 or
// hmac-sha1, an empty Key or one that is not base64, and a MaxMessageSize
// other than zero or 512 to 65,535. It returns nil for a usable Provider.
// Its errors never show the Key. It does not contact the server; it is
// safe to call concurrently with the Provider's other methods.
func (p *Provider) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if msg := serverProblem(p.Server); msg != "" {
		add("Server", "%s", msg)
	}
	if p.KeyName == "" {
		add("KeyName", "empty: want the TSIG key's name")
	} else if _, ok := dns.IsDomainName(p.KeyName); !ok {
		add("KeyName", "%q is not a domain name", dnsname.Quote(p.KeyName))
	}
	if !slices.Contains(keyAlgs, p.keyAlg()) {
		add("KeyAlg", "unknown TSIG algorithm %q; want hmac-sha256 (the default), hmac-sha512, hmac-sha384, hmac-sha224 or hmac-sha1", dnsname.Quote(p.KeyAlg))
	}
	if p.Key == "" {
		add("Key", "empty: want the TSIG key's secret, in base64")
	} else if _, err := base64.StdEncoding.DecodeString(p.Key); err != nil {
		add("Key", "not base64, as BIND's tsig-keygen and Knot's keymgr write it (the secret is not shown)")
	}
	if s := p.MaxMessageSize; s != 0 && (s < minMessageSize || s > dns.MaxMsgSize) {
		add("MaxMessageSize", "%d: want 0 (65,535) or %d to %d bytes", s, minMessageSize, dns.MaxMsgSize)
	}
	return errors.Join(errs...)
}

// serverProblem says what is wrong with a Server address, or "".
func serverProblem(server string) string {
	if server == "" {
		return "empty: want the primary's host:port, such as 192.0.2.53:53"
	}
	host, port, err := net.SplitHostPort(server)
	if err != nil {
		return fmt.Sprintf("%q is not host:port (the port is required), such as 192.0.2.53:53 or [2001:db8::53]:53", dnsname.Quote(server))
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("%q: port %q is not 1-65535", dnsname.Quote(server), dnsname.Quote(port))
	}
	if host == "" {
		return fmt.Sprintf("%q has no host", dnsname.Quote(server))
	}
	if err := dnsname.CheckHost(host); err != nil {
		return fmt.Sprintf("%q: %v", dnsname.Quote(server), err)
	}
	return ""
}
