package check

import "time"

// CertificateExpiry returns when the certificate target presented in the
// last https exchange of a check expires (the leaf's NotAfter), also when
// that check then failed, and false before any (or without https). A
// handshake that fails leaves the last value. The Manager reports it in
// its Status (see failover.Checker).
func (c *HTTP) CertificateExpiry(target string) (notAfter time.Time, ok bool) {
	return c.certs.Get(target)
}

// CertificateExpiry returns when the certificate target presented in the
// last completed TLS handshake of a check expires (the leaf's NotAfter),
// also when that check then failed, and false before any (or without
// TLS). A handshake that fails leaves the last value. The Manager reports
// it in its Status (see failover.Checker).
func (c *TCP) CertificateExpiry(target string) (notAfter time.Time, ok bool) {
	return c.certs.Get(target)
}

// CertificateExpiry returns when the certificate target presented in the
// last completed handshake of a check expires (the leaf's NotAfter), also
// when that check then failed, and false before any. A handshake that
// fails leaves the last value. The Manager reports it in its Status (see
// failover.Checker).
func (c *TLS) CertificateExpiry(target string) (notAfter time.Time, ok bool) {
	return c.certs.Get(target)
}
