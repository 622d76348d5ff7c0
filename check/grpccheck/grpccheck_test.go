package grpccheck

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"runtime"
	"strconv"
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

// closedPort returns a port on 127.0.0.1 that nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// silentPort returns the port of a listener that completes TCP handshakes
// (in the kernel's backlog) but never accepts, reads or answers.
func silentPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// checkErr reports how err differs from the wanted outcome: nil when
// want is "", otherwise an error containing want.
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("got %v, want healthy", err)
	case want != "" && err == nil:
		t.Fatalf("got healthy, want error containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("got %v, want error containing %q", err, want)
	}
}

func TestCheck(t *testing.T) {
	port, hs := server(t)
	hs.SetServingStatus("api", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("batch", healthpb.HealthCheckResponse_NOT_SERVING)
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	closed := closedPort(t)

	for _, tc := range []struct {
		name   string
		check  *Check
		target string // default 127.0.0.1
		want   string // "" = healthy, else a part of the error
	}{
		{name: "server serving", check: &Check{Port: port}},
		{name: "service serving", check: &Check{Port: port, Service: "api"}},
		{name: "service serving with Host", check: &Check{Port: port, Service: "api", Host: "api.example.test"}},
		{name: "host name target", check: &Check{Port: port, Service: "api"}, target: "localhost"},
		{name: "service not serving", check: &Check{Port: port, Service: "batch"},
			want: `grpc health 127.0.0.1:` + itoa(port) + ` service "batch": NOT_SERVING`},
		{name: "unknown service", check: &Check{Port: port, Service: "nope"},
			want: `service "nope": service unknown (NotFound)`},
		{name: "closed port", check: &Check{Port: closed},
			want: `grpc health 127.0.0.1:` + itoa(closed) + ` service "": unavailable: connection refused`},
		{name: "closed port IPv6 literal", check: &Check{Port: closed}, target: "::1",
			want: `grpc health [::1]:` + itoa(closed) + ` service "": unavailable: `},
		{name: "port 0", check: &Check{}, want: "Port: required (1-65535)"},
		{name: "port too big", check: &Check{Port: 65536}, want: "Port: 65536 is not 1-65535"},
		{name: "port negative", check: &Check{Port: -1}, want: "Port: -1 is not 1-65535"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := tc.target
			if target == "" {
				target = "127.0.0.1"
			}
			checkErr(t, tc.check.Check(t.Context(), target), tc.want)
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestCheckNotServingWholeServer(t *testing.T) {
	port, hs := server(t)
	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	checkErr(t, (&Check{Port: port}).Check(t.Context(), "127.0.0.1"), `service "": NOT_SERVING`)
}

func TestCheckNoHealthService(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer() // no health service registered
	var wg sync.WaitGroup
	wg.Go(func() { srv.Serve(ln) })
	t.Cleanup(func() { srv.Stop(); wg.Wait() })
	err = (&Check{Port: ln.Addr().(*net.TCPAddr).Port}).Check(t.Context(), "127.0.0.1")
	checkErr(t, err, "no health service (Unimplemented)")
}

func TestCheckHonoursDeadline(t *testing.T) {
	port := silentPort(t)
	for _, tc := range []struct {
		name    string
		ctx     func(context.Context) (context.Context, context.CancelFunc)
		wantErr error
		want    string
	}{
		{"deadline", func(ctx context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(ctx, 300*time.Millisecond)
		}, context.DeadlineExceeded, "context deadline exceeded after "},
		{"already cancelled", func(ctx context.Context) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return ctx, cancel
		}, context.Canceled, "context canceled after "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx(t.Context())
			defer cancel()
			err := (&Check{Port: port}).Check(ctx, "127.0.0.1")
			checkErr(t, err, tc.want)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want an error wrapping %v", err, tc.wantErr)
			}
			if !strings.HasSuffix(err.Error(), " ms") {
				t.Fatalf("got %v, want it to end with the time taken in ms", err)
			}
		})
	}
}

func TestCheckTLS(t *testing.T) {
	const name = "grpc.example.test"
	cert, pool := selfSigned(t, name)
	port, hs := server(t, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}})))
	hs.SetServingStatus("api", healthpb.HealthCheckResponse_SERVING)
	closed := closedPort(t)

	for _, tc := range []struct {
		name  string
		check *Check
		want  string
	}{
		{name: "trusted, Host is the cert's name", check: &Check{Port: port, Service: "api", Host: name, TLS: &tls.Config{RootCAs: pool}}},
		{name: "trusted, server name defaults to the IP target", check: &Check{Port: port, Service: "api", TLS: &tls.Config{RootCAs: pool}}},
		{name: "ServerName set in the config", check: &Check{Port: port, TLS: &tls.Config{RootCAs: pool, ServerName: name}}},
		{name: "ServerName and Host disagree", check: &Check{Port: port, Host: "other.example.test", TLS: &tls.Config{RootCAs: pool, ServerName: name}}, want: "don't match"},
		{name: "no pool", check: &Check{Port: port, Host: name, TLS: &tls.Config{}}, want: "certificate"},
		{name: "wrong Host", check: &Check{Port: port, Host: "wrong.example.test", TLS: &tls.Config{RootCAs: pool}}, want: "certificate is valid for"},
		{name: "plaintext client to TLS server", check: &Check{Port: port}, want: "unavailable"},
		{name: "TLS client to nothing", check: &Check{Port: closed, Host: name, TLS: &tls.Config{RootCAs: pool}}, want: "unavailable: connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			checkErr(t, tc.check.Check(ctx, "127.0.0.1"), tc.want)
		})
	}
}

