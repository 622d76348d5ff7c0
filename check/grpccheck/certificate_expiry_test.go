package grpccheck

import (
	"crypto/tls"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// A Check with TLS reports the expiry of the leaf certificate of its last
// completed handshake with each target: also when the answer was not
// SERVING, not when the handshake failed (the last one seen stays); a
// Check without TLS reports none.
func TestCheckCertificateExpiry(t *testing.T) {
	const name = "grpc.example.test"
	first, pool := selfSignedUntil(t, name, time.Now().Add(30*24*time.Hour))
	second, _ := selfSignedUntil(t, name, time.Now().Add(60*24*time.Hour))
	untrusted, _ := selfSigned(t, name)
	pool.AddCert(second.Leaf)
	var present atomic.Pointer[tls.Certificate]
	present.Store(&first)
	port, hs := server(t, grpc.Creds(credentials.NewTLS(&tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return present.Load(), nil },
	})))
	hs.SetServingStatus("api", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("batch", healthpb.HealthCheckResponse_NOT_SERVING)
	plainPort, _ := server(t)

	c := &Check{Port: port, Host: name, Service: "api", TLS: &tls.Config{RootCAs: pool}}
	batch := &Check{Port: port, Host: name, Service: "batch", TLS: &tls.Config{RootCAs: pool}}
	for _, step := range []struct {
		name    string
		present *tls.Certificate
		check   *Check
		err     string // "" = healthy
		want    time.Time
	}{
		{"serving", &first, c, "", first.Leaf.NotAfter},
		{"renewed", &second, c, "", second.Leaf.NotAfter},
		{"untrusted: the handshake fails", &untrusted, c, "certificate", second.Leaf.NotAfter},
		{"not serving, but the handshake completed", &first, batch, "NOT_SERVING", first.Leaf.NotAfter},
		{"without TLS", nil, &Check{Port: plainPort}, "", time.Time{}},
	} {
		if step.present != nil {
			present.Store(step.present)
		}
		if err := step.check.Check(t.Context(), "127.0.0.1"); step.err == "" && err != nil || step.err != "" && (err == nil || !strings.Contains(err.Error(), step.err)) {
			t.Fatalf("%s: got %v, want error containing %q", step.name, err, step.err)
		}
		if got, ok := step.check.CertificateExpiry("127.0.0.1"); !got.Equal(step.want) || ok != !step.want.IsZero() {
			t.Errorf("%s: got %v, %v; want %v, %v", step.name, got, ok, step.want, !step.want.IsZero())
		}
	}
	if got, ok := c.CertificateExpiry("127.0.0.2"); ok {
		t.Errorf("a target never checked: got %v, true; want false", got)
	}
}
