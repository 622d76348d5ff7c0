package check

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// bannerServer speaks a tiny SMTP/Redis-like protocol: a banner on
// connect, "+PONG" to "PING", endless bytes after "FLOOD". With cert it
// speaks TLS, with maxVersion capping the version.
func bannerServer(t *testing.T, cert *tls.Certificate, maxVersion uint16) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cert != nil {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*cert}, MaxVersion: maxVersion})
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.Write([]byte("220 mail.example.test ESMTP\r\n")); err != nil {
					return
				}
				lines := bufio.NewScanner(c)
				for lines.Scan() {
					switch lines.Text() {
					case "PING":
						c.Write([]byte("+PONG\r\n"))
					case "FLOOD":
						for {
							if _, err := c.Write([]byte(strings.Repeat("z", 1024))); err != nil {
								return
							}
						}
					}
				}
			})
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().(*net.TCPAddr).Port
}

func TestTCPCheck(t *testing.T) {
	port := bannerServer(t, nil, 0)
	for _, tc := range []struct {
		name   string
		check  *TCP
		errHas string
	}{
		{"connect", &TCP{Port: port}, ""},
		{"banner", &TCP{Port: port, Expect: "220 "}, ""},
		{"banner by pattern", &TCP{Port: port, ExpectMatches: regexp.MustCompile(`^220 \S+ ESMTP`)}, ""},
		{"request and reply", &TCP{Port: port, Send: "PING\r\n", Expect: "+PONG"}, ""},
		{"reply too long", &TCP{Port: port, Send: "FLOOD\r\n", Expect: "+PONG", MaxReplyBytes: 2048}, "(2048 bytes read) does not meet \"+PONG\""},
		{"closed port", &TCP{Port: closedPort(t)}, "connect: connection refused"},
		{"no port", &TCP{}, "Port: required (1-65535)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check.Check(t.Context(), "127.0.0.1")
			if tc.errHas == "" && err != nil || tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)) {
				t.Fatalf("got %v, want error containing %q", err, tc.errHas)
			}
		})
	}
}

func TestTCPCheckHonoursDeadline(t *testing.T) {
	port := bannerServer(t, nil, 0)
	for _, tc := range []struct {
		name   string
		check  *TCP
		errHas string
	}{
		{"reply never matches", &TCP{Port: port, Expect: "250"}, `waiting for "250", got "220 mail.example.test ESMTP\r\n": context deadline exceeded`},
		{"server never answers", &TCP{Port: silentServer(t), Expect: "220"}, "context deadline exceeded"},
		{"TLS server never answers", &TCP{Port: silentServer(t), TLS: &TLSOptions{}}, "context deadline exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel()
			err := tc.check.Check(ctx, "127.0.0.1")
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("got %v, want error containing %q", err, tc.errHas)
			}
		})
	}
}

func TestTCPCheckTLS(t *testing.T) {
	ca := newTestCA(t)
	cert := ca.leaf(t, time.Now().Add(24*time.Hour), "mail.example.test")
	port := bannerServer(t, &cert, 0)
	good := &TCP{Port: port, Host: "mail.example.test", Expect: "220", TLS: &TLSOptions{RootCAs: ca.pool}}
	if err := good.Check(t.Context(), "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	other := newTestCA(t)
	bad := &TCP{Port: port, Host: "mail.example.test", TLS: &TLSOptions{RootCAs: other.pool}}
	if err := bad.Check(t.Context(), "127.0.0.1"); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Fatalf("other CA: got %v, want an unknown authority error", err)
	}
}

func TestTLSCheck(t *testing.T) {
	ca := newTestCA(t)
	year := time.Now().Add(365 * 24 * time.Hour)
	good := ca.leaf(t, year, "ldap.example.test", "127.0.0.1")
	soon := ca.leaf(t, time.Now().Add(72*time.Hour), "ldap.example.test")
	for _, tc := range []struct {
		name       string
		cert       tls.Certificate
		maxVersion uint16
		check      *TLS
		errHas     string
	}{
		{"verified by name", good, 0, &TLS{Host: "ldap.example.test"}, ""},
		{"verified by IP", good, 0, &TLS{}, ""},
		{"wrong name", good, 0, &TLS{Host: "www.example.test"}, "not www.example.test"},
		{"expiring within window", soon, 0, &TLS{Host: "ldap.example.test", TLS: TLSOptions{ExpiryWindow: 14 * 24 * time.Hour}}, "expires in 7"},
		{"version too old", good, tls.VersionTLS12, &TLS{Host: "ldap.example.test", TLS: TLSOptions{MinVersion: tls.VersionTLS13}}, "protocol version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := bannerServer(t, &tc.cert, tc.maxVersion)
			c := tc.check
			c.Port = port
			c.TLS.RootCAs = ca.pool
			err := c.Check(t.Context(), "127.0.0.1")
			if tc.errHas == "" && err != nil || tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)) {
				t.Fatalf("got %v, want error containing %q", err, tc.errHas)
			}
		})
	}
	if err := (&TLS{Port: closedPort(t)}).Check(t.Context(), "127.0.0.1"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("closed port: got %v", err)
	}
}
