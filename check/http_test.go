package check

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// httpBackend is a test server with paths for each behaviour under test.
func httpBackend(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Version", "2.4.1")
		switch r.URL.Path {
		case "/healthz":
			fmt.Fprintf(w, "ok host=%s", r.Host)
		case "/down":
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		case "/moved":
			http.Redirect(w, r, "/gone", http.StatusFound)
		case "/echo":
			body, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s %s %s %s", r.Method, r.URL.RawQuery, r.Header.Get("X-Probe"), body)
		case "/endless":
			for r.Context().Err() == nil {
				if _, err := w.Write([]byte(strings.Repeat("x", 4096))); err != nil {
					return
				}
			}
		case "/trickle":
			w.(http.Flusher).Flush()
			for r.Context().Err() == nil {
				w.Write([]byte("."))
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
				case <-time.After(20 * time.Millisecond):
				}
			}
		default:
			http.NotFound(w, r)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func TestHTTPCheck(t *testing.T) {
	srv, _ := httpBackend(t)
	target, port := hostPort(t, srv.Listener.Addr().String())
	for _, tc := range []struct {
		name   string
		check  *HTTP
		errHas string // empty: healthy
	}{
		{"healthy", &HTTP{Port: port, Path: "/healthz"}, ""},
		{"Host header sent", &HTTP{Port: port, Path: "/healthz", Host: "www.example.test", BodyContains: "host=www.example.test"}, ""},
		{"status 503", &HTTP{Port: port, Path: "/down"}, "status 503, want 200-399"},
		{"503 expected", &HTTP{Port: port, Path: "/down", ExpectStatus: StatusCodes{{503, 503}}}, ""},
		{"redirect judged by its status", &HTTP{Port: port, Path: "/moved"}, ""},
		{"redirect refused by status", &HTTP{Port: port, Path: "/moved", ExpectStatus: StatusCodes{{200, 299}}}, "status 302"},
		{"redirect followed", &HTTP{Port: port, Path: "/moved", FollowRedirects: true}, "status 404"},
		{"body contains", &HTTP{Port: port, Path: "/healthz", BodyContains: "ok"}, ""},
		{"body lacks", &HTTP{Port: port, Path: "/healthz", BodyContains: "ready"}, `does not contain "ready"`},
		{"body must not contain", &HTTP{Port: port, Path: "/down", ExpectStatus: StatusCodes{{503, 503}}, BodyNotContains: "maintenance"}, `body contains "maintenance"`},
		{"body matches", &HTTP{Port: port, Path: "/healthz", BodyMatches: regexp.MustCompile(`^ok\b`)}, ""},
		{"body does not match", &HTTP{Port: port, Path: "/healthz", BodyMatches: regexp.MustCompile(`^ready`)}, "does not match /^ready/"},
		{"body must not match", &HTTP{Port: port, Path: "/healthz", BodyNotMatches: regexp.MustCompile(`o.`)}, "body matches /o./"},
		{"header matches", &HTTP{Port: port, Path: "/healthz", HeaderMatches: map[string]*regexp.Regexp{"x-version": regexp.MustCompile(`^2\.`)}}, ""},
		{"header does not match", &HTTP{Port: port, Path: "/healthz", HeaderMatches: map[string]*regexp.Regexp{"X-Version": regexp.MustCompile(`^3\.`)}}, `header X-Version: "2.4.1" does not match`},
		{"header missing", &HTTP{Port: port, Path: "/healthz", HeaderMatches: map[string]*regexp.Regexp{"X-Ready": regexp.MustCompile(`.`)}}, "no X-Ready header"},
		{"method, query, headers and body sent", &HTTP{Port: port, Method: "POST", Path: "/echo?deep=1", Header: http.Header{"X-Probe": {"failover"}}, Body: "ping", BodyContains: "POST deep=1 failover ping"}, ""},
		{"endless body read only up to the limit", &HTTP{Port: port, Path: "/endless", MaxBodyBytes: 8192, BodyContains: "never"}, "body (8192 bytes read) does not contain"},
		{"closed port", &HTTP{Port: closedPort(t)}, "connection refused"},
		{"bad scheme", &HTTP{Scheme: "ftp"}, `Scheme: "ftp", want "http" or "https"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check.Check(t.Context(), target)
			if tc.errHas == "" && err != nil || tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)) {
				t.Fatalf("got %v, want error containing %q", err, tc.errHas)
			}
		})
	}
}

func TestHTTPCheckHonoursDeadline(t *testing.T) {
	srv, _ := httpBackend(t)
	target, port := hostPort(t, srv.Listener.Addr().String())
	for _, tc := range []struct {
		name  string
		check *HTTP
	}{
		{"trickling body", &HTTP{Port: port, Path: "/trickle", BodyContains: "done"}},
		{"server that never answers", &HTTP{Port: silentServer(t)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel()
			err := tc.check.Check(ctx, target)
			if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
				t.Fatalf("got %v, want a deadline error", err)
			}
		})
	}
}

func TestHTTPCheckConnections(t *testing.T) {
	srv, conns := httpBackend(t)
	target, port := hostPort(t, srv.Listener.Addr().String())
	for _, tc := range []struct {
		keepAlive bool
		want      int32
	}{{false, 3}, {true, 1}} {
		conns.Store(0)
		c := &HTTP{Port: port, Path: "/healthz", KeepAlive: tc.keepAlive}
		for range 3 {
			if err := c.Check(t.Context(), target); err != nil {
				t.Fatal(err)
			}
		}
		if got := conns.Load(); got != tc.want {
			t.Errorf("KeepAlive=%v: got %d connections for 3 checks, want %d", tc.keepAlive, got, tc.want)
		}
	}
}

func TestHTTPCheckIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	_, port := hostPort(t, ln.Addr().String())
	if err := (&HTTP{Port: port, Host: "www.example.test"}).Check(t.Context(), "::1"); err != nil {
		t.Fatal(err)
	}
}

// tlsBackend serves https with cert; with clientCAs it requires a client
// certificate signed by them.
func tlsBackend(t *testing.T, cert tls.Certificate, clientCAs *testCA) (string, int) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	if clientCAs != nil {
		srv.TLS.ClientAuth, srv.TLS.ClientCAs = tls.RequireAndVerifyClientCert, clientCAs.pool
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // rejected handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return hostPort(t, srv.Listener.Addr().String())
}

func TestHTTPCheckTLS(t *testing.T) {
	ca := newTestCA(t)
	year := time.Now().Add(365 * 24 * time.Hour)
	good := ca.leaf(t, year, "www.example.test")
	for _, tc := range []struct {
		name   string
		cert   tls.Certificate
		mtls   bool
		noCA   bool
		opts   TLSOptions
		errHas string
	}{
		{"verified against Host", good, false, false, TLSOptions{}, ""},
		{"unknown authority", good, false, true, TLSOptions{}, "unknown authority"},
		{"wrong name", ca.leaf(t, year, "other.example.test"), false, false, TLSOptions{}, "not www.example.test"},
		{"expired", ca.leaf(t, time.Now().Add(-time.Hour), "www.example.test"), false, false, TLSOptions{}, "expired"},
		{"expires within the window", ca.leaf(t, time.Now().Add(72*time.Hour), "www.example.test"), false, false, TLSOptions{ExpiryWindow: 7 * 24 * time.Hour}, "expires in 7"},
		{"expires after the window", good, false, false, TLSOptions{ExpiryWindow: 7 * 24 * time.Hour}, ""},
		{"insecure accepts any name", ca.leaf(t, year, "other.example.test"), false, false, TLSOptions{InsecureSkipVerify: true}, ""},
		{"TLS 1.3 required", good, false, false, TLSOptions{MinVersion: tls.VersionTLS13}, ""},
		{"client certificate required, none given", good, true, false, TLSOptions{}, "certificate required"},
		{"client certificate given", good, true, false, TLSOptions{Certificates: []tls.Certificate{ca.leaf(t, year, "prober")}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var clientCAs *testCA
			if tc.mtls {
				clientCAs = ca
			}
			target, port := tlsBackend(t, tc.cert, clientCAs)
			c := &HTTP{Scheme: "https", Port: port, Host: "www.example.test", TLS: tc.opts}
			if !tc.noCA {
				c.TLS.RootCAs = ca.pool
			}
			err := c.Check(t.Context(), target)
			if tc.errHas == "" && err != nil || tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)) {
				t.Fatalf("got %v, want error containing %q", err, tc.errHas)
			}
		})
	}
}

func FuzzParseStatusCodes(f *testing.F) {
	for _, s := range []string{"200", "200-299,304", " 500 - 599 ", "99", "300-200", "", ",", "abc", "200-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		codes, err := ParseStatusCodes(s)
		if err != nil {
			return
		}
		again, err := ParseStatusCodes(codes.String())
		if err != nil || again.String() != codes.String() {
			t.Fatalf("%q parsed to %v, which reads back as %v, %v", s, codes, again, err)
		}
		for _, r := range codes {
			if r.Min < 100 || r.Max > 599 || r.Min > r.Max || !codes.Contains(r.Min) || !codes.Contains(r.Max) {
				t.Fatalf("%q: bad range %v", s, r)
			}
		}
	})
}
