package check

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// certServer serves https on one loopback address with a certificate the
// test can change between checks. Its "/hop" redirects to the same port
// on 127.0.0.2.
type certServer struct {
	cert atomic.Pointer[tls.Certificate]
}

// serveCerts starts a certServer on ip:port (port 0: any) presenting
// cert, and returns its port. It returns an error only when the port is
// taken.
func serveCerts(t *testing.T, ip string, port int, cert tls.Certificate) (*certServer, int, error) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, 0, err
	}
	if err != nil {
		t.Fatal(err)
	}
	port = ln.Addr().(*net.TCPAddr).Port
	s := &certServer{}
	s.cert.Store(&cert)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/hop" {
				http.Redirect(w, r, "https://"+net.JoinHostPort("127.0.0.2", strconv.Itoa(port))+"/", http.StatusFound)
			}
		}),
		TLSConfig: &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return s.cert.Load(), nil }},
		ErrorLog:  log.New(io.Discard, "", 0), // rejected handshakes are expected
	}
	var wg sync.WaitGroup
	wg.Go(func() { srv.ServeTLS(ln, "", "") })
	t.Cleanup(func() {
		srv.Close()
		wg.Wait()
	})
	return s, port, nil
}

// twoCertServers starts certServers on 127.0.0.1 and 127.0.0.2 with one
// port, as two endpoints of one record, and returns them and the port.
func twoCertServers(t *testing.T, cert tls.Certificate) (one, two *certServer, port int) {
	t.Helper()
	for range 20 {
		one, port, _ = serveCerts(t, "127.0.0.1", 0, cert)
		var err error
		if two, _, err = serveCerts(t, "127.0.0.2", port, cert); err == nil {
			return one, two, port
		}
	}
	t.Fatal("found no port free on both 127.0.0.1 and 127.0.0.2")
	return nil, nil, 0
}

// notAfter returns when cert's leaf expires.
func notAfter(t *testing.T, cert tls.Certificate) time.Time {
	t.Helper()
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf.NotAfter
}

type certChecker interface {
	Check(ctx context.Context, target string) error
	CertificateExpiry(target string) (time.Time, bool)
}

// Each check that speaks TLS reports, per target, the expiry of the leaf
// certificate of its last completed handshake: also when the check then
// failed on its expiry window, not when the handshake itself failed (an
// expired certificate keeps the last one seen), and a renewal shows at
// the next check.
func TestCertificateExpiry(t *testing.T) {
	ca := newTestCA(t)
	const host = "www.example.test"
	year := ca.leaf(t, time.Now().Add(365*24*time.Hour), host)
	other := ca.leaf(t, time.Now().Add(200*24*time.Hour), host)
	soon := ca.leaf(t, time.Now().Add(72*time.Hour), host)
	expired := ca.leaf(t, time.Now().Add(-time.Hour), host)
	renewed := ca.leaf(t, time.Now().Add(400*24*time.Hour), host)
	opts := TLSOptions{RootCAs: ca.pool, ExpiryWindow: 7 * 24 * time.Hour}

	for _, kind := range []struct {
		name  string
		check func(port int) certChecker
	}{
		{"HTTP https", func(port int) certChecker { return &HTTP{Scheme: "https", Port: port, Host: host, TLS: opts} }},
		{"TCP with TLS", func(port int) certChecker { return &TCP{Port: port, Host: host, TLS: &opts} }},
		{"TLS", func(port int) certChecker { return &TLS{Port: port, Host: host, TLS: opts} }},
	} {
		t.Run(kind.name, func(t *testing.T) {
			one, two, port := twoCertServers(t, year)
			two.cert.Store(&other)
			c := kind.check(port)
			for _, step := range []struct {
				name         string
				present      *tls.Certificate // what 127.0.0.1 presents from this step on
				target       string
				errHas       string
				want1, want2 time.Time // the expiries reported for 127.0.0.1 and 127.0.0.2 after the step
			}{
				{"no handshake yet", nil, "", "", time.Time{}, time.Time{}},
				{"first check", nil, "127.0.0.1", "", notAfter(t, year), time.Time{}},
				{"the other target", nil, "127.0.0.2", "", notAfter(t, year), notAfter(t, other)},
				{"within the expiry window: failed, but seen", &soon, "127.0.0.1", "expires in", notAfter(t, soon), notAfter(t, other)},
				{"expired: the handshake fails", &expired, "127.0.0.1", "expired", notAfter(t, soon), notAfter(t, other)},
				{"renewed", &renewed, "127.0.0.1", "", notAfter(t, renewed), notAfter(t, other)},
			} {
				if step.present != nil {
					one.cert.Store(step.present)
				}
				if step.target != "" {
					err := c.Check(t.Context(), step.target)
					if step.errHas == "" && err != nil || step.errHas != "" && (err == nil || !strings.Contains(err.Error(), step.errHas)) {
						t.Fatalf("%s: got %v, want error containing %q", step.name, err, step.errHas)
					}
				}
				for target, want := range map[string]time.Time{"127.0.0.1": step.want1, "127.0.0.2": step.want2} {
					if got, ok := c.CertificateExpiry(target); !got.Equal(want) || ok != !want.IsZero() {
						t.Errorf("%s: %s: got %v, %v; want %v, %v", step.name, target, got, ok, want, !want.IsZero())
					}
				}
			}
		})
	}
}

// A check without TLS reports no certificate.
func TestCertificateExpiryWithoutTLS(t *testing.T) {
	srv, _ := httpBackend(t)
	target, port := hostPort(t, srv.Listener.Addr().String())
	for _, c := range []certChecker{&HTTP{Port: port, Path: "/healthz"}, &TCP{Port: port}} {
		if err := c.Check(t.Context(), target); err != nil {
			t.Fatal(err)
		}
		if got, ok := c.CertificateExpiry(target); ok {
			t.Errorf("%T: got %v, true; want false", c, got)
		}
	}
}

// An HTTP check that follows a redirect to another server reports the
// certificate of the target, not of the server redirected to.
func TestHTTPCertificateExpiryRedirect(t *testing.T) {
	ca := newTestCA(t)
	const host = "www.example.test"
	year := ca.leaf(t, time.Now().Add(365*24*time.Hour), host)
	other := ca.leaf(t, time.Now().Add(200*24*time.Hour), host)
	_, two, port := twoCertServers(t, year)
	two.cert.Store(&other)
	c := &HTTP{Scheme: "https", Port: port, Host: host, Path: "/hop", FollowRedirects: true, TLS: TLSOptions{RootCAs: ca.pool}}
	if err := c.Check(t.Context(), "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.CertificateExpiry("127.0.0.1"); !got.Equal(notAfter(t, year)) {
		t.Errorf("got %v, want the target's %v (the server redirected to has %v)", got, notAfter(t, year), notAfter(t, other))
	}
}
