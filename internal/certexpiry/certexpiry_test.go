package certexpiry

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"
)

func state(notAfter ...time.Time) tls.ConnectionState {
	var st tls.ConnectionState
	for _, t := range notAfter {
		st.PeerCertificates = append(st.PeerCertificates, &x509.Certificate{NotAfter: t})
	}
	return st
}

// Get reports the leaf of the last handshake recorded for the target
// asked about; a state without certificates keeps what was recorded.
func TestSeen(t *testing.T) {
	leaf := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	ca := leaf.AddDate(5, 0, 0)
	renewed := leaf.AddDate(0, 3, 0)
	var s Seen
	if got, ok := s.Get("192.0.2.1"); ok {
		t.Fatalf("empty: got %v, true; want false", got)
	}
	s.Record("192.0.2.1", state(leaf, ca))
	s.Record("192.0.2.2", state(ca))
	s.Record("192.0.2.1", state())
	for _, tc := range []struct {
		target string
		want   time.Time
	}{{"192.0.2.1", leaf}, {"192.0.2.2", ca}, {"192.0.2.3", time.Time{}}} {
		if got, ok := s.Get(tc.target); !got.Equal(tc.want) || ok != !tc.want.IsZero() {
			t.Errorf("%s: got %v, %v; want %v, %v", tc.target, got, ok, tc.want, !tc.want.IsZero())
		}
	}
	s.Record("192.0.2.1", state(renewed, ca))
	if got, _ := s.Get("192.0.2.1"); !got.Equal(renewed) {
		t.Errorf("after renewal: got %v, want %v", got, renewed)
	}
}

// Record and Get may be called from many goroutines at once (run with
// -race).
func TestSeenConcurrent(t *testing.T) {
	var s Seen
	st := state(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	done := make(chan bool)
	for range 4 {
		go func() {
			for range 100 {
				s.Record("192.0.2.1", st)
				s.Get("192.0.2.1")
			}
			done <- true
		}()
	}
	for range 4 {
		<-done
	}
}
