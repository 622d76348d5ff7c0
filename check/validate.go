package check

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/dnsfailover/failover/internal/dnsname"
)

// problems collects what is wrong with a check's fields, each as
// "KIND check: FIELD: message", for the checks' Validate methods.
type problems struct {
	kind string
	errs []error
}

func (p *problems) add(field, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s check: %s: %s", p.kind, field, fmt.Sprintf(format, args...)))
}

// err returns every problem joined, or nil.
func (p *problems) err() error { return errors.Join(p.errs...) }

// port reports a port outside 1–65535; zero is allowed unless required.
func (p *problems) port(port int, required bool) {
	switch {
	case port == 0 && required:
		p.add("Port", "required (1-65535)")
	case port < 0 || port > 65535:
		p.add("Port", "%d is not 1-65535", port)
	}
}

// host reports a host that is neither an IP address nor a DNS host name.
// Empty is allowed: it means the target.
func (p *problems) host(field, host string) {
	if host == "" {
		return
	}
	if err := dnsname.CheckHost(host); err != nil {
		p.add(field, "%v", err)
	}
}

// tls reports TLS options that no handshake could meet.
func (p *problems) tls(field string, o *TLSOptions) {
	switch o.MinVersion {
	case 0, tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13:
	default:
		p.add(field+".MinVersion", "unknown TLS version %#04x; want a crypto/tls constant such as tls.VersionTLS13", o.MinVersion)
	}
	if o.ExpiryWindow < 0 {
		p.add(field+".ExpiryWindow", "negative duration %v", o.ExpiryWindow)
	}
	for i, c := range o.Certificates {
		if len(c.Certificate) == 0 || c.PrivateKey == nil {
			p.add(fmt.Sprintf("%s.Certificates[%d]", field, i), "needs a certificate and its private key")
		}
	}
}

// minInterval is the smallest positive interval a check accepts: below
// it, a duration is taken for a units mistake (5 meaning 5 ms, say).
const minInterval = time.Millisecond
