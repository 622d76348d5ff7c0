package check

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
)

// sourceServer accepts connections on 127.0.0.1 and sends the source
// address of each to the returned channel; it answers HTTP 200 when
// cert is nil and speaks plain TCP otherwise too (HTTP on a raw TCP
// connection is a banner for a TCP check), or TLS with cert.
func sourceServer(t *testing.T, cert *tls.Certificate) (int, <-chan netip.Addr) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan netip.Addr, 100)
	var inner net.Listener = recordingListener{ln, seen}
	if cert != nil {
		inner = tls.NewListener(inner, &tls.Config{Certificates: []tls.Certificate{*cert}})
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}
	go srv.Serve(inner)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port, seen
}

// recordingListener sends the source address of each accepted connection.
type recordingListener struct {
	net.Listener
	seen chan<- netip.Addr
}

func (l recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.seen <- c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
	}
	return c, err
}

// Every check that connects does so from its Source, and so does its
// watcher: a backend's access rules see that address (loopback has all
// of 127.0.0.0/8).
func TestChecksConnectFromSource(t *testing.T) {
	ca := newTestCA(t)
	cert := ca.leaf(t, time.Now().Add(time.Hour), "127.0.0.1")
	source := netip.MustParseAddr("127.0.0.9")
	for _, tc := range []struct {
		name  string
		tls   bool
		check func(port int, source netip.Addr) failover.Checker
	}{
		{"http", false, func(port int, s netip.Addr) failover.Checker { return &HTTP{Port: port, Source: s} }},
		{"http watching", false, func(port int, s netip.Addr) failover.Checker {
			return &HTTP{Port: port, Source: s, Watching: true}
		}},
		{"tcp", false, func(port int, s netip.Addr) failover.Checker { return &TCP{Port: port, Source: s} }},
		{"tcp watching", false, func(port int, s netip.Addr) failover.Checker {
			return &TCP{Port: port, Source: s, Watching: true}
		}},
		{"tls", true, func(port int, s netip.Addr) failover.Checker {
			return &TLS{Port: port, Source: s, TLS: TLSOptions{RootCAs: ca.pool}}
		}},
	} {
		for _, src := range []netip.Addr{{}, source} {
			t.Run(tc.name+" from "+src.String(), func(t *testing.T) {
				var c *tls.Certificate
				if tc.tls {
					c = &cert
				}
				port, seen := sourceServer(t, c)
				ck := tc.check(port, src)
				ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
				defer cancel()
				if w, ok := ck.(failover.Watcher); ok && strings.Contains(tc.name, "watching") {
					go w.Watch(ctx, "127.0.0.1", func(error) {})
				} else if err := ck.Check(ctx, "127.0.0.1"); err != nil {
					t.Fatalf("check: %v", err)
				}
				want := src
				if !want.IsValid() {
					want = netip.MustParseAddr("127.0.0.1")
				}
				select {
				case got := <-seen:
					if got != want {
						t.Errorf("connected from %v, want %v", got, want)
					}
				case <-ctx.Done():
					t.Fatal("no connection")
				}
			})
		}
	}
}

// A Source no connection can come from is refused by Validate, naming
// the field.
func TestSourceValidation(t *testing.T) {
	for _, tc := range []struct {
		source string
		want   string
	}{
		{"127.0.0.9", ""},
		{"::1", ""},
		{"0.0.0.0", "Source: 0.0.0.0 is not an address of this host"},
		{"224.0.0.1", "Source: 224.0.0.1 is not an address of this host"},
	} {
		a := netip.MustParseAddr(tc.source)
		for _, v := range []interface{ Validate() error }{&HTTP{Source: a}, &TCP{Port: 1, Source: a}, &TLS{Source: a}} {
			err := v.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("%T with Source %s: got %v, want no error", v, tc.source, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("%T with Source %s: got %v, want an error containing %q", v, tc.source, err, tc.want)
			}
		}
	}
}