// TestCheckConcurrent runs checks of one Check at once (for -race) and
// then waits for the goroutine count to come back: each check closes its
// connection before it returns.
func TestCheckConcurrent(t *testing.T) {
	cert, pool := selfSigned(t, "grpc.example.test")
	port, hs := server(t)
	hs.SetServingStatus("api", healthpb.HealthCheckResponse_SERVING)
	tlsPort, tlsHS := server(t, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}})))
	tlsHS.SetServingStatus("api", healthpb.HealthCheckResponse_SERVING)
	closed, silent := closedPort(t), silentPort(t)
	healthy := &Check{Port: port, Service: "api"}
	secure := &Check{Port: tlsPort, Service: "api", Host: "grpc.example.test", TLS: &tls.Config{RootCAs: pool}}
	refused := &Check{Port: closed}
	hanging := &Check{Port: silent}

	run := func() {
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() { checkErr(t, healthy.Check(t.Context(), "127.0.0.1"), "") })
			wg.Go(func() { checkErr(t, secure.Check(t.Context(), "127.0.0.1"), "") })
			wg.Go(func() { checkErr(t, refused.Check(t.Context(), "127.0.0.1"), "unavailable") })
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
				defer cancel()
				checkErr(t, hanging.Check(ctx, "127.0.0.1"), "deadline exceeded")
			})
		}
		wg.Wait()
	}
	run() // warm up whatever gRPC starts once per process
	before := settledGoroutines()
	run()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for n := runtime.NumGoroutine(); n > before; n = runtime.NumGoroutine() {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("got %d goroutines, want at most %d as before the checks:\n%s", n, before, buf[:runtime.Stack(buf, true)])
		}
		<-tick.C
	}
}

// settledGoroutines returns the goroutine count once it stops falling
// (server-side connection goroutines end a little after the client's).
func settledGoroutines() int {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	n := runtime.NumGoroutine()
	for range 100 {
		<-tick.C
		m := runtime.NumGoroutine()
		if m >= n {
			return max(m, n)
		}
		n = m
	}
	return n
}

// selfSigned returns a certificate for name and 127.0.0.1, valid for an
// hour, and a pool that trusts it.
func selfSigned(t *testing.T, name string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	return selfSignedUntil(t, name, time.Now().Add(time.Hour))
}

// selfSignedUntil returns a certificate for name and 127.0.0.1, valid
// until notAfter (its Leaf set), and a pool that trusts it.
func selfSignedUntil(t *testing.T, name string, notAfter time.Time) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		DNSNames: []string{name}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter,
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(parsed)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: parsed}, pool
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

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check *Check
		want  []string // every substring must appear; none: valid
	}{
		{"port and service", &Check{Port: 50051, Service: "api"}, nil},
		{"host with port", &Check{Port: 50051, Host: "api.example.com:443"}, nil},
		{"no port", &Check{}, []string{"grpc health check: Port: required"}},
		{"port too big", &Check{Port: 65536}, []string{"Port: 65536 is not 1-65535"}},
		{"bad host", &Check{Port: 50051, Host: "api example"}, []string{"Host:", "not allowed"}},
		{"every problem", &Check{Port: -1, Host: "a..b"}, []string{"Port: -1", "Host:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check.Validate()
			if len(tc.want) == 0 && err != nil || len(tc.want) > 0 && err == nil {
				t.Fatalf("got %v, want an error mentioning %q", err, tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to mention %q", err, w)
				}
			}
		})
	}
}
