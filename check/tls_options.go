package check

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"
)

// TLSOptions are the TLS settings of the checks that speak TLS: HTTP
// with https, TCP with TLS, and TLS. The zero value verifies the
// server's certificate chain against the system roots and its name against
// the check's Host (or the target), with TLS 1.2 at least.
type TLSOptions struct {
	// RootCAs verifies the server's chain. Nil means the system roots.
	RootCAs *x509.CertPool
	// Certificates are presented to a server that asks for a client
	// certificate.
	Certificates []tls.Certificate
	// MinVersion is the lowest TLS version accepted, such as
	// tls.VersionTLS13. Zero means TLS 1.2.
	MinVersion uint16
	// ExpiryWindow fails the check when a certificate of the verified chain
	// expires within this long, so that an expiring certificate fails over
	// before browsers refuse it. Zero means no such check.
	ExpiryWindow time.Duration
	// InsecureSkipVerify accepts any certificate and name. Only for tests;
	// ExpiryWindow still applies to the certificates presented.
	InsecureSkipVerify bool
}

// isZero reports whether o is the zero TLSOptions.
func (o *TLSOptions) isZero() bool {
	return o.RootCAs == nil && len(o.Certificates) == 0 && o.MinVersion == 0 && o.ExpiryWindow == 0 && !o.InsecureSkipVerify
}

// config returns the tls.Config for a connection to serverName.
func (o *TLSOptions) config(serverName string) *tls.Config {
	min := o.MinVersion
	if min == 0 {
		min = tls.VersionTLS12
	}
	return &tls.Config{
		ServerName:         serverName,
		RootCAs:            o.RootCAs,
		Certificates:       o.Certificates,
		MinVersion:         min,
		InsecureSkipVerify: o.InsecureSkipVerify,
	}
}

// checkExpiry returns an error when a certificate the server presented
// (the verified chain, or the presented one without verification) expires
// within the window, counted from now.
func (o *TLSOptions) checkExpiry(state tls.ConnectionState, now time.Time) error {
	if o.ExpiryWindow <= 0 {
		return nil
	}
	certs := state.PeerCertificates
	if len(state.VerifiedChains) > 0 {
		certs = state.VerifiedChains[0]
	}
	for _, c := range certs {
		if left := c.NotAfter.Sub(now); left < o.ExpiryWindow {
			return fmt.Errorf("certificate %q expires in %v (%s), within the %v window",
				c.Subject.CommonName, left.Round(time.Minute), c.NotAfter.UTC().Format(time.RFC3339), o.ExpiryWindow)
		}
	}
	return nil
}
