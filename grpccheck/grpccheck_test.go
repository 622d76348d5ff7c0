package grpccheck

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// server starts a gRPC server with the health service on 127.0.0.1 and
// returns its port and the health server to set statuses on.
func server(t *testing.T, opts ...grpc.ServerOption) (int, *health.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(opts...)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	var wg sync.WaitGroup
	wg.Go(func() { srv.Serve(ln) })
	t.Cleanup(func() { srv.Stop(); wg.Wait() })
	return ln.Addr().(*net.TCPAddr).Port, hs
}

func TestCheck(t *testing.T) {
	port, hs := server(t)
	hs.SetServingStatus("api", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("batch", healthpb.HealthCheckResponse_NOT_SERVING)
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()

	for _, tc := range []struct {
		name   string
		check  *Check
		errHas string
	}{
		{"server serving", &Check{Port: port}, ""},
		{"service serving", &Check{Port: port, Service: "api", Host: "api.example.test"}, ""},
		{"service not serving", &Check{Port: port, Service: "batch"}, `service "batch": NOT_SERVING`},
		{"unknown service", &Check{Port: port, Service: "nope"}, "unknown to the server (NotFound)"},
		{"closed port", &Check{Port: closedPort}, "Unavailable"},
		{"no port", &Check{}, "Port 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check.Check(t.Context(), "127.0.0.1")
			if tc.errHas == "" && err != nil || tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)) {
				t.Fatalf("got %v, want error containing %q", err, tc.errHas)
			}
		})
	}
}

func TestCheckHonoursDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never speaks HTTP/2
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	err = (&Check{Port: ln.Addr().(*net.TCPAddr).Port}).Check(ctx, "127.0.0.1")
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("got %v, want a deadline error", err)
	}
}

func TestCheckTLS(t *testing.T) {
	cert, pool := selfSigned(t, "grpc.example.test")
	port, _ := server(t, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}})))
	good := &Check{Port: port, Host: "grpc.example.test", TLS: &tls.Config{RootCAs: pool}}
	if err := good.Check(t.Context(), "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	bad := &Check{Port: port, Host: "grpc.example.test", TLS: &tls.Config{}}
	if err := bad.Check(t.Context(), "127.0.0.1"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA: got %v, want a certificate error", err)
	}
}

// selfSigned returns a certificate for name and a pool that trusts it.
func selfSigned(t *testing.T, name string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	parsed, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(parsed)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func TestWatch(t *testing.T) {
	port, hs := server(t)
	hs.SetServingStatus("api", healthpb.HealthCheckResponse_SERVING)
	notices := make(chan error, 10)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		(&Check{Port: port, Service: "api", Watching: true}).Watch(ctx, "127.0.0.1", func(err error) { notices <- err })
		close(done)
	}()
	// Once the stream is up (SERVING seen), a change to NOT_SERVING is a
	// notice. Set it repeatedly until it is seen, to not depend on when
	// the stream started.
	deadline := time.After(10 * time.Second)
	for got := false; !got; {
		hs.SetServingStatus("api", healthpb.HealthCheckResponse_SERVING)
		hs.SetServingStatus("api", healthpb.HealthCheckResponse_NOT_SERVING)
		select {
		case err := <-notices:
			if !strings.Contains(err.Error(), "NOT_SERVING") {
				t.Fatalf("got notice %v, want NOT_SERVING", err)
			}
			got = true
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatal("no notice for NOT_SERVING")
		}
	}
	cancel()
	<-done // Watch returns when its context ends
	// Without Watching, Watch returns at once.
	(&Check{Port: port}).Watch(t.Context(), "127.0.0.1", func(error) { t.Error("notice without Watching") })
}
