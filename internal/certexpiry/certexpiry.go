// Package certexpiry remembers, per target, when the leaf certificate seen
// in the last completed TLS handshake with it expires: what the checks'
// CertificateExpiry methods report (see failover.Checker).
package certexpiry

import (
	"crypto/tls"
	"sync"
	"time"
)

// Seen holds, per target, the NotAfter of the leaf certificate of the last
// completed handshake with it: one entry per target ever recorded, which a
// check's targets bound. The zero value is empty and ready to use. A Seen
// is safe for concurrent use and must not be copied once used.
type Seen struct {
	mu       sync.Mutex
	notAfter map[string]time.Time
}

// Record remembers the leaf certificate that state, of a completed
// handshake with target, holds. A state without a peer certificate (no
// handshake, or no TLS) changes nothing.
func (s *Seen) Record(target string, state tls.ConnectionState) {
	if len(state.PeerCertificates) == 0 {
		return
	}
	notAfter := state.PeerCertificates[0].NotAfter
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.notAfter == nil {
		s.notAfter = map[string]time.Time{}
	}
	s.notAfter[target] = notAfter
}

// Get returns when the certificate last recorded for target expires, and
// false when none was.
func (s *Seen) Get(target string) (notAfter time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	notAfter, ok = s.notAfter[target]
	return notAfter, ok
}
